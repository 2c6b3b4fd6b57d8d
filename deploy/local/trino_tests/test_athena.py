"""The local Athena on a real Trino: hub.yaml's Glue catalog, work group and buckets, inventory
files in the local S3, queries through boto3 and the AWS CLI as a user would send them."""
import csv
import io
import json
import re
import signal
import threading
import time
import uuid

import pytest

from conftest import HUB, start_launcher
from localaws_ext import athena_ext
from test_cfn import SKIPPED, params, template

DB, WG = "patchpilot_inventory", "patchpilot"
AWKWARD = ['plain', 'comma, inside', 'quote " inside', 'new\nline', '', None, 'Sécurité — 更新 ✓']


@pytest.fixture(scope="module")
def env():
    t0 = time.time()
    server = start_launcher("--report-engine", "athena")
    # drained: a full stderr pipe would block the local AWS (and Trino's messages go there)
    errors = []
    threading.Thread(target=lambda: errors.extend(server.proc.stderr), daemon=True).start()
    org_id = server.ctl("accounts", {"accounts": [{"id": "111111111111"}]})["organizationId"]
    cfn = server.client("cloudformation")
    cfn.create_stack(StackName="patchpilot-hub", TemplateBody=template("hub.yaml", SKIPPED),
                     Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=params(OrganizationId=org_id, Image="patchpilot:local",
                                       ExternalIdSecretArn=f"arn:aws:secretsmanager:us-east-1:{HUB}:secret:x",
                                       Subnets="subnet-00000000", SecurityGroup="sg-00000000"))
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="patchpilot-hub")["Stacks"][0]["Outputs"]}
    s3 = server.client("s3")
    bucket = out["InventoryBucketName"]
    prefix = s3.list_objects_v2(Bucket=bucket).get("Contents")  # nothing synced yet
    assert not prefix
    location = server.client("glue").get_table(DatabaseName=DB, Name="aws_complianceitem")["Table"][
        "StorageDescriptor"]["Location"]
    key_prefix = location.split(f"s3://{bucket}/", 1)[1]
    rows = 0
    for account, region, n in (("111111111111", "us-east-1", 1200), ("111111111111", "eu-west-1", 1300)):
        lines = []
        for i in range(n):
            title = AWKWARD[i % len(AWKWARD)]
            item = {"accountid": account, "region": region, "resourcetype": "ManagedInstanceInventory",
                    "resourceid": f"i-{i // 10:08d}", "id": f"KB{i:06d}", "compliancetype": "Patch",
                    "status": "NON_COMPLIANT" if i % 3 else "COMPLIANT", "severity": "CRITICAL"}
            if title is not None:
                item["title"] = title
            lines.append(json.dumps(item, ensure_ascii=False))
        s3.put_object(Bucket=bucket, Key=f"{key_prefix}accountid={account}/region={region}/"
                      f"resourcetype=ManagedInstanceInventory/i-all.json", Body="\n".join(lines).encode())
        rows += n
    athena = server.client("athena")
    started = time.time()
    repair = run(athena, "MSCK REPAIR TABLE aws_complianceitem", deadline=600)
    print(f"\nlocal AWS + hub stack {started - t0:.1f} s; Trino's first query (start included) "
          f"{time.time() - started:.1f} s; trino {server.ctl('athena')}")
    yield server, athena, s3, out, rows, repair
    pid = server.ctl("athena")["pid"]
    t1 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(60) == 0, "".join(errors[-50:])
    print(f"\nlocal AWS and Trino stopped in {time.time() - t1:.1f} s")
    assert not _alive(pid), "Trino outlived the local AWS"


def _alive(pid):
    import os
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def run(athena, sql, deadline=120, **extra):
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": DB}, WorkGroup=WG,
                                       **extra)["QueryExecutionId"]
    return wait(athena, qid, deadline)


def wait(athena, qid, deadline=120):
    end = time.time() + deadline
    while True:
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") or time.time() > end:
            return q
        time.sleep(0.2)


def results(athena, qid):
    pages = list(athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid))
    return pages


def test_repair_registers_the_partitions_in_glue(env):
    server, _, _, _, _, repair = env
    assert repair["Status"]["State"] == "SUCCEEDED", repair["Status"]
    assert repair["StatementType"] == "DDL"
    parts = server.client("glue").get_partitions(DatabaseName=DB, TableName="aws_complianceitem")["Partitions"]
    assert sorted(p["Values"][1] for p in parts) == ["eu-west-1", "us-east-1"]


