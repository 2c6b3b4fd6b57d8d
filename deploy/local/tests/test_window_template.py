"""deploy/cloudformation/window.yaml, deployed by an account owner: the stack creates the window
parameter /patchpilot/windows/<Environment> whose value is the window as JSON (optional fields left
out when empty), its Create event goes out, and deleting the stack deletes the parameter."""
import json

from test_cfn import template
from test_events import _bodies
from test_parameter_events import MEMBER, _wired


def _stack(cfn, name, **params):
    cfn.create_stack(StackName=name, TemplateBody=template("window.yaml"),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}


def test_the_form_becomes_the_window_parameter_and_goes_with_its_stack(aws):
    creds, sqs, url = _wired(aws)
    cfn, ssm = aws.client("cloudformation", creds), aws.client("ssm", creds)
    out = _stack(cfn, "dev-window", Environment="Dev", PatchingWindowWeekday="Saturday", PatchingWindowStartTime="22")
    assert out == {"ParameterName": "/patchpilot/windows/Dev", "Window": "Dev_maintenance_window"}
    p = ssm.get_parameter(Name="/patchpilot/windows/Dev")["Parameter"]
    assert p["Type"] == "String"
    assert json.loads(p["Value"]) == {
        "Environment": "Dev", "PatchingFrequency": 7, "PatchingWindowWeekday": "Saturday",
        "PatchingWindowStartTime": "22", "PatchingWindowDuration": 4, "CutoffHours": 1,
        "PatchingOperation": "Install", "OperationPostPatching": "RebootIfNeeded", "IncludeASG": "No",
        "RetainHealthyPercentage": 90, "RefreshASGInstances": "Yes", "MaxConcurrency": "10%", "MaxErrors": "10%"}

    _stack(cfn, "prod-window", Environment="Prod", CronExpression="cron(0 3 ? * SUN#2 *)",
           PreInstallHookDocName="drain-node")
    prod = json.loads(ssm.get_parameter(Name="/patchpilot/windows/Prod")["Parameter"]["Value"])
    assert prod["CronExpression"] == "cron(0 3 ? * SUN#2 *)" and prod["PreInstallHookDocName"] == "drain-node"
    assert "PatchTuesdayOffsetDays" not in prod and "OnExitHookDocName" not in prod

    cfn.delete_stack(StackName="dev-window")
    cfn.delete_stack(StackName="prod-window")
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert "/patchpilot/windows/Dev" not in names and "/patchpilot/windows/Prod" not in names
    events = [json.loads(b) for b in _bodies(sqs, url, want=4)]
    assert [(e["detail"]["operation"], e["detail"]["name"], e["account"]) for e in events] == [
        ("Create", "/patchpilot/windows/Dev", MEMBER), ("Create", "/patchpilot/windows/Prod", MEMBER),
        ("Delete", "/patchpilot/windows/Dev", MEMBER), ("Delete", "/patchpilot/windows/Prod", MEMBER)]
