"""SSM: instance information, patch states, command invocations and a time-based
AWS-RunPatchBaseline on moto's own SimpleSystemManagerResponse / Command classes."""
import base64
import datetime as dt
import math
import threading
import uuid

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import EC2Backend, ec2_backends
from moto.ssm.models import Command
from moto.ssm.responses import SimpleSystemManagerResponse

from . import sim

PATCH_DOCUMENTS = {"AWS-RunPatchBaseline", "AWS-RunPatchBaselineWithHooks"}
PLATFORMS = {
    "Linux": ("Amazon Linux", "2"),
    "Windows": ("Microsoft Windows Server 2022 Datacenter", "10.0.20348"),
    "MacOS": ("macOS", "14.4"),
}
BASELINES = {"Linux": "pb-0c10e65780EXAMPLE", "Windows": "pb-0a79a8bd8f6e6b1e5", "MacOS": "pb-0ee4f94581EXAMPLE"}
PLUGINS = {"Linux": "PatchLinux", "Windows": "PatchWindows", "MacOS": "PatchMacOS"}

_active = []  # PatchCommands whose invocations still have effects to apply


class SsmError(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


# ---- shared helpers -------------------------------------------------------------

def paginate(items, max_results, token, default, limit):
    """Slice items by an opaque offset token, as AWS NextToken/MaxResults do."""
    size = int(max_results or default)
    if size < 1 or size > limit:
        raise SsmError("ValidationException",
                       f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                       f"constraint: Member must have value between 1 and {limit}")
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except ValueError:
            raise SsmError("InvalidNextToken", "The specified token is not valid.")
    page = items[start:start + size]
    nxt = base64.b64encode(str(start + size).encode()).decode() if start + size < len(items) else None
    return page, nxt


def aware(t):
    """moto keeps naive UTC datetimes; AWS timestamps are UTC."""
    return t.replace(tzinfo=dt.timezone.utc) if t is not None and t.tzinfo is None else t


def instance_tags(account, region, iid):
    return dict(ec2_backends[account][region].tags.get(iid, {}))


def managed_instances(account, region):
    """Running EC2 instances whose simulated SSM agent is registered."""
    ec2 = ec2_backends[account][region]
    return [i for i in ec2.all_instances() if i.state_code == 16 and sim.is_managed(i.id)]


def patch_group(tags):
    return tags.get("PatchGroup") or tags.get("Patch Group")


def patch_state_of(instance):
    return sim.patch_state(instance.id, aware(instance.launch_time))


# ---- DescribeInstanceInformation -------------------------------------------------

def instance_information(instance, account, region):
    plat = sim.platform(instance.id)
    name, version = PLATFORMS.get(plat, (plat, ""))
    return {
        "InstanceId": instance.id,
        "PingStatus": "Online",
        "LastPingDateTime": sim.now(),
        "AgentVersion": "3.3.987.0",
        "IsLatestVersion": True,
        "PlatformType": plat,
        "PlatformName": name,
        "PlatformVersion": version,
        "ResourceType": "EC2Instance",
        "IPAddress": instance.private_ip,
        "ComputerName": instance.private_dns_name,
        "AssociationStatus": "Success",
        "LastAssociationExecutionDate": aware(instance.launch_time),
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
    }


def _info_filters(params):
    """Both filter styles as (key, values) pairs."""
    pairs = [(f["key"], f.get("valueSet", [])) for f in params.get("InstanceInformationFilterList") or []]
    pairs += [(f["Key"], f.get("Values", [])) for f in params.get("Filters") or []]
    return pairs


def _info_matches(info, tags, key, values):
    if key in ("InstanceIds", "InstanceId"):
        return info["InstanceId"] in values
    if key == "PingStatus":
        return info["PingStatus"] in values
    if key in ("PlatformTypes", "PlatformType"):
        return info["PlatformType"] in values
    if key in ("ResourceType",):
        return info["ResourceType"] in values
    if key in ("AgentVersion",):
        return info["AgentVersion"] in values
    if key == "tag-key":
        return any(k in tags for k in values)
    if key.startswith("tag:"):
        return tags.get(key[4:]) in values
    raise SsmError("InvalidInstanceInformationFilterValue", f"The filter key {key} is not valid.")


def describe_instance_information(self):
    params = _json(self)
    account, region = self.current_account, self.region
    with sim.LOCK:
        rows = []
        for inst in managed_instances(account, region):
            info = instance_information(inst, account, region)
            tags = instance_tags(account, region, inst.id)
            if all(_info_matches(info, tags, k, v) for k, v in _info_filters(params)):
                rows.append(info)
    page, nxt = paginate(rows, params.get("MaxResults"), params.get("NextToken"), 50, 50)
    return ActionResult({"InstanceInformationList": page, "NextToken": nxt})


def _json(response):
    import json
    try:
        return json.loads(response.body or "{}")
    except ValueError:
        return {}


# ---- DescribeInstancePatchStates ---------------------------------------------------

def noncompliant(state):
    """Patches that make an instance NON_COMPLIANT: missing, failed, installed pending reboot."""
    return state["missing"] + state["failed"] + state["pendingReboot"]


def patch_state_row(instance, account, region):
    st = patch_state_of(instance)
    tags = instance_tags(account, region, instance.id)
    plat = sim.platform(instance.id)
    bad = noncompliant(st)
    critical = sum(1 for p in bad if p.get("severity") == "Critical")
    security = sum(1 for p in bad if p.get("classification") in ("SecurityUpdates", "Security"))
    row = {
        "InstanceId": instance.id,
        "PatchGroup": patch_group(tags) or "",
        "BaselineId": BASELINES.get(plat, BASELINES["Linux"]),
        "SnapshotId": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{instance.id}{st['end']}")),
        "InstalledCount": len(st["installed"]),
        "InstalledOtherCount": 0,
        "InstalledPendingRebootCount": len(st["pendingReboot"]),
        "InstalledRejectedCount": 0,
        "MissingCount": len(st["missing"]),
        "FailedCount": len(st["failed"]),
        "UnreportedNotApplicableCount": 0,
        "NotApplicableCount": 0,
        "AvailableSecurityUpdateCount": 0,
        "OperationStartTime": st["start"],
        "OperationEndTime": st["end"],
        "Operation": st["operation"],
        "RebootOption": st["rebootOption"],
        "CriticalNonCompliantCount": critical,
        "SecurityNonCompliantCount": security,
        "OtherNonCompliantCount": len(bad) - critical - security if len(bad) >= critical + security else 0,
    }
    if st["lastNoRebootInstall"]:
        row["LastNoRebootInstallOperationTime"] = st["lastNoRebootInstall"]
    if st.get("installOverrideList"):
        row["InstallOverrideList"] = st["installOverrideList"]
    return row


def describe_instance_patch_states(self):
    params = _json(self)
    ids = params.get("InstanceIds") or []
    account, region = self.current_account, self.region
    with sim.LOCK:
        advance_all()
        by_id = {i.id: i for i in managed_instances(account, region)}
        rows = [patch_state_row(by_id[i], account, region) for i in ids if i in by_id]
    page, nxt = paginate(rows, params.get("MaxResults"), params.get("NextToken"), 10, 100)
    return ActionResult({"InstancePatchStates": page, "NextToken": nxt})


# ---- the simulated AWS-RunPatchBaseline ----------------------------------------------

def _count_or_percent(value, total, default):
    text = str(value if value not in (None, "") else default).strip()
    if text.endswith("%"):
        return math.floor(float(text[:-1]) * total / 100)
    return int(text)


class PatchCommand(Command):
    """A Run Command whose invocations progress in waves over --command-delay seconds.

    Outcomes are fixed at SendCommand (sim facts); status is a pure function of time,
    and effects on patch state are applied once per finished invocation (advance())."""

    def __init__(self, backend, p, instance_ids):
        # Command.__init__ resolves targets itself and marks everything Success: set fields here.
        self.account_id, self.backend_region = backend.account_id, backend.region_name
        self.command_id = str(uuid.uuid4())
        self.comment = p.get("Comment", "")
        self.document_name = p["DocumentName"]
        self.document_version = p.get("DocumentVersion") or "$DEFAULT"
        self.timeout_seconds = int(p.get("TimeoutSeconds") or 3600)
        self.max_concurrency = str(p.get("MaxConcurrency") or "50")
        self.max_errors = str(p.get("MaxErrors") or "0")
        self.notification_config = p.get("NotificationConfig") or {}
        self.output_s3_bucket_name = p.get("OutputS3BucketName", "")
        self.output_s3_key_prefix = p.get("OutputS3KeyPrefix", "")
        self.output_s3_region = p.get("OutputS3Region") or (self.backend_region if self.output_s3_bucket_name else "")
        self.parameters = p.get("Parameters") or {}
        self.service_role_arn = p.get("ServiceRoleArn", "")
        self.cloudwatch = p.get("CloudWatchOutputConfig") or {"CloudWatchOutputEnabled": False}
        self.targets = p.get("Targets") or []
        self.instance_ids = instance_ids
        self.invocations = []
        self.requested_date_time = sim.now()
        self.expires_after = self.requested_date_time + dt.timedelta(seconds=self.timeout_seconds)
        self.operation = (self.parameters.get("Operation") or ["Scan"])[0]
        self.reboot_option = (self.parameters.get("RebootOption") or ["RebootIfNeeded"])[0]
        self.override_list = (self.parameters.get("InstallOverrideList") or [None])[0]
        self._plan()

    # -- plan: waves, outcomes, MaxErrors cut-off
    def _plan(self):
        n, d = len(self.instance_ids), float(sim.SETTINGS["command_delay"])
        wave_size = max(1, _count_or_percent(self.max_concurrency, n, "50") or 1)
        self.max_errors_n = _count_or_percent(self.max_errors, n, "0")
        t0, errors, cut = self.requested_date_time, 0, None
        self.plan = []
        for idx, iid in enumerate(self.instance_ids):
            wave = idx // wave_size
            start = t0 + dt.timedelta(seconds=wave * d)
            entry = {"iid": iid, "wave": wave, "applied": False,
                     "running": start + dt.timedelta(seconds=0.25 * d),
                     "end": start + dt.timedelta(seconds=d),
                     "outcome": "Failed" if sim.fails_patching(iid) else "Success",
                     # what the baseline will act on: the instance's missing (and earlier failed) patches now
                     "patches": _pending_patches(iid)}
            if cut is not None and wave > cut["wave"]:
                entry.update(outcome="Terminated", end=cut["end"], running=None)
            self.plan.append(entry)
            last_in_wave = idx == n - 1 or (idx + 1) // wave_size != wave
            if cut is None:
                errors += entry["outcome"] == "Failed"
                if last_in_wave and errors > self.max_errors_n:
                    cut = {"wave": wave, "end": entry["end"]}
        self.finish = max([e["end"] for e in self.plan], default=t0)

    # -- status as a function of time
    @staticmethod
    def _entry_status(e, t):
        if e["outcome"] == "Terminated":
            return ("Cancelled", "Terminated") if t >= e["end"] else ("Pending", "Pending")
        if t < e["running"]:
            return "Pending", "Pending"
        if t < e["end"]:
            return "InProgress", "In Progress"
        return e["outcome"], e["outcome"]

    def _counts(self, t):
        states = [self._entry_status(e, t)[0] for e in self.plan]
        done = sum(s in ("Success", "Failed", "Cancelled") for s in states)
        return done, states.count("Failed")

    def command_status(self, t):
        done, failed = self._counts(t)
        if self.plan and done < len(self.plan):
            started = any(t >= e["running"] for e in self.plan if e["running"])
            return ("InProgress", "In Progress") if started else ("Pending", "Pending")
        if failed > self.max_errors_n:
            return "Failed", "Failed"
        if failed:
            return "Failed", "Incomplete"
        return "Success", "Success"

    # -- effects
    def advance(self, t=None):
        t = t or sim.now()
        for e in self.plan:
            if e["applied"] or t < e["end"]:
                continue
            e["applied"] = True
            if e["outcome"] in ("Success", "Failed"):
                self._write_output(e)
                sim.apply_patch_run(e["iid"], self.account_id, self.backend_region, self.operation,
                                    self.reboot_option, e["outcome"] == "Success", self.command_id,
                                    self.override_list)
        return all(e["applied"] for e in self.plan)

    # -- AWS shapes
    def response_object(self):
        with sim.LOCK:
            self.advance()
            t = sim.now()
            status, details = self.command_status(t)
            done, failed = self._counts(t)
        obj = {
            "CommandId": self.command_id, "DocumentName": self.document_name,
            "DocumentVersion": self.document_version, "Comment": self.comment,
            "ExpiresAfter": self.expires_after, "Parameters": self.parameters,
            "InstanceIds": [] if self.targets else list(self.instance_ids), "Targets": self.targets,
            "RequestedDateTime": self.requested_date_time, "Status": status, "StatusDetails": details,
            "OutputS3Region": self.output_s3_region, "OutputS3BucketName": self.output_s3_bucket_name,
            "OutputS3KeyPrefix": self.output_s3_key_prefix, "MaxConcurrency": self.max_concurrency,
            "MaxErrors": self.max_errors, "TargetCount": len(self.plan), "CompletedCount": done,
            "ErrorCount": failed, "DeliveryTimedOutCount": 0, "ServiceRole": self.service_role_arn,
            "NotificationConfig": self.notification_config, "CloudWatchOutputConfig": self.cloudwatch,
            "TimeoutSeconds": self.timeout_seconds,
        }
        return obj

    def _output(self, e, status):
        """RunPatchBaseline's stdout/stderr as the agent prints them: the baseline, then per patch what
        happened (installed, or the one that failed and why), then the summary."""
        if status not in ("Success", "Failed"):
            return "", ""
        plat = sim.platform(e["iid"])
        patches = e.get("patches", [])
        lines = [
            f"Patch baseline {BASELINES.get(plat, BASELINES['Linux'])} ({PLATFORMS.get(plat, PLATFORMS['Linux'])[0]})",
            f"Operation: {self.operation}  RebootOption: {self.reboot_option}"
            + (f"  InstallOverrideList: {self.override_list}" if self.override_list else ""),
            f"Instance {e['iid']}: {len(patches)} applicable patch(es) missing",
        ]
        lines += [f"  missing {p['id']} ({p.get('classification', '')}, {p.get('severity', '')})" for p in patches]
        if self.operation != "Install":
            lines.append(f"Scan complete: {len(patches)} missing, nothing installed")
            return "\n".join(lines) + "\n", ""
        err = ""
        if status == "Success":
            for p in patches:
                lines.append(f"Installing {p['id']} ...")
                lines.append(f"Installed {p['id']}" + (" (reboot required)" if p.get("rebootRequired") else ""))
            reboot = any(p.get("rebootRequired") for p in patches)
            lines.append(f"Install complete: {len(patches)} installed, 0 failed")
            if reboot:
                lines.append("Reboot required: " + ("not rebooting (NoReboot)" if self.reboot_option == "NoReboot"
                                                     else "rebooting the instance"))
        else:
            failing = patches[0]["id"] if patches else "package manager"
            for p in patches:
                lines.append(f"Installing {p['id']} ...")
                if p["id"] == failing:
                    lines.append(f"Failed to install {p['id']}: the package manager returned exit code 1")
                    break
                lines.append(f"Installed {p['id']}")
            lines.append(f"Install failed: {failing} could not be installed; "
                         f"{max(0, len(patches) - 1)} other patch(es) left missing")
            err = (f"failed to run patch baseline on {e['iid']}: {failing}: package manager error "
                   f"(exit code 1)\n")
        return "\n".join(lines) + "\n", err

    def _key(self, e, stream):
        prefix = f"{self.output_s3_key_prefix.rstrip('/')}/" if self.output_s3_key_prefix else ""
        plugin = PLUGINS.get(sim.platform(e["iid"]), "PatchLinux")
        return f"{prefix}{self.command_id}/{e['iid']}/awsrunPatchBaseline/{plugin}/{stream}"

    def _write_output(self, e):
        """As the agent does with OutputS3BucketName: stdout (and stderr when there is any) under
        <prefix>/<command id>/<instance>/awsrunPatchBaseline/<plugin>/. A bucket that does not exist
        gets nothing (the agent's upload fails; the invocation's status is unchanged)."""
        if not self.output_s3_bucket_name:
            return
        from .inventory import _s3_for_bucket
        s3 = _s3_for_bucket(self.output_s3_bucket_name)
        if s3 is None:
            return
        out, err = self._output(e, e["outcome"])
        for stream, text in (("stdout", out), ("stderr", err)):
            if text:
                s3.put_object(self.output_s3_bucket_name, self._key(e, stream), text.encode())

    def _url(self, e, stream):
        if not self.output_s3_bucket_name:
            return ""
        return f"https://s3.{self.output_s3_region}.amazonaws.com/{self.output_s3_bucket_name}/{self._key(e, stream)}"

    def _plugin(self, e, t):
        status, details = self._entry_status(e, t)
        out, err = self._output(e, status)
        finished = status in ("Success", "Failed")
        return {
            "Name": PLUGINS.get(sim.platform(e["iid"]), "PatchLinux"),
            "Status": status, "StatusDetails": details,
            "ResponseCode": (0 if status == "Success" else 1) if finished else -1,
            "ResponseStartDateTime": e["running"] if e["running"] and t >= e["running"] else None,
            "ResponseFinishDateTime": e["end"] if finished else None,
            "Output": (out + err)[:2500],
            "StandardOutputUrl": self._url(e, "stdout"), "StandardErrorUrl": self._url(e, "stderr"),
            "OutputS3Region": self.output_s3_region, "OutputS3BucketName": self.output_s3_bucket_name,
            "OutputS3KeyPrefix": self.output_s3_key_prefix,
        }

    def invocation_records(self, details, t):
        rows = []
        for e in self.plan:
            status, sd = self._entry_status(e, t)
            row = {
                "CommandId": self.command_id, "InstanceId": e["iid"], "InstanceName": "",
                "Comment": self.comment, "DocumentName": self.document_name,
                "DocumentVersion": self.document_version, "RequestedDateTime": self.requested_date_time,
                "Status": status, "StatusDetails": sd, "TraceOutput": "",
                "StandardOutputUrl": self._url(e, "stdout"), "StandardErrorUrl": self._url(e, "stderr"),
                "ServiceRole": self.service_role_arn, "NotificationConfig": self.notification_config,
                "CloudWatchOutputConfig": self.cloudwatch,
                "CommandPlugins": [self._plugin(e, t)] if details else [],
            }
            rows.append(row)
        return rows

    def get_invocation(self, instance_id, plugin_name):
        with sim.LOCK:
            self.advance()
            t = sim.now()
            e = next((x for x in self.plan if x["iid"] == instance_id), None)
        plugin = PLUGINS.get(sim.platform(instance_id), "PatchLinux")
        if e is None or (plugin_name and plugin_name != plugin):
            raise SsmError("InvocationDoesNotExist", f"No invocation of {self.command_id} on {instance_id}.")
        status, details = self._entry_status(e, t)
        out, err = self._output(e, status)
        finished = status in ("Success", "Failed")
        started = e["running"] is not None and t >= e["running"]
        elapsed = (e["end"] - e["running"]).total_seconds() if finished else 0
        return {
            "CommandId": self.command_id, "InstanceId": instance_id, "Comment": self.comment,
            "DocumentName": self.document_name, "DocumentVersion": self.document_version,
            "PluginName": plugin, "ResponseCode": (0 if status == "Success" else 1) if finished else -1,
            "ExecutionStartDateTime": sim.iso(e["running"]) if started else "",
            "ExecutionElapsedTime": f"PT{elapsed:.3f}S" if finished else "",
            "ExecutionEndDateTime": sim.iso(e["end"]) if finished else "",
            "Status": status, "StatusDetails": details,
            "StandardOutputContent": out, "StandardOutputUrl": self._url(e, "stdout"),
            "StandardErrorContent": err, "StandardErrorUrl": self._url(e, "stderr"),
            "CloudWatchOutputConfig": self.cloudwatch,
        }


def _pending_patches(iid):
    st = sim.patch_state(iid)
    return [dict(p) for p in st["missing"] + st["failed"]]


def _resolve_targets(account, region, targets):
    """Instances selected by Targets; unmanaged or stopped ones are simply not targeted."""
    ec2 = ec2_backends[account][region]
    chosen = []
    for inst in ec2.all_instances():
        if inst.state_code != 16 or not sim.is_managed(inst.id):
            continue
        tags = ec2.tags.get(inst.id, {})
        if all(_target_matches(inst.id, tags, t) for t in targets):
            chosen.append(inst.id)
    return chosen


def _target_matches(iid, tags, target):
    key, values = target.get("Key", ""), target.get("Values", [])
    if key in ("InstanceIds", "instanceids"):
        return iid in values
    if key.startswith("tag:"):
        return tags.get(key[4:]) in values
    if key == "tag-key":
        return any(v in tags for v in values)
    raise SsmError("InvalidTarget", f"Target key {key} is not supported by the local simulator.")


def _check_instance_ids(account, region, ids):
    if len(ids) > 50:
        # AWS answers more than 50 InstanceIds with a (misleading) throttling error.
        raise SsmError("ThrottlingException", "Rate exceeded")
    ec2 = ec2_backends[account][region]
    running = {i.id for i in ec2.all_instances() if i.state_code == 16}
    bad = [i for i in ids if i not in running or not sim.is_managed(i)]
    if bad:
        raise SsmError("InvalidInstanceId",
                       f"Instances [[{', '.join(bad)}]] not in a valid state for account {account}")


_original_send_command = SimpleSystemManagerResponse.send_command


def send_command(self):
    p = _json(self)
    if p.get("DocumentName") not in PATCH_DOCUMENTS:
        return _original_send_command(self)
    account, region = self.current_account, self.region
    ids, targets = p.get("InstanceIds") or [], p.get("Targets") or []
    if ids and targets:
        raise SsmError("ValidationException", "InstanceIds and Targets cannot be specified together.")
    if not ids and not targets:
        raise SsmError("ValidationException", "Either InstanceIds or Targets must be specified.")
    with sim.LOCK:
        if ids:
            _check_instance_ids(account, region, ids)
            chosen = list(dict.fromkeys(ids))
        else:
            chosen = _resolve_targets(account, region, targets)
        cmd = PatchCommand(self.ssm_backend, p, chosen)
        self.ssm_backend._commands.append(cmd)
        _active.append(cmd)
    return ActionResult({"Command": cmd.response_object()})


# ---- ListCommandInvocations --------------------------------------------------------

def _plain_records(cmd, details):
    """Invocation rows of a command moto ran itself (other documents)."""
    rows = []
    for inv in cmd.invocations:
        row = {"CommandId": cmd.command_id, "InstanceId": inv["InstanceId"], "InstanceName": "",
               "Comment": cmd.comment, "DocumentName": cmd.document_name, "DocumentVersion": "$DEFAULT",
               "RequestedDateTime": aware(cmd.requested_date_time), "Status": inv["Status"],
               "StatusDetails": inv["StatusDetails"], "StandardOutputUrl": "", "StandardErrorUrl": "",
               "ServiceRole": cmd.service_role_arn, "CommandPlugins": []}
        if details:
            row["CommandPlugins"] = [{"Name": inv["PluginName"], "Status": inv["Status"],
                                      "StatusDetails": inv["StatusDetails"], "ResponseCode": 0,
                                      "Output": inv.get("StandardOutputContent", "")}]
        rows.append(row)
    return rows


def _invocation_filter(row, f):
    key, value = f.get("key") or f.get("Key"), f.get("value") or f.get("Value")
    if key == "InvokedAfter":
        return row["RequestedDateTime"] >= _parse_time(value)
    if key == "InvokedBefore":
        return row["RequestedDateTime"] <= _parse_time(value)
    if key == "Status":
        return row["Status"] == value
    if key == "DocumentName":
        return row["DocumentName"] == value
    if key == "ExecutionStage":
        terminal = row["Status"] in ("Success", "Failed", "Cancelled", "TimedOut")
        return terminal == (value == "Complete")
    raise SsmError("InvalidFilterKey", f"The filter key {key} is not valid.")


def _parse_time(value):
    return aware(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def list_command_invocations(self):
    p = _json(self)
    with sim.LOCK:
        advance_all()
        t = sim.now()
        rows = []
        commands = sorted(self.ssm_backend._commands, key=lambda c: aware(c.requested_date_time), reverse=True)
        if p.get("CommandId"):
            commands = [c for c in commands if c.command_id == p["CommandId"]]
            if not commands:
                raise SsmError("InvalidCommandId", "")
        for cmd in commands:
            details = bool(p.get("Details"))
            rows += cmd.invocation_records(details, t) if isinstance(cmd, PatchCommand) else _plain_records(cmd, details)
    if p.get("InstanceId"):
        rows = [r for r in rows if r["InstanceId"] == p["InstanceId"]]
    for f in p.get("Filters") or []:
        rows = [r for r in rows if _invocation_filter(r, f)]
    page, nxt = paginate(rows, p.get("MaxResults"), p.get("NextToken"), 50, 50)
    return ActionResult({"CommandInvocations": page, "NextToken": nxt})


def list_commands(self):
    """moto's ListCommands plus MaxResults/NextToken and the Status filter."""
    p = _json(self)
    backend = self.ssm_backend
    cmds = backend.list_commands(p.get("CommandId"), p.get("InstanceId"))
    rows = [c.response_object() for c in cmds]
    for f in p.get("Filters") or []:
        if f.get("key") == "Status":
            rows = [r for r in rows if r["Status"] == f.get("value")]
        elif f.get("key") == "DocumentName":
            rows = [r for r in rows if r["DocumentName"] == f.get("value")]
    page, nxt = paginate(rows, p.get("MaxResults"), p.get("NextToken"), 50, 50)
    return ActionResult({"Commands": page, "NextToken": nxt})


# ---- ticking and EC2 hooks ---------------------------------------------------------

def advance_all():
    """Apply effects of every invocation that has finished by now."""
    with sim.LOCK:
        for cmd in list(_active):
            if cmd.advance():
                _active.remove(cmd)


def _ticker():
    import time
    while True:
        time.sleep(0.2)
        try:
            advance_all()
        except Exception:  # keep ticking; a failing effect shows in the next API read
            import traceback
            traceback.print_exc()


def _hook_ec2():
    """CreateImage records the source's patch state; RunInstances inherits it; RunInstances and
    TerminateInstances update the inventory of Resource Data Syncs."""
    original_create_image = EC2Backend.create_image
    original_run = EC2Backend.run_instances

    def create_image(self, instance_id, *a, **kw):
        ami = original_create_image(self, instance_id, *a, **kw)
        sim.record_image(ami.id, instance_id)
        return ami

    def run_instances(self, image_id, *a, **kw):
        reservation = original_run(self, image_id, *a, **kw)
        for inst in reservation.instances:
            sim.inherit_from_image(inst.id, inst.image_id, aware(inst.launch_time))
        # New nodes in the inventory: one rewrite per call (bench fleets launch thousands).
        sim.notify(self.account_id, self.region_name, [i.id for i in reservation.instances])
        return reservation

    def terminate_instances(self, instance_ids, *a, **kw):
        result = original_terminate(self, instance_ids, *a, **kw)
        sim.notify(self.account_id, self.region_name, list(instance_ids))  # the sync drops their files
        return result

    original_terminate = EC2Backend.terminate_instances
    EC2Backend.create_image = create_image
    EC2Backend.run_instances = run_instances
    EC2Backend.terminate_instances = terminate_instances


def install():
    cls = SimpleSystemManagerResponse
    cls.describe_instance_information = describe_instance_information
    cls.describe_instance_patch_states = describe_instance_patch_states
    cls.send_command = send_command
    cls.list_command_invocations = list_command_invocations
    cls.list_commands = list_commands
    _hook_ec2()
    threading.Thread(target=_ticker, name="ssm-ticker", daemon=True).start()
