"""AWS Config for REQUIRED_TAGS rules stored by moto's PutConfigRule.

Like AWS, resources are evaluated when they change (RunInstances, CreateTags/DeleteTags,
CreateAutoScalingGroup, CreateOrUpdateTags/DeleteTags, terminations) and when a rule is put;
results are kept per (account, region, rule, resource) and a `Config Rules Compliance Change`
event goes to the account's default bus whenever a resource's compliance changes.

Changes are recorded by hooks on moto's backends (API calls and CloudFormation stacks both
pass there) and evaluated by one worker thread, coalesced per account-region, so the call
that changed a resource never waits for an evaluation. `--config-evaluation off` stops the
worker and events; the read APIs then evaluate live."""
import base64
import collections
import datetime as dt
import json
import sys
import threading
import time

from moto.autoscaling.models import AutoScalingBackend, autoscaling_backends
from moto.config.models import ConfigBackend, config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import EC2Backend, ec2_backends
from moto.events.models import events_backends

from . import sim

INSTANCE, GROUP = "AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup"
TERMINATED = 48
QUIET = 0.5      # seconds without changes before an account-region is evaluated
MAX_WAIT = 2.0   # ... but a steady stream of changes is evaluated at least this often

_pending = {}                    # (account, region) -> {"resources": {(type, id): t}, "rules": {name: t}, first, last}
_pending_lock = threading.Lock()  # held for microseconds: the API hooks only record a change
_wake = threading.Event()
_pass_lock = threading.RLock()   # one evaluation pass at a time (worker or a read draining)
_results = {}                    # (account, region) -> {(rule, type, id): EvaluationResult}
_sent = collections.deque(maxlen=10000)  # the events sent, newest last (GET /_localaws/config)


class ConfigError(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


def enabled():
    return bool(sim.SETTINGS.get("config_evaluation", True))


# ---- the REQUIRED_TAGS rule -----------------------------------------------------------

def required_tags(rule):
    """[(key, allowed values or None)] from tag1Key/tag1Value … tag6Key/tag6Value."""
    params = rule.input_parameters_dict or {}
    out = []
    for n in range(1, 7):
        key = params.get(f"tag{n}Key")
        if key:
            value = params.get(f"tag{n}Value")
            out.append((key, [v.strip() for v in value.split(",")] if value else None))
    return out


def tags_compliant(tags, required):
    return all(k in tags and (allowed is None or tags[k] in allowed) for k, allowed in required)


def is_required_tags(rule):
    return getattr(rule.source, "source_identifier", None) == "REQUIRED_TAGS"


def rule_types(rule):
    scope = getattr(rule.scope, "compliance_resource_types", None) if rule.scope else None
    return set(scope or [INSTANCE, GROUP])


def result(rule, rtype, rid, compliance, annotation, ordering, invoked):
    out = {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {"ConfigRuleName": rule.config_rule_name, "ResourceType": rtype,
                                          "ResourceId": rid, "EvaluationMode": "DETECTIVE"},
            "OrderingTimestamp": ordering},
        "ComplianceType": compliance, "ResultRecordedTime": sim.now(), "ConfigRuleInvokedTime": invoked,
    }
    if annotation:
        out["Annotation"] = annotation
    return out


def judge(rule, rtype, rid, tags, ordering, invoked):
    required = required_tags(rule)
    if tags_compliant(tags, required):
        return result(rule, rtype, rid, "COMPLIANT", None, ordering, invoked)
    missing = [k for k, _ in required if k not in tags]
    note = ("Missing tag(s): " + ", ".join(missing)) if missing else "Tag value not allowed."
    return result(rule, rtype, rid, "NON_COMPLIANT", note, ordering, invoked)


# ---- the account-region's resources (read while API threads write: copy, never iterate live) ----

def inventory(account, region):
    """{(type, id): tags} of live instances and groups; ASGs are identified by their ARN as Config does."""
    ec2 = ec2_backends[account][region]
    out = {}
    for reservation in list(ec2.reservations.values()):
        for inst in list(reservation.instances):
            if inst.state_code != TERMINATED:  # terminated instances leave Config's inventory
                out[(INSTANCE, inst.id)] = dict(ec2.tags.get(inst.id, {}))
    for group in list(autoscaling_backends[account][region].autoscaling_groups.values()):
        out[(GROUP, group.arn)] = {t["Key"]: t["Value"] for t in list(group.tags)}
    return out


