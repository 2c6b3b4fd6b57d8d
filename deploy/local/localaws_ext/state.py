"""The local AWS's state on disk (launcher option --state-dir): every moto backend in use and the
extensions' own state, pickled together (one pickle, so objects shared between them, e.g. a
running patch command in moto's SSM and in ssm_ext._active, stay one object).

Saved at a clean stop and every few seconds while serving (atomically: a temporary file, fsync,
rename); restored at start before the server answers. A kill -9 loses what changed since the
last save. Not kept: fault rules and denied accounts (a test's set-up, given again by --faults or
POST /_localaws/faults) and the local Athena's Trino process (queries running at the stop end
FAILED, as an engine restart ends them)."""
import collections
import copyreg
import importlib
import io
import marshal
import os
import pickle
import sys
import threading
import time
import types

from . import sim

FILE = "localaws.pickle"
VERSION = 1
# module of localaws_ext -> its globals that hold state (each a dict, list, set or deque)
EXTENSIONS = {
    "ami_ext": ("_reservations", "_versions"),
    "asg_ext": ("_refreshes",),
    "athena_ext": ("_executions", "_tokens"),
    "calllog": ("_calls",),
    "cfn_ext": ("_associations", "_queue_policies"),
    "config_ext": ("_results", "_pending", "_sent"),
    "events_ext": ("_next_fire",),
    "inventory": ("_syncs",),
    "sim": ("_instances", "_patch_state", "_groups", "_disabled", "_image_sources", "_reboots"),
    "ssm_ext": ("_active",),
}
_save_lock = threading.Lock()
_last = {"saved": None, "seconds": None, "bytes": None, "error": None, "restored": None}


def _backend_dicts():
    """Every moto BackendDict holding at least one account, by 'module:attribute'."""
    from moto.core.base_backend import BackendDict
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, BackendDict) and len(value) > 0:
                found.setdefault(id(value), (f"{name}:{attr}", value))
    return dict(found.values())


def _ext_module(name):
    return importlib.import_module(f"{__package__}.{name}")


def capture():
    """The state as one picklable object (moto's backends and the extensions' globals)."""
    moto = {key: dict(bd) for key, bd in sorted(_backend_dicts().items())}
    ext = {mod: {attr: getattr(_ext_module(mod), attr) for attr in attrs} for mod, attrs in EXTENSIONS.items()}
    return {"version": VERSION, "saved": time.time(), "moto": moto, "ext": ext}


_LOCK_TYPES = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


def _function(module, code, name, defaults, cells):
    """A lambda or nested function rebuilt from its code, in its module's globals."""
    closure = tuple(types.CellType(v) for v in cells) if cells is not None else None
    return types.FunctionType(marshal.loads(code), vars(importlib.import_module(module)), name, defaults, closure)


def _set_dict_state(obj, state):
    attrs, factory = state
    if factory is not None:
        obj.default_factory = factory
    if attrs:
        obj.__dict__.update(attrs)


def _plain_dict_subclass(cls):
    """A dict subclass pickled as dict does it: its __init__ would be called with no arguments."""
    return (issubclass(cls, dict) and cls not in (dict, collections.defaultdict, collections.OrderedDict)
            and cls.__reduce__ in (dict.__reduce__, collections.defaultdict.__reduce__)
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__getstate__ is object.__getstate__
            and hasattr(cls, "__dict__"))


def _private_key(pem):
    from cryptography.hazmat.primitives import serialization
    return serialization.load_pem_private_key(pem, password=None)


def _private_key_pem(key):
    """An RSA/EC private key (moto's key pairs, KMS keys) as PKCS#8 PEM: the key objects refuse pickle."""
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _public_key(pem):
    from cryptography.hazmat.primitives import serialization
    return serialization.load_pem_public_key(pem)


def _is_key(obj, kind):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if kind == "private":
        return isinstance(obj, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey))
    return isinstance(obj, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey))


