"""SSM maintenance windows as the AWS sample left them: a window with its Lambda tasks, read
(payload only through GetMaintenanceWindowTask, as in AWS) and disabled, never deleted."""
import json

import pytest
from botocore.exceptions import ClientError

MEMBER = "111111111111"


def test_a_sample_window_is_read_with_its_task_payloads_and_disabled(aws):
    ssm = aws.client("ssm", creds=aws.assume(MEMBER))
    window = ssm.create_maintenance_window(
        Name="Dev_maintenance_window", Schedule="rate(14 days)", StartDate="2026-01-09T22:00:00Z",
        ScheduleTimezone="UTC", Duration=4, Cutoff=1, AllowUnassociatedTargets=True)["WindowId"]
    payload = {"env": "Dev", "include_asg": "No", "retain_healthy_percentage": "10",
               "patching_operation": "Scan", "operation_post_patching": "NoReboot",
               "run_patch_baseline_install_override_list": ""}
    task = ssm.register_task_with_maintenance_window(
        WindowId=window, TaskArn=f"arn:aws:lambda:us-east-1:{MEMBER}:function:mw-task", TaskType="LAMBDA",
        ServiceRoleArn=f"arn:aws:iam::{MEMBER}:role/mw", TaskInvocationParameters={
            "Lambda": {"Payload": json.dumps(payload).encode()}})["WindowTaskId"]

    listed = ssm.describe_maintenance_windows(
        Filters=[{"Key": "Name", "Values": ["Dev_maintenance_window"]}])["WindowIdentities"]
    assert [(w["WindowId"], w["Enabled"], w["Schedule"], w["StartDate"], w["Duration"], w["Cutoff"])
            for w in listed] == [(window, True, "rate(14 days)", "2026-01-09T22:00:00Z", 4, 1)]
    tasks = ssm.describe_maintenance_window_tasks(WindowId=window)["Tasks"]
    assert [t["WindowTaskId"] for t in tasks] == [task]
    assert "TaskInvocationParameters" not in tasks[0]
    got = ssm.get_maintenance_window_task(WindowId=window, WindowTaskId=task)
    assert got["TaskType"] == "LAMBDA"
    assert json.loads(got["TaskInvocationParameters"]["Lambda"]["Payload"]) == payload

    updated = ssm.update_maintenance_window(WindowId=window, Enabled=False)
    assert updated["Enabled"] is False and updated["Name"] == "Dev_maintenance_window"
    assert ssm.describe_maintenance_windows()["WindowIdentities"][0]["Enabled"] is False
    assert ssm.get_maintenance_window(WindowId=window)["Enabled"] is False
    # another account sees nothing of it
    other = aws.client("ssm", creds=aws.assume("222222222222"))
    assert other.describe_maintenance_windows()["WindowIdentities"] == []


def test_unknown_window_or_task_is_an_error_naming_it(aws):
    ssm = aws.client("ssm", creds=aws.assume(MEMBER))
    with pytest.raises(ClientError) as e:
        ssm.update_maintenance_window(WindowId="mw-0123456789abcdef0", Enabled=False)
    assert e.value.response["Error"]["Code"] == "DoesNotExistException"
    assert "mw-0123456789abcdef0" in e.value.response["Error"]["Message"]
    window = ssm.create_maintenance_window(Name="Test_maintenance_window", Schedule="cron(0 5 ? * FRI *)",
                                           Duration=6, Cutoff=1, AllowUnassociatedTargets=True)["WindowId"]
    with pytest.raises(ClientError) as e:
        ssm.get_maintenance_window_task(WindowId=window, WindowTaskId="00000000-0000-0000-0000-000000000000")
    assert e.value.response["Error"]["Code"] == "DoesNotExistException"