def live_results(rule, account, region):
    """Evaluate now, keep nothing (--config-evaluation off)."""
    t = sim.now()
    types = rule_types(rule)
    return [judge(rule, rtype, rid, tags, t, t)
            for (rtype, rid), tags in inventory(account, region).items() if rtype in types]


# ---- change recording (called from API threads: never blocks, never raises) ------------------

def touch(account, region, resources=(), rule=None):
    if not enabled():
        return
    t = sim.now()
    with _pending_lock:
        work = _pending.setdefault((account, region), {"resources": {}, "rules": {}, "first": time.monotonic()})
        for key in resources:
            work["resources"][key] = t
        if rule:
            work["rules"][rule] = t
        work["last"] = time.monotonic()
    _wake.set()


def _take(key=None):
    """Pop the work that is due (or all of one account-region's, for a read)."""
    now = time.monotonic()
    with _pending_lock:
        if key is not None:
            return {key: _pending.pop(key)} if key in _pending else {}
        due = [k for k, w in _pending.items() if now - w["last"] >= QUIET or now - w["first"] >= MAX_WAIT]
        return {k: _pending.pop(k) for k in due}


# ---- one evaluation pass --------------------------------------------------------------------

def run_pass(key=None):
    """Evaluate the due changes (or all of one account-region's) and send the change events.
    Taking the work inside the pass lock lets a reader that holds it see no half-done pass."""
    with _pass_lock:
        events = []
        with sim.LOCK:
            for (account, region), w in _take(key).items():
                events += _evaluate(account, region, w["resources"], w["rules"])
        for account, region, body in events:
            _send(account, region, body)


def _evaluate(account, region, changed, put_rules):
    backend = config_backends[account][region]
    rules = {n: r for n, r in list(backend.config_rules.items())
             if is_required_tags(r) and r.config_rule_state == "ACTIVE"}
    state = _results.setdefault((account, region), {})
    for key in [k for k in state if k[0] not in rules]:  # deleted (or changed away) rules
        del state[key]
    if not rules:
        return []
    live = inventory(account, region)
    invoked = sim.now()
    candidates = {}  # (rule name, type, id) -> ordering timestamp
    for name, t in put_rules.items():
        if name in rules:
            types = rule_types(rules[name])
            candidates.update({(name, rt, rid): t for rt, rid in live if rt in types})
            candidates.update({k: t for k in state if k[0] == name})
    for (rtype, rid), t in changed.items():
        for name, rule in rules.items():
            if rtype in rule_types(rule):
                candidates.setdefault((name, rtype, rid), t)
    events = []
    for (name, rtype, rid), ordering in candidates.items():
        rule, old = rules[name], state.get((name, rtype, rid))
        tags = live.get((rtype, rid)) if rtype in rule_types(rule) else None
        if tags is None:  # gone (or out of scope): one NOT_APPLICABLE notification, then no results
            if old is not None:
                del state[(name, rtype, rid)]
                new = result(rule, rtype, rid, "NOT_APPLICABLE", None, ordering, invoked)
                events.append((account, region, detail(rule, account, region, new, old)))
            continue
        new = judge(rule, rtype, rid, tags, ordering, invoked)
        state[(name, rtype, rid)] = new
        if old is None or old["ComplianceType"] != new["ComplianceType"]:
            events.append((account, region, detail(rule, account, region, new, old)))
    return events


# ---- the event -------------------------------------------------------------------------------

