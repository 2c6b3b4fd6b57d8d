"""Fault injection rules and AWS error bodies in each protocol's wire format."""
import json
import random
import sys
import threading
import time
import urllib.request
import uuid

_lock = threading.Lock()
_rules = []
_denied = set()

QUERY_NAMESPACE = {
    "autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


def load(body):
    """Replace the current rule set (POST /_localaws/faults or --faults FILE).

    Rules for service `sqs` are passed on to the local SQS (its proxy injects them), which also
    reads them from here when it starts. A rule with `account` (an account id or a list of them)
    faults only the calls signed by that account's credentials (a member account's assumed-role
    sessions); one with `durationSeconds` stops faulting that long after it was loaded."""
    rules = list(body.get("rules") or [])
    now = time.time()
    for r in rules:
        r.setdefault("service", "*")
        r.setdefault("operation", "*")
        if "account" in r:
            accounts = r["account"] if isinstance(r["account"], list) else [r["account"]]
            r["account"] = [str(a) for a in accounts]
        if "durationSeconds" in r:
            r["expiresAt"] = now + float(r["durationSeconds"])
    with _lock:
        _rules[:] = rules
        _denied.clear()
        _denied.update(str(a) for a in body.get("accessDeniedAccounts") or [])
    _pass_on_to_sqs(rules)


def _pass_on_to_sqs(rules):
    from . import sim
    endpoint = sim.SETTINGS.get("sqs_endpoint")
    if not endpoint:
        return
    data = json.dumps({"rules": [r for r in rules if str(r.get("service")).lower() == "sqs"]}).encode()
    req = urllib.request.Request(endpoint.rstrip("/") + "/_localaws/faults", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
    except OSError as e:  # not started yet: it reads the rules from here when it starts
        print(f"localaws: SQS faults not passed on to {endpoint}: {e}", file=sys.stderr)


def _drop_expired():
    now = time.time()
    _rules[:] = [r for r in _rules if r.get("expiresAt", now + 1) > now]


def current():
    with _lock:
        _drop_expired()
        return {"rules": list(_rules), "accessDeniedAccounts": sorted(_denied)}


def clear():
    load({})


def _match(rule, service, operation, account):
    ok_s = rule["service"] in ("*", service) or rule["service"].lower() == (service or "").lower()
    ok_o = rule["operation"] in ("*", operation) or rule["operation"].lower() == (operation or "").lower()
    ok_a = "account" not in rule or account in rule["account"]
    return ok_s and ok_o and ok_a


def decide(service, operation, account=None):
    """Return (delay_seconds, fault, rule) for one call; fault is None, 'throttle' or 'error'.

    A rule with `times` stops faulting after that many faults, one with `durationSeconds` once
    that time has passed (either is then dropped)."""
    with _lock:
        _drop_expired()
        rule = next((r for r in _rules if _match(r, service, operation, account)), None)
        if rule is None:
            return 0.0, None, None
        delay = (float(rule.get("latencyMs", 0)) + random.uniform(0, float(rule.get("jitterMs", 0)))) / 1000
        roll = random.random()
        throttle = float(rule.get("throttleRate", 0))
        fault = None
        if roll < throttle:
            fault = "throttle"
        elif roll < throttle + float(rule.get("errorRate", 0)):
            fault = "error"
        if fault and "times" in rule:
            rule["times"] = int(rule["times"]) - 1
            if rule["times"] <= 0:
                _rules.remove(rule)
    return delay, fault, rule


def rule_error_response(proto, service, rule):
    """The error a rule injects: its `errorCode` (HTTP `status`, default 400), else an internal error."""
    code = (rule or {}).get("errorCode")
    if not code:
        return internal_error_response(proto, service)
    message = rule.get("errorMessage") or f"injected by /_localaws/faults: {code}"
    return error_response(proto, service, code, message, int(rule.get("status", 400)))


def denied_account(account):
    with _lock:
        return account in _denied


# ---- error bodies --------------------------------------------------------------

def protocol_of(service, has_target_header):
    """'json' (X-Amz-Target), 'ec2', 's3' (rest-xml) or 'query'."""
    if has_target_header:
        return "json"
    if service in ("ec2", "s3"):
        return service
    return "query"


def error_response(proto, service, code, message, status):
    """(status, headers, body) of an AWS error in the protocol's wire format."""
    rid = str(uuid.uuid4())
    if proto == "json":
        body = json.dumps({"__type": code, "message": message})
        return status, [("Content-Type", "application/x-amz-json-1.1"),
                        ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code)], body
    if proto == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body
    if proto == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>{rid}</RequestId></Error>")
        return status, [("Content-Type", "application/xml")], body
    ns = QUERY_NAMESPACE.get(service, f"http://{service}.amazonaws.com/doc/")
    kind = "Receiver" if status >= 500 else "Sender"
    body = (f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body


def throttle_response(proto, service):
    if proto == "json":
        return error_response(proto, service, "ThrottlingException", "Rate exceeded", 400)
    if proto == "ec2":
        return error_response(proto, service, "RequestLimitExceeded", "Request limit exceeded.", 503)
    if proto == "s3":
        return error_response(proto, service, "SlowDown", "Please reduce your request rate.", 503)
    return error_response(proto, service, "Throttling", "Rate exceeded", 400)


def internal_error_response(proto, service):
    if proto == "ec2":
        return error_response(proto, service, "InternalError", "An internal error has occurred", 500)
    if proto == "s3":
        return error_response(proto, service, "InternalError", "We encountered an internal error. Please try again.", 500)
    return error_response(proto, service, "InternalFailure", "An internal error has occurred", 500)


def access_denied_response(caller_arn, role_arn):
    msg = f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    return error_response("query", "sts", "AccessDenied", msg, 403)


def region_disabled_response(proto, service):
    """What AWS answers when the account has not enabled an opt-in region."""
    if proto == "ec2":
        return error_response(proto, service, "AuthFailure",
                              "AWS was not able to validate the provided access credentials", 401)
    if proto == "json":
        return error_response(proto, service, "UnrecognizedClientException",
                              "The security token included in the request is invalid.", 400)
    return error_response(proto, service, "InvalidClientTokenId",
                          "The security token included in the request is invalid.", 403)