def test_count_written_as_athena_writes_it(env):
    server, athena, s3, out, rows, _ = env
    q = run(athena, "SELECT count(*) AS items FROM aws_complianceitem")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    results_bucket = out["AthenaResultsBucketName"] if "AthenaResultsBucketName" in out else None
    location = q["ResultConfiguration"]["OutputLocation"]
    # the work group enforces its own location (hub.yaml: EnforceWorkGroupConfiguration)
    assert location.startswith("s3://patchpilot-athena-results-") and location.endswith(f"/results/{q['QueryExecutionId']}.csv")
    if results_bucket:
        assert location.startswith(f"s3://{results_bucket}/")
    bucket, key = location[5:].split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() == f'"items"\n"{rows}"\n'
    trino_id, columns = athena_ext.read_result_metadata(s3.get_object(Bucket=bucket, Key=key + ".metadata")["Body"].read())
    assert re.fullmatch(r"\d{8}_\d{6}_\d{5}_\w{5}", trino_id), trino_id  # Trino's query id, as in Athena's files
    assert [(c["Name"], c["Type"]) for c in columns] == [("items", "bigint")]
    page = athena.get_query_results(QueryExecutionId=q["QueryExecutionId"])
    assert page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Name"] == "items"
    assert page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Type"] == "bigint"
    assert [r["Data"][0]["VarCharValue"] for r in page["ResultSet"]["Rows"]] == ["items", str(rows)]
    stats = q["Statistics"]
    assert stats["EngineExecutionTimeInMillis"] > 0 and stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"]
    assert q["Status"]["CompletionDateTime"] >= q["Status"]["SubmissionDateTime"]


def test_awkward_values_survive_csv_and_pages(env):
    _, athena, s3, _, rows, _ = env
    q = run(athena, "SELECT id, title, region FROM aws_complianceitem ORDER BY region, id")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    pages = results(athena, q["QueryExecutionId"])
    assert [len(p["ResultSet"]["Rows"]) for p in pages] == [1000, 1000, 501]  # the header row counts in page 1
    data = [r["Data"] for p in pages for r in p["ResultSet"]["Rows"]]
    assert [d["VarCharValue"] for d in data[0]] == ["id", "title", "region"]
    titles = [d[1].get("VarCharValue") for d in data[1:]]
    ids = [d[0]["VarCharValue"] for d in data[1:]]
    expected = [AWKWARD[int(i[2:]) % len(AWKWARD)] for i in ids]
    assert titles == expected
    bucket, key = q["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert len(parsed) == rows + 1
    assert [r[1] for r in parsed[1:]] == [t or "" for t in expected]
    assert '"comma, inside"' in body and '"quote "" inside"' in body and '"new\nline"' in body
    assert ',"",' in body and '"KB000005",,"eu-west-1"' in body  # empty string quoted, NULL empty


def test_bad_sql_fails_with_trinos_reason(env):
    _, athena, _, _, _, _ = env
    q = run(athena, "SELECT no_such_column FROM aws_complianceitem")
    assert q["Status"]["State"] == "FAILED"
    assert "COLUMN_NOT_FOUND" in q["Status"]["StateChangeReason"], q["Status"]
    assert "no_such_column" in q["Status"]["StateChangeReason"]
    assert q["Status"]["AthenaError"]["ErrorCategory"] == 2
    q = run(athena, "SELECT * FROM no_such_table")
    assert q["Status"]["State"] == "FAILED" and "TABLE_NOT_FOUND" in q["Status"]["StateChangeReason"]
    with pytest.raises(athena.exceptions.InvalidRequestException, match="FAILED"):
        athena.get_query_results(QueryExecutionId=q["QueryExecutionId"])


def test_client_request_token_is_idempotent(env):
    _, athena, _, _, _, _ = env
    token = str(uuid.uuid4())
    ids = {athena.start_query_execution(QueryString="SELECT 1", WorkGroup=WG, ClientRequestToken=token,
                                        QueryExecutionContext={"Database": DB})["QueryExecutionId"] for _ in range(3)}
    assert len(ids) == 1
    assert wait(athena, ids.pop())["Status"]["State"] == "SUCCEEDED"


def test_stop_cancels_a_running_query(env):
    _, athena, _, _, _, _ = env
    slow = ("SELECT count(*) FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) "
            "CROSS JOIN UNNEST(sequence(1, 1000)) c(z) WHERE x * y * z % 7 = 3")
    qid = athena.start_query_execution(QueryString=slow, WorkGroup=WG)["QueryExecutionId"]
    end = time.time() + 60
    while athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] != "RUNNING":
        assert time.time() < end
        time.sleep(0.1)
    athena.stop_query_execution(QueryExecutionId=qid)
    q = wait(athena, qid)
    assert q["Status"]["State"] == "CANCELLED"
    assert qid in athena.list_query_executions(WorkGroup=WG)["QueryExecutionIds"]


def test_work_group_and_the_aws_cli(env):
    server, _, s3, out, rows, _ = env
    _, wg = server.cli("athena", "get-work-group", "--work-group", WG)
    assert wg["WorkGroup"]["Configuration"]["ResultConfiguration"]["OutputLocation"].endswith("/results/")
    _, started = server.cli("athena", "start-query-execution", "--query-string",
                            "SELECT count(*) FROM aws_complianceitem", "--query-execution-context",
                            f"Database={DB}", "--work-group", WG)
    qid = started["QueryExecutionId"]
    assert wait(server.client("athena"), qid)["Status"]["State"] == "SUCCEEDED"
    _, res = server.cli("athena", "get-query-results", "--query-execution-id", qid)
    assert res["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == str(rows)
    bucket = wg["WorkGroup"]["Configuration"]["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)[0]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="results/")["Contents"]}
    assert {f"results/{qid}.csv", f"results/{qid}.csv.metadata"} <= keys
