"""AWS Config evaluates REQUIRED_TAGS rules on resource changes and sends
`Config Rules Compliance Change` events: member default bus -> hub bus -> SQS endpoint."""
import json
import os
import re
import sys
import time

import boto3
import pytest

from conftest import HUB, poll, start_launcher, stop

MEMBER = "333333333333"
RULE = "patch_tags"
TAGS = {"environment": "Dev", "maintenance_window": "Dev_maintenance_window", "PatchGroup": "Dev"}
INSTANCE, GROUP = "AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup"
IMAGE = "ami-12c6146b"  # moto does not validate AMIs; DescribeImages costs ~3 s in a fresh account


class Inbox:
    """Every event that reached the queue, kept for filtering by resource."""

    def __init__(self, sqs, url):
        self.sqs, self.url, self.events = sqs, url, []

    def drain(self):
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return
            for m in got:
                self.events.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def of(self, resource_id):
        self.drain()
        return [e for e in self.events if e["detail"]["resourceId"] == resource_id]

    def wait(self, resource_id, count, deadline=5.0):
        poll(lambda: len(self.of(resource_id)) >= count, deadline=deadline, interval=0.05)
        return self.of(resource_id)


def setup_member(server, sqs_url, account, queue):
    """Org member with the member StackSet's rule and forwarding, the hub bus delivering to `queue`."""
    server.ctl("accounts", {"accounts": [{"id": account, "name": f"member-{account}"}]})
    ext = boto3.client("sqs", endpoint_url=sqs_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = ext.create_queue(QueueName=queue)["QueueUrl"]
    hub = server.client("events")
    if "patchpilot" not in [b["Name"] for b in hub.list_event_buses()["EventBuses"]]:
        hub.create_event_bus(Name="patchpilot")
    hub.put_rule(Name=f"config-{queue}", EventBusName="patchpilot", EventPattern=json.dumps(
        {"source": ["aws.config"], "account": [account]}))
    hub.put_targets(Rule=f"config-{queue}", EventBusName="patchpilot",
                    Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:us-east-1:{HUB}:{queue}"}])
    creds = server.assume(account)
    member = server.client("events", creds)
    member.put_rule(Name="patchpilot-forward-to-hub", EventPattern=json.dumps(
        {"source": ["aws.config", "patchpilot.self-service"],
         "detail-type": ["Config Rules Compliance Change", "Window Request"]}))
    member.put_targets(Rule="patchpilot-forward-to-hub", Targets=[
        {"Id": "patchpilot-hub", "Arn": f"arn:aws:events:us-east-1:{HUB}:event-bus/patchpilot"}])
    server.client("config", creds).put_config_rule(ConfigRule={
        "ConfigRuleName": RULE, "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
        "InputParameters": json.dumps({"tag1Key": "environment", "tag2Key": "maintenance_window", "tag3Key": "PatchGroup"}),
        "Scope": {"ComplianceResourceTypes": [INSTANCE, GROUP]}})
    return creds, Inbox(ext, url)


def service_accepts(event, rules=(RULE,)):
    """What io.patchpilot.tagging.ConfigEvents.toTagRequest checks before it asks for tagging."""
    d = event["detail"]
    return (event["detail-type"] == "Config Rules Compliance Change" and event["source"] == "aws.config"
            and d["configRuleName"] in rules and d["resourceType"] in (INSTANCE, GROUP)
            and d["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
            and re.fullmatch(r"\d{12}", d["awsAccountId"]) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", d["awsRegion"])
            and event["account"] == d["awsAccountId"] and bool(d["resourceId"]))


def verdicts(cfg):
    rows = [r for p in cfg.get_paginator("get_compliance_details_by_config_rule").paginate(ConfigRuleName=RULE)
            for r in p["EvaluationResults"]]
    return {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"] for r in rows}


@pytest.fixture(scope="module")
def member(redirected, sqs_server):
    creds, inbox = setup_member(redirected, sqs_server, MEMBER, "config-events")
    return redirected, creds, inbox


TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_instance_compliance_changes_send_events(member):
    server, creds, inbox = member
    ec2, cfg = server.client("ec2", creds), server.client("config", creds)
    t0 = time.time()
    iid = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    events = inbox.wait(iid, 1)
    print(f"\nRunInstances -> event on the queue: {time.time() - t0:.2f}s")
    assert len(events) == 1
    e = events[0]
    assert {k: e[k] for k in ("source", "detail-type", "account", "region", "resources")} == {
        "source": "aws.config", "detail-type": "Config Rules Compliance Change", "account": MEMBER,
        "region": "us-east-1", "resources": []}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"])
    d = e["detail"]
    arn = cfg.describe_config_rules(ConfigRuleNames=[RULE])["ConfigRules"][0]["ConfigRuleArn"]
    assert {k: d[k] for k in ("resourceId", "resourceType", "awsAccountId", "awsRegion", "configRuleName",
                               "configRuleARN", "messageType", "recordVersion")} == {
        "resourceId": iid, "resourceType": INSTANCE, "awsAccountId": MEMBER, "awsRegion": "us-east-1",
        "configRuleName": RULE, "configRuleARN": arn, "messageType": "ComplianceChangeNotification",
        "recordVersion": "1.0"}
    new = d["newEvaluationResult"]
    assert new["evaluationResultIdentifier"]["evaluationResultQualifier"] == {
        "configRuleName": RULE, "resourceType": INSTANCE, "resourceId": iid}
    assert new["complianceType"] == "NON_COMPLIANT" and "environment" in new["annotation"]
    for t in (new["evaluationResultIdentifier"]["orderingTimestamp"], new["resultRecordedTime"],
              new["configRuleInvokedTime"], d["notificationCreationTime"]):
        assert TS.fullmatch(t)
    assert "oldEvaluationResult" not in d and service_accepts(e)
    assert verdicts(cfg)[iid] == "NON_COMPLIANT"

    ec2.create_tags(Resources=[iid], Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])
    events = inbox.wait(iid, 2)
    assert len(events) == 2
    d = events[1]["detail"]
    assert d["newEvaluationResult"]["complianceType"] == "COMPLIANT" and "annotation" not in d["newEvaluationResult"]
    assert d["oldEvaluationResult"]["complianceType"] == "NON_COMPLIANT" and not service_accepts(events[1])
    assert verdicts(cfg)[iid] == "COMPLIANT"

    ec2.create_tags(Resources=[iid], Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])  # no change
    assert poll(lambda: server.ctl("config")["pending"] == 0, deadline=5)  # evaluated, any event sent
    assert len(inbox.of(iid)) == 2 and verdicts(cfg)[iid] == "COMPLIANT"

    ec2.terminate_instances(InstanceIds=[iid])  # AWS: one NOT_APPLICABLE notification, then no results
    events = inbox.wait(iid, 3)
    assert events[2]["detail"]["newEvaluationResult"]["complianceType"] == "NOT_APPLICABLE"
    assert iid not in verdicts(cfg)


def test_autoscaling_group_is_evaluated_by_arn(member):
    server, creds, inbox = member
    ec2, asg = server.client("ec2", creds), server.client("autoscaling", creds)
    lt = ec2.create_launch_template(LaunchTemplateName="lt-cfg", LaunchTemplateData={"ImageId": IMAGE})
    asg.create_auto_scaling_group(AutoScalingGroupName="web-cfg", MinSize=1, MaxSize=1, DesiredCapacity=1,
                                  AvailabilityZones=["us-east-1a"],
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]})
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-cfg"])["AutoScalingGroups"][0]
    arn, launched = group["AutoScalingGroupARN"], group["Instances"][0]["InstanceId"]
    events = inbox.wait(arn, 1)
    assert len(events) == 1 and events[0]["detail"]["resourceType"] == GROUP
    assert events[0]["detail"]["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT" and service_accepts(events[0])
    assert [e["detail"]["newEvaluationResult"]["complianceType"] for e in inbox.wait(launched, 1)] == ["NON_COMPLIANT"]
    asg.create_or_update_tags(Tags=[{"ResourceId": "web-cfg", "ResourceType": "auto-scaling-group", "Key": k,
                                     "Value": v, "PropagateAtLaunch": True} for k, v in TAGS.items()])
    events = inbox.wait(arn, 2)
    assert [e["detail"]["newEvaluationResult"]["complianceType"] for e in events] == ["NON_COMPLIANT", "COMPLIANT"]
    cfg = server.client("config", creds)
    by_resource = cfg.describe_compliance_by_resource(ResourceType=GROUP)["ComplianceByResources"]
    assert by_resource == [{"ResourceType": GROUP, "ResourceId": arn, "Compliance": {"ComplianceType": "COMPLIANT"}}]


def test_compliance_apis_and_cli(member):
    server, creds, inbox = member
    ec2 = server.client("ec2", creds)
    bare = ec2.run_instances(ImageId=IMAGE, MinCount=2, MaxCount=2)["Instances"]
    # a read right after the change already sees it (pending changes are evaluated first)
    _, out = server.cli("configservice", "get-compliance-details-by-config-rule", "--config-rule-name", RULE,
                        "--compliance-types", "NON_COMPLIANT", creds=creds)
    ids = {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in out["EvaluationResults"]}
    assert {i["InstanceId"] for i in bare} <= ids
    cfg = server.client("config", creds)
    rule = cfg.describe_compliance_by_config_rule(ConfigRuleNames=[RULE])["ComplianceByConfigRules"][0]
    assert rule["Compliance"]["ComplianceType"] == "NON_COMPLIANT"
    assert rule["Compliance"]["ComplianceContributorCount"]["CappedCount"] >= 2
    one = cfg.describe_compliance_by_resource(ResourceType=INSTANCE, ResourceId=bare[0]["InstanceId"])
    assert one["ComplianceByResources"][0]["Compliance"]["ComplianceType"] == "NON_COMPLIANT"
    for i in bare:  # each still gets exactly one event
        assert len(inbox.wait(i["InstanceId"], 1)) == 1
    snap = server.ctl("config")
    assert snap["enabled"] and snap["pending"] == 0
    assert any(e["resourceId"] == bare[0]["InstanceId"] and e["account"] == MEMBER for e in snap["events"])


def test_stack_made_instance_and_bulk_launch(member):
    server, creds, inbox = member
    ec2 = server.client("ec2", creds)
    cfn = server.client("cloudformation", creds)
    cfn.create_stack(StackName="one-instance", TemplateBody=json.dumps({"Resources": {"Box": {
        "Type": "AWS::EC2::Instance", "Properties": {"ImageId": IMAGE, "InstanceType": "t3.micro"}}}}))
    iid = cfn.describe_stack_resources(StackName="one-instance")["StackResources"][0]["PhysicalResourceId"]
    assert [e["detail"]["newEvaluationResult"]["complianceType"] for e in inbox.wait(iid, 1)] == ["NON_COMPLIANT"]

    # 200 instances in one call (an account that forwards nothing): the call is not slowed,
    # a pass or two evaluates them all
    server.ctl("accounts", {"accounts": [{"id": "555555555555"}]})
    bulk = server.assume("555555555555")
    server.client("config", bulk).put_config_rule(ConfigRule={
        "ConfigRuleName": RULE, "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
        "InputParameters": json.dumps({"tag1Key": "environment"})})
    sent = lambda: sum(1 for e in server.ctl("config")["events"] if e["account"] == "555555555555")
    t0 = time.time()
    server.client("ec2", bulk).run_instances(ImageId=IMAGE, MinCount=200, MaxCount=200)
    call = time.time() - t0
    assert poll(lambda: sent() >= 200, deadline=10, interval=0.2)
    print(f"\nRunInstances x200: {call:.2f}s; all evaluated after {time.time() - t0:.2f}s")
    assert sent() == 200


def test_evaluation_off_sends_nothing(sqs_server):
    server = start_launcher("--sqs-endpoint", sqs_server, "--config-evaluation", "off")
    try:
        creds, inbox = setup_member(server, sqs_server, "444444444444", "config-events-off")
        ec2 = server.client("ec2", creds)
        iid = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        assert verdicts(server.client("config", creds)) == {iid: "NON_COMPLIANT"}  # still answered live
        time.sleep(1.2)  # evaluation on would have delivered by now (0.5 s quiet + delivery)
        assert inbox.of(iid) == []
        snap = server.ctl("config")
        assert snap["enabled"] is False and snap["events"] == [] and snap["evaluations"] == []
    finally:
        stop(server.proc)


def test_rule_put_through_the_backend_is_evaluated():
    """CloudFormation's AWS::Config::ConfigRule creates through ConfigBackend.put_config_rule with
    keywords, not through the API: in-process, the backend call alone must start an evaluation."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from localaws_ext import config_ext
    from moto.config.models import config_backends
    from moto.ec2.models import ec2_backends
    config_ext.install()  # wraps this test process's moto classes only; the other tests use launchers
    account, region = "666666666666", "us-east-1"
    iid = ec2_backends[account][region].run_instances(IMAGE, 1, None, [], is_instance_type_default=True).instances[0].id
    config_backends[account][region].put_config_rule(config_rule={
        "ConfigRuleName": RULE, "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
        "InputParameters": json.dumps({"tag1Key": "environment"})}, tags=None)
    assert poll(lambda: config_ext.snapshot()["events"], deadline=5)
    event = config_ext.snapshot()["events"][0]
    assert (event["resourceId"], event["rule"], event["complianceType"]) == (iid, RULE, "NON_COMPLIANT")
