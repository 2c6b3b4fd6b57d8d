"""WSGI middleware around moto's dispatcher: control plane, call log, faults, opt-in regions.

Everything an AWS client sends passes here first, so the call log sees throttled and
failed calls exactly as the client does."""
import io
import re
import threading
import json
import time
import urllib.parse
from urllib.parse import parse_qs

from . import calllog, control, faults, sim

_CRED = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_OPT_IN_SERVICES = {"ec2", "ssm", "autoscaling"}
_S3_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}
# DynamoDB applies each request to an item atomically (ADD counters, condition expressions);
# moto reads, modifies and writes items with no lock, so concurrent requests can lose updates
# (measured: 8 threads x 100 ADDs to one item gave 798). One lock restores that atomicity;
# the injected latency is slept before it is taken, so it still overlaps.
_DYNAMODB = threading.Lock()


def _form_params(environ):
    """Query-protocol parameters (query string + form body); the body is put back for moto."""
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        raw = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        params.update({k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()})
    return params


def _s3_operation(environ):
    parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
    verb = _S3_VERBS.get(environ.get("REQUEST_METHOD", "GET"), "Call")
    if len(parts) >= 2:
        return f"{verb}Object"
    if len(parts) == 1:
        return "ListObjects" if verb == "Get" else f"{verb}Bucket"
    return "ListBuckets"


def identify(environ):
    """service, operation, account, region, protocol and form params of a signed AWS call."""
    auth = environ.get("HTTP_AUTHORIZATION", "") or environ.get("QUERY_STRING", "").replace("%2F", "/")
    m = _CRED.search(auth) or re.search(r"X-Amz-Credential=([^/&]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not m:
        return None
    access_key, region, service = m.group(1), m.group(2), m.group(3).lower()
    from moto.iam.models import get_account_id_from
    target = environ.get("HTTP_X_AMZ_TARGET")
    params = {} if target or service == "s3" else _form_params(environ)
    if target:
        operation = target.split(".")[-1]
    elif service == "s3":
        operation = _s3_operation(environ)
    else:
        operation = params.get("Action", "Unknown")
    return {
        "service": service, "operation": operation, "region": region,
        "account": get_account_id_from(access_key), "params": params,
        "proto": faults.protocol_of(service, bool(target)),
    }


def _send(start_response, triple):
    status, headers, body = triple
    data = body.encode("utf-8")
    start_response(f"{status} {'Error'}", headers + [("Content-Length", str(len(data)))])
    return [data]


def _precheck(call):
    """An injected or simulated answer for this call, or None to let moto answer."""
    svc, proto = call["service"], call["proto"]
    if svc in _OPT_IN_SERVICES and sim.region_disabled(call["account"], call["region"]):
        return "error", faults.region_disabled_response(proto, svc)
    if svc == "sts" and call["operation"] == "AssumeRole":
        role = call["params"].get("RoleArn", "")
        parts = role.split(":")
        caller = f"arn:aws:iam::{call['account']}:user/test"
        if len(parts) > 4 and faults.denied_account(parts[4]):
            return "error", faults.access_denied_response(caller, role)
        if sim.SETTINGS.get("strict_assume_role") and not _assumable(role, call["params"].get("ExternalId")):
            return "error", faults.access_denied_response(caller, role)
    delay, fault, rule = faults.decide(svc, call["operation"], call["account"])
    if delay > 0:
        time.sleep(delay)
    if fault == "throttle":
        return "throttled", faults.throttle_response(proto, svc)
    if fault == "error":
        return "error", faults.rule_error_response(proto, svc, rule)
    return None


def _assumable(role_arn, external_id):
    """As STS decides: the role exists in its account, and an sts:ExternalId its trust policy
    requires is the one given (moto assumes any role ARN, existing or not)."""
    from moto.iam.models import iam_backends
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return False
    name = parts[5].split("/")[-1]
    try:
        role = iam_backends[parts[4]]["global"].get_role(name)
    except Exception:
        return False
    try:
        trust = json.loads(urllib.parse.unquote(role.assume_role_policy_document or "{}"))
    except ValueError:
        return True
    statements = trust.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        wanted = (st.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
        if st.get("Effect") == "Allow" and wanted is not None and external_id not in (
                wanted if isinstance(wanted, list) else [wanted]):
            return False
    return True


class Gateway:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_localaws/"):
            return control.handle(environ, start_response)
        call = identify(environ)
        if call is None:
            return self.app(environ, start_response)
        answer = _precheck(call)
        if answer is not None:
            outcome, triple = answer
            calllog.record(call["service"], call["operation"], call["account"], call["region"], outcome)
            return _send(start_response, triple)
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        if call["service"] == "dynamodb":
            with _DYNAMODB:
                result = self.app(environ, recording_start_response)
        else:
            result = self.app(environ, recording_start_response)
        outcome = "error" if seen.get("status", 200) >= 400 else "ok"
        calllog.record(call["service"], call["operation"], call["account"], call["region"], outcome)
        return result