def _ms(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event_result(r):
    q = r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
    out = {"evaluationResultIdentifier": {
               "evaluationResultQualifier": {"configRuleName": q["ConfigRuleName"], "resourceType": q["ResourceType"],
                                             "resourceId": q["ResourceId"]},
               "orderingTimestamp": _ms(r["EvaluationResultIdentifier"]["OrderingTimestamp"])},
           "complianceType": r["ComplianceType"], "resultRecordedTime": _ms(r["ResultRecordedTime"]),
           "configRuleInvokedTime": _ms(r["ConfigRuleInvokedTime"])}
    if r.get("Annotation"):
        out["annotation"] = r["Annotation"]
    return out


def detail(rule, account, region, new, old):
    """The detail of AWS's ComplianceChangeNotification, keys in AWS's order."""
    q = new["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
    out = {"resourceId": q["ResourceId"], "awsRegion": region, "awsAccountId": account,
           "configRuleName": rule.config_rule_name, "recordVersion": "1.0", "configRuleARN": rule.config_rule_arn,
           "messageType": "ComplianceChangeNotification", "newEvaluationResult": _event_result(new)}
    if old is not None:
        out["oldEvaluationResult"] = _event_result(old)
    out["notificationCreationTime"] = _ms(sim.now())
    out["resourceType"] = q["ResourceType"]
    return out


def _send(account, region, body):
    """Through moto's PutEvents on the member's default bus, so its rules apply as to any event."""
    try:
        events_backends[account][region].put_events([{
            "Source": "aws.config", "DetailType": "Config Rules Compliance Change", "Detail": json.dumps(body),
            "Resources": [], "Time": sim.iso(sim.now())}])
        _sent.append({"account": account, "region": region, "rule": body["configRuleName"],
                      "resourceType": body["resourceType"], "resourceId": body["resourceId"],
                      "complianceType": body["newEvaluationResult"]["complianceType"]})
    except Exception as e:  # keep evaluating; say it on stderr
        print(f"localaws: config event for {body.get('resourceId')} not sent: {e}", file=sys.stderr)


def _worker():
    while True:
        _wake.wait(0.25)
        _wake.clear()
        try:
            run_pass()
            with _pending_lock:
                if _pending:  # not due yet: look again shortly
                    _wake.set()
            time.sleep(0.05)
        except Exception:
            import traceback
            traceback.print_exc()


# ---- read APIs ---------------------------------------------------------------------------------

def rows(rule, account, region):
    """Current results of one rule: from the kept state, after evaluating any change not yet
    evaluated (AWS lags minutes; a read here never sees state older than the last write)."""
    if not is_required_tags(rule):
        return []  # other rules have no evaluations locally
    if not enabled():
        with sim.LOCK:
            return live_results(rule, account, region)
    run_pass((account, region))
    with _pass_lock:
        return [r for (name, _, _), r in list(_results.get((account, region), {}).items())
                if name == rule.config_rule_name]


def _page(self, items, key):
    size = int(self._get_param("Limit") or 100)
    if size < 0 or size > 100:
        raise ConfigError("InvalidLimitException", "Limit must be between 0 and 100.")
    size = size or 100
    token = self._get_param("NextToken")
    try:
        start = int(base64.b64decode(token).decode()) if token else 0
    except ValueError:
        raise ConfigError("InvalidNextTokenException", "The specified next token is invalid.")
    nxt = base64.b64encode(str(start + size).encode()).decode() if start + size < len(items) else None
    return ActionResult({key: items[start:start + size], "NextToken": nxt})


def _rule(self, name):
    rule = self.config_backend.config_rules.get(name)
    if rule is None:
        raise ConfigError("NoSuchConfigRuleException",
                          f"The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name.")
    return rule


def _wanted(self):
    return self._get_param("ComplianceTypes") or []


def _summary(results):
    """Compliance of a set of results: NON_COMPLIANT with its count, else COMPLIANT, else no data."""
    bad = sum(1 for r in results if r["ComplianceType"] == "NON_COMPLIANT")
    if bad:
        return {"ComplianceType": "NON_COMPLIANT", "ComplianceContributorCount": {"CappedCount": bad, "CapExceeded": False}}
    return {"ComplianceType": "COMPLIANT" if results else "INSUFFICIENT_DATA"}


def get_compliance_details_by_config_rule(self):
    rule = _rule(self, self._get_param("ConfigRuleName"))
    wanted = _wanted(self)
    found = [r for r in rows(rule, self.current_account, self.region) if not wanted or r["ComplianceType"] in wanted]
    return _page(self, found, "EvaluationResults")


def describe_compliance_by_config_rule(self):
    names = self._get_param("ConfigRuleNames") or sorted(self.config_backend.config_rules)
    wanted = _wanted(self)
    out = []
    for name in names:
        c = _summary(rows(_rule(self, name), self.current_account, self.region))
        if not wanted or c["ComplianceType"] in wanted:
            out.append({"ConfigRuleName": name, "Compliance": c})
    return ActionResult({"ComplianceByConfigRules": out})


def describe_compliance_by_resource(self):
    rtype, rid, wanted = self._get_param("ResourceType"), self._get_param("ResourceId"), _wanted(self)
    per_resource = {}
    for rule in list(self.config_backend.config_rules.values()):
        for r in rows(rule, self.current_account, self.region):
            q = r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            if (rtype in (None, q["ResourceType"])) and (rid in (None, q["ResourceId"])):
                per_resource.setdefault((q["ResourceType"], q["ResourceId"]), []).append(r)
    out = [{"ResourceType": t, "ResourceId": i, "Compliance": _summary(rs)} for (t, i), rs in per_resource.items()]
    out = [o for o in out if not wanted or o["Compliance"]["ComplianceType"] in wanted]
    return _page(self, out, "ComplianceByResources")


def snapshot():
    """GET /_localaws/config: every kept evaluation, the events sent, the changes not yet evaluated."""
    with _pass_lock:
        with _pending_lock:  # briefly: API hooks wait on it
            pending = sum(len(w["resources"]) + len(w["rules"]) for w in _pending.values())
        evaluations = [{"account": a, "region": r, "rule": name, "resourceType": t, "resourceId": i,
                        "complianceType": res["ComplianceType"], "resultRecordedTime": sim.iso(res["ResultRecordedTime"])}
                       for (a, r), state in _results.items() for (name, t, i), res in state.items()]
        events = list(_sent)
    return {"enabled": enabled(), "evaluations": evaluations, "events": events, "pending": pending}


# ---- backend hooks ---------------------------------------------------------------------------

def _after(cls, name, changed):
    """Wrap cls.name: once it returns, record the (resources, rule) changed(self, result, args, kwargs) names."""
    original = getattr(cls, name)

    def hooked(self, *a, **kw):
        out = original(self, *a, **kw)
        try:
            resources, rule = changed(self, out, a, kw)
            touch(self.account_id, self.region_name, resources, rule)
        except Exception as e:  # a hook must never fail the call it observes
            print(f"localaws: config hook {name}: {e}", file=sys.stderr)
        return out

    setattr(cls, name, hooked)


def _instances(ids):
    return [(INSTANCE, i) for i in ids if str(i).startswith("i-")], None


def _group_arn(backend, name):
    group = backend.autoscaling_groups.get(name)
    return [(GROUP, group.arn)] if group is not None else []


def _hook_delete_group():
    """The ARN is read before the group goes (Config reports the deleted group NOT_APPLICABLE)."""
    original = AutoScalingBackend.delete_auto_scaling_group

    def hooked(self, *a, **kw):
        arn = _group_arn(self, kw.get("group_name") or a[0])
        out = original(self, *a, **kw)
        touch(self.account_id, self.region_name, arn)
        return out

    AutoScalingBackend.delete_auto_scaling_group = hooked


def _rule_name(backend, config_rule):
    if config_rule.get("ConfigRuleName"):
        return config_rule["ConfigRuleName"]
    for rule in backend.config_rules.values():
        if rule.config_rule_arn == config_rule.get("ConfigRuleArn") or rule.config_rule_id == config_rule.get("ConfigRuleId"):
            return rule.config_rule_name
    return None


def install():
    sim.SETTINGS.setdefault("config_evaluation", True)
    cls = ConfigResponse
    cls.get_compliance_details_by_config_rule = get_compliance_details_by_config_rule
    cls.describe_compliance_by_config_rule = describe_compliance_by_config_rule
    cls.describe_compliance_by_resource = describe_compliance_by_resource

    # the first argument, by name or position: CloudFormation models pass keywords
    first = lambda name: lambda a, kw: kw[name] if name in kw else a[0]
    ids, tags, rule, rule_name = first("resource_ids"), first("tags"), first("config_rule"), first("rule_name")
    _after(EC2Backend, "run_instances", lambda s, res, a, kw: _instances(i.id for i in res.instances))
    _after(EC2Backend, "terminate_instances", lambda s, res, a, kw: _instances(i.id for i, _ in res))
    _after(EC2Backend, "create_tags", lambda s, res, a, kw: _instances(ids(a, kw)))
    _after(EC2Backend, "delete_tags", lambda s, res, a, kw: _instances(ids(a, kw)))
    group_tags = lambda s, res, a, kw: ([g for t in tags(a, kw) for g in _group_arn(s, t["ResourceId"])], None)
    _after(AutoScalingBackend, "create_auto_scaling_group",
           lambda s, res, a, kw: (_group_arn(s, first("name")(a, kw)), None))
    _after(AutoScalingBackend, "create_or_update_tags", group_tags)
    _after(AutoScalingBackend, "delete_tags", group_tags)
    _hook_delete_group()
    _after(ConfigBackend, "put_config_rule", lambda s, res, a, kw: ((), _rule_name(s, rule(a, kw))))
    _after(ConfigBackend, "delete_config_rule", lambda s, res, a, kw: ((), rule_name(a, kw)))
    threading.Thread(target=_worker, name="config-evaluator", daemon=True).start()
