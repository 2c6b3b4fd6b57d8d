"""A local Athena: Athena's query API answered as AWS does, each query run on a real Trino
server (trino_server.py) whose Hive catalog is this local AWS's Glue catalog and S3.

StartQueryExecution queues the query (QUEUED), a worker submits it to Trino (RUNNING) and
streams its rows to the output location as Athena writes them: `<id>.csv` (every field quoted,
a header row, NULL as an empty unquoted field) and `<id>.csv.metadata` (the column info in
Athena's own binary layout, protocol-buffer encoded: see result_metadata); statements without rows (MSCK REPAIR) write
`<id>.txt`. Trino's error becomes StateChangeReason ("ERROR_NAME: message") and AthenaError.
`MSCK REPAIR TABLE t` runs as Trino's `CALL system.sync_partition_metadata(db, 't', 'FULL')`,
which registers the partitions found under the table's location in the Glue catalog as Athena's
Hive DDL does. Trino serves the hub account's catalog (its keys are the local AWS's defaults)."""
import csv
import io
from decimal import Decimal
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from moto.athena.models import athena_backends
from moto.athena.responses import AthenaResponse
from moto.core.exceptions import JsonRESTError
from moto.s3.models import s3_backends

from . import sim, trino_server

PAGE = 1000
WORKERS = 2
_lock = threading.RLock()
_executions = {}   # (account, region) -> {id: Execution}, in start order
_tokens = {}       # (account, region, ClientRequestToken) -> id
_results = {}      # id -> (columns, rows) of the last GetQueryResults (parsed once, paged many times)
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="athena")
_trino = {"server": None, "error": None, "starting": threading.Lock()}
_starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trino-start")  # lives as long as Trino


