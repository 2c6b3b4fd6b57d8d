"""deploy/cloudformation/ through the local AWS's CloudFormation: the hub stack (minus the ECS
resources the Java loader strips) and the member StackSet, checked through each service's API."""
import json
import os
import subprocess
import time
import urllib.request

import boto3
import pytest
import yaml

from conftest import HUB, free_port, start_launcher, stop

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "cloudformation")
# ECS: not run locally; Service Catalog: none locally (config/local/stacks.yaml notDeployedLocally)
SKIPPED = ("Cluster", "TaskDefinition", "Service", "WindowPortfolio", "WindowProduct", "WindowPortfolioProduct")
MEMBERS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
QUEUES = ("config-events", "schedules", "self-service", "emergency", "approvals", "work")


class _CfnLoader(yaml.SafeLoader):
    """Short-form intrinsics (!Ref, !GetAtt, !Sub …) as their long JSON form."""


def _intrinsic(loader, name, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Ref":
        return {"Ref": value}
    if name == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{name}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def template(name, drop=()):
    with open(os.path.join(TEMPLATES, name)) as f:
        doc = yaml.load(f, Loader=_CfnLoader)
    for logical_id in drop:
        del doc["Resources"][logical_id]
    return json.dumps(doc)


def params(**kv):
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in kv.items()]


