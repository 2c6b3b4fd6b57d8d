"""EventBridge: scheduled rules fire on wall-clock time (cron/rate), target delivery with
Input/InputPath/InputTransformer, SQS targets optionally redirected to --sqs-endpoint,
and cross-account/region event-bus targets that keep the original envelope.

moto's Rule.send_to_targets is replaced because moto drops `account` from the envelope,
sends SQS messages into the rule's account instead of the queue's, ignores Input and
InputPath, and rebuilds forwarded events with the receiving bus's account."""
import calendar
import copy
import datetime as dt
import json
import re
import sys
import threading
import time
import uuid

from moto.events.models import Rule, events_backends

from . import sim

_original_send = Rule.send_to_targets
_local = threading.local()
MAX_HOPS = 5

# ---- schedule expressions ------------------------------------------------------------

MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _values(field, lo, hi, names=None):
    """Set of ints a cron field (lists, ranges, steps, names) allows."""
    out = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/")
            step = int(step_s)
        if part in ("*", "?"):
            a, b = lo, hi
        elif "-" in part:
            a, b = (_num(x, names) for x in part.split("-"))
        else:
            a = _num(part, names)
            b = hi if step > 1 else a
        out.update(range(a, b + 1, step))
    return out


def _num(text, names):
    text = text.upper()
    return names[text] if names and text in names else int(text)


def _aws_dow(day):
    return (day.weekday() + 1) % 7 + 1  # AWS: 1 = Sunday … 7 = Saturday


def _dom_matcher(field):
    if field in ("?", "*"):
        return lambda d: True
    last = lambda d: calendar.monthrange(d.year, d.month)[1]
    if field == "L":
        return lambda d: d.day == last(d)
    if field.startswith("L-"):
        off = int(field[2:])
        return lambda d: d.day == last(d) - off
    if field == "LW":
        return lambda d: d == _nearest_weekday(d, last(d))
    if field.endswith("W"):
        n = int(field[:-1])
        return lambda d: d == _nearest_weekday(d, min(n, last(d)))
    days = _values(field, 1, 31)
    return lambda d: d.day in days


def _nearest_weekday(d, day):
    """Weekday nearest to `day` of d's month, never leaving the month (cron W)."""
    target = d.replace(day=day)
    if target.weekday() == 5:  # Saturday
        target = target - dt.timedelta(days=1) if day > 1 else target + dt.timedelta(days=2)
    elif target.weekday() == 6:  # Sunday
        last = calendar.monthrange(d.year, d.month)[1]
        target = target + dt.timedelta(days=1) if day < last else target - dt.timedelta(days=2)
    return target


def _dow_matcher(field):
    if field in ("?", "*"):
        return lambda d: True
    if "#" in field:
        dow, nth = field.split("#")
        want, n = _num(dow, DAYS), int(nth)
        return lambda d: _aws_dow(d) == want and (d.day - 1) // 7 + 1 == n
    if field.endswith("L"):
        want = _num(field[:-1] or "7", DAYS)
        last = lambda d: calendar.monthrange(d.year, d.month)[1]
        return lambda d: _aws_dow(d) == want and d.day + 7 > last(d)
    days = _values(field, 1, 7, DAYS)
    return lambda d: _aws_dow(d) in days


class Cron:
    """AWS cron(minutes hours day-of-month month day-of-week year), UTC."""

    def __init__(self, body):
        fields = body.split()
        if len(fields) != 6:
            raise ValueError(f"cron needs 6 fields: {body}")
        mi, hr, dom, mon, dow, yr = fields
        self.minutes = sorted(_values(mi, 0, 59))
        self.hours = sorted(_values(hr, 0, 23))
        self.months = _values(mon, 1, 12, MONTHS)
        self.years = _values(yr, 1970, 2199)
        self.dom, self.dow = _dom_matcher(dom), _dow_matcher(dow)

    def _day_ok(self, d):
        return d.year in self.years and d.month in self.months and self.dom(d) and self.dow(d)

    def next_after(self, t):
        """First occurrence strictly after t (searching five years ahead)."""
        day = t.date()
        for _ in range(5 * 366):
            if self._day_ok(day):
                for h in self.hours:
                    for m in self.minutes:
                        cand = dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.timezone.utc)
                        if cand > t:
                            return cand
            day += dt.timedelta(days=1)
        return None


