"""The local Athena without its engine: what it refuses before a query reaches Trino, and how it
writes results as Athena does (the Trino-backed tests are in ../trino_tests, acceptance profile)."""
import csv
import io

import pytest
from botocore.exceptions import ClientError

from localaws_ext import athena_ext


def test_refused_before_the_engine(aws):
    athena = aws.client("athena")
    with pytest.raises(ClientError, match="No output location provided"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="primary")
    with pytest.raises(ClientError, match="WorkGroup nope is not found"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="nope")
    with pytest.raises(ClientError, match="was not found"):
        athena.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000")
    assert athena.get_work_group(WorkGroup="primary")["WorkGroup"]["State"] == "ENABLED"
    assert aws.ctl("athena") == {"trino": None, "pid": None, "startedInSeconds": None, "error": None}


def test_csv_as_athena_writes_it():
    values = ["a", 'say "hi"', "x,y", "two\nlines", "", None, "Sécurité ✓"]
    line = athena_ext.csv_line(values)
    assert line == '"a","say ""hi""","x,y","two\nlines","",,"Sécurité ✓"\n'
    parsed = next(csv.reader(io.StringIO(line, newline="")))
    assert parsed == [v or "" for v in values]
    assert list(athena_ext._quoted_flags(line + line)) == [[True] * 5 + [False, True]] * 2


def test_values_rendered_as_athena_renders_them():
    assert [athena_ext.text(v) for v in (None, True, 3, 66.7, 1e7, 1.5e-4, [1, None], {"k": "v"})] == \
        [None, "true", "3", "66.7", "1.0E7", "1.5E-4", "[1, null]", "{k=v}"]


def test_msck_repair_runs_as_trinos_partition_sync():
    e = athena_ext.Execution("1", "us-east-1", "MSCK REPAIR TABLE aws_complianceitem;", "patchpilot_inventory",
                             "AwsDataCatalog", "primary", "s3://b/p/", None)
    assert athena_ext._trino_sql(e) == \
        "CALL system.sync_partition_metadata('patchpilot_inventory', 'aws_complianceitem', 'FULL')"
    assert e.statement_type == "DDL" and e.output_file() == f"s3://b/p/{e.id}.txt"
    q = athena_ext.Execution("1", "us-east-1", "-- c\nWITH x AS (SELECT 1) SELECT * FROM x;", "db", "AwsDataCatalog",
                             "primary", "s3://b/p", None)
    assert q.statement_type == "DML" and q.output_file() == f"s3://b/p/{q.id}.csv"
    assert athena_ext._trino_sql(q) == "-- c\nWITH x AS (SELECT 1) SELECT * FROM x"


def test_results_metadata_is_athenas_binary_layout():
    # a real Athena file, as published (a 56-byte <id>.csv.metadata for `SELECT ... AS ary`, an array column)
    real = bytes.fromhex(
        "0a1b" + b"20190423_125128_00001_ehtur".hex()
        + "2219" + "0a04" + b"hive".hex() + "2203" + b"ary".hex() + "2a03" + b"ary".hex() + "3205" + b"array".hex()
        + "4803")
    assert len(real) == 56
    info = athena_ext._column_info([{"name": "ary", "type": "array(integer)"}])
    assert athena_ext.result_metadata("20190423_125128_00001_ehtur", info) == real
    assert athena_ext.read_result_metadata(real) == ("20190423_125128_00001_ehtur", info)
    # precision, scale and case sensitivity survive the round trip
    info = athena_ext._column_info([{"name": "n", "type": "decimal(12,3)"}, {"name": "t", "type": "varchar"}])
    assert athena_ext.read_result_metadata(athena_ext.result_metadata("q", info)) == ("q", info)
    assert info[1]["CaseSensitive"] and info[0]["Precision"] == 12 and info[0]["Scale"] == 3