@pytest.fixture(scope="module")
def env():
    """A launcher of its own (the templates' names are fixed) with a moto_server as SQS endpoint."""
    port = free_port()
    sqs_proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sqs_url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(sqs_url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    server = start_launcher("--sqs-endpoint", sqs_url)
    org_id = server.ctl("accounts", {"accounts": [{"id": a} for a in MEMBERS]})["organizationId"]
    sqs = boto3.client("sqs", endpoint_url=sqs_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    yield server, sqs, org_id
    stop(server.proc)
    stop(sqs_proc)


@pytest.fixture(scope="module")
def hub(env):
    server, _, org_id = env
    cfn = server.client("cloudformation")
    cfn.create_stack(StackName="patchpilot-hub", TemplateBody=template("hub.yaml", SKIPPED),
                     Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=params(OrganizationId=org_id, Image="patchpilot:local",
                                       ExternalIdSecretArn=f"arn:aws:secretsmanager:us-east-1:{HUB}:secret:patchpilot-external-id",
                                       Subnets="subnet-00000000", SecurityGroup="sg-00000000"))
    stack = cfn.describe_stacks(StackName="patchpilot-hub")["Stacks"][0]
    return stack, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def members(env, hub):
    server, _, org_id = env
    out = hub[1]
    cfn = server.client("cloudformation")
    with open(os.path.join(TEMPLATES, "member-stackset.yaml")) as f:
        body = f.read()  # as is: moto reads the short-form YAML intrinsics itself
    cfn.create_stack_set(StackSetName="patchpilot-member", TemplateBody=body,
                         PermissionModel="SERVICE_MANAGED", Capabilities=["CAPABILITY_NAMED_IAM"],
                         AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
                         Parameters=params(OrganizationId=org_id, HubTaskRoleArn=out["TaskRoleArn"],
                                           ExternalId="local-external-id-0001", HubEventBusArn=out["EventBusArn"],
                                           InventoryBucketName=out["InventoryBucketName"],
                                           InventoryBucketRegion="us-east-1",
                                           InventoryKmsKeyArn=out["InventoryKeyArn"],
                                           PatchLogsBucketName=out["PatchLogsBucketName"],
                                           OverrideListsBucketName=out["OverrideListsBucketName"]))
    root = server.client("organizations").list_roots()["Roots"][0]["Id"]
    cfn.create_stack_instances(StackSetName="patchpilot-member", Regions=list(REGIONS),
                               DeploymentTargets={"OrganizationalUnitIds": [root]})
    return cfn.list_stack_instances(StackSetName="patchpilot-member")["Summaries"]


def test_hub_stack_creates_every_resource(env, hub):
    server, _, _ = env
    stack, outputs = hub
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert len(outputs) == 10
    resources = server.client("cloudformation").describe_stack_resources(StackName="patchpilot-hub")["StackResources"]
    with open(os.path.join(TEMPLATES, "hub.yaml")) as f:
        wanted = set(yaml.load(f, Loader=_CfnLoader)["Resources"]) - set(SKIPPED)
    assert {r["LogicalResourceId"] for r in resources} == wanted
    for r in resources:
        assert r["ResourceStatus"] == "CREATE_COMPLETE" and r["PhysicalResourceId"], r
        assert r["ResourceType"], r  # moto records skipped types with an empty type


def test_hub_queues_are_in_the_sqs_endpoint_with_redrive(env, hub):
    _, sqs, _ = env
    outputs = hub[1]
    for name in QUEUES:
        url = sqs.get_queue_url(QueueName=f"patchpilot-{name}")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["VisibilityTimeout"] == "120"
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == f"arn:aws:sqs:us-east-1:{HUB}:patchpilot-{name}-dlq"
        assert int(redrive["maxReceiveCount"]) == 5
        dlq = sqs.get_queue_url(QueueName=f"patchpilot-{name}-dlq")["QueueUrl"]
        assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["MessageRetentionPeriod"])[
            "Attributes"]["MessageRetentionPeriod"] == "1209600"
    assert outputs["EmergencyQueueUrl"] == sqs.get_queue_url(QueueName="patchpilot-emergency")["QueueUrl"]
    emergency = sqs.get_queue_attributes(QueueUrl=outputs["EmergencyQueueUrl"], AttributeNames=["Policy"])
    assert "DenyInsecureTransport" in emergency["Attributes"]["Policy"]
    local_sqs = env[0].client("sqs")
    assert not local_sqs.list_queues().get("QueueUrls")  # nothing in moto's own SQS


def test_hub_buckets_catalog_athena_bus_and_table(env, hub):
    server, _, _ = env
    outputs = hub[1]
    policy = json.loads(server.client("s3").get_bucket_policy(Bucket=outputs["InventoryBucketName"])["Policy"])
    assert "ResourceDataSyncDelivery" in {s["Sid"] for s in policy["Statement"]}
    glue = server.client("glue")
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="patchpilot_inventory")["TableList"]}
    assert set(tables) == {"aws_instanceinformation", "aws_complianceitem", "aws_compliancesummary",
                           "ec2_instances", "patch_runs"}
    assert [k["Name"] for k in tables["aws_complianceitem"]["PartitionKeys"]] == ["accountid", "region", "resourcetype"]
    sd = tables["aws_complianceitem"]["StorageDescriptor"]
    assert sd["Location"] == f"s3://{outputs['InventoryBucketName']}/inventory/AWS:ComplianceItem/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert glue.get_partitions(DatabaseName="patchpilot_inventory", TableName="aws_complianceitem",
                               Expression="")["Partitions"] == []  # Trino's blank expression
    athena = server.client("athena")
    wg = athena.get_work_group(WorkGroup="patchpilot")["WorkGroup"]
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"].startswith("s3://patchpilot-athena-results-")
    ids = athena.list_named_queries(WorkGroup="patchpilot")["NamedQueryIds"]
    names = {athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"] for i in ids}
    assert "patchpilot-noncompliant-instances" in names and len(names) == 5
    events = server.client("events")
    assert outputs["EventBusArn"] == events.describe_event_bus(Name="patchpilot")["Arn"]
    rules = {r["Name"] for r in events.list_rules(EventBusName="patchpilot")["Rules"]}
    assert rules == {"patchpilot-config-events", "patchpilot-self-service", "patchpilot-doctor"}
    target = events.list_targets_by_rule(Rule="patchpilot-config-events", EventBusName="patchpilot")["Targets"][0]
    assert target["Arn"] == f"arn:aws:sqs:us-east-1:{HUB}:patchpilot-config-events"
    assert {"patchpilot-reconcile", "patchpilot-report"} <= {r["Name"] for r in events.list_rules()["Rules"]}
    table = server.client("dynamodb").describe_table(TableName="patchpilot-ledger")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]


def test_stack_set_deploys_to_members_only(env, members):
    assert sorted((s["Account"], s["Region"]) for s in members) == sorted(
        (a, r) for a in MEMBERS for r in REGIONS)
    assert all(s["Status"] == "CURRENT" for s in members)
    server = env[0]
    assert not server.client("config").describe_config_rules()["ConfigRules"]  # not in the hub


