package io.patchpilot.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchpilot.windows.SeedMigration.Decision;
import io.patchpilot.windows.SeedMigration.Mapped;
import io.patchpilot.windows.SeedMigration.SampleTask;
import io.patchpilot.windows.SeedMigration.SampleWindow;
import io.patchpilot.windows.SeedMigration.Step;
import io.patchpilot.windows.SeedMigration.Unmappable;
import io.patchpilot.windows.WindowStore.Declaration;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SeedMigrationTest {
    private static final String ACCOUNT = "111111111111";
    private static final WindowValidator VALIDATOR = new WindowValidator(List.of("Dev", "Test", "Prod"));
    private static final Instant NOW = Instant.parse("2026-12-07T19:00:00Z");

    /** The standalone task's payload as the sample's creation Lambda registers it. */
    private static SampleTask standalone(String env, String operation, String post, String includeAsg, String healthy) {
        return new SampleTask(
                "t-standalone",
                "LAMBDA",
                "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:MaintenanceWindowTask",
                "{\"env\":\"" + env + "\",\"include_asg\":\"" + includeAsg + "\",\"retain_healthy_percentage\":\""
                        + healthy + "\",\"patching_operation\":\"" + operation + "\",\"operation_post_patching\":\""
                        + post + "\",\"run_patch_baseline_install_override_list\":\"\"}");
    }

    private static SampleTask asg(String env, String operation, String post, String healthy, String refresh) {
        return new SampleTask(
                "t-asg",
                "LAMBDA",
                "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:MaintenanceWindowASGTask",
                "{\"env\":\"" + env + "\",\"include_asg\":\"Yes\",\"retain_healthy_percentage\":\"" + healthy
                        + "\",\"refresh_asg_instances\":\"" + refresh + "\",\"patching_operation\":\"" + operation
                        + "\",\"operation_post_patching\":\"" + post
                        + "\",\"run_patch_baseline_install_override_list\":\"\"}");
    }

    private static SampleWindow rate(String name, String schedule, String start, int duration, List<SampleTask> t) {
        return new SampleWindow("mw-1", name, true, schedule, "UTC", null, start, null, duration, 1, t);
    }

    private static MaintenanceWindow mapped(SampleWindow w) {
        return assertInstanceOf(Mapped.class, SeedMigration.map(w, ACCOUNT, VALIDATOR))
                .window();
    }

    private static String unmappable(SampleWindow w) {
        return assertInstanceOf(Unmappable.class, SeedMigration.map(w, ACCOUNT, VALIDATOR))
                .reason();
    }

    @Test
    void a_product_window_maps_every_field() {
        MaintenanceWindow w = mapped(rate(
                "Dev_maintenance_window",
                "rate(14 days)",
                "2026-01-09T22:00:00Z",
                5,
                List.of(
                        standalone("Dev", "Scan", "NoReboot", "Yes", "50"),
                        asg("Dev", "Scan", "NoReboot", "50", "No"))));
        assertEquals(ACCOUNT, w.account());
        assertEquals("Dev_maintenance_window", w.name());
        assertEquals(14, w.frequencyDays());
        assertEquals(DayOfWeek.FRIDAY, w.weekday());
        assertEquals(22, w.startHour());
        assertEquals(LocalDate.parse("2026-01-09"), w.anchorDate());
        assertEquals(5, w.durationHours());
        assertEquals(1, w.cutoffHours());
        assertEquals("Scan", w.operation());
        assertEquals("NoReboot", w.postPatchOperation());
        assertEquals("Yes", w.includeAsg());
        assertEquals(50, w.retainHealthyPercentage());
        assertEquals("No", w.refreshAsgInstances());
        assertNull(w.cron());
        assertEquals("UTC", w.timeZone());
        // opens where the sample's would: every 14 days from the StartDate, at 22:00 UTC
        assertEquals(
                List.of(Instant.parse("2026-12-11T22:00:00Z"), Instant.parse("2026-12-25T22:00:00Z")),
                WindowSchedule.nextOpenings(w, NOW, 2));
    }

    @Test
    void without_an_asg_task_asgs_are_not_included() {
        MaintenanceWindow w = mapped(rate(
                "prod_maintenance_window",
                "rate(7 days)",
                "2026-03-02T01:00:00Z",
                4,
                List.of(standalone("prod", "Install", "RebootIfNeeded", "No", "10"))));
        assertEquals("Prod_maintenance_window", w.name());
        assertEquals(DayOfWeek.MONDAY, w.weekday());
        assertEquals(1, w.startHour());
        assertEquals("Install", w.operation());
        assertEquals("RebootIfNeeded", w.postPatchOperation());
        assertEquals("No", w.includeAsg());
    }

    @Test
    void the_sample_default_window_is_the_organization_default() {
        SampleWindow sample = new SampleWindow(
                "mw-d",
                "Default_maintenance_window",
                true,
                "cron(0 0 5 ? * FRI *)",
                null,
                null,
                null,
                null,
                6,
                1,
                List.of(
                        new SampleTask(
                                "t1",
                                "LAMBDA",
                                "arn",
                                "{\"env\":\"Default\",\"patching_operation\":\"Install\",\"operation_post_patching\":"
                                        + "\"RebootIfNeeded\",\"run_patch_baseline_install_override_list\":\"\"}"),
                        asg("Default", "Install", "RebootIfNeeded", "90", "Yes")));
        MaintenanceWindow w = mapped(sample);
        assertTrue(w.organizationWide());
        assertEquals("cron(0 5 ? * FRI *)", w.cron());
        MaintenanceWindow serviceDefault = MaintenanceWindow.defaultWindow(LocalDate.parse("2026-01-02"));
        Decision d = SeedMigration.decide(
                sample,
                new Mapped(w),
                Optional.of(serviceDefault),
                Optional.of(new Declaration(Declaration.SERVICE, null, null, 0, null)),
                NOW);
        assertEquals(Step.DISABLE, d.step(), d.why());
        assertEquals("patchpilot already has Default_maintenance_window for the organization as mapped", d.why());
    }

    @Test
    void what_cannot_be_mapped_says_why() {
        List<SampleTask> tasks = List.of(standalone("Dev", "Install", "RebootIfNeeded", "No", "10"));
        assertEquals(
                "PatchingFrequency: 10 is not a multiple of 7 (7, 14, 21, 28, 35, 42)",
                unmappable(rate("Dev_maintenance_window", "rate(10 days)", "2026-01-09T22:00:00Z", 4, tasks)));
        assertEquals(
                "Schedule: rate(6 hours) is neither rate(N days) nor cron(...)",
                unmappable(rate("Dev_maintenance_window", "rate(6 hours)", null, 4, tasks)));
        assertEquals(
                "StartDate: rate(7 days) without a StartDate has no weekday or hour",
                unmappable(rate("Dev_maintenance_window", "rate(7 days)", null, 4, tasks)));
        assertEquals(
                "StartDate: 2026-01-09T22:30:00Z is not on the hour; patchpilot windows open on the hour",
                unmappable(rate("Dev_maintenance_window", "rate(7 days)", "2026-01-09T22:30:00Z", 4, tasks)));
        assertEquals(
                "Environment: 'Staging' is not one of Dev, Test, Prod",
                unmappable(rate(
                        "Staging_maintenance_window",
                        "rate(7 days)",
                        "2026-01-09T22:00:00Z",
                        4,
                        List.of(standalone("Staging", "Install", "RebootIfNeeded", "No", "10")))));
        assertEquals(
                "CutoffHours: 1 must be less than PatchingWindowDuration 1",
                unmappable(rate("Dev_maintenance_window", "rate(7 days)", "2026-01-09T22:00:00Z", 1, tasks)));
        assertEquals(
                "Tasks: none registered; the window patches nothing",
                unmappable(rate("Dev_maintenance_window", "rate(7 days)", "2026-01-09T22:00:00Z", 4, List.of())));
        assertEquals(
                "Tasks: t-rc is a RUN_COMMAND task, not the sample's Lambda task",
                unmappable(rate(
                        "Dev_maintenance_window",
                        "rate(7 days)",
                        "2026-01-09T22:00:00Z",
                        4,
                        List.of(new SampleTask("t-rc", "RUN_COMMAND", "AWS-RunPatchBaseline", null)))));
        assertEquals(
                "Tasks: t-standalone patches env 'Prod', not Dev",
                unmappable(rate(
                        "Dev_maintenance_window",
                        "rate(7 days)",
                        "2026-01-09T22:00:00Z",
                        4,
                        List.of(standalone("Prod", "Install", "RebootIfNeeded", "No", "10")))));
        assertEquals(
                "Tasks: tasks disagree on patching_operation [Install, Scan]",
                unmappable(rate(
                        "Dev_maintenance_window",
                        "rate(7 days)",
                        "2026-01-09T22:00:00Z",
                        4,
                        List.of(
                                standalone("Dev", "Install", "RebootIfNeeded", "Yes", "10"),
                                asg("Dev", "Scan", "RebootIfNeeded", "10", "Yes")))));
        assertEquals(
                "PatchingOperation: 'Reboot' is not one of Scan, Install",
                unmappable(rate(
                        "Dev_maintenance_window",
                        "rate(7 days)",
                        "2026-01-09T22:00:00Z",
                        4,
                        List.of(standalone("Dev", "Reboot", "RebootIfNeeded", "No", "10")))));
        assertEquals(
                "EndDate: the window ends on 2027-01-01T00:00:00Z; patchpilot windows do not end",
                unmappable(new SampleWindow(
                        "mw-1",
                        "Dev_maintenance_window",
                        true,
                        "rate(7 days)",
                        "UTC",
                        null,
                        "2026-01-09T22:00:00Z",
                        "2027-01-01T00:00:00Z",
                        4,
                        1,
                        tasks)));
        assertEquals(
                "ScheduleTimezone: Europe/Berlin with a cron schedule; patchpilot's cron windows are UTC (use a"
                        + " rate(N days) window or set it by hand)",
                unmappable(new SampleWindow(
                        "mw-1",
                        "Dev_maintenance_window",
                        true,
                        "cron(0 5 ? * FRI *)",
                        "Europe/Berlin",
                        null,
                        null,
                        null,
                        4,
                        1,
                        tasks)));
        assertFalse(SeedMigration.isSampleName("my-window"));
        assertTrue(SeedMigration.isSampleName("Dev_maintenance_window"));
    }

    @Test
    void decisions_make_a_second_run_change_nothing() {
        SampleWindow sample = rate(
                "Dev_maintenance_window",
                "rate(7 days)",
                "2026-01-09T22:00:00Z",
                4,
                List.of(standalone("Dev", "Install", "RebootIfNeeded", "No", "10")));
        SeedMigration.Mapping mapping = SeedMigration.map(sample, ACCOUNT, VALIDATOR);
        MaintenanceWindow w = ((Mapped) mapping).window();

        Decision first = SeedMigration.decide(sample, mapping, Optional.empty(), Optional.empty(), NOW);
        assertEquals(Step.CREATE_AND_DISABLE, first.step());
        assertEquals(w, first.window());

        SampleWindow disabled = new SampleWindow(
                sample.id(),
                sample.name(),
                false,
                sample.schedule(),
                sample.scheduleTimezone(),
                null,
                sample.startDate(),
                null,
                4,
                1,
                sample.tasks());
        Decision second =
                SeedMigration.decide(disabled, mapping, Optional.of(w), Optional.of(Declaration.migration()), NOW);
        assertEquals(Step.ALREADY_MIGRATED, second.step());
        assertEquals("already migrated", second.why());

        // created but not yet disabled (an interrupted run): only the disabling is left
        assertEquals(
                Step.DISABLE,
                SeedMigration.decide(sample, mapping, Optional.of(w), Optional.of(Declaration.migration()), NOW)
                        .step());

        // the owner turned the sample's window off before: nothing patches it, nothing is created
        Decision off = SeedMigration.decide(disabled, mapping, Optional.empty(), Optional.empty(), NOW);
        assertEquals(Step.LEAVE, off.step());
        assertEquals("disabled in the sample (patches nothing); not migrated, create it by hand", off.why());
    }

    @Test
    void a_different_window_of_the_same_name_is_left_alone_with_the_differences() {
        SampleWindow sample = rate(
                "Dev_maintenance_window",
                "rate(7 days)",
                "2026-01-09T22:00:00Z",
                4,
                List.of(standalone("Dev", "Install", "RebootIfNeeded", "No", "10")));
        SeedMigration.Mapping mapping = SeedMigration.map(sample, ACCOUNT, VALIDATOR);
        MaintenanceWindow other = mapped(rate(
                "Dev_maintenance_window",
                "rate(7 days)",
                "2026-01-10T22:00:00Z",
                4,
                List.of(standalone("Dev", "Scan", "RebootIfNeeded", "No", "10"))));
        Decision d = SeedMigration.decide(
                sample,
                mapping,
                Optional.of(other),
                Optional.of(Declaration.parameter("/patchpilot/windows/Dev", "us-east-1", 2, NOW)),
                NOW);
        assertEquals(Step.LEAVE, d.step());
        assertEquals(
                "patchpilot already has Dev_maintenance_window for " + ACCOUNT
                        + " (declared by parameter /patchpilot/windows/Dev (us-east-1, version 2)) and it differs in"
                        + " schedule (every SATURDAY 22:00 UTC for 4 h (cutoff 1 h) vs every FRIDAY 22:00 UTC for 4 h"
                        + " (cutoff 1 h)), PatchingOperation (Scan vs Install); change one of them to match, then run"
                        + " again",
                d.why());
        assertEquals(
                "Tasks: none registered; the window patches nothing",
                SeedMigration.decide(
                                sample,
                                new Unmappable("Tasks: none registered; the window patches nothing"),
                                Optional.empty(),
                                Optional.empty(),
                                NOW)
                        .why());
    }
}