class InvalidRequest(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InvalidRequestException", message)


class Execution:
    def __init__(self, account, region, query, database, catalog, workgroup, output, token):
        self.id = str(uuid.uuid4())
        self.account, self.region, self.query = account, region, query
        self.database, self.catalog, self.workgroup, self.token = database, catalog, workgroup, token
        self.output = output
        self.state, self.reason, self.error = "QUEUED", None, None
        self.submitted, self.completed, self.started = time.time(), None, None
        self.trino_id, self.next_uri, self.stats = None, None, {}
        self.columns = None
        self.statement_type = _statement_type(query)

    def describe(self):
        status = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.error:
            status["AthenaError"] = self.error
        end = self.completed or time.time()
        queued = int(((self.started or end) - self.submitted) * 1000)
        engine = int(self.stats.get("elapsedTimeMillis", 0))
        out = {
            "QueryExecutionId": self.id, "Query": self.query, "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_file()},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine,
                "DataScannedInBytes": int(self.stats.get("physicalInputBytes", self.stats.get("processedBytes", 0))),
                "TotalExecutionTimeInMillis": int((end - self.submitted) * 1000),
                "QueryQueueTimeInMillis": queued,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": int(self.stats.get("planningTimeMillis", 0)),
                "ServiceProcessingTimeInMillis": max(0, int((end - self.submitted) * 1000) - queued - engine),
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
            "SubstatementType": self.statement_type.replace("DML", "SELECT") if self.statement_type == "DML"
            else self.query.split()[0].upper(),
        }
        return out

    def output_file(self):
        return self.output.rstrip("/") + "/" + self.id + (".csv" if self.statement_type == "DML" else ".txt")


def _statement_type(query):
    first = (re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", query, flags=re.S).split(None, 1) or [""])[0].upper()
    if first in ("SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE", "MERGE", "TABLE"):
        return "DML"
    if first in ("CREATE", "DROP", "ALTER", "MSCK", "SHOW", "DESCRIBE", "USE"):
        return "DDL"
    return "UTILITY"


# ---- Trino ----------------------------------------------------------------------------------

def trino():
    """The running Trino server, started on first use (one start for every caller)."""
    with _trino["starting"]:
        if _trino["server"] is None:
            endpoint = sim.SETTINGS.get("aws_endpoint") or "http://127.0.0.1:4566"
            server = trino_server.TrinoServer(endpoint, sim.HUB_REGION)
            try:
                # started from a lasting thread: the kernel ends Trino when that thread's process dies
                _trino["server"] = _starter.submit(server.start).result()
                _trino["error"] = None
            except trino_server.TrinoUnavailable as e:
                _trino["error"] = str(e)
                raise
        return _trino["server"]


def start_in_background():
    """--report-engine athena: Trino starts with the local AWS rather than on the first query."""
    threading.Thread(target=_start_quietly, name="trino-eager", daemon=True).start()


def _start_quietly():
    try:
        trino()
    except trino_server.TrinoUnavailable as e:
        print(f"localaws: trino: {e}", flush=True)


def stop():
    with _trino["starting"]:
        if _trino["server"] is not None:
            _trino["server"].stop()
            _trino["server"] = None


def engine_restarted():
    """After a restore (--state-dir): queries that were queued or running died with the old engine."""
    with _lock:
        running = [e for per_region in _executions.values() for e in per_region.values()
                   if e.state in ("QUEUED", "RUNNING")]
    for e in running:
        _finish(e, "FAILED", "INTERNAL_ERROR_QUERY_ENGINE: the local AWS was restarted while the query ran",
                {"errorType": "INTERNAL_ERROR"})


def status():
    server = _trino["server"]
    return {"trino": server.url if server else None, "pid": server.proc.pid if server else None,
            "startedInSeconds": server.started_in if server else None, "error": _trino["error"]}


def _request(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    for attempt in range(60):
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r) if method != "DELETE" else None
        except urllib.error.HTTPError as e:
            if e.code in (502, 503) and attempt < 59:  # Trino's client protocol: retry these
                time.sleep(0.05 * (attempt + 1))
                continue
            raise


def _trino_sql(execution):
    """Athena's Hive DDL that Trino writes differently; everything else is Trino SQL as is."""
    m = re.match(r"^\s*MSCK\s+REPAIR\s+TABLE\s+`?([\w.]+)`?\s*;?\s*$", execution.query, re.I)
    if m:
        table = m.group(1)
        schema, table = table.split(".", 1) if "." in table else (execution.database, table)
        return f"CALL system.sync_partition_metadata('{schema}', '{table}', 'FULL')"
    return execution.query.strip().rstrip(";")


def _run(execution):
    try:
        if execution.state == "CANCELLED":
            return
        server = trino()
        if execution.state == "CANCELLED":
            return
        headers = {"X-Trino-User": "athena", "X-Trino-Source": "localaws-athena", "X-Trino-Catalog": trino_server.CATALOG,
                   "X-Trino-Time-Zone": "UTC"}
        if execution.database:
            headers["X-Trino-Schema"] = execution.database
        page = _request(server.url + "/v1/statement", "POST", _trino_sql(execution).encode(), headers)
        with _lock:
            execution.state, execution.started = "RUNNING", time.time()
        writer = _ResultWriter(execution)
        while True:
            execution.trino_id = page.get("id")
            execution.stats = page.get("stats") or execution.stats
            if page.get("columns") and writer.columns is None:
                writer.begin(page["columns"])
            for row in page.get("data") or []:
                writer.row(row)
            if page.get("error"):
                err = page["error"]
                _finish(execution, "CANCELLED" if err.get("errorName") == "USER_CANCELED" else "FAILED",
                        f"{err.get('errorName')}: {err.get('message')}", err)
                return
            execution.next_uri = page.get("nextUri")
            if not execution.next_uri or execution.state == "CANCELLED":
                break
            page = _request(execution.next_uri)
        if execution.state == "CANCELLED":
            return
        writer.close()
        _finish(execution, "SUCCEEDED")
    except _WriteRefused as e:
        _finish(execution, "FAILED", str(e), {"errorType": "USER_ERROR", "errorName": "PERMISSION_DENIED"})
    except trino_server.TrinoUnavailable as e:
        _finish(execution, "FAILED", f"Athena engine unavailable: {e}", {"errorType": "INTERNAL_ERROR"})
    except Exception as e:  # noqa: BLE001 - one query fails, never the local AWS
        _finish(execution, "FAILED", f"INTERNAL_ERROR_QUERY_ENGINE: {type(e).__name__}: {e}",
                {"errorType": "INTERNAL_ERROR"})


def _finish(execution, state, reason=None, trino_error=None):
    with _lock:
        if execution.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return
        execution.state, execution.completed = state, time.time()
        if reason:
            execution.reason = reason
        if state == "FAILED":
            user = (trino_error or {}).get("errorType") in ("USER_ERROR",)
            execution.error = {"ErrorCategory": 2 if user else 1,
                               "ErrorType": 1100 if user else 401,
                               "Retryable": not user, "ErrorMessage": reason}


# ---- results as Athena writes them -------------------------------------------------------------

class _WriteRefused(Exception):
    pass


def _split_s3(url):
    m = re.match(r"^s3://([^/]+)/?(.*)$", url or "")
    if not m:
        raise _WriteRefused(f"Invalid S3 output location: {url}")
    return m.group(1), m.group(2)


def _athena_type(trino_type):
    raw = trino_type.split("(", 1)[0].strip().lower()
    return {"timestamp with time zone": "timestamp with time zone", "char": "char", "real": "float"}.get(raw, raw)


def _column_info(columns):
    out = []
    for c in columns:
        t = c["type"]
        info = {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c["name"], "Label": c["name"],
                "Type": _athena_type(t), "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive":
                t.startswith(("varchar", "char"))}
        m = re.match(r"^\w+\((\d+)(?:,\s*(\d+))?\)", t)
        if m:
            info["Precision"] = int(m.group(1))
            info["Scale"] = int(m.group(2) or 0)
        elif t == "varchar":
            info["Precision"] = 2147483647
        elif t in ("bigint", "double"):
            info["Precision"] = {"bigint": 19, "double": 17}[t]
        elif t == "integer":
            info["Precision"] = 10
        out.append(info)
    return out


# ---- <id>.csv.metadata ------------------------------------------------------------------------
# Athena's results metadata is a protocol-buffer message, not JSON: field 1 the engine's query id,
# field 4 one ColumnInfo per column (1 catalog, 2 schema, 3 table, 4 name, 5 label, 6 type,
# 7 precision, 8 scale, 9 nullable, 10 case sensitive), default values left out as proto3 does.
# The layout is the one published from real Athena files (a 56-byte file for one `array` column
# `ary`, which test_athena_api.py reproduces byte for byte); Athena's own readers are its only users.
_NULLABLE = {"NOT_NULL": 1, "NULLABLE": 2, "UNKNOWN": 3}
_NULLABLE_NAMES = {v: k for k, v in _NULLABLE.items()}
_COLUMN_FIELDS = [(1, "CatalogName"), (2, "SchemaName"), (3, "TableName"), (4, "Name"), (5, "Label"), (6, "Type")]


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb_string(field, value):
    data = value.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data if data else b""


def _pb_int(field, value):
    return _varint(field << 3) + _varint(value) if value else b""


def result_metadata(query_id, column_info):
    """The bytes of `<id>.csv.metadata` for the query's columns (_column_info's dicts)."""
    out = bytearray(_pb_string(1, query_id))
    for c in column_info:
        body = b"".join(_pb_string(f, c.get(k) or "") for f, k in _COLUMN_FIELDS)
        body += _pb_int(7, c.get("Precision", 0)) + _pb_int(8, c.get("Scale", 0))
        body += _pb_int(9, _NULLABLE[c.get("Nullable", "UNKNOWN")]) + _pb_int(10, int(bool(c.get("CaseSensitive"))))
        out += _varint(4 << 3 | 2) + _varint(len(body)) + body
    return bytes(out)


def _pb_fields(data):
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        if key & 7 == 2:
            size, i = _read_varint(data, i)
            yield key >> 3, data[i:i + size]
            i += size
        else:
            value, i = _read_varint(data, i)
            yield key >> 3, value


def _read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def read_result_metadata(data):
    """`<id>.csv.metadata` back as (query id, ColumnInfo as GetQueryResults shows it)."""
    query_id, columns = "", []
    for field, value in _pb_fields(data):
        if field == 1:
            query_id = value.decode()
        elif field == 4:
            c = {k: "" for _, k in _COLUMN_FIELDS}
            c.update(Precision=0, Scale=0, Nullable="UNKNOWN", CaseSensitive=False)
            for f, v in _pb_fields(value):
                names = dict(_COLUMN_FIELDS)
                if f in names:
                    c[names[f]] = v.decode()
                elif f == 7:
                    c["Precision"] = v
                elif f == 8:
                    c["Scale"] = v
                elif f == 9:
                    c["Nullable"] = _NULLABLE_NAMES[v]
                elif f == 10:
                    c["CaseSensitive"] = bool(v)
            columns.append(c)
    return query_id, columns


def text(value):
    """A Trino JSON value as Athena renders it (None stays None: an empty, unquoted CSV field)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join("null" if v is None else text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={'null' if v is None else text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_double(value):
    """As Java's Double.toString, which Athena's CSV uses: 0.5, 66.7, 1.0E7, 1.5E-4."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    sign, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digits))
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{len(digits) + exp - 1}"


def csv_line(values):
    return ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values) + "\n"


class _ResultWriter:
    """The CSV as it streams from Trino, then put in the output location."""

    def __init__(self, execution):
        self.execution = execution
        self.columns = None
        self.buf = io.StringIO()

    def begin(self, columns):
        self.columns = columns
        self.buf.write(csv_line([c["name"] for c in columns]))

    def row(self, row):
        self.buf.write(csv_line([text(v) for v in row]))

    def close(self):
        e = self.execution
        bucket, key = _split_s3(e.output_file())
        backend = s3_backends[e.account]["aws"]
        if bucket not in backend.buckets:
            raise _WriteRefused(f"Unable to verify/create output bucket {bucket}")
        try:
            if e.statement_type == "DML":
                backend.put_object(bucket, key, self.buf.getvalue().encode())
                meta = result_metadata(e.trino_id or e.id, _column_info(self.columns or []))
                backend.put_object(bucket, key + ".metadata", meta)
            else:
                backend.put_object(bucket, key, b"")
        except Exception as ex:  # noqa: BLE001 - the bucket refused the write
            raise _WriteRefused(f"Access denied when writing output to url: s3://{bucket}/{key}: {ex}") from ex
        e.columns = self.columns or []
        self.buf = None


# ---- the API ------------------------------------------------------------------------------

def _p(self):
    return json.loads(self.body or "{}")


def _executions_of(self):
    return _executions.setdefault((self.current_account, self.region), {})


def _get(self, qid):
    with _lock:
        e = _executions_of(self).get(qid)
    if e is None:
        raise InvalidRequest(f"QueryExecution {qid} was not found")
    return e


def start_query_execution(self):
    p = _p(self)
    query = p.get("QueryString")
    if not query or not query.strip():
        raise InvalidRequest("QueryString must not be empty")
    name = p.get("WorkGroup") or "primary"
    backend = athena_backends[self.current_account][self.region]
    wg = backend.work_groups.get(name)
    if wg is None:
        raise InvalidRequest(f"WorkGroup {name} is not found.")
    if wg.state != "ENABLED":
        raise InvalidRequest(f"WorkGroup {name} is disabled.")
    conf = wg.configuration or {}
    own = (p.get("ResultConfiguration") or {}).get("OutputLocation")
    group = (conf.get("ResultConfiguration") or {}).get("OutputLocation")
    output = group if (conf.get("EnforceWorkGroupConfiguration") and group) else (own or group)
    if not output:
        raise InvalidRequest("No output location provided. An output location is required either through the "
                             "Workgroup result configuration setting or as an API input.")
    context = p.get("QueryExecutionContext") or {}
    token = p.get("ClientRequestToken")
    with _lock:
        if token and (self.current_account, self.region, token) in _tokens:
            return json.dumps({"QueryExecutionId": _tokens[(self.current_account, self.region, token)]})
        e = Execution(self.current_account, self.region, query, context.get("Database") or "default",
                      context.get("Catalog") or "AwsDataCatalog", name, output, token)
        _executions_of(self)[e.id] = e
        if token:
            _tokens[(self.current_account, self.region, token)] = e.id
    _pool.submit(_run, e)
    return json.dumps({"QueryExecutionId": e.id})


def get_query_execution(self):
    e = _get(self, _p(self).get("QueryExecutionId"))
    with _lock:
        return json.dumps({"QueryExecution": e.describe()})


def batch_get_query_execution(self):
    ids = _p(self).get("QueryExecutionIds") or []
    found, missing = [], []
    with _lock:
        for qid in ids:
            e = _executions_of(self).get(qid)
            (found.append(e.describe()) if e else missing.append(
                {"QueryExecutionId": qid, "ErrorCode": "INVALID_INPUT", "ErrorMessage": "not found"}))
    return json.dumps({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})


def _rows_of(e):
    with _lock:
        if e.id in _results:
            return _results[e.id]
    if e.statement_type != "DML":
        parsed = ([], [])
    else:
        bucket, key = _split_s3(e.output_file())
        body = s3_backends[e.account]["aws"].get_object(bucket, key).value.decode()
        reader = csv.reader(io.StringIO(body, newline=""))
        rows = []
        # Athena's CSV: an unquoted empty field is NULL, a quoted one the empty string
        for raw, line in zip(reader, _quoted_flags(body)):
            rows.append([None if (v == "" and not q) else v for v, q in zip(raw, line)])
        parsed = (_column_info(e.columns), rows)
    with _lock:
        _results.clear()  # keep one parsed result: a client pages through one query at a time
        _results[e.id] = parsed
    return parsed


def _quoted_flags(body):
    """Per CSV record, whether each field was quoted (csv.reader forgets it)."""
    i, n = 0, len(body)
    while i < n:
        flags = []
        while True:
            if i < n and body[i] == '"':
                i += 1
                while i < n:
                    if body[i] == '"':
                        if i + 1 < n and body[i + 1] == '"':
                            i += 2
                            continue
                        i += 1
                        break
                    i += 1
                flags.append(True)
            else:
                while i < n and body[i] not in ",\n":
                    i += 1
                flags.append(False)
            if i < n and body[i] == ",":
                i += 1
                continue
            i += 1  # the newline
            break
        yield flags


def get_query_results(self):
    p = _p(self)
    e = _get(self, p.get("QueryExecutionId"))
    if e.state in ("QUEUED", "RUNNING"):
        raise InvalidRequest(f"Query has not yet finished. Current state: {e.state}")
    if e.state != "SUCCEEDED":
        raise InvalidRequest(f"Query did not finish successfully. Final query state: {e.state}\n{e.reason or ''}")
    size = int(p.get("MaxResults") or PAGE)
    if size < 1 or size > PAGE:
        raise InvalidRequest(f"MaxResults must be between 1 and {PAGE}")
    start = 0
    if p.get("NextToken"):
        try:
            qid, offset = p["NextToken"].rsplit(":", 1)
            start = int(offset)
            if qid != e.id:
                raise ValueError
        except ValueError:
            raise InvalidRequest("NextToken is not valid") from None
    columns, rows = _rows_of(e)
    chunk = rows[start:start + size]
    out = {"UpdateCount": 0, "ResultSet": {
        "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in chunk],
        "ResultSetMetadata": {"ColumnInfo": columns}}}
    if start + size < len(rows):
        out["NextToken"] = f"{e.id}:{start + size}"
    return json.dumps(out)


def stop_query_execution(self):
    e = _get(self, _p(self).get("QueryExecutionId"))
    with _lock:
        if e.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return "{}"
        e.state, e.completed, e.reason = "CANCELLED", time.time(), "Query was cancelled by the user"
        uri = e.next_uri
    server = _trino["server"]
    if uri:
        try:
            _request(uri, "DELETE")
        except OSError:
            pass
    elif server and e.trino_id:
        try:
            _request(f"{server.url}/v1/query/{e.trino_id}", "DELETE", headers={"X-Trino-User": "athena"})
        except OSError:
            pass
    return "{}"


def list_query_executions(self):
    p = _p(self)
    wg = p.get("WorkGroup") or "primary"
    with _lock:
        ids = [e.id for e in reversed(list(_executions_of(self).values())) if e.workgroup == wg]
    size = int(p.get("MaxResults") or 50)
    start = int(p.get("NextToken") or 0)
    out = {"QueryExecutionIds": ids[start:start + size]}
    if start + size < len(ids):
        out["NextToken"] = str(start + size)
    return json.dumps(out)


def get_work_group(self):
    name = _p(self).get("WorkGroup")
    backend = athena_backends[self.current_account][self.region]
    wg = backend.work_groups.get(name)
    if wg is None:
        raise InvalidRequest(f"WorkGroup {name} is not found.")
    created = getattr(wg, "created", None) or sim.now().timestamp()
    wg.created = created
    return json.dumps({"WorkGroup": {"Name": wg.name, "State": wg.state, "Configuration": wg.configuration,
                                     "Description": wg.description, "CreationTime": created}})


def reset():
    with _lock:
        _executions.clear()
        _tokens.clear()
        _results.clear()


def install():
    for name in ("start_query_execution", "get_query_execution", "batch_get_query_execution", "get_query_results",
                 "stop_query_execution", "list_query_executions", "get_work_group"):
        setattr(AthenaResponse, name, globals()[name])