def test_member_resources_visible_to_the_member(env, members):
    server = env[0]
    for account in MEMBERS:
        creds = server.assume(account)
        roles = [r["RoleName"] for r in server.client("iam", creds).list_roles()["Roles"]]
        assert roles.count("PatchpilotExecutionRole") == 1  # IAM in PrimaryRegion only
        profiles = server.client("iam", creds).list_instance_profiles()["InstanceProfiles"]
        assert [p["InstanceProfileName"] for p in profiles] == ["PatchpilotManagedInstance"]
        for region in REGIONS:
            rule = server.client("config", creds, region=region).describe_config_rules(
                ConfigRuleNames=["patch_tags"])["ConfigRules"][0]
            assert rule["Source"]["SourceIdentifier"] == "REQUIRED_TAGS"
            assert json.loads(rule["InputParameters"]) == {"tag1Key": "environment", "tag2Key": "maintenance_window",
                                                           "tag3Key": "PatchGroup"}
            assert rule["Scope"]["ComplianceResourceTypes"] == ["AWS::EC2::Instance",
                                                               "AWS::AutoScaling::AutoScalingGroup"]
            events = server.client("events", creds, region=region)
            target = events.list_targets_by_rule(Rule="patchpilot-forward-to-hub")["Targets"][0]
            assert target["Arn"].endswith(":event-bus/patchpilot")
            ssm = server.client("ssm", creds, region=region)
            baselines = ssm.describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["Self"]}])["BaselineIdentities"]
            by_name = {b["BaselineName"]: b["BaselineId"] for b in baselines}
            assert set(by_name) == {"patchpilot-AmazonLinux2023", "patchpilot-AmazonLinux2",
                                    "patchpilot-RedHatEnterpriseLinux", "patchpilot-WindowsServer"}
            got = ssm.get_patch_baseline_for_patch_group(PatchGroup="Prod", OperatingSystem="WINDOWS")
            assert got["BaselineId"] == by_name["patchpilot-WindowsServer"]
            sync = ssm.list_resource_data_sync()["ResourceDataSyncItems"][0]
            assert sync["SyncName"] == "patchpilot-inventory"
            assert sync["S3Destination"]["Prefix"] == "inventory"
            assoc = ssm.list_associations()["Associations"]
            assert [a["Name"] for a in assoc] == ["AWS-GatherSoftwareInventory"]
            desc = ssm.describe_association(AssociationId=assoc[0]["AssociationId"])["AssociationDescription"]
            assert desc["ScheduleExpression"] == "rate(12 hours)"


def test_stack_set_account_filters_and_delete_by_targets(env, members):
    server = env[0]
    cfn = server.client("cloudformation")
    body = {"Resources": {"Marker": {"Type": "AWS::SSM::Parameter",
                                     "Properties": {"Name": "/patchpilot/marker", "Type": "String", "Value": "x"}}}}
    cfn.create_stack_set(StackSetName="filtered", TemplateBody=json.dumps(body), PermissionModel="SERVICE_MANAGED",
                         AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False})
    root = server.client("organizations").list_roots()["Roots"][0]["Id"]
    cfn.create_stack_instances(StackSetName="filtered", Regions=["us-east-1"], DeploymentTargets={
        "OrganizationalUnitIds": [root], "Accounts": [MEMBERS[1]], "AccountFilterType": "INTERSECTION"})
    cfn.create_stack_instances(StackSetName="filtered", Regions=["eu-west-1"], DeploymentTargets={
        "OrganizationalUnitIds": [root], "Accounts": [MEMBERS[1]], "AccountFilterType": "DIFFERENCE"})
    summaries = cfn.list_stack_instances(StackSetName="filtered")["Summaries"]
    assert sorted((s["Account"], s["Region"]) for s in summaries) == [(MEMBERS[0], "eu-west-1"), (MEMBERS[1], "us-east-1")]
    ssm = server.client("ssm", server.assume(MEMBERS[1]))
    assert ssm.get_parameter(Name="/patchpilot/marker")["Parameter"]["Value"] == "x"
    cfn.delete_stack_instances(StackSetName="filtered", Regions=list(REGIONS), RetainStacks=False,
                               DeploymentTargets={"OrganizationalUnitIds": [root]})
    assert not cfn.list_stack_instances(StackSetName="filtered")["Summaries"]
    assert not ssm.get_parameters(Names=["/patchpilot/marker"])["Parameters"]


