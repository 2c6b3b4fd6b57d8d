"""SSM Resource Data Sync (SyncToDestination, JsonSerDe): Create/List/Delete on moto's SSM
response class, writing inventory and compliance files into moto's S3 like AWS does:
<prefix>/<TypeName>/accountid=<id>/region=<r>/resourcetype=ManagedInstanceInventory/<instance>.json
Each file holds newline-delimited JSON objects. Rewritten whenever patch state or sim facts
change and when instances are launched or terminated (a template's sync exists before the fleet)."""
import json

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from . import sim

_syncs = {}  # (account, region) -> {name: sync dict}


class SyncError(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


def _body(response):
    try:
        return json.loads(response.body or "{}")
    except ValueError:
        return {}


# ---- file contents --------------------------------------------------------------------

def _common(account, region, iid, capture):
    return {"resourceid": iid, "resourcetype": "ManagedInstanceInventory", "accountid": account,
            "region": region, "capturetime": capture, "schemaversion": "1.0"}


def instance_information_rows(account, region, instance, capture):
    from .ssm_ext import instance_information
    info = instance_information(instance, account, region)
    row = _common(account, region, instance.id, capture)
    row.update({"agenttype": "amazon-ssm-agent", "agentversion": info["AgentVersion"],
                "computername": info["ComputerName"], "instanceid": instance.id,
                "instancestatus": "Active", "ipaddress": info["IPAddress"],
                "platformname": info["PlatformName"], "platformtype": info["PlatformType"],
                "platformversion": info["PlatformVersion"], "resourcetype": "EC2Instance"})
    return [row]


def compliance_item_rows(account, region, instance, capture):
    from .ssm_ext import BASELINES, instance_tags, patch_group, patch_state_of
    st = patch_state_of(instance)
    base = _common(account, region, instance.id, capture)
    base.update({"compliancetype": "Patch", "executionid": st.get("executionId") or "",
                 "executiontype": "Command", "executiontime": sim.iso(st["end"]),
                 "patchbaselineid": BASELINES.get(sim.platform(instance.id), BASELINES["Linux"]),
                 "patchgroup": patch_group(instance_tags(account, region, instance.id)) or ""})
    groups = [("Missing", "NON_COMPLIANT", st["missing"]), ("Failed", "NON_COMPLIANT", st["failed"]),
              ("InstalledPendingReboot", "NON_COMPLIANT", st["pendingReboot"]),
              ("Installed", "COMPLIANT", st["installed"])]
    rows = []
    for patchstate, status, patches in groups:
        for p in patches:
            rows.append(dict(base, id=p.get("id", ""), title=p.get("title", ""), status=status,
                             severity=compliance_severity(p.get("severity")),
                             patchseverity=p.get("severity", ""), classification=p.get("classification", ""),
                             patchstate=patchstate, installedtime=p.get("installedTime", "")))
    return rows


# A compliance item's Severity is a compliance level (CRITICAL … UNSPECIFIED), the vendor's
# rating stays in PatchSeverity: the member baselines map Critical/Important/Medium/Low onto them.
_LEVELS = {"critical": "CRITICAL", "important": "HIGH", "high": "HIGH", "moderate": "MEDIUM", "medium": "MEDIUM",
           "low": "LOW", "informational": "INFORMATIONAL"}


def compliance_severity(vendor_severity):
    return _LEVELS.get((vendor_severity or "").lower(), "UNSPECIFIED")


def compliance_summary_rows(account, region, instance, capture):
    items = compliance_item_rows(account, region, instance, capture)
    bad = [i for i in items if i["status"] == "NON_COMPLIANT"]
    row = _common(account, region, instance.id, capture)
    row.update({"compliancetype": "Patch", "status": "NON_COMPLIANT" if bad else "COMPLIANT",
                "overallseverity": _worst(bad) if bad else "UNSPECIFIED",
                "compliantcriticalcount": 0, "compliantunspecifiedcount": len(items) - len(bad),
                "executiontype": "Command"})
    for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"):
        row[f"noncompliant{sev.lower()}count"] = sum(1 for i in bad if i["severity"] == sev)
    return [row]


def _worst(items):
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"]
    return min((i["severity"] for i in items), key=lambda s: order.index(s) if s in order else 99)


TYPES = {"AWS:InstanceInformation": instance_information_rows,
         "AWS:ComplianceItem": compliance_item_rows,
         "AWS:ComplianceSummary": compliance_summary_rows}


# ---- writing ---------------------------------------------------------------------------

def _s3_for_bucket(name):
    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition]