class Rate:
    UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

    def __init__(self, body, speedup=1.0):
        n, unit = body.split()
        self.period = dt.timedelta(seconds=int(n) * self.UNITS[unit] / speedup)

    def next_after(self, t):
        return t + self.period


def parse_schedule(expr):
    m = re.fullmatch(r"\s*(cron|rate)\((.*)\)\s*", expr or "")
    if not m:
        raise ValueError(f"not a schedule expression: {expr}")
    if m.group(1) == "cron":
        return Cron(m.group(2))
    return Rate(m.group(2), float(sim.SETTINGS.get("schedule_speedup") or 1.0))


# ---- envelopes and input ----------------------------------------------------------------

def scheduled_event(rule, occurrence):
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": rule.account_id, "time": sim.iso(occurrence),
            "region": rule.region_name, "resources": [rule.arn], "detail": {}}


def normalize(event):
    """moto keeps `time` as epoch seconds; AWS envelopes carry ISO-8601 UTC."""
    event = copy.deepcopy(event)
    if isinstance(event.get("time"), (int, float)):
        event["time"] = sim.iso(dt.datetime.fromtimestamp(event["time"], dt.timezone.utc))
    ingestion = event.pop("ingestion-time", None)
    return event, ingestion


_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(?:'([^']*)'|(\d+))\]")


def json_path(doc, path):
    """The JSONPath subset EventBridge uses: $, $.a.b, $.a[0], $['a-b']."""
    if path.strip() in ("$", "$."):
        return doc
    cur = doc
    for key, quoted, index in _PATH_PART.findall(path.strip()[1:]):
        try:
            cur = cur[int(index)] if index else cur[key or quoted]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return cur


def render_template(template, values):
    """InputTemplate substitution: inside quotes a string goes in raw, outside as JSON."""
    out, pos = [], 0
    for m in re.finditer(r"<([^<>\s]+)>", template):
        name = m.group(1)
        if name not in values:
            continue
        out.append(template[pos:m.start()])
        value = values[name]
        inside = _unescaped_quotes("".join(out)) % 2 == 1
        if inside:
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1] if value is not None else "")
        else:
            out.append(json.dumps(value))
        pos = m.end()
    out.append(template[pos:])
    return "".join(out)


def _unescaped_quotes(text):
    return len(re.findall(r'(?<!\\)"', text))


def target_body(target, event, ingestion, rule):
    """What the target receives, as text."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        return json.dumps(json_path(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    values = {name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.update({"aws.events.rule-arn": rule.arn, "aws.events.rule-name": rule.name,
                   "aws.events.event": event, "aws.events.event.json": event,
                   "aws.events.event.ingestion-time": sim.iso(
                       dt.datetime.fromtimestamp(ingestion, dt.timezone.utc)) if ingestion else event.get("time")})
    return render_template(transformer.get("InputTemplate") or "", values)


# ---- delivery --------------------------------------------------------------------------------

_sqs_clients = {}
_queue_urls = {}


def _sqs_client():
    import boto3
    endpoint = sim.SETTINGS["sqs_endpoint"]
    if endpoint not in _sqs_clients:
        from botocore.config import Config
        # EventBridge retries a target for up to 24 h: SQS faults injected locally delay, never lose, an event
        _sqs_clients[endpoint] = boto3.client(
            "sqs", endpoint_url=endpoint, region_name=sim.HUB_REGION,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"mode": "standard", "max_attempts": 30}))
    return _sqs_clients[endpoint]


def _queue_url(client, account, queue):
    key = (account, queue)
    if key not in _queue_urls:
        try:
            kw = {} if account == sim.HUB_ACCOUNT else {"QueueOwnerAWSAccountId": account}
            _queue_urls[key] = client.get_queue_url(QueueName=queue, **kw)["QueueUrl"]
        except Exception:  # servers that do not resolve owners: the conventional path
            _queue_urls[key] = f"{sim.SETTINGS['sqs_endpoint'].rstrip('/')}/{account}/{queue}"
    return _queue_urls[key]


def send_sqs(arn, body, target, event):
    _, _, _, region, account, queue = arn.split(":", 5)
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    fifo = queue.endswith(".fifo")
    if sim.SETTINGS.get("sqs_endpoint"):
        client = _sqs_client()
        kw = {"QueueUrl": _queue_url(client, account, queue), "MessageBody": body}
        if fifo:
            kw.update(MessageGroupId=group or "default", MessageDeduplicationId=event.get("id", str(uuid.uuid4())))
        client.send_message(**kw)
        return
    from moto.sqs import sqs_backends
    sqs_backends[account][region].send_message(
        queue_name=queue, message_body=body, group_id=group if fifo else None,
        deduplication_id=event.get("id") if fifo else None)


def forward_to_bus(arn, event, ingestion):
    """Event-bus target: the receiving bus's rules see the event with its original envelope."""
    _, _, _, region, account, resource = arn.split(":", 5)
    bus = events_backends[account][region].event_buses.get(resource.split("/", 1)[1])
    if bus is None:
        return
    for rule in list(bus.rules.values()):
        forwarded = copy.deepcopy(event)
        if ingestion is not None:
            forwarded["ingestion-time"] = ingestion
        rule.send_to_targets(forwarded)


