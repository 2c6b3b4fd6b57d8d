"""Simulation facts moto cannot hold: SSM management, patch state, refresh outcome,
disabled regions, reboots. One lock guards them and every lazily advancing process."""
import copy
import datetime as dt
import threading

HUB_ACCOUNT = "123456789012"
HUB_REGION = "us-east-1"

# RLock: effects of one simulated step (patch install) trigger others (inventory rewrite).
LOCK = threading.RLock()

SETTINGS = {"command_delay": 2.0, "refresh_delay": 2.0, "sqs_endpoint": None, "config_evaluation": True}

_instances = {}        # instance id -> sim facts (from POST /_localaws/sim)
_patch_state = {}      # instance id -> patch state dict (see _new_state)
_groups = {}           # "acct/region/name" -> {"refreshFails": bool}
_disabled = {}         # account -> set(regions)
_image_sources = {}    # ami id -> snapshot of the source instance's patch state
_reboots = []          # reboots done by RebootIfNeeded
_listeners = []        # callables(account, region) run when patch state changes


def now():
    return dt.datetime.now(dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def reset():
    with LOCK:
        for d in (_instances, _patch_state, _groups, _disabled, _image_sources):
            d.clear()
        _reboots.clear()


# ---- registration (control plane) -------------------------------------------------

def register(body):
    """Merge simulation facts; unknown instance keys are kept as given."""
    touched = {}  # (account, region) -> instance ids whose facts changed
    with LOCK:
        for iid, facts in (body.get("instances") or {}).items():
            merged = _instances.setdefault(iid, {})
            merged.update(facts)
            if "missingPatches" in facts or "failPatching" in facts:
                _patch_state.pop(iid, None)  # rebuild from the new facts on next read
            touched.setdefault((merged.get("account"), merged.get("region")), []).append(iid)
        for key, facts in (body.get("groups") or {}).items():
            _groups.setdefault(key, {}).update(facts)
        for acct, regions in (body.get("disabledRegions") or {}).items():
            _disabled[acct] = set(regions)  # an account's list replaces its previous one ([] re-enables)
    for (account, region), iids in touched.items():
        notify(account, region, iids)  # one rewrite per account-region (None: every sync) per POST


def snapshot():
    with LOCK:
        return {
            "instances": copy.deepcopy(_instances),
            "groups": copy.deepcopy(_groups),
            "disabledRegions": {a: sorted(r) for a, r in _disabled.items()},
        }


# ---- queries --------------------------------------------------------------------

def facts(iid):
    return _instances.get(iid, {})


def is_managed(iid):
    return bool(facts(iid).get("ssmManaged", True))


def platform(iid):
    return facts(iid).get("platform", "Linux")


def fails_patching(iid):
    return bool(facts(iid).get("failPatching", False))


def region_disabled(account, region):
    return region in _disabled.get(account, ())


def group_fails(account, region, name):
    return bool(_groups.get(f"{account}/{region}/{name}", {}).get("refreshFails"))


def refresh_delay(account, region, name):
    """Seconds a refresh of this group takes: its own refreshDelay, else --refresh-delay."""
    own = _groups.get(f"{account}/{region}/{name}", {}).get("refreshDelay")
    return float(SETTINGS["refresh_delay"] if own is None else own)


def reboots():
    with LOCK:
        return list(_reboots)


# ---- patch state ------------------------------------------------------------------

def _new_state(iid, launch_time):
    return {
        "missing": copy.deepcopy(facts(iid).get("missingPatches", [])),
        "installed": [],          # patches with installedTime added
        "failed": [],
        "pendingReboot": [],      # installed patches waiting for a reboot
        "operation": "Scan",
        "start": launch_time,
        "end": launch_time,
        "rebootOption": "RebootIfNeeded",
        "lastNoRebootInstall": None,
        "executionId": None,
        "installOverrideList": None,
    }


def patch_state(iid, launch_time=None):
    """Patch state of an instance, created from the sim facts (or the AMI's source) on first use."""
    with LOCK:
        st = _patch_state.get(iid)
        if st is None:
            st = _new_state(iid, launch_time or now())
            _patch_state[iid] = st
        return st


def inherit_from_image(iid, image_id, launch_time):
    """Instances launched from a CreateImage AMI carry the source's patches."""
    with LOCK:
        src = _image_sources.get(image_id)
        if src is None:
            return
        st = _new_state(iid, launch_time)
        st["missing"] = copy.deepcopy(src["missing"])
        st["installed"] = copy.deepcopy(src["installed"] + src["pendingReboot"])
        st["failed"] = copy.deepcopy(src["failed"])
        _patch_state[iid] = st
        base = _instances.get(src["_iid"], {})
        mine = _instances.setdefault(iid, {})
        for key in ("platform", "ssmManaged"):
            if key in base and key not in mine:
                mine[key] = base[key]
        mine["missingPatches"] = copy.deepcopy(st["missing"])


def record_image(image_id, source_iid):
    with LOCK:
        snap = copy.deepcopy(patch_state(source_iid))
        snap["_iid"] = source_iid
        _image_sources[image_id] = snap


def apply_patch_run(iid, account, region, operation, reboot_option, success, execution_id,
                    override_list=None):
    """Effects of one finished AWS-RunPatchBaseline invocation on the instance."""
    with LOCK:
        st = patch_state(iid)
        t = now()
        st.update(operation=operation, start=t, end=t, rebootOption=reboot_option,
                  executionId=execution_id, installOverrideList=override_list)
        if operation == "Install":
            if not success:
                st["failed"] = st["missing"]
                st["missing"] = []
            else:
                for p in st["missing"] + st["failed"]:
                    p = dict(p, installedTime=iso(t))
                    st["pendingReboot" if p.get("rebootRequired") else "installed"].append(p)
                st["missing"], st["failed"] = [], []
                if reboot_option == "NoReboot":
                    st["lastNoRebootInstall"] = t
                elif st["pendingReboot"]:
                    _reboot(iid, account, region, t)
                    st["installed"] += st["pendingReboot"]
                    st["pendingReboot"] = []
    notify(account, region, iid)


def _reboot(iid, account, region, t):
    from moto.ec2.models import ec2_backends
    try:
        ec2_backends[account][region].reboot_instances([iid])
    except Exception:  # a terminated instance still counts as rebooted by the run
        pass
    _reboots.append({"instance": iid, "account": account, "region": region, "time": iso(t)})


# ---- change listeners (inventory sync) ------------------------------------------

def on_change(fn):
    _listeners.append(fn)


def notify(account, region, iid=None):
    """iid: one instance id, a list of them, or None for all instances of account/region."""
    for fn in _listeners:
        fn(account, region, iid)


def notify_all():
    for fn in _listeners:
        fn(None, None, None)
