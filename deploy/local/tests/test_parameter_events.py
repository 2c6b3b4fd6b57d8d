"""SSM Parameter Store sends `Parameter Store Change` events (Create, Update, Delete,
LabelParameterVersion) to the account's default bus, for API calls and CloudFormation stacks
alike; the member StackSet's forwarding rule carries those under /patchpilot/windows/ to the hub
bus, and the hub's self-service rule puts them on its queue, with the member's envelope."""
import json

import yaml

from conftest import HUB
from test_cfn import template, _CfnLoader, TEMPLATES
from test_events import _bodies, _queue

MEMBER = "444444444444"


def _pattern(file, logical_id):
    with open(f"{TEMPLATES}/{file}") as f:
        return json.dumps(yaml.load(f, Loader=_CfnLoader)["Resources"][logical_id]["Properties"]["EventPattern"])


def _wired(aws):
    """The templates' two rules: member default bus -> hub bus -> self-service queue."""
    sqs, url, arn = _queue(aws, "params-self-service")
    hub = aws.client("events")
    if "patchpilot" not in [b["Name"] for b in hub.list_event_buses()["EventBuses"]]:
        hub.create_event_bus(Name="patchpilot")
    hub.put_rule(Name="params-self-service", EventBusName="patchpilot",
                 EventPattern=_pattern("hub.yaml", "SelfServiceRule"))
    hub.put_targets(Rule="params-self-service", EventBusName="patchpilot", Targets=[{"Id": "q", "Arn": arn}])
    creds = aws.assume(MEMBER)
    member = aws.client("events", creds)
    member.put_rule(Name="patchpilot-forward-to-hub", EventPattern=_pattern("member-stackset.yaml", "ForwardToHubRule"))
    member.put_targets(Rule="patchpilot-forward-to-hub", Targets=[
        {"Id": "patchpilot-hub", "Arn": f"arn:aws:events:us-east-1:{HUB}:event-bus/patchpilot"}])
    return creds, sqs, url


def test_parameter_changes_reach_the_hub_queue_as_aws_sends_them(aws):
    creds, sqs, url = _wired(aws)
    ssm = aws.client("ssm", creds)
    name = "/patchpilot/windows/Dev"
    ssm.put_parameter(Name=name, Type="String", Value='{"Environment":"Dev"}', Description="Dev window")
    ssm.put_parameter(Name=name, Value='{"Environment":"Dev","PatchingWindowStartTime":6}', Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["current"])
    ssm.put_parameter(Name="/app/db-url", Type="String", Value="not a window")  # stays in the account
    ssm.delete_parameter(Name=name)
    ssm.put_parameter(Name="/patchpilot/windows/Test", Type="StringList", Value="a,b")
    ssm.delete_parameters(Names=["/patchpilot/windows/Test", "/patchpilot/windows/Gone"])

    events = [json.loads(b) for b in _bodies(sqs, url, want=6)]
    assert [(e["detail"]["operation"], e["detail"]["name"]) for e in events] == [
        ("Create", name), ("Update", name), ("LabelParameterVersion", name), ("Delete", name),
        ("Create", "/patchpilot/windows/Test"), ("Delete", "/patchpilot/windows/Test")]
    first = events[0]
    assert first["source"] == "aws.ssm" and first["detail-type"] == "Parameter Store Change"
    assert first["account"] == MEMBER and first["region"] == "us-east-1"
    assert first["resources"] == [f"arn:aws:ssm:us-east-1:{MEMBER}:parameter/patchpilot/windows/Dev"]
    assert first["detail"] == {"operation": "Create", "name": name, "type": "String", "description": "Dev window"}
    assert events[4]["detail"]["type"] == "StringList"
    assert _bodies(sqs, url, want=1, deadline=0.5) == []  # nothing else: /app/db-url was not forwarded


def test_stack_created_and_deleted_parameter_sends_its_events(aws):
    creds, sqs, url = _wired(aws)
    cfn = aws.client("cloudformation", creds)
    body = {"Resources": {"Window": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/patchpilot/windows/Prod", "Type": "String", "Value": '{"Environment":"Prod"}'}}}}
    cfn.create_stack(StackName="prod-window", TemplateBody=json.dumps(body))
    cfn.delete_stack(StackName="prod-window")
    events = [json.loads(b) for b in _bodies(sqs, url, want=2)]
    assert [(e["detail"]["operation"], e["detail"]["name"], e["account"]) for e in events] == [
        ("Create", "/patchpilot/windows/Prod", MEMBER), ("Delete", "/patchpilot/windows/Prod", MEMBER)]