def test_queues_go_to_motos_sqs_without_an_sqs_endpoint(aws):
    body = {"Resources": {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "cfn-plain-dlq"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": "cfn-plain", "VisibilityTimeout": 120,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 5}}},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "Queue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
                 "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}}}}
    aws.client("cloudformation").create_stack(StackName="cfn-plain", TemplateBody=json.dumps(body))
    sqs = aws.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName="cfn-plain")["QueueUrl"],
                                     AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"].endswith(":cfn-plain-dlq")
    assert "DenyInsecureTransport" in attrs["Policy"]
    aws.client("cloudformation").delete_stack(StackName="cfn-plain")
    assert "cfn-plain" not in " ".join(sqs.list_queues(QueueNamePrefix="cfn-plain").get("QueueUrls", []))


def test_template_sync_follows_instances_launched_after_it(env, hub, members):
    server = env[0]
    account, bucket = MEMBERS[0], hub[1]["InventoryBucketName"]
    creds = server.assume(account)
    ec2 = server.client("ec2", creds, region="eu-west-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    iids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)["Instances"]]
    s3 = server.client("s3")
    prefix = f"inventory/AWS:InstanceInformation/accountid={account}/region=eu-west-1/"

    def files():
        return {o["Key"].rsplit("/", 1)[-1] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}
    assert files() == {f"{i}.json" for i in iids}
    config = server.client("config", creds, region="eu-west-1")  # config_ext evaluates the template's rule
    results = config.get_compliance_details_by_config_rule(ConfigRuleName="patch_tags")["EvaluationResults"]
    assert {r["ComplianceType"] for r in results} == {"NON_COMPLIANT"} and len(results) == 3
    ec2.terminate_instances(InstanceIds=[iids[0]])
    assert files() == {f"{i}.json" for i in iids[1:]}
    server.ctl("sim", {"instances": {iids[1]: {"account": account, "region": "eu-west-1", "ssmManaged": False}}})
    assert files() == {f"{iids[2]}.json"}


def test_delete_stack_removes_what_is_not_retained(env, hub):
    server, sqs, _ = env
    server.client("cloudformation").delete_stack(StackName="patchpilot-hub")
    assert not sqs.list_queues(QueueNamePrefix="patchpilot-").get("QueueUrls")
    assert "patchpilot_inventory" not in {d["Name"] for d in server.client("glue").get_databases()["DatabaseList"]}
    assert not server.client("athena").list_named_queries().get("NamedQueryIds")
    buckets = {b["Name"] for b in server.client("s3").list_buckets()["Buckets"]}
    assert hub[1]["InventoryBucketName"] in buckets  # DeletionPolicy: Retain


def test_create_stack_instances_with_the_same_operation_id_runs_once(env, members):
    """An SDK retry of CreateStackInstances (same OperationId) after a client time-out answers the
    first request's operation instead of creating the members' resources a second time."""
    server = env[0]
    cfn = server.client("cloudformation")
    body = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "once-only", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}
    cfn.create_stack_set(StackSetName="retried", TemplateBody=json.dumps(body), PermissionModel="SERVICE_MANAGED",
                         Capabilities=["CAPABILITY_NAMED_IAM"],
                         AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False})
    root = server.client("organizations").list_roots()["Roots"][0]["Id"]
    request = dict(StackSetName="retried", Regions=["us-east-1"], OperationId="retry-1", DeploymentTargets={
        "OrganizationalUnitIds": [root], "Accounts": [MEMBERS[0]], "AccountFilterType": "INTERSECTION"})
    first = cfn.create_stack_instances(**request)["OperationId"]
    again = cfn.create_stack_instances(**request)["OperationId"]
    assert again == first
    assert cfn.describe_stack_set_operation(StackSetName="retried", OperationId=again)[
        "StackSetOperation"]["Status"] == "SUCCEEDED"
    summaries = cfn.list_stack_instances(StackSetName="retried")["Summaries"]
    assert [(s["Account"], s["Region"]) for s in summaries] == [(MEMBERS[0], "us-east-1")]
    roles = server.client("iam", server.assume(MEMBERS[0])).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles].count("once-only") == 1
