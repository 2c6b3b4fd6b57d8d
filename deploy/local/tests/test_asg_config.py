"""AutoScaling instance refreshes and Config REQUIRED_TAGS compliance."""
import pytest
from botocore.exceptions import ClientError

from conftest import poll


def _group(aws, name):
    ec2, asg = aws.client("ec2"), aws.client("autoscaling")
    images = [i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"][:2]]
    lt = ec2.create_launch_template(LaunchTemplateName=f"lt-{name}",
                                    LaunchTemplateData={"ImageId": images[0], "InstanceType": "t3.micro"})["LaunchTemplate"]
    ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"],
                                       LaunchTemplateData={"ImageId": images[1], "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=4, MaxSize=4, DesiredCapacity=4,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"], "Version": "1"},
                                  AvailabilityZones=["us-east-1a"],
                                  Tags=[{"Key": "environment", "Value": "Dev", "PropagateAtLaunch": True}])
    return asg, lt["LaunchTemplateId"], images


def _latest(asg, name):
    return asg.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"][0]


def test_refresh_succeeds_and_updates_group(aws):
    asg, lt, images = _group(aws, "web-ok")
    old = {i["InstanceId"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-ok"])["AutoScalingGroups"][0]["Instances"]}
    rid = asg.start_instance_refresh(
        AutoScalingGroupName="web-ok", Preferences={"MinHealthyPercentage": 50, "InstanceWarmup": 0, "SkipMatching": True},
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt, "Version": "2"}})["InstanceRefreshId"]
    with pytest.raises(ClientError) as e:
        asg.start_instance_refresh(AutoScalingGroupName="web-ok")
    assert e.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    seen = set()
    done = poll(lambda: (seen.add(_latest(asg, "web-ok")["Status"]), _latest(asg, "web-ok")["Status"] == "Successful")[1],
                deadline=10, interval=0.05)
    assert done and {"Pending", "InProgress"} <= seen
    r = _latest(asg, "web-ok")
    assert r["InstanceRefreshId"] == rid and r["PercentageComplete"] == 100 and r["InstancesToUpdate"] == 0
    assert r["Preferences"]["MinHealthyPercentage"] == 50 and r["Preferences"]["SkipMatching"] is True
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-ok"])["AutoScalingGroups"][0]
    assert g["LaunchTemplate"]["Version"] == "2" and len(g["Instances"]) == 4
    assert not old & {i["InstanceId"] for i in g["Instances"]}
    _, out = aws.cli("autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", "web-ok")
    assert out["InstanceRefreshes"][0]["Status"] == "Successful"


def test_refresh_failure_rolls_back(aws):
    asg, lt, _ = _group(aws, "web-bad")
    aws.ctl("sim", {"groups": {"123456789012/us-east-1/web-bad": {"refreshFails": True}}})
    asg.start_instance_refresh(AutoScalingGroupName="web-bad", Preferences={"AutoRollback": True},
                               DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt, "Version": "2"}})
    seen = set()
    poll(lambda: (seen.add(_latest(asg, "web-bad")["Status"]), _latest(asg, "web-bad")["Status"] == "RollbackSuccessful")[1],
         deadline=10, interval=0.05)
    r = _latest(asg, "web-bad")
    assert r["Status"] == "RollbackSuccessful" and "RollbackInProgress" in seen
    assert r["StatusReason"] and r["RollbackDetails"]["RollbackReason"]
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-bad"])["AutoScalingGroups"][0]
    assert g["LaunchTemplate"]["Version"] == "1"
    # without AutoRollback the refresh ends Failed
    asg.start_instance_refresh(AutoScalingGroupName="web-bad",
                               DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt, "Version": "2"}})
    assert poll(lambda: _latest(asg, "web-bad")["Status"] == "Failed", deadline=10)


def test_refresh_cancel_and_manual_rollback(aws):
    asg, lt, _ = _group(aws, "web-cancel")
    # a refresh long enough that the CLI, slow to start on a loaded machine, cancels it while it runs
    aws.ctl("sim", {"groups": {"123456789012/us-east-1/web-cancel": {"refreshDelay": 20}}})
    _, out = aws.cli("autoscaling", "start-instance-refresh", "--auto-scaling-group-name", "web-cancel",
                     "--preferences", '{"MinHealthyPercentage": 75}')
    assert out["InstanceRefreshId"]
    _, out = aws.cli("autoscaling", "cancel-instance-refresh", "--auto-scaling-group-name", "web-cancel")
    assert out["InstanceRefreshId"]
    assert _latest(asg, "web-cancel")["Status"] in ("Cancelling", "Cancelled")
    assert poll(lambda: _latest(asg, "web-cancel")["Status"] == "Cancelled", deadline=20)  # a quarter of 20 s
    with pytest.raises(ClientError) as e:
        asg.cancel_instance_refresh(AutoScalingGroupName="web-cancel")
    assert e.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"
    aws.ctl("sim", {"groups": {"123456789012/us-east-1/web-cancel": {"refreshDelay": 1}}})
    asg.start_instance_refresh(AutoScalingGroupName="web-cancel",
                               DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt, "Version": "2"}})
    asg.rollback_instance_refresh(AutoScalingGroupName="web-cancel")
    assert poll(lambda: _latest(asg, "web-cancel")["Status"] == "RollbackSuccessful", deadline=10)
    first = asg.describe_instance_refreshes(AutoScalingGroupName="web-cancel", MaxRecords=1)
    second = asg.describe_instance_refreshes(AutoScalingGroupName="web-cancel", MaxRecords=1,
                                             NextToken=first["NextToken"])
    assert first["InstanceRefreshes"][0]["Status"] == "RollbackSuccessful"
    assert second["InstanceRefreshes"][0]["Status"] == "Cancelled" and "NextToken" not in second


def test_required_tags_compliance(aws):
    creds = aws.assume("222222222222")
    ec2 = aws.client("ec2", creds)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tagged = ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "environment", "Value": "Prod"}]}])["Instances"]
    bare = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]
    cfg = aws.client("config", creds)
    cfg.put_config_rule(ConfigRule={"ConfigRuleName": "patch_tags", "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
                                    "InputParameters": '{"tag1Key":"environment","tag1Value":"Dev,Test,Prod"}',
                                    "Scope": {"ComplianceResourceTypes": ["AWS::EC2::Instance"]}})
    pages = list(cfg.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName="patch_tags", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    rows = [r for p in pages for r in p["EvaluationResults"]]
    verdict = {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"] for r in rows}
    assert {verdict[i["InstanceId"]] for i in tagged} == {"COMPLIANT"}
    assert {verdict[i["InstanceId"]] for i in bare} == {"NON_COMPLIANT"}
    _, out = aws.cli("configservice", "get-compliance-details-by-config-rule", "--config-rule-name", "patch_tags",
                     "--compliance-types", "NON_COMPLIANT", creds=creds)
    assert len(out["EvaluationResults"]) == 2
    with pytest.raises(ClientError) as e:
        cfg.get_compliance_details_by_config_rule(ConfigRuleName="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchConfigRuleException"