def deliver(rule, raw_event):
    """Send one event to every target of the rule; a failing target does not stop the others."""
    event, ingestion = normalize(raw_event)
    for target in rule.targets:
        arn = target["Arn"]
        try:
            if arn.split(":")[2] == "sqs":
                send_sqs(arn, target_body(target, event, ingestion, rule), target, event)
            elif ":event-bus/" in arn:
                forward_to_bus(arn, event, ingestion)
            else:  # log groups, archives, API destinations: moto's own code
                single = copy.copy(rule)
                single.targets = [target]
                _original_send(single, dict(raw_event))
        except Exception as e:  # AWS retries and drops silently; say it on stderr
            print(f"localaws: delivery of {event.get('id')} to {arn} failed: {e}", file=sys.stderr)


def send_to_targets(self, original_event, transform_input=True):
    """Replacement for moto's Rule.send_to_targets (pattern rules and forwarded events)."""
    if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
        return
    hops = getattr(_local, "hops", 0)
    if hops >= MAX_HOPS:
        return
    _local.hops = hops + 1
    try:
        deliver(self, original_event)
    finally:
        _local.hops = hops


# ---- scheduler ------------------------------------------------------------------------------

_next_fire = {}  # (rule arn, expression) -> next occurrence


def scheduled_rules():
    for _acct, regions in list(events_backends.items()):
        for _region, backend in list(regions.items()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression and rule.state == "ENABLED":
                        yield rule


def fire(rule, occurrence):
    with sim.LOCK:
        deliver(rule, scheduled_event(rule, occurrence))


def scheduler_pass(t):
    live = set()
    for rule in scheduled_rules():
        key = (rule.arn, rule.scheduled_expression)
        live.add(key)
        try:
            schedule = parse_schedule(rule.scheduled_expression)
        except ValueError:
            continue
        due = _next_fire.setdefault(key, schedule.next_after(t))
        if due is not None and t >= due:
            fire(rule, due)
            nxt = schedule.next_after(due)
            while nxt is not None and nxt <= t:  # missed occurrences collapse into one
                nxt = schedule.next_after(nxt)
            _next_fire[key] = nxt
    for key in set(_next_fire) - live:
        del _next_fire[key]


def _scheduler():
    while True:
        time.sleep(0.25)
        try:
            scheduler_pass(sim.now())
        except Exception:
            import traceback
            traceback.print_exc()


def fire_rule(body):
    """POST /_localaws/events/fire: deliver a scheduled rule's targets as the occurrence at `time`."""
    from .control import ControlError
    account = body.get("account", sim.HUB_ACCOUNT)
    region = body.get("region", sim.HUB_REGION)
    bus = events_backends[account][region].event_buses.get(body.get("eventBus") or "default")
    rule = bus.rules.get(body.get("rule")) if bus else None
    if rule is None:
        raise ControlError(404, f"rule {body.get('rule')} not found on bus {body.get('eventBus') or 'default'} "
                                f"in {account}/{region}")
    when = body.get("time")
    occurrence = dt.datetime.fromisoformat(when.replace("Z", "+00:00")) if when else sim.now()
    event = scheduled_event(rule, occurrence)
    with sim.LOCK:
        deliver(rule, event)
    return {"fired": rule.arn, "event": event, "targets": len(rule.targets)}


def install():
    Rule.send_to_targets = send_to_targets
    threading.Thread(target=_scheduler, name="events-scheduler", daemon=True).start()
