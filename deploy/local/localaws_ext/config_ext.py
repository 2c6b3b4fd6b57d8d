"""Config GetComplianceDetailsByConfigRule for REQUIRED_TAGS rules stored by moto's
PutConfigRule, evaluated live over the account-region's EC2 instances and ASGs."""
import base64

from moto.autoscaling.models import autoscaling_backends
from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends

from . import sim

INSTANCE, GROUP = "AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup"


class ConfigError(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


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


def resources(account, region, types):
    """(type, id, tags) of the resources in scope; ASGs are identified by their ARN as Config does."""
    out = []
    if INSTANCE in types:
        ec2 = ec2_backends[account][region]
        for inst in ec2.all_instances():
            if inst.state_code != 48:  # terminated instances leave Config's inventory
                out.append((INSTANCE, inst.id, dict(ec2.tags.get(inst.id, {}))))
    if GROUP in types:
        for group in autoscaling_backends[account][region].autoscaling_groups.values():
            out.append((GROUP, group.arn, {t["Key"]: t["Value"] for t in group.tags}))
    return out


def evaluate(rule, account, region):
    scope = getattr(rule.scope, "compliance_resource_types", None) if rule.scope else None
    types = set(scope or [INSTANCE, GROUP])
    required = required_tags(rule)
    t = sim.now()
    results = []
    for rtype, rid, tags in resources(account, region, types):
        ok = tags_compliant(tags, required)
        result = {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {"ConfigRuleName": rule.config_rule_name,
                                              "ResourceType": rtype, "ResourceId": rid,
                                              "EvaluationMode": "DETECTIVE"},
                "OrderingTimestamp": t},
            "ComplianceType": "COMPLIANT" if ok else "NON_COMPLIANT",
            "ResultRecordedTime": t, "ConfigRuleInvokedTime": t,
        }
        if not ok:
            missing = [k for k, _ in required if k not in tags]
            result["Annotation"] = ("Missing tag(s): " + ", ".join(missing)) if missing else "Tag value not allowed."
        results.append(result)
    return results


def get_compliance_details_by_config_rule(self):
    name = self._get_param("ConfigRuleName")
    rule = self.config_backend.config_rules.get(name)
    if rule is None:
        raise ConfigError("NoSuchConfigRuleException",
                          f"The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name.")
    if getattr(rule.source, "source_identifier", None) != "REQUIRED_TAGS":
        rows = []  # other rules have no evaluations locally
    else:
        with sim.LOCK:
            rows = evaluate(rule, self.current_account, self.region)
    wanted = self._get_param("ComplianceTypes") or []
    rows = [r for r in rows if not wanted or r["ComplianceType"] in wanted]
    size = int(self._get_param("Limit") or 100)
    if size < 0 or size > 100:
        raise ConfigError("InvalidLimitException", "Limit must be between 0 and 100.")
    size = size or 100
    token = self._get_param("NextToken")
    try:
        start = int(base64.b64decode(token).decode()) if token else 0
    except ValueError:
        raise ConfigError("InvalidNextTokenException", "The specified next token is invalid.")
    page = rows[start:start + size]
    nxt = base64.b64encode(str(start + size).encode()).decode() if start + size < len(rows) else None
    return ActionResult({"EvaluationResults": page, "NextToken": nxt})


def install():
    ConfigResponse.get_compliance_details_by_config_rule = get_compliance_details_by_config_rule