def write_sync(account, region, sync, only=None):
    """(Re)write the files of one sync (of the instances in `only`, else all); a missing bucket
    marks the sync Failed as AWS does."""
    from .ssm_ext import managed_instances
    dest = sync["S3Destination"]
    s3 = _s3_for_bucket(dest["BucketName"])
    if s3 is None:
        sync.update(LastStatus="Failed", LastSyncStatusMessage=f"Bucket {dest['BucketName']} not found")
        return
    capture = sim.iso(sim.now())
    prefix = f"{dest['Prefix'].strip('/')}/" if dest.get("Prefix") else ""
    for inst in managed_instances(account, region):
        if only is not None and inst.id not in only:
            continue
        for type_name, rows_of in TYPES.items():
            rows = rows_of(account, region, inst, capture)
            key = (f"{prefix}{type_name}/accountid={account}/region={region}/"
                   f"resourcetype=ManagedInstanceInventory/{inst.id}.json")
            if not rows:
                _delete(s3, dest["BucketName"], key)
                continue
            data = "\n".join(json.dumps(r, sort_keys=True) for r in rows).encode()
            s3.put_object(dest["BucketName"], key, data)
    _forget_gone(s3, dest["BucketName"], prefix, account, region)
    t = sim.now()
    sync.update(LastStatus="Successful", LastSyncTime=t, LastSuccessfulSyncTime=t, LastSyncStatusMessage="")


def _forget_gone(s3, bucket_name, prefix, account, region):
    """Like AWS, the sync drops the data of instances that are no longer managed (terminated)."""
    from .ssm_ext import managed_instances
    current = {i.id for i in managed_instances(account, region)}
    try:
        keys = list(s3.get_bucket(bucket_name).keys.keys())
    except Exception:  # no bucket: nothing to forget
        return
    for type_name in TYPES:
        pre = f"{prefix}{type_name}/accountid={account}/region={region}/resourcetype=ManagedInstanceInventory/"
        for key in keys:
            if key.startswith(pre) and key[len(pre):].rsplit(".json", 1)[0] not in current:
                _delete(s3, bucket_name, key)


def _delete(s3, bucket, key):
    try:
        s3.delete_object(bucket, key)
    except Exception:  # nothing to delete
        pass


def rewrite(account, region, iids=None):
    """Patch state or instances changed in account/region (None: anywhere), for the instances
    iids (one id or a collection; None: all). Callers batch: one call per API call, not per instance."""
    only = {iids} if isinstance(iids, str) else (set(iids) if iids is not None else None)
    with sim.LOCK:
        for (acct, reg), syncs in _syncs.items():
            if account is None or (acct, reg) == (account, region):
                for sync in syncs.values():
                    write_sync(acct, reg, sync, only)


# ---- API --------------------------------------------------------------------------------

def create_sync(account, region, name, sync_type, dest):
    """CreateResourceDataSync and AWS::SSM::ResourceDataSync: one sync, its files written at once."""
    sync_type = sync_type or "SyncToDestination"
    if sync_type != "SyncToDestination" or not dest:
        raise SyncError("ResourceDataSyncInvalidConfigurationException",
                        "Only SyncToDestination with an S3Destination is simulated locally.")
    if dest.get("SyncFormat", "JsonSerDe") != "JsonSerDe":
        raise SyncError("ResourceDataSyncInvalidConfigurationException", "SyncFormat must be JsonSerDe.")
    with sim.LOCK:
        syncs = _syncs.setdefault((account, region), {})
        if name in syncs:
            raise SyncError("ResourceDataSyncAlreadyExistsException", f"Sync {name} already exists.")
        t = sim.now()
        syncs[name] = {"SyncName": name, "SyncType": sync_type,
                       "S3Destination": {"SyncFormat": "JsonSerDe", **dest},
                       "SyncCreatedTime": t, "SyncLastModifiedTime": t, "LastStatus": "InProgress"}
        write_sync(account, region, syncs[name])


def delete_sync(account, region, name):
    with sim.LOCK:
        syncs = _syncs.get((account, region), {})
        if name not in syncs:
            raise SyncError("ResourceDataSyncNotFoundException", f"Sync {name} not found.")
        del syncs[name]


def create_resource_data_sync(self):
    p = _body(self)
    create_sync(self.current_account, self.region, p.get("SyncName"), p.get("SyncType"), p.get("S3Destination"))
    return EmptyResult()


def list_resource_data_sync(self):
    from .ssm_ext import paginate
    p = _body(self)
    with sim.LOCK:
        rows = [dict(s) for s in _syncs.get((self.current_account, self.region), {}).values()]
    rows = [r for r in rows if r["SyncType"] == (p.get("SyncType") or r["SyncType"])]
    page, nxt = paginate(rows, p.get("MaxResults"), p.get("NextToken"), 50, 50)
    return ActionResult({"ResourceDataSyncItems": page, "NextToken": nxt})


def delete_resource_data_sync(self):
    delete_sync(self.current_account, self.region, _body(self).get("SyncName"))
    return EmptyResult()


def install():
    cls = SimpleSystemManagerResponse
    cls.create_resource_data_sync = create_resource_data_sync
    cls.list_resource_data_sync = list_resource_data_sync
    cls.delete_resource_data_sync = delete_resource_data_sync
    sim.on_change(rewrite)
