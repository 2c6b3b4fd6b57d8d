"""Launcher behaviour, control plane, organizations, STS, faults, call log, load."""
import concurrent.futures
import threading
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from conftest import LAUNCHER, run, start_launcher, stop


def test_startup_under_10s_and_health(aws):
    print(f"startup {aws.startup:.2f}s")
    assert aws.startup < 10
    assert aws.ctl("health") == {"status": "ok"}


def test_port_taken_exits_2(aws):
    port = aws.url.rsplit(":", 1)[1]
    p = subprocess.run([sys.executable, LAUNCHER, "--port", port], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1


def test_port_left_in_time_wait_is_free_a_listening_one_is_not():
    """A server that just stopped leaves its connections in TIME-WAIT: restarting must not wait them out."""
    import socket
    sys.path.insert(0, LAUNCHER.rsplit("/", 1)[0])
    import localaws
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    assert not localaws.port_free("127.0.0.1", port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = srv.accept()
    accepted.close()  # the server side closes first: its end of the connection stays in TIME-WAIT
    client.close()
    srv.close()
    assert localaws.port_free("127.0.0.1", port)
    proc = subprocess.Popen([sys.executable, LAUNCHER, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == f"localaws ready http://127.0.0.1:{port}"
    assert stop(proc) == 0


def test_sigterm_exits_cleanly():
    server = start_launcher()
    assert stop(server.proc) == 0
    assert "Traceback" not in server.proc.stderr.read()


def test_accounts_are_listed_with_fixed_ids(aws):
    body = {"accounts": [{"id": "111111111111", "name": "dev-apps", "email": "dev@example.com"},
                         {"id": "222222222222", "name": "prod-apps", "email": "prod@example.com"}]}
    aws.ctl("accounts", body)
    aws.ctl("accounts", body)  # idempotent
    ids = [a["Id"] for a in aws.client("organizations").list_accounts()["Accounts"]]
    assert ids.count("111111111111") == 1 and "222222222222" in ids and "123456789012" in ids
    _, out = aws.cli("organizations", "list-accounts")
    assert {"111111111111", "222222222222"} <= {a["Id"] for a in out["Accounts"]}


def test_assume_role_isolates_member_accounts(aws):
    creds = aws.assume("111111111111")
    ident = aws.client("sts", creds).get_caller_identity()
    assert ident["Account"] == "111111111111"
    iid = run(aws, creds=creds)[0]
    hub_ids = [i["InstanceId"] for r in aws.client("ec2").describe_instances()["Reservations"] for i in r["Instances"]]
    assert iid not in hub_ids
    _, out = aws.cli("sts", "get-caller-identity", creds=creds)
    assert out["Account"] == "111111111111"


def test_access_denied_on_assume_role(aws):
    aws.ctl("faults", {"rules": [], "accessDeniedAccounts": ["333333333333"]})
    try:
        with pytest.raises(ClientError) as e:
            aws.assume("333333333333")
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        rc, err = aws.cli("sts", "assume-role", "--role-arn", "arn:aws:iam::333333333333:role/x",
                          "--role-session-name", "cli-test", check=False)
        assert rc != 0 and "AccessDenied" in err
        aws.assume("111111111111")  # other accounts unaffected
    finally:
        aws.ctl("faults", method="DELETE")


def test_throttling_30_percent_cli_and_call_log(aws):
    aws.ctl("calls", method="DELETE")
    aws.ctl("faults", {"rules": [{"service": "ec2", "operation": "DescribeVpcs", "throttleRate": 0.3}]})
    assert aws.ctl("faults")["rules"][0]["throttleRate"] == 0.3
    try:
        ec2 = aws.client("ec2", retries=1)
        outcomes = []
        for _ in range(60):
            try:
                ec2.describe_vpcs()
                outcomes.append("ok")
            except ClientError as e:
                assert e.response["Error"]["Code"] == "RequestLimitExceeded"
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                outcomes.append("throttled")
        assert 5 <= outcomes.count("throttled") <= 35
        cli_codes = set()
        for _ in range(6):
            rc, out = aws.cli("ec2", "describe-vpcs", check=False, env_extra={"AWS_MAX_ATTEMPTS": "1"})
            if rc:
                cli_codes.add("RequestLimitExceeded" if "RequestLimitExceeded" in out else out)
        assert cli_codes <= {"RequestLimitExceeded"}
        rows = [c for c in aws.ctl("calls")["calls"] if c["operation"] == "DescribeVpcs"]
        assert rows[0]["account"] == "123456789012" and rows[0]["region"] == "us-east-1"
        assert rows[0]["count"] == 66 and rows[0]["throttled"] >= outcomes.count("throttled")
    finally:
        aws.ctl("faults", method="DELETE")


def test_throttling_one_account_by_probability_for_a_duration(aws):
    """A rule scoped to one member account (its assumed-role sessions) throttles about half of
    that account's calls and none of another's or the hub's, and ends after durationSeconds."""
    aws.ctl("faults", {"rules": [{"service": "*", "operation": "*", "account": "222222222222",
                                  "throttleRate": 0.5, "durationSeconds": 4}]})
    try:
        rule = aws.ctl("faults")["rules"][0]
        assert rule["account"] == ["222222222222"] and rule["expiresAt"] > time.time()
        throttled, other = aws.client("ec2", creds=aws.assume("222222222222"), retries=1), \
            aws.client("ec2", creds=aws.assume("111111111111"), retries=1)
        hub = aws.client("ec2", retries=1)

        def outcomes(ec2, n):
            out = []
            for _ in range(n):
                try:
                    ec2.describe_vpcs()
                    out.append("ok")
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "RequestLimitExceeded"
                    out.append("throttled")
            return out

        t0 = time.time()
        hit = outcomes(throttled, 60)
        assert 12 <= hit.count("throttled") <= 48, hit
        assert "throttled" not in outcomes(other, 30) + outcomes(hub, 30)
        assert time.time() - t0 < 4, "the checks above ran inside the rule's duration"
        deadline = time.time() + 10
        while aws.ctl("faults")["rules"] and time.time() < deadline:
            time.sleep(0.2)
        assert "throttled" not in outcomes(throttled, 30)
        assert aws.ctl("faults")["rules"] == []
    finally:
        aws.ctl("faults", method="DELETE")


def test_json_and_query_fault_formats(aws):
    aws.ctl("faults", {"rules": [{"service": "ssm", "operation": "*", "throttleRate": 1.0},
                                 {"service": "autoscaling", "operation": "*", "errorRate": 1.0},
                                 {"service": "sts", "operation": "GetCallerIdentity", "throttleRate": 1.0}]})
    try:
        with pytest.raises(ClientError) as e:
            aws.client("ssm", retries=1).describe_instance_information()
        assert e.value.response["Error"]["Code"] == "ThrottlingException"
        with pytest.raises(ClientError) as e:
            aws.client("autoscaling", retries=1).describe_auto_scaling_groups()
        assert e.value.response["Error"]["Code"] == "InternalFailure"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        with pytest.raises(ClientError) as e:
            aws.client("sts", retries=1).get_caller_identity()
        assert e.value.response["Error"]["Code"] == "Throttling"
        rc, err = aws.cli("ssm", "list-commands", check=False, env_extra={"AWS_MAX_ATTEMPTS": "1"})
        assert rc != 0 and "ThrottlingException" in err
        rc, err = aws.cli("autoscaling", "describe-auto-scaling-groups", check=False,
                          env_extra={"AWS_MAX_ATTEMPTS": "1"})
        assert rc != 0 and "InternalFailure" in err
    finally:
        aws.ctl("faults", method="DELETE")


def test_latency_rule(aws):
    aws.ctl("faults", {"rules": [{"service": "ec2", "operation": "DescribeRegions", "latencyMs": 300}]})
    try:
        t0 = time.time()
        aws.client("ec2").describe_regions()
        assert time.time() - t0 >= 0.3
    finally:
        aws.ctl("faults", method="DELETE")


def test_200_concurrent_requests(aws):
    import botocore.config
    wide = botocore.config.Config(max_pool_connections=200)
    ec2, ssm = aws.client("ec2", config=wide), aws.client("ssm", config=wide)
    start = threading.Barrier(200)

    def call(n):
        start.wait()  # all 200 in flight together
        return (ec2.describe_instances() if n % 2 else ssm.list_commands())["ResponseMetadata"]["HTTPStatusCode"]

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(call, range(200)))
    print(f"200 concurrent requests: {time.time() - t0:.2f}s")
    assert codes == [200] * 200


def test_opt_in_region_errors(aws):
    creds = aws.assume("111111111111")
    aws.ctl("sim", {"disabledRegions": {"111111111111": ["ap-southeast-3"]}})
    with pytest.raises(ClientError) as e:
        aws.client("ec2", creds, retries=1, region="ap-southeast-3").describe_instances()
    assert e.value.response["Error"]["Code"] == "AuthFailure"
    with pytest.raises(ClientError) as e:
        aws.client("ssm", creds, retries=1, region="ap-southeast-3").describe_instance_information()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        aws.client("autoscaling", creds, retries=1, region="ap-southeast-3").describe_auto_scaling_groups()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    rc, err = aws.cli("ec2", "describe-instances", "--region", "ap-southeast-3", creds=creds, check=False)
    assert rc != 0 and "AuthFailure" in err
    aws.client("ec2", creds, region="us-east-1").describe_instances()  # enabled region works
    aws.client("ec2", region="ap-southeast-3").describe_instances()  # hub has it enabled
