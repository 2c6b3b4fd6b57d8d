"""--state-dir: the local AWS's state survives a clean stop and start, and a periodic save survives a kill -9."""
import json
import signal

import pytest

from conftest import poll, run, start_launcher, stop

KB = {"id": "KB5031356", "title": "2026-10 Cumulative Update", "classification": "SecurityUpdates",
      "severity": "Critical", "releaseDate": "2026-10-01T00:00:00Z", "rebootRequired": True}
MEMBER = "210987654321"


def _populate(aws):
    """One of everything patchpilot keeps in the local AWS; returns what to find again."""
    aws.ctl("accounts", {"accounts": [{"id": MEMBER, "name": "member"}]})
    ids = run(aws, 2, tags={"team": "state"})
    aws.ctl("sim", {"instances": {ids[0]: {"missingPatches": [KB]}}})
    ec2 = aws.client("ec2")
    ec2.create_tags(Resources=[ids[1]], Tags=[{"Key": "PatchGroup", "Value": "wave-1"}])
    # moto keeps a key pair's private key as a cryptography object, which plain pickle refuses
    ec2.create_key_pair(KeyName="state-key")
    ssm = aws.client("ssm")
    cid = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[ids[0]],
                           Parameters={"Operation": ["Install"]})["Command"]["CommandId"]
    ssm.put_parameter(Name="/patchpilot/state", Value="kept", Type="String")
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="ledger", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.put_item(TableName="ledger", Item={"pk": {"S": "run-1"}, "n": {"N": "3"}})
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="state-bucket")
    s3.put_object(Bucket="state-bucket", Key="reports/a.json", Body=b'{"a": 1}')
    aws.client("events").put_rule(Name="state-rule", ScheduleExpression="rate(1 hour)")
    aws.client("glue").create_database(DatabaseInput={"Name": "statedb"})
    member = aws.client("ec2", aws.assume(MEMBER))
    member_ids = [i["InstanceId"] for i in member.run_instances(
        ImageId=member.describe_images(Owners=["amazon"])["Images"][0]["ImageId"], MinCount=1, MaxCount=1)["Instances"]]
    return {"ids": ids, "cid": cid, "member_ids": member_ids}


def _check(aws, kept):
    ids, cid = kept["ids"], kept["cid"]
    accounts = {a["Id"] for a in aws.client("organizations").list_accounts()["Accounts"]}
    assert MEMBER in accounts
    ec2 = aws.client("ec2")
    found = {i["InstanceId"]: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
             for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}
    assert set(found) == set(ids) and found[ids[1]]["PatchGroup"] == "wave-1" and found[ids[0]]["team"] == "state"
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["state-key"]
    ssm = aws.client("ssm")
    commands = ssm.list_commands(CommandId=cid)["Commands"]
    assert [c["CommandId"] for c in commands] == [cid]
    # the command ran on while the local AWS was down, as on a real instance: it ends and patches once
    done = poll(lambda: ssm.list_command_invocations(CommandId=cid)["CommandInvocations"][0]["Status"] == "Success")
    assert done
    state = ssm.describe_instance_patch_states(InstanceIds=[ids[0]])["InstancePatchStates"][0]
    assert state["MissingCount"] == 0 and state["InstalledCount"] >= 1
    assert ssm.get_parameter(Name="/patchpilot/state")["Parameter"]["Value"] == "kept"
    item = aws.client("dynamodb").get_item(TableName="ledger", Key={"pk": {"S": "run-1"}})["Item"]
    assert item["n"] == {"N": "3"}
    body = aws.client("s3").get_object(Bucket="state-bucket", Key="reports/a.json")["Body"].read()
    assert json.loads(body) == {"a": 1}
    assert aws.client("events").describe_rule(Name="state-rule")["ScheduleExpression"] == "rate(1 hour)"
    assert aws.client("glue").get_database(Name="statedb")["Database"]["Name"] == "statedb"
    member = aws.client("ec2", aws.assume(MEMBER))
    assert [i["InstanceId"] for r in member.describe_instances()["Reservations"] for i in r["Instances"]] \
        == kept["member_ids"]
    # the call log is kept too: SendCommand counted once, before the restart
    calls = aws.ctl("calls")["calls"]
    assert sum(c["count"] for c in calls if c["operation"] == "SendCommand") == 1, calls


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / "state")


def test_clean_stop_and_start_keeps_everything(state_dir):
    first = start_launcher("--state-dir", state_dir, "--command-delay", "1.0")
    try:
        kept = _populate(first)
    finally:
        assert stop(first.proc) == 0
    assert "state saved in" in first.proc.stderr.read()
    second = start_launcher("--state-dir", state_dir, "--command-delay", "1.0")
    try:
        _check(second, kept)
        # resumed, not re-provisioned: a second organization cannot be created, the accounts are the same
        assert second.ctl("accounts", {"accounts": [{"id": MEMBER}]})["added"] == []
        assert second.ctl("state")["restored"]["saved"] > 0
    finally:
        assert stop(second.proc) == 0


def test_kill_9_keeps_the_last_periodic_save(state_dir):
    first = start_launcher("--state-dir", state_dir, "--save-every", "0.5")
    try:
        kept = _populate(first)
        saved_after = first.ctl("state")["saved"] or 0
        assert poll(lambda: (first.ctl("state")["saved"] or 0) > saved_after + 0.5, deadline=10)
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
    second = start_launcher("--state-dir", state_dir)
    try:
        _check(second, kept)
    finally:
        assert stop(second.proc) == 0


def test_save_on_demand_and_without_state_dir(state_dir):
    plain = start_launcher()
    try:
        with pytest.raises(Exception) as refused:
            plain.ctl("state/save", {})
        assert "409" in str(refused.value)
        assert plain.ctl("state")["saved"] is None
    finally:
        plain.proc.kill()
        plain.proc.wait(timeout=10)
    server = start_launcher("--state-dir", state_dir, "--save-every", "3600")
    try:
        run(server, 1)
        status = server.ctl("state/save", {})
        assert status["bytes"] > 0 and status["error"] is None
    finally:
        assert stop(server.proc) == 0
