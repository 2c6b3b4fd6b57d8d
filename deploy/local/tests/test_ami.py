"""What the AMI-refresh pipeline needs of EC2 and AutoScaling beyond moto: idempotent
RunInstances, CreateImage names and snapshot tags, launch-template versions from a source
version, their deletion, refreshes of mixed-instances groups, and injected permanent errors."""
import pytest
from botocore.exceptions import ClientError

from conftest import ami, poll


@pytest.fixture(scope="module")
def member(aws):
    creds = aws.assume("444444444444")
    aws.client("iam", creds).create_instance_profile(InstanceProfileName="builder")
    return creds


def test_run_instances_with_the_same_client_token_launches_once(aws, member):
    ec2 = aws.client("ec2", member)
    kwargs = dict(ImageId=ami(aws), MinCount=1, MaxCount=1, InstanceType="t3.micro", ClientToken="build-123",
                  IamInstanceProfile={"Name": "builder"},
                  TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "patchpilot:ami-build", "Value": "build-123"}]}])
    first = ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]
    again = ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]
    assert first == again
    tagged = ec2.describe_instances(Filters=[{"Name": "tag:patchpilot:ami-build", "Values": ["build-123"]}])["Reservations"]
    assert [i["InstanceId"] for r in tagged for i in r["Instances"]] == [first]
    other = ec2.run_instances(**dict(kwargs, ClientToken="build-456"))["Instances"][0]["InstanceId"]
    assert other != first