class _Pickler(pickle.Pickler):
    """pickle, plus what moto's models hold that plain pickle refuses: locks (a new one, unheld),
    functions that cannot be imported by name (defaultdict(lambda: ...), nested helpers) and dict
    subclasses whose __init__ takes arguments (moto's ParameterDict, BackendDict)."""

    def reducer_override(self, obj):
        cls = type(obj)
        lock = _LOCK_TYPES.get(cls)
        if lock is not None:
            return lock, ()
        if isinstance(obj, dict) and _plain_dict_subclass(cls):
            factory = obj.default_factory if isinstance(obj, collections.defaultdict) else None
            return (copyreg.__newobj__, (cls,), (getattr(obj, "__dict__", None), factory), None,
                    iter(obj.items()), _set_dict_state)
        if cls.__module__.startswith("cryptography."):
            if _is_key(obj, "private"):
                return _private_key, (_private_key_pem(obj),)
            if _is_key(obj, "public"):
                from cryptography.hazmat.primitives import serialization
                return _public_key, (obj.public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo),)
        if isinstance(obj, types.FunctionType) and "<" in obj.__qualname__:
            cells = tuple(c.cell_contents for c in obj.__closure__) if obj.__closure__ else None
            return _function, (obj.__module__, marshal.dumps(obj.__code__), obj.__name__, obj.__defaults__, cells)
        return NotImplemented


def _pickle(value):
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def dumps(attempts=20):
    """Pickled state; retried when a request or ticker thread changes a dict mid-pickle."""
    from .gateway import _DYNAMODB  # no DynamoDB write half done in the copy (the ledger)
    for attempt in range(attempts):
        try:
            # in the order request threads take them (sim.LOCK, then moto's backend_lock inside): none
            # is held here while waiting for another a request thread holds first
            with sim.LOCK, _DYNAMODB:
                return _pickle(capture())
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == attempts - 1:
                raise
            time.sleep(0.01)


def save(state_dir):
    """Writes the state atomically into state_dir; returns its size in bytes."""
    with _save_lock:
        t0 = time.time()
        try:
            data = dumps()
            os.makedirs(state_dir, exist_ok=True)
            path = os.path.join(state_dir, FILE)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except Exception as e:
            _last["error"] = f"{type(e).__name__}: {e}"
            raise
        _last.update(saved=time.time(), seconds=round(time.time() - t0, 3), bytes=len(data), error=None)
        return len(data)


def _replace_contents(target, value):
    if isinstance(target, dict):
        target.clear()
        target.update(value)
    elif isinstance(target, list):
        target[:] = value
    elif isinstance(target, set):
        target.clear()
        target.update(value)
    else:  # deque
        target.clear()
        target.extend(value)


def restore(state_dir):
    """Loads the state saved in state_dir, if any; returns what was restored (None: nothing saved)."""
    path = os.path.join(state_dir, FILE)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        state = pickle.load(f)
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: state version {state.get('version')}, this local AWS reads {VERSION}")
    from moto.core.base_backend import BackendDict, backend_lock
    with backend_lock, sim.LOCK:
        for key, accounts in state["moto"].items():
            module, attr = key.split(":")
            bd = getattr(importlib.import_module(module), attr)
            bd.clear()
            bd.update(accounts)
            if bd not in BackendDict._instances:
                BackendDict._instances.append(bd)
        for mod, attrs in state["ext"].items():
            m = _ext_module(mod)
            for attr, value in attrs.items():
                _replace_contents(getattr(m, attr), value)
        _ext_module("athena_ext").engine_restarted()
    _last["restored"] = {"saved": state["saved"], "services": sorted(k.split(":")[0] for k in state["moto"])}
    return _last["restored"]


def status():
    return dict(_last)


def start_saving(state_dir, every_seconds, stop):
    """Saves every every_seconds until stop is set (a failed save is reported by GET /_localaws/state)."""
    def loop():
        while not stop.wait(every_seconds):
            try:
                save(state_dir)
            except Exception as e:  # keep serving; the next save may succeed
                print(f"localaws: saving state failed: {e}", file=sys.stderr, flush=True)
    t = threading.Thread(target=loop, name="state-saver", daemon=True)
    t.start()
    return t
