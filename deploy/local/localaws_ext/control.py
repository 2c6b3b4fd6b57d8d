"""The /_localaws/ control plane: JSON in, JSON out; never faulted nor logged."""
import json
import traceback
from unittest import mock

from . import calllog, faults, sim


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def add_accounts(body):
    """Organization in the hub account plus member accounts with the given fixed ids."""
    from moto.organizations import utils as org_utils
    from moto.organizations.models import organizations_backends
    backend = organizations_backends[sim.HUB_ACCOUNT]["aws"]
    with sim.LOCK:
        if backend.org is None:
            backend.create_organization(region=sim.HUB_REGION, FeatureSet="ALL")
        known = {a.id for a in backend.accounts}
        added = []
        for acct in body.get("accounts") or []:
            acct_id = str(acct["id"])
            if acct_id in known:
                continue
            # moto draws account ids at random; pin it for this one creation.
            with mock.patch.object(org_utils, "make_random_account_id", lambda: acct_id):
                backend.create_account(AccountName=acct.get("name", acct_id),
                                       Email=acct.get("email", f"{acct_id}@example.com"))
            added.append(acct_id)
    return {"organizationId": backend.org.id, "added": added,
            "accounts": [a.id for a in backend.accounts]}


def _fire(body):
    from . import events_ext
    return events_ext.fire_rule(body)


def _config(body):
    from . import config_ext
    return config_ext.snapshot()


def _athena(body):
    from . import athena_ext
    return athena_ext.status()


def _state(body):
    from . import state
    return state.status()


def _save_state(body):
    from . import state
    if not sim.SETTINGS.get("state_dir"):
        raise ControlError(409, "no --state-dir: the state is not kept")
    state.save(sim.SETTINGS["state_dir"])
    return state.status()


def _routes():
    return {
        ("GET", "health"): lambda b: {"status": "ok"},
        ("POST", "accounts"): add_accounts,
        ("POST", "sim"): lambda b: (sim.register(b), sim.snapshot())[1],
        ("GET", "sim"): lambda b: sim.snapshot(),
        ("POST", "faults"): lambda b: (faults.load(b), faults.current())[1],
        ("GET", "faults"): lambda b: faults.current(),
        ("DELETE", "faults"): lambda b: (faults.clear(), faults.current())[1],
        ("GET", "calls"): lambda b: calllog.snapshot(),
        ("DELETE", "calls"): lambda b: (calllog.reset(), calllog.snapshot())[1],
        ("POST", "events/fire"): _fire,
        ("GET", "reboots"): lambda b: {"reboots": sim.reboots()},
        ("GET", "config"): _config,
        ("GET", "athena"): _athena,
        ("GET", "state"): _state,
        ("POST", "state/save"): _save_state,
    }


def _read_json(environ):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(size) if size else b""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ControlError(400, f"invalid JSON: {e}")


def handle(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    name = environ.get("PATH_INFO", "")[len("/_localaws/"):].strip("/")
    handler = _routes().get((method, name))
    try:
        if handler is None:
            raise ControlError(404, f"no control endpoint {method} /_localaws/{name}")
        status, result = 200, handler(_read_json(environ))
    except ControlError as e:
        status, result = e.status, {"error": str(e)}
    except (KeyError, ValueError, TypeError) as e:
        status, result = 400, {"error": f"{type(e).__name__}: {e}"}
    except Exception as e:  # a bug in the simulator: say so instead of dropping the connection
        traceback.print_exc()
        status, result = 500, {"error": f"{type(e).__name__}: {e}"}
    data = json.dumps(result, default=str).encode()
    start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
