"""Fixtures: the launcher (and a plain moto_server as SQS endpoint) on free 127.0.0.1 ports."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(os.path.dirname(HERE), "localaws.py")
# the extensions (localaws_ext) import as the launcher imports them, wherever pytest is started from
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
HUB = "123456789012"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc, url, startup):
        self.proc, self.url, self.startup = proc, url, startup

    def ctl(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/_localaws/{path}", data=data,
                                     method=method or ("POST" if data else "GET"))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def client(self, service, creds=None, retries=None, region="us-east-1", config=None):
        creds = creds or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        cfg = Config(retries={"total_max_attempts": retries, "mode": "standard"}) if retries else None
        if config is not None:
            cfg = config if cfg is None else cfg.merge(config)
        return boto3.client(service, endpoint_url=self.url, region_name=region, config=cfg, **creds)

    def assume(self, account):
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/PatchPilotMember",
                                           RoleSessionName="tests")["Credentials"]
        return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"]}

    def cli(self, *args, creds=None, check=True, env_extra=None):
        """Run the AWS CLI against this server; returns (rc, parsed JSON or stderr text)."""
        env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="test",
                   AWS_SECRET_ACCESS_KEY="test", AWS_PAGER="")
        env.pop("AWS_SESSION_TOKEN", None)
        if creds:
            env.update(AWS_ACCESS_KEY_ID=creds["aws_access_key_id"],
                       AWS_SECRET_ACCESS_KEY=creds["aws_secret_access_key"],
                       AWS_SESSION_TOKEN=creds["aws_session_token"])
        env.update(env_extra or {})
        p = subprocess.run(["aws", "--endpoint-url", self.url, "--output", "json", *args],
                           env=env, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {p.stderr}")
        if p.returncode == 0:
            return 0, json.loads(p.stdout) if p.stdout.strip() else {}
        return p.returncode, p.stderr


def start_launcher(*extra):
    port = free_port()
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, LAUNCHER, "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    startup = time.time() - t0
    assert line == f"localaws ready http://127.0.0.1:{port}", (line, proc.stderr.read() if proc.poll() else "")
    return Server(proc, f"http://127.0.0.1:{port}", startup)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


@pytest.fixture(scope="session")
def aws():
    server = start_launcher("--command-delay", "1.0", "--refresh-delay", "1.5", "--schedule-speedup", "60")
    print(f"\nlocalaws startup: {server.startup:.2f}s")
    yield server
    rc = stop(server.proc)
    assert rc == 0


@pytest.fixture(scope="session")
def sqs_server():
    """A plain moto_server playing the separate SQS endpoint."""
    port = free_port()
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    stop(proc)


@pytest.fixture(scope="session")
def redirected(sqs_server):
    server = start_launcher("--sqs-endpoint", sqs_server)
    yield server
    stop(server.proc)


def poll(fn, deadline=10.0, interval=0.1):
    """Call fn until it returns something truthy or the deadline passes."""
    end = time.time() + deadline
    while True:
        value = fn()
        if value or time.time() > end:
            return value
        time.sleep(interval)


def ami(server):
    return server.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]


def run(server, count=1, tags=None, creds=None, region="us-east-1", image=None):
    ec2 = server.client("ec2", creds, region=region)
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}] if tags else []
    image = image or ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    r = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, TagSpecifications=spec)
    return [i["InstanceId"] for i in r["Instances"]]
