"""AutoScaling instance refreshes on moto's groups: Start/Describe/Cancel/Rollback.

A refresh replaces the group's instances in batches over --refresh-delay seconds by
launching from the desired launch template through moto's own group code."""
import base64
import copy
import datetime as dt
import math
import threading
import time
import uuid

from moto.autoscaling.models import autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult

from . import sim

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress")
_refreshes = {}  # (account, region, group) -> [Refresh], newest last


class AsgError(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


def _lt_spec(group):
    """The group's launch template configuration, shaped like a refresh's DesiredConfiguration."""
    if group.ec2_launch_template is None:
        return None
    if group.mixed_instances_policy:
        return {"MixedInstancesPolicy": copy.deepcopy(group.mixed_instances_policy)}
    return {"LaunchTemplate": {"LaunchTemplateId": group.ec2_launch_template.id,
                               "Version": group.provided_launch_template_version or "$Default"}}


def _template_spec(config):
    """The launch template specification of a configuration (plain or mixed instances)."""
    if not config:
        return None
    if config.get("LaunchTemplate"):
        return config["LaunchTemplate"]
    return ((config.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get("LaunchTemplateSpecification")


def _one_key(spec):
    """moto refuses a specification naming both id and name (as AWS does)."""
    spec = dict(spec)
    if spec.get("LaunchTemplateId"):
        spec.pop("LaunchTemplateName", None)
    return spec


def _set_lt(group, config):
    if config.get("MixedInstancesPolicy"):
        policy = copy.deepcopy(group.mixed_instances_policy or {})
        wanted = copy.deepcopy(config["MixedInstancesPolicy"])
        for key, value in wanted.items():
            if key == "LaunchTemplate":
                policy.setdefault("LaunchTemplate", {}).update(value)
            else:
                policy[key] = value
        lt = policy["LaunchTemplate"]
        lt["LaunchTemplateSpecification"] = _one_key(lt["LaunchTemplateSpecification"])
        group.mixed_instances_policy = policy
        group._set_launch_configuration(None, None, policy)
    else:
        group._set_launch_configuration(None, _one_key(config["LaunchTemplate"]), group.mixed_instances_policy)


def _replace(group, old_ids):
    """Launch len(old_ids) instances from the group's current template, then drop the old ones."""
    if not old_ids:
        return
    group.replace_autoscaling_group_instances(len(old_ids), group.get_propagated_tags())
    group.autoscaling_backend.ec2_backend.terminate_instances(old_ids)
    group.instance_states = [s for s in group.instance_states if s.instance.id not in old_ids]


class Refresh:
    def __init__(self, group, prefs, desired, strategy):
        self.id = str(uuid.uuid4())
        self.group = group
        self.account, self.region = group.account_id, group.region
        self.prefs = {"MinHealthyPercentage": 90, "MaxHealthyPercentage": 100, "InstanceWarmup": 0,
                      "SkipMatching": False, "AutoRollback": False, "ScaleInProtectedInstances": "Ignore",
                      "StandbyInstances": "Ignore", **(prefs or {})}
        self.desired = desired or {}
        self.strategy = strategy or "Rolling"
        self.previous = _lt_spec(group)
        self.delay = sim.refresh_delay(self.account, self.region, group.name)
        self.status, self.reason = "Pending", None
        self.start, self.end = sim.now(), None
        self.rollback = None
        self.new_ids = []
        self.todo = self._to_update()
        self.total = len(self.todo)
        n = len(group.instance_states)
        span = float(self.prefs["MaxHealthyPercentage"]) - float(self.prefs["MinHealthyPercentage"])
        self.batch = max(1, math.floor(n * span / 100)) if n else 1
        self.batches = max(1, math.ceil(self.total / self.batch))
        self.next_step = self.start + self._delay(0.1)
        self.fails = sim.group_fails(self.account, self.region, group.name)

    def _delay(self, fraction):
        return dt.timedelta(seconds=self.delay * fraction)

    def _desired_version(self):
        lt = _template_spec(self.desired)
        if not lt:
            return None
        ec2 = self.group.ec2_backend
        tpl = (ec2.get_launch_template(lt["LaunchTemplateId"]) if lt.get("LaunchTemplateId")
               else ec2.get_launch_template_by_name(lt["LaunchTemplateName"]))
        return tpl.get_version(lt.get("Version") or "$Default")

    def _to_update(self):
        ids = [s.instance.id for s in self.group.instance_states]
        want = self._desired_version()
        if not _truthy(self.prefs.get("SkipMatching")) or want is None:
            return ids
        return [s.instance.id for s in self.group.instance_states
                if (s.instance.image_id, s.instance.instance_type) != (want.image_id, want.instance_type)]

    # -- progression, driven by tick()
    def tick(self, t):
        while self.status in ACTIVE and t >= self.next_step:
            getattr(self, "_step_" + self.status)()

    def _step_Pending(self):
        self.status = "InProgress"
        if _template_spec(self.desired):
            _set_lt(self.group, self.desired)
        self.next_step += self._delay(0.9 / self.batches)

    def _step_InProgress(self):
        batch, self.todo = self.todo[:self.batch], self.todo[self.batch:]
        before = {s.instance.id for s in self.group.instance_states}
        _replace(self.group, [i for i in batch if i in before])
        self.new_ids += [s.instance.id for s in self.group.instance_states if s.instance.id not in before]
        if self.fails:
            self._fail("Instances failed to reach a healthy state: the new instances did not pass "
                       "the health checks within the warm-up time (simulated refreshFails).")
        elif not self.todo:
            self.status, self.end = "Successful", sim.now()  # the group keeps the desired configuration
        else:
            self.next_step += self._delay(0.9 / self.batches)

    def _fail(self, reason):
        self.reason = reason
        if _truthy(self.prefs.get("AutoRollback")) and self.previous:
            self._begin_rollback("Instance refresh failed: " + reason)
        else:
            self.status, self.end = "Failed", sim.now()
            self._restore_config()

    def _begin_rollback(self, reason):
        self.status = "RollbackInProgress"
        self.rollback = {"RollbackReason": reason, "RollbackStartTime": sim.now(),
                         "PercentageCompleteOnRollback": 0,
                         "InstancesToUpdateOnRollback": len(self.new_ids)}
        self.next_step = sim.now() + self._delay(0.5)

    def _step_RollbackInProgress(self):
        self._restore_config()
        alive = {s.instance.id for s in self.group.instance_states}
        _replace(self.group, [i for i in self.new_ids if i in alive])
        self.rollback.update(PercentageCompleteOnRollback=100, InstancesToUpdateOnRollback=0)
        self.status, self.end = "RollbackSuccessful", sim.now()

    def _step_Cancelling(self):
        self._restore_config()
        self.status, self.end = "Cancelled", sim.now()

    def _restore_config(self):
        if self.previous and _template_spec(self.desired):
            _set_lt(self.group, self.previous)

    # -- API actions
    def cancel(self):
        self.status = "Cancelling"
        self.next_step = sim.now() + self._delay(0.25)

    def request_rollback(self):
        if not self.previous or not _template_spec(self.desired):
            raise AsgError("IrreversibleInstanceRefresh",
                           "The instance refresh has no desired configuration to roll back from.")
        self._begin_rollback("Rollback requested by user")

    def describe(self):
        done = self.total - len(self.todo)
        pct = 100 if self.status == "Successful" else (int(done * 100 / self.total) if self.total else 0)
        out = {
            "InstanceRefreshId": self.id, "AutoScalingGroupName": self.group.name,
            "Status": self.status, "StartTime": self.start, "PercentageComplete": pct,
            "InstancesToUpdate": len(self.todo),
            "ProgressDetails": {"LivePoolProgress": {"PercentageComplete": pct,
                                                     "InstancesToUpdate": len(self.todo)}},
            "Preferences": _prefs_out(self.prefs), "Strategy": self.strategy,
        }
        if self.reason:
            out["StatusReason"] = self.reason
        if self.end:
            out["EndTime"] = self.end
        if self.desired:
            out["DesiredConfiguration"] = self.desired
        if self.rollback:
            out["RollbackDetails"] = dict(self.rollback)
        return out


def _truthy(v):
    return str(v).lower() == "true" if not isinstance(v, bool) else v


def _prefs_out(prefs):
    out = dict(prefs)
    for k in ("SkipMatching", "AutoRollback"):
        out[k] = _truthy(out.get(k))
    for k in ("MinHealthyPercentage", "MaxHealthyPercentage", "InstanceWarmup"):
        if k in out and out[k] is not None:
            out[k] = int(out[k])
    return out


def _group(response, name):
    group = response.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise AsgError("ValidationError", f"AutoScalingGroup name not found - {name}")
    return group


def _list(response, name):
    return _refreshes.setdefault((response.current_account, response.region, name), [])


def _active(response, name):
    return next((r for r in _list(response, name) if r.status in ACTIVE), None)


def start_instance_refresh(self):
    name = self._get_param("AutoScalingGroupName")
    with sim.LOCK:
        tick_all()
        group = _group(self, name)
        if _active(self, name):
            raise AsgError("InstanceRefreshInProgress",
                           f"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
        refresh = Refresh(group, self._get_param("Preferences"), self._get_param("DesiredConfiguration"),
                          self._get_param("Strategy"))
        _list(self, name).append(refresh)
    return ActionResult({"InstanceRefreshId": refresh.id})


def describe_instance_refreshes(self):
    name = self._get_param("AutoScalingGroupName")
    ids = self._get_param("InstanceRefreshIds") or []
    with sim.LOCK:
        tick_all()
        _group(self, name)
        rows = [r.describe() for r in reversed(_list(self, name)) if not ids or r.id in ids]
    size = int(self._get_param("MaxRecords") or 50)
    token = self._get_param("NextToken")
    start = int(base64.b64decode(token).decode()) if token else 0
    page = rows[start:start + size]
    nxt = base64.b64encode(str(start + size).encode()).decode() if start + size < len(rows) else None
    return ActionResult({"InstanceRefreshes": page, "NextToken": nxt})


def _act_on_active(self, action):
    name = self._get_param("AutoScalingGroupName")
    with sim.LOCK:
        tick_all()
        _group(self, name)
        refresh = _active(self, name)
        if refresh is None or refresh.status in ("Cancelling", "RollbackInProgress"):
            raise AsgError("ActiveInstanceRefreshNotFound",
                           f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")
        getattr(refresh, action)()
    return ActionResult({"InstanceRefreshId": refresh.id})


def cancel_instance_refresh(self):
    return _act_on_active(self, "cancel")


def rollback_instance_refresh(self):
    return _act_on_active(self, "request_rollback")


def tick_all():
    t = sim.now()
    with sim.LOCK:
        for refreshes in _refreshes.values():
            for r in refreshes:
                if r.status in ACTIVE:
                    r.tick(t)


def _ticker():
    while True:
        time.sleep(0.2)
        try:
            tick_all()
        except Exception:  # keep ticking; errors show in the next describe
            import traceback
            traceback.print_exc()


def install():
    cls = AutoScalingResponse
    cls.start_instance_refresh = start_instance_refresh
    cls.describe_instance_refreshes = describe_instance_refreshes
    cls.cancel_instance_refresh = cancel_instance_refresh
    cls.rollback_instance_refresh = rollback_instance_refresh
    threading.Thread(target=_ticker, name="asg-ticker", daemon=True).start()
