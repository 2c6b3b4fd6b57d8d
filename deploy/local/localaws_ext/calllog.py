"""Per service/operation/account/region call counters (read by GET /_localaws/calls)."""
import threading

_lock = threading.Lock()
_calls = {}


def record(service, operation, account, region, outcome):
    """outcome: 'ok', 'throttled' or 'error' (any other error answer, injected or not)."""
    key = (service, operation, account, region)
    with _lock:
        row = _calls.setdefault(key, {"count": 0, "throttled": 0, "errors": 0})
        row["count"] += 1
        if outcome == "throttled":
            row["throttled"] += 1
        elif outcome == "error":
            row["errors"] += 1


def snapshot():
    with _lock:
        rows = [
            {"service": s, "operation": o, "account": a, "region": r, **v}
            for (s, o, a, r), v in sorted(_calls.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
        ]
    return {"calls": rows, "total": sum(r["count"] for r in rows)}


def reset():
    with _lock:
        _calls.clear()
