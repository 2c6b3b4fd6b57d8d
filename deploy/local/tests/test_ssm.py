"""SSM: instance information, patch runs over time, MaxErrors, patch states, inventory sync."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import poll, run

KB = {"id": "KB5031356", "title": "2026-10 Cumulative Update", "classification": "SecurityUpdates",
      "severity": "Critical", "releaseDate": "2026-10-01T00:00:00Z", "rebootRequired": True}
KB_SOFT = {"id": "ALAS-2026-1", "title": "openssl", "classification": "Security", "severity": "Important",
           "rebootRequired": False}


def test_describe_instance_information_filters_and_pages(aws):
    ids = run(aws, 8, tags={"team": "info"})
    aws.ctl("sim", {"instances": {ids[0]: {"ssmManaged": False}, ids[1]: {"platform": "Windows"}}})
    ssm = aws.client("ssm")
    pages = list(ssm.get_paginator("describe_instance_information").paginate(
        Filters=[{"Key": "tag:team", "Values": ["info"]}], PaginationConfig={"PageSize": 5}))
    assert len(pages) == 2
    rows = [r for p in pages for r in p["InstanceInformationList"]]
    assert sorted(r["InstanceId"] for r in rows) == sorted(ids[1:])
    win = [r for r in rows if r["InstanceId"] == ids[1]][0]
    assert win["PlatformType"] == "Windows" and win["PingStatus"] == "Online" and win["ResourceType"] == "EC2Instance"
    assert win["IPAddress"] and win["ComputerName"]
    only = ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": ids[:3]}])["InstanceInformationList"]
    assert {r["InstanceId"] for r in only} == set(ids[1:3])
    win_only = ssm.describe_instance_information(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]},
                                                          {"Key": "tag:team", "Values": ["info"]}])
    assert [r["InstanceId"] for r in win_only["InstanceInformationList"]] == [ids[1]]
    aws.client("ec2").stop_instances(InstanceIds=[ids[2]])
    _, out = aws.cli("ssm", "describe-instance-information", "--filters", "Key=tag:team,Values=info",
                     "--page-size", "5")
    assert sorted(r["InstanceId"] for r in out["InstanceInformationList"]) == sorted(ids[1:2] + ids[3:])


def _invocations(ssm, command_id):
    return {i["InstanceId"]: i for i in ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]}


def test_install_progresses_and_changes_compliance(aws):
    ids = run(aws, 3, tags={"team": "install"})
    aws.ctl("sim", {"instances": {ids[0]: {"missingPatches": [KB, KB_SOFT]},
                                  ids[1]: {"missingPatches": [KB_SOFT]},
                                  ids[2]: {"missingPatches": [KB], "failPatching": True}}})
    ssm = aws.client("ssm")
    before = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]}
    assert before[ids[0]]["MissingCount"] == 2 and before[ids[0]]["CriticalNonCompliantCount"] == 1
    cmd = ssm.send_command(DocumentName="AWS-RunPatchBaseline", Targets=[{"Key": "tag:team", "Values": ["install"]}],
                           Parameters={"Operation": ["Install"], "RebootOption": ["RebootIfNeeded"]},
                           MaxConcurrency="3", MaxErrors="1", OutputS3BucketName="out-bucket",
                           OutputS3KeyPrefix="runs", TimeoutSeconds=600)["Command"]
    cid = cmd["CommandId"]
    assert cmd["Parameters"]["Operation"] == ["Install"] and cmd["TimeoutSeconds"] == 600
    seen = set()

    def finished():
        inv = _invocations(ssm, cid)
        seen.update(i["Status"] for i in inv.values())
        return all(i["Status"] in ("Success", "Failed") for i in inv.values()) and inv
    inv = poll(finished, deadline=10, interval=0.05)
    assert {"Pending", "InProgress"} <= seen
    assert inv[ids[0]]["Status"] == "Success" and inv[ids[2]]["Status"] == "Failed"
    assert inv[ids[0]]["CommandPlugins"][0]["Name"] == "PatchLinux"
    assert inv[ids[0]]["StandardOutputUrl"].startswith("https://s3.us-east-1.amazonaws.com/out-bucket/runs/")
    got = ssm.get_command_invocation(CommandId=cid, InstanceId=ids[2])
    assert got["Status"] == "Failed" and "package manager error" in got["StandardErrorContent"]
    listed = ssm.list_commands(CommandId=cid)["Commands"][0]
    assert (listed["Status"], listed["CompletedCount"], listed["ErrorCount"]) == ("Failed", 3, 1)
    after = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]}
    assert after[ids[0]]["MissingCount"] == 0 and after[ids[0]]["InstalledCount"] == 2
    assert after[ids[0]]["Operation"] == "Install" and after[ids[0]]["InstalledPendingRebootCount"] == 0
    assert after[ids[2]]["FailedCount"] == 1
    reboots = [r["instance"] for r in aws.ctl("reboots")["reboots"]]
    assert ids[0] in reboots and ids[1] not in reboots and ids[2] not in reboots
    _, out = aws.cli("ssm", "list-command-invocations", "--command-id", cid, "--details")
    assert len(out["CommandInvocations"]) == 3
    _, out = aws.cli("ssm", "describe-instance-patch-states", "--instance-ids", *ids)
    assert {s["InstanceId"] for s in out["InstancePatchStates"]} == set(ids)
    rc, err = aws.cli("ssm", "get-command-invocation", "--command-id", cid, "--instance-id", "i-0000000000000000",
                      check=False)
    assert rc != 0 and "InvocationDoesNotExist" in err


def test_patch_output_says_which_patches_installed_and_which_failed_and_lands_under_the_prefix(aws):
    ids = run(aws, 2, tags={"team": "output"})
    aws.ctl("sim", {"instances": {ids[0]: {"missingPatches": [KB, KB_SOFT]},
                                  ids[1]: {"missingPatches": [KB, KB_SOFT], "failPatching": True}}})
    aws.client("s3").create_bucket(Bucket="logs-bucket")
    ssm = aws.client("ssm")
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=ids,
                           Parameters={"Operation": ["Install"], "RebootOption": ["NoReboot"]},
                           MaxErrors="2", OutputS3BucketName="logs-bucket",
                           OutputS3KeyPrefix="patching/run=r1")["Command"]["CommandId"]
    poll(lambda: all(i["Status"] in ("Success", "Failed") for i in _invocations(ssm, cid).values()),
         deadline=10, interval=0.05)
    ok = ssm.get_command_invocation(CommandId=cid, InstanceId=ids[0])
    bad = ssm.get_command_invocation(CommandId=cid, InstanceId=ids[1])
    assert ok["ResponseCode"] == 0 and bad["ResponseCode"] == 1 and bad["StatusDetails"] == "Failed"
    assert f"Installed {KB['id']}" in ok["StandardOutputContent"]
    assert f"Installed {KB_SOFT['id']}" in ok["StandardOutputContent"]
    assert f"Failed to install {KB['id']}" in bad["StandardOutputContent"]
    assert f"Installed {KB_SOFT['id']}" not in bad["StandardOutputContent"]
    assert KB["id"] in bad["StandardErrorContent"]
    s3 = aws.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="logs-bucket", Prefix=f"patching/run=r1/{cid}/")["Contents"]}
    assert f"patching/run=r1/{cid}/{ids[1]}/awsrunPatchBaseline/PatchLinux/stdout" in keys
    assert f"patching/run=r1/{cid}/{ids[1]}/awsrunPatchBaseline/PatchLinux/stderr" in keys
    assert f"patching/run=r1/{cid}/{ids[0]}/awsrunPatchBaseline/PatchLinux/stdout" in keys
    stored = s3.get_object(Bucket="logs-bucket",
                           Key=f"patching/run=r1/{cid}/{ids[1]}/awsrunPatchBaseline/PatchLinux/stdout")
    assert stored["Body"].read().decode() == bad["StandardOutputContent"]
    assert bad["StandardOutputUrl"].endswith(f"/logs-bucket/patching/run=r1/{cid}/{ids[1]}/awsrunPatchBaseline/PatchLinux/stdout")


def test_output_to_a_bucket_that_does_not_exist_is_not_written_and_the_status_stands(aws):
    ids = run(aws, 1, tags={"team": "nobucket"})
    aws.ctl("sim", {"instances": {ids[0]: {"missingPatches": [KB], "failPatching": True}}})
    ssm = aws.client("ssm")
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=ids,
                           Parameters={"Operation": ["Install"]}, OutputS3BucketName="no-such-bucket")["Command"]["CommandId"]
    poll(lambda: all(i["Status"] == "Failed" for i in _invocations(ssm, cid).values()), deadline=10, interval=0.05)
    got = ssm.get_command_invocation(CommandId=cid, InstanceId=ids[0])
    assert got["Status"] == "Failed" and f"Failed to install {KB['id']}" in got["StandardOutputContent"]
    assert "no-such-bucket" not in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_max_errors_stops_further_waves(aws):
    ids = run(aws, 4, tags={"team": "maxerr"})
    aws.ctl("sim", {"instances": {i: {"failPatching": True} for i in ids}})
    ssm = aws.client("ssm")
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=ids,
                           Parameters={"Operation": ["Install"]}, MaxConcurrency="1", MaxErrors="0")["Command"]["CommandId"]
    cmd = poll(lambda: [c for c in ssm.list_commands(CommandId=cid)["Commands"] if c["Status"] not in ("Pending", "InProgress")])
    assert cmd[0]["Status"] == "Failed" and cmd[0]["ErrorCount"] == 1
    inv = _invocations(ssm, cid)
    assert [inv[i]["Status"] for i in ids] == ["Failed", "Cancelled", "Cancelled", "Cancelled"]
    assert inv[ids[1]]["StatusDetails"] == "Terminated"


def test_no_reboot_leaves_pending_reboot_and_scan_changes_nothing(aws):
    iid = run(aws)[0]
    aws.ctl("sim", {"instances": {iid: {"missingPatches": [KB]}}})
    ssm = aws.client("ssm")
    scan = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[iid],
                            Parameters={"Operation": ["Scan"]})["Command"]["CommandId"]
    poll(lambda: ssm.get_command_invocation(CommandId=scan, InstanceId=iid)["Status"] == "Success")
    st = ssm.describe_instance_patch_states(InstanceIds=[iid])["InstancePatchStates"][0]
    assert st["Operation"] == "Scan" and st["MissingCount"] == 1
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaselineWithHooks", InstanceIds=[iid],
                           Parameters={"Operation": ["Install"], "RebootOption": ["NoReboot"],
                                       "PreInstallHookDocName": ["Hook-Pre"]})["Command"]["CommandId"]
    poll(lambda: ssm.get_command_invocation(CommandId=cid, InstanceId=iid)["Status"] == "Success")
    st = ssm.describe_instance_patch_states(InstanceIds=[iid])["InstancePatchStates"][0]
    assert st["InstalledPendingRebootCount"] == 1 and st["MissingCount"] == 0
    assert st["RebootOption"] == "NoReboot" and "LastNoRebootInstallOperationTime" in st
    assert iid not in [r["instance"] for r in aws.ctl("reboots")["reboots"]]
    assert ssm.list_commands(CommandId=cid)["Commands"][0]["Parameters"]["PreInstallHookDocName"] == ["Hook-Pre"]


def test_send_command_validation(aws):
    ids = run(aws, 2)
    aws.ctl("sim", {"instances": {ids[1]: {"ssmManaged": False}}})
    ssm = aws.client("ssm", retries=1)
    with pytest.raises(ClientError) as e:
        ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=ids)
    assert e.value.response["Error"]["Code"] == "InvalidInstanceId"
    with pytest.raises(ClientError) as e:
        ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[f"i-{n:017x}" for n in range(51)])
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    other = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=ids[:1],
                             Parameters={"commands": ["true"]})["Command"]
    assert other["Status"] == "Success"  # moto's own behaviour for other documents
    _, out = aws.cli("ssm", "send-command", "--document-name", "AWS-RunPatchBaseline", "--instance-ids", ids[0],
                     "--parameters", "Operation=Scan", "--max-errors", "10%")
    assert out["Command"]["Status"] in ("Pending", "InProgress") and out["Command"]["MaxErrors"] == "10%"


def test_list_command_invocations_pages(aws):
    ids = run(aws, 6, tags={"team": "pages"})
    ssm = aws.client("ssm")
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", Targets=[{"Key": "tag:team", "Values": ["pages"]}],
                           Parameters={"Operation": ["Scan"]})["Command"]["CommandId"]
    pages = list(ssm.get_paginator("list_command_invocations").paginate(CommandId=cid, PaginationConfig={"PageSize": 4}))
    assert [len(p["CommandInvocations"]) for p in pages] == [4, 2]
    _, out = aws.cli("ssm", "list-command-invocations", "--command-id", cid, "--page-size", "4")
    assert {i["InstanceId"] for i in out["CommandInvocations"]} == set(ids)
    failed = ssm.list_command_invocations(CommandId=cid, Filters=[{"key": "Status", "value": "Failed"}])
    assert failed["CommandInvocations"] == []


def test_patched_image_yields_patched_instances(aws):
    iid = run(aws)[0]
    aws.ctl("sim", {"instances": {iid: {"missingPatches": [KB_SOFT]}}})
    ssm = aws.client("ssm")
    unpatched_ami = aws.client("ec2").create_image(InstanceId=iid, Name="before")["ImageId"]
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[iid],
                           Parameters={"Operation": ["Install"]})["Command"]["CommandId"]
    poll(lambda: ssm.get_command_invocation(CommandId=cid, InstanceId=iid)["Status"] == "Success")
    patched_ami = aws.client("ec2").create_image(InstanceId=iid, Name="after")["ImageId"]
    new_patched = run(aws, image=patched_ami)[0]
    new_unpatched = run(aws, image=unpatched_ami)[0]
    states = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(
        InstanceIds=[new_patched, new_unpatched])["InstancePatchStates"]}
    assert states[new_patched]["MissingCount"] == 0 and states[new_patched]["InstalledCount"] == 1
    assert states[new_unpatched]["MissingCount"] == 1


def _read(s3, bucket, key):
    return [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]


def test_resource_data_sync_writes_and_rewrites_inventory(aws):
    creds = aws.assume("111111111111")
    iid = run(aws, creds=creds, region="us-west-2")[0]
    aws.ctl("sim", {"instances": {iid: {"missingPatches": [KB]}}})
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="patchpilot-inventory")
    ssm = aws.client("ssm", creds, region="us-west-2")
    ssm.create_resource_data_sync(SyncName="inv", S3Destination={
        "BucketName": "patchpilot-inventory", "Prefix": "inventory", "SyncFormat": "JsonSerDe", "Region": "us-east-1"})
    base = "inventory/{}/accountid=111111111111/region=us-west-2/resourcetype=ManagedInstanceInventory/" + iid + ".json"
    info = _read(s3, "patchpilot-inventory", base.format("AWS:InstanceInformation"))[0]
    assert info["instanceid"] == iid and info["platformtype"] == "Linux" and info["ipaddress"]
    items = _read(s3, "patchpilot-inventory", base.format("AWS:ComplianceItem"))
    assert [(i["id"], i["status"], i["patchstate"], i["severity"]) for i in items] == \
        [("KB5031356", "NON_COMPLIANT", "Missing", "CRITICAL")]
    assert _read(s3, "patchpilot-inventory", base.format("AWS:ComplianceSummary"))[0]["status"] == "NON_COMPLIANT"
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[iid],
                           Parameters={"Operation": ["Install"]})["Command"]["CommandId"]
    poll(lambda: ssm.get_command_invocation(CommandId=cid, InstanceId=iid)["Status"] == "Success")
    items = _read(s3, "patchpilot-inventory", base.format("AWS:ComplianceItem"))
    assert [(i["status"], i["patchstate"]) for i in items] == [("COMPLIANT", "Installed")] and items[0]["installedtime"]
    assert _read(s3, "patchpilot-inventory", base.format("AWS:ComplianceSummary"))[0]["status"] == "COMPLIANT"
    with pytest.raises(ClientError) as e:
        ssm.create_resource_data_sync(SyncName="inv", S3Destination={
            "BucketName": "patchpilot-inventory", "SyncFormat": "JsonSerDe", "Region": "us-east-1"})
    assert e.value.response["Error"]["Code"] == "ResourceDataSyncAlreadyExistsException"
    _, out = aws.cli("ssm", "list-resource-data-sync", "--region", "us-west-2", creds=creds)
    assert [s["SyncName"] for s in out["ResourceDataSyncItems"]] == ["inv"]
    aws.cli("ssm", "delete-resource-data-sync", "--sync-name", "inv", "--region", "us-west-2", creds=creds)
    assert ssm.list_resource_data_sync()["ResourceDataSyncItems"] == []
