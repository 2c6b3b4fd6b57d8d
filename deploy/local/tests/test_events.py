"""EventBridge: scheduled rules (hook and wall clock), input transformers, cross-account
bus forwarding, SQS redirect to a separate endpoint."""
import json

from conftest import HUB, poll


def _queue(aws_or_client, name, creds=None):
    sqs = aws_or_client.client("sqs", creds) if hasattr(aws_or_client, "client") else aws_or_client
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def _bodies(sqs, url, want=1, deadline=5):
    got = []

    def more():
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(got) >= want
    poll(more, deadline=deadline)
    return got


TEMPLATE = ('{"type":"window-fire","window":"Dev_maintenance_window","time":"<time>",'
            '"rule":"<aws.events.rule-name>","arn":"<aws.events.rule-arn>"}')


def test_fire_hook_with_input_transformer(aws):
    sqs, url, arn = _queue(aws, "schedules-hook")
    ev = aws.client("events")
    rule_arn = ev.put_rule(Name="dev-window", ScheduleExpression="cron(0 5 ? * FRI *)")["RuleArn"]
    ev.put_targets(Rule="dev-window", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"time": "$.time"}, "InputTemplate": TEMPLATE}}])
    out = aws.ctl("events/fire", {"account": HUB, "region": "us-east-1", "rule": "dev-window",
                                  "eventBus": "default", "time": "2026-11-27T05:00:00Z"})
    assert out["event"]["detail-type"] == "Scheduled Event" and out["event"]["resources"] == [rule_arn]
    body = json.loads(_bodies(sqs, url)[0])
    assert body == {"type": "window-fire", "window": "Dev_maintenance_window", "time": "2026-11-27T05:00:00Z",
                    "rule": "dev-window", "arn": rule_arn}


def test_rate_rule_fires_on_wall_clock(aws):
    # the session server runs with --schedule-speedup 60: rate(1 minute) fires every second
    sqs, url, arn = _queue(aws, "schedules-rate")
    ev = aws.client("events")
    ev.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    ev.put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": arn}])
    bodies = _bodies(sqs, url, want=2, deadline=6)
    ev.disable_rule(Name="every-minute")
    assert len(bodies) >= 2
    env = json.loads(bodies[0])
    assert env["source"] == "aws.events" and env["detail-type"] == "Scheduled Event"
    assert env["account"] == HUB and env["time"].endswith("Z")


def test_input_and_input_path(aws):
    sqs, url, arn = _queue(aws, "inputs")
    ev = aws.client("events")
    ev.put_rule(Name="reports", EventPattern=json.dumps({"source": ["patchpilot.test"]}))
    ev.put_targets(Rule="reports", Targets=[{"Id": "a", "Arn": arn, "Input": '{"type":"report"}'},
                                            {"Id": "b", "Arn": arn, "InputPath": "$.detail"}])
    ev.put_events(Entries=[{"Source": "patchpilot.test", "DetailType": "x", "Detail": '{"k":"v"}'}])
    assert sorted(_bodies(sqs, url, want=2)) == sorted(['{"type":"report"}', '{"k": "v"}'])


def test_cross_account_bus_keeps_envelope(aws):
    hub_sqs, url, arn = _queue(aws, "self-service")
    hub_ev = aws.client("events")
    hub_ev.create_event_bus(Name="patchpilot")
    hub_ev.put_rule(Name="requests", EventBusName="patchpilot",
                    EventPattern=json.dumps({"source": ["patchpilot.self-service"]}))
    hub_ev.put_targets(Rule="requests", EventBusName="patchpilot", Targets=[{"Id": "q", "Arn": arn}])
    creds = aws.assume("111111111111")
    member = aws.client("events", creds)
    member.put_rule(Name="to-hub", EventPattern=json.dumps({"source": ["patchpilot.self-service"]}))
    member.put_targets(Rule="to-hub", Targets=[{"Id": "hub", "Arn": f"arn:aws:events:us-east-1:{HUB}:event-bus/patchpilot"}])
    member.put_events(Entries=[{"Source": "patchpilot.self-service", "DetailType": "Window Request",
                                "Detail": json.dumps({"action": "create", "window": {"environment": "Dev"}})}])
    env = json.loads(_bodies(hub_sqs, url)[0])
    assert env["account"] == "111111111111" and env["detail-type"] == "Window Request"
    assert env["detail"]["action"] == "create"
    _, out = aws.cli("events", "list-rules", "--event-bus-name", "patchpilot")
    assert [r["Name"] for r in out["Rules"]] == ["requests"]


def test_sqs_targets_redirected_to_sqs_endpoint(redirected, sqs_server):
    import boto3
    ext = boto3.client("sqs", endpoint_url=sqs_server, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    ext_url = ext.create_queue(QueueName="patchpilot-schedules")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{HUB}:patchpilot-schedules"
    ev = redirected.client("events")
    ev.put_rule(Name="default-window", ScheduleExpression="cron(0 5 ? * FRI *)")
    ev.put_targets(Rule="default-window", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"time": "$.time"}, "InputTemplate": '{"type":"window-fire","time":"<time>"}'}}])
    redirected.ctl("events/fire", {"rule": "default-window", "time": "2026-11-27T05:00:00Z"})
    ev.put_rule(Name="pattern", EventPattern=json.dumps({"source": ["patchpilot.emergency"]}))
    ev.put_targets(Rule="pattern", Targets=[{"Id": "q", "Arn": arn}])
    ev.put_events(Entries=[{"Source": "patchpilot.emergency", "DetailType": "Emergency", "Detail": '{"requestId":"chg-1"}'}])
    bodies = [json.loads(b) for b in _bodies(ext, ext_url, want=2)]
    assert {"type": "window-fire", "time": "2026-11-27T05:00:00Z"} in bodies
    assert any(b.get("detail", {}).get("requestId") == "chg-1" and b["account"] == HUB for b in bodies)
    _, out = redirected.cli("events", "list-targets-by-rule", "--rule", "pattern")
    assert out["Targets"][0]["Arn"] == arn