def test_create_image_names_are_unique_and_tags_reach_the_snapshots(aws, member):
    ec2 = aws.client("ec2", member)
    iid = ec2.run_instances(ImageId=ami(aws), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    tags = [{"Key": "patchpilot:group", "Value": "web"}]
    image = ec2.create_image(InstanceId=iid, Name="patchpilot-web-run1", TagSpecifications=[
        {"ResourceType": "image", "Tags": tags}, {"ResourceType": "snapshot", "Tags": tags}])["ImageId"]
    with pytest.raises(ClientError) as e:
        ec2.create_image(InstanceId=iid, Name="patchpilot-web-run1")
    assert e.value.response["Error"]["Code"] == "InvalidAMIName.Duplicate"
    assert image in e.value.response["Error"]["Message"]
    found = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:patchpilot:group", "Values": ["web"]}])["Images"]
    assert [i["ImageId"] for i in found] == [image] and found[0]["State"] == "available"
    snapshot = found[0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["Tags"] == tags
    # a deregistered image's name may be used again
    ec2.deregister_image(ImageId=image)
    assert ec2.create_image(InstanceId=iid, Name="patchpilot-web-run1")["ImageId"] != image


def test_an_instance_marked_imageFails_gives_a_failed_image(aws, member):
    ec2 = aws.client("ec2", member)
    iid = ec2.run_instances(ImageId=ami(aws), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    aws.ctl("sim", {"instances": {iid: {"imageFails": True}}})
    image = ec2.create_image(InstanceId=iid, Name="doomed")["ImageId"]
    assert ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "failed"


def test_launch_template_versions_from_a_source_version_idempotent_and_deletable(aws, member):
    ec2 = aws.client("ec2", member)
    lt = ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={
        "ImageId": ami(aws), "InstanceType": "t3.micro", "IamInstanceProfile": {"Name": "builder"}})["LaunchTemplate"]["LaunchTemplateId"]
    made = ec2.create_launch_template_version(LaunchTemplateId=lt, SourceVersion="1", ClientToken="v-run1",
                                              LaunchTemplateData={"ImageId": "ami-12345678"})["LaunchTemplateVersion"]
    assert made["VersionNumber"] == 2
    assert made["LaunchTemplateData"] == {"ImageId": "ami-12345678", "InstanceType": "t3.micro", "IamInstanceProfile": {"Name": "builder"}}
    again = ec2.create_launch_template_version(LaunchTemplateId=lt, SourceVersion="1", ClientToken="v-run1",
                                               LaunchTemplateData={"ImageId": "ami-12345678"})["LaunchTemplateVersion"]
    assert again["VersionNumber"] == 2
    out = ec2.delete_launch_template_versions(LaunchTemplateId=lt, Versions=["2", "1", "9"])
    assert [v["VersionNumber"] for v in out["SuccessfullyDeletedLaunchTemplateVersions"]] == [2]
    assert {v["VersionNumber"]: v["ResponseError"]["Code"] for v in out["UnsuccessfullyDeletedLaunchTemplateVersions"]} == {
        1: "launchTemplateVersionCannotBeDefault", 9: "launchTemplateVersionDoesNotExist"}
    latest = ec2.describe_launch_template_versions(LaunchTemplateId=lt, Versions=["$Latest"])["LaunchTemplateVersions"][0]
    assert latest["VersionNumber"] == 1
    with pytest.raises(ClientError) as e:
        ec2.describe_launch_template_versions(LaunchTemplateId=lt, Versions=["2"])
    assert e.value.response["Error"]["Code"] == "InvalidLaunchTemplateId.VersionNotFound"
    # numbers are never reused
    assert ec2.create_launch_template_version(LaunchTemplateId=lt, LaunchTemplateData={"ImageId": "ami-87654321"}
                                              )["LaunchTemplateVersion"]["VersionNumber"] == 3


def _mixed_group(aws, creds, name):
    ec2, asg = aws.client("ec2", creds), aws.client("autoscaling", creds)
    lt = ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData={
        "ImageId": ami(aws), "InstanceType": "t3.micro"})["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=lt, SourceVersion="1", LaunchTemplateData={"ImageId": "ami-12345678"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=2, MaxSize=2, DesiredCapacity=2, AvailabilityZones=["us-east-1a"],
                                  MixedInstancesPolicy={"LaunchTemplate": {
                                      "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "1"},
                                      "Overrides": [{"InstanceType": "t3.micro"}, {"InstanceType": "t3.small"}]}})
    return asg, lt


def _mixed_spec(asg, name):
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return g["MixedInstancesPolicy"]["LaunchTemplate"], g


def test_a_mixed_instances_group_refreshes_to_the_desired_version(aws, member):
    asg, lt = _mixed_group(aws, member, "mixed-ok")
    asg.start_instance_refresh(AutoScalingGroupName="mixed-ok", Preferences={"MinHealthyPercentage": 50, "AutoRollback": True},
                               DesiredConfiguration={"MixedInstancesPolicy": {"LaunchTemplate": {
                                   "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "2"},
                                   "Overrides": [{"InstanceType": "t3.micro"}, {"InstanceType": "t3.small"}]}}})
    assert poll(lambda: asg.describe_instance_refreshes(AutoScalingGroupName="mixed-ok")["InstanceRefreshes"][0]["Status"] == "Successful")
    spec, group = _mixed_spec(asg, "mixed-ok")
    assert spec["LaunchTemplateSpecification"]["Version"] == "2"
    assert [o["InstanceType"] for o in spec["Overrides"]] == ["t3.micro", "t3.small"]
    ec2 = aws.client("ec2", member)
    ids = [i["InstanceId"] for i in group["Instances"]]
    images = {i["ImageId"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}
    assert images == {"ami-12345678"}


def test_a_failing_mixed_instances_refresh_rolls_back_to_the_previous_version(aws, member):
    asg, lt = _mixed_group(aws, member, "mixed-bad")
    aws.ctl("sim", {"groups": {"444444444444/us-east-1/mixed-bad": {"refreshFails": True}}})
    asg.start_instance_refresh(AutoScalingGroupName="mixed-bad", Preferences={"AutoRollback": True},
                               DesiredConfiguration={"MixedInstancesPolicy": {"LaunchTemplate": {
                                   "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "2"}}}})
    assert poll(lambda: asg.describe_instance_refreshes(AutoScalingGroupName="mixed-bad")["InstanceRefreshes"][0]["Status"]
                == "RollbackSuccessful")
    spec, _ = _mixed_spec(asg, "mixed-bad")
    assert spec["LaunchTemplateSpecification"]["Version"] == "1"


def test_a_fault_rule_can_inject_a_permanent_error_a_given_number_of_times(aws, member):
    ec2 = aws.client("ec2", member, retries=1)
    aws.ctl("faults", {"rules": [{"service": "ec2", "operation": "StopInstances", "errorRate": 1.0,
                                  "errorCode": "UnsupportedOperation", "status": 400, "times": 2}]})
    try:
        iid = ec2.run_instances(ImageId=ami(aws), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        for _ in range(2):
            with pytest.raises(ClientError) as e:
                ec2.stop_instances(InstanceIds=[iid])
            assert e.value.response["Error"]["Code"] == "UnsupportedOperation"
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        ec2.stop_instances(InstanceIds=[iid])
        assert aws.ctl("faults")["rules"] == []
    finally:
        aws.ctl("faults", method="DELETE")


def test_a_group_may_have_its_own_refresh_delay(aws, member):
    asg, lt = _mixed_group(aws, member, "slow")
    aws.ctl("sim", {"groups": {"444444444444/us-east-1/slow": {"refreshDelay": 30}}})
    asg.start_instance_refresh(AutoScalingGroupName="slow", DesiredConfiguration={"MixedInstancesPolicy": {"LaunchTemplate": {
        "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "2"}}}})
    assert poll(lambda: asg.describe_instance_refreshes(AutoScalingGroupName="slow")["InstanceRefreshes"][0]["Status"] == "InProgress",
                deadline=10)
    assert asg.describe_instance_refreshes(AutoScalingGroupName="slow")["InstanceRefreshes"][0]["PercentageComplete"] < 100
    asg.cancel_instance_refresh(AutoScalingGroupName="slow")
    aws.ctl("sim", {"groups": {"444444444444/us-east-1/slow": {"refreshDelay": None}}})
