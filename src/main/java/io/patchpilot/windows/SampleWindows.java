package io.patchpilot.windows;

import io.patchpilot.aws.AccountRegion;
import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import io.patchpilot.windows.SeedMigration.SampleTask;
import io.patchpilot.windows.SeedMigration.SampleWindow;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.DescribeMaintenanceWindowTasksRequest;
import software.amazon.awssdk.services.ssm.model.DescribeMaintenanceWindowsRequest;
import software.amazon.awssdk.services.ssm.model.GetMaintenanceWindowTaskRequest;
import software.amazon.awssdk.services.ssm.model.GetMaintenanceWindowTaskResponse;
import software.amazon.awssdk.services.ssm.model.MaintenanceWindowIdentity;
import software.amazon.awssdk.services.ssm.model.MaintenanceWindowTask;
import software.amazon.awssdk.services.ssm.model.UpdateMaintenanceWindowRequest;

/**
 * The AWS sample's SSM maintenance windows in a member account-region, read and disabled (never
 * deleted) through the member role. A task's Lambda payload is only returned by
 * GetMaintenanceWindowTask (DescribeMaintenanceWindowTasks leaves it out).
 */
public class SampleWindows {
    private final AwsClients aws;

    public SampleWindows(AwsClients aws) {
        this.aws = aws;
    }

    /** Every {@code <Env>_maintenance_window} of the account-region, with its tasks and their payloads. */
    @AwsActions({"ssm:DescribeMaintenanceWindows", "ssm:DescribeMaintenanceWindowTasks", "ssm:GetMaintenanceWindowTask"
    })
    public List<SampleWindow> list(AccountRegion target) {
        SsmClient ssm = aws.member(SsmClient.class, target, "migrate");
        List<SampleWindow> out = new ArrayList<>();
        List<MaintenanceWindowIdentity> windows =
                ssm
                        .describeMaintenanceWindowsPaginator(
                                DescribeMaintenanceWindowsRequest.builder().build())
                        .stream()
                        .flatMap(p -> p.windowIdentities().stream())
                        .filter(w -> SeedMigration.isSampleName(w.name()))
                        .toList();
        for (MaintenanceWindowIdentity w : windows) {
            List<SampleTask> tasks = new ArrayList<>();
            List<MaintenanceWindowTask> registered = ssm
                    .describeMaintenanceWindowTasksPaginator(DescribeMaintenanceWindowTasksRequest.builder()
                            .windowId(w.windowId())
                            .build())
                    .stream()
                    .flatMap(p -> p.tasks().stream())
                    .toList();
            for (MaintenanceWindowTask t : registered) {
                GetMaintenanceWindowTaskResponse task =
                        ssm.getMaintenanceWindowTask(GetMaintenanceWindowTaskRequest.builder()
                                .windowId(w.windowId())
                                .windowTaskId(t.windowTaskId())
                                .build());
                String payload = task.taskInvocationParameters() == null
                                || task.taskInvocationParameters().lambda() == null
                                || task.taskInvocationParameters().lambda().payload() == null
                        ? null
                        : task.taskInvocationParameters().lambda().payload().asString(StandardCharsets.UTF_8);
                tasks.add(new SampleTask(t.windowTaskId(), task.taskTypeAsString(), task.taskArn(), payload));
            }
            out.add(new SampleWindow(
                    w.windowId(),
                    w.name(),
                    Boolean.TRUE.equals(w.enabled()),
                    w.schedule(),
                    w.scheduleTimezone(),
                    w.scheduleOffset(),
                    w.startDate(),
                    w.endDate(),
                    w.duration() == null ? 0 : w.duration(),
                    w.cutoff() == null ? 0 : w.cutoff(),
                    tasks));
        }
        return out;
    }

    /** Disables the window (Enabled=false): it stays, with its tasks, and no longer runs. */
    @AwsActions("ssm:UpdateMaintenanceWindow")
    public void disable(AccountRegion target, String windowId) {
        aws.member(SsmClient.class, target, "migrate")
                .updateMaintenanceWindow(UpdateMaintenanceWindowRequest.builder()
                        .windowId(windowId)
                        .enabled(false)
                        .build());
    }
}
