"""The drift Lambda end to end on moto S3: a real scheduled-event payload, captures written with
the scoring function's own format (gzip JSON Lines under Firehose's hourly keys), and the
skipped, corrupt-file and rerun cases. Reading a window of captures on its own:
test_captures.py; S3 faults during a run: test_drift_job.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contract.bundle import reference_scores_key
from contract.capture_format import encode_capture
from contract.schema import FEATURE_FIELDS
from drift import handler as drift_handler
from infra import lambda_events
from infra.synthetic_traffic import (
    DRIFTED_FIELDS,
    THRESHOLD,
    applications,
    capture_key,
    capture_records,
    put_captures,
    reference_csv_gz,
)

#: The ids Evidently draws afresh for every HTML render (uuid7 widget ids, uuid4 hex names).
RANDOM_IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])"
)
BUCKET = "credit-data"
REFERENCE_KEY = "model/reference.csv.gz"
EVENT_TIME = "2026-11-28T06:00:00Z"  # window 2026-11-21 .. 2026-11-27
WINDOW_DAYS = [date(2026, 11, d) for d in range(21, 28)]
PREFIX = "reports/drift/2026-11-27/"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "REPORT_BUCKET": BUCKET,
    "CAPTURE_BUCKET": BUCKET,
    "REFERENCE_KEY": REFERENCE_KEY,
    "WINDOW_DAYS": "7",
    "MIN_ROWS": "200",
    "MAX_ROWS": "1000",
    "ROWS_PER_OBJECT": "100",
    "MODEL_NAME": "credit-scoring-test",
}


def scheduled_event(time: str | None = EVENT_TIME) -> dict[str, Any]:
    """The payload `sam local generate-event cloudwatch scheduled-event` makes, at ``time``."""
    return lambda_events.scheduled_event(time)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def objects(s3: Any, prefix: str = "") -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return found


@contextlib.contextmanager
def aws_world() -> Iterator[Any]:
    """moto S3 with the bucket and the reference sample, and the drift env configured."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV.items():
            mp.setenv(name, value)
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key=REFERENCE_KEY, Body=reference_csv_gz(2000))
            s3.put_object(Bucket=BUCKET, Key=reference_scores_key(REFERENCE_KEY),
                          Body=json.dumps(REFERENCE_SCORES).encode())
            yield s3


def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """handler(event, context) as Lambda calls it; returns its result and its stdout lines."""
    out = io.StringIO()
    context = lambda_events.FakeLambdaContext("credit-scoring-drift", 3008, 900)
    with contextlib.redirect_stdout(out):
        result = drift_handler.handler(event, context)
    return result, out.getvalue().splitlines()


#: Reference scores: 1,000 probabilities spread over [0, 0.55), 9% at or above 0.5.
REFERENCE_SCORES = {"source": "test", "threshold": THRESHOLD,
                    "probabilities": [i * 0.00055 for i in range(1000)]}


CORRUPT = {
    "not-utf8": b"\xff\xfe\x00garbage\n",
    "truncated-json": b'{"captured_at": "2026-11-22T10:00:00+00:00", "model_ver',
    "wrong-keys": b'{"hello": "world"}\n',
}


def _string_in_numeric_field() -> bytes:
    """Well-formed capture keys, but a number field holding text: not a usable capture."""
    records = capture_records(applications(3, seed=9), at(WINDOW_DAYS[2]))
    records[1]["features"]["AMT_CREDIT"] = "lots"
    return encode_capture(records)


@pytest.fixture(scope="module")
def ok_run() -> dict[str, Any]:
    """One full run on a busy week (then the same event again), recorded for the tests below."""
    with aws_world() as s3:
        keys_in_window = []
        for i, day in enumerate(WINDOW_DAYS):
            for hour in (9, 15):
                apps = applications(100, seed=100 + 2 * i + hour, drifted=True)
                keys_in_window.append(put_captures(s3, BUCKET, apps, at(day, hour)))
        # Outside the window: the event's own (incomplete) day and the day before the window.
        put_captures(s3, BUCKET, applications(100, seed=7), at(date(2026, 11, 28), 1))
        put_captures(s3, BUCKET, applications(100, seed=8), at(date(2026, 11, 20)))
        corrupt_keys = []
        for name, body in {**CORRUPT, "string-in-number": _string_in_numeric_field()}.items():
            key = capture_key(at(WINDOW_DAYS[3]))
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            corrupt_keys.append((name, key))
        first, first_stdout = invoke(scheduled_event())
        after_first = objects(s3, "reports/")
        second, second_stdout = invoke(scheduled_event())
        after_second = objects(s3, "reports/")
    return {
        "result": first,
        "stdout": first_stdout,
        "objects": after_first,
        "rerun_result": second,
        "rerun_stdout": second_stdout,
        "rerun_objects": after_second,
        "corrupt_keys": corrupt_keys,
        "capture_objects": len(keys_in_window),
    }


@pytest.mark.slow
def test_end_to_end_writes_report_summary_and_latest(ok_run: dict[str, Any]) -> None:
    written = ok_run["objects"]
    assert set(written) == {
        PREFIX + "report.html",
        PREFIX + "report.json",
        PREFIX + "summary.json",
        "reports/drift/latest.json",
    }
    summary = json.loads(written[PREFIX + "summary.json"])
    assert json.loads(written["reports/drift/latest.json"]) == summary
    assert summary["status"] == "ok" and summary["reason"] is None
    assert summary["window"] == {"start": "2026-11-21", "end": "2026-11-27", "days": 7}
    assert summary["event_time"] == "2026-11-28T06:00:00+00:00"
    assert summary["model"] == "credit-scoring-test"
    # About MAX_ROWS: the quota of the hour holding only corrupt objects (its share of the
    # bytes) stays unfilled.
    assert summary["rows"]["reference"] == 2000 and 980 <= summary["rows"]["current"] < 1000
    assert summary["columns_tested"] == len(FEATURE_FIELDS) == 120
    drifted = {c["column"]: c for c in summary["drifted_columns"]}
    assert set(DRIFTED_FIELDS) <= set(drifted)
    assert drifted["AMT_INCOME_TOTAL"]["stattest"] == "Wasserstein distance (normed)"
    assert drifted["NAME_CONTRACT_TYPE"]["stattest"] == "Jensen-Shannon distance"
    for column in drifted.values():
        assert column["score"] >= column["threshold"] == 0.1
    assert summary["drifted_count"] == len(drifted)
    assert summary["drift_share"] == pytest.approx(len(drifted) / 120)
    assert summary["drift_share_threshold"] == 0.5
    assert summary["dataset_drift"] is (summary["drift_share"] >= 0.5)
    assert summary["report_keys"] == {
        "html": PREFIX + "report.html",
        "json": PREFIX + "report.json",
        "summary": PREFIX + "summary.json",
    }
    html = written[PREFIX + "report.html"].decode("utf-8")
    assert html.lstrip().lower().startswith("<html") or "<!doctype html" in html[:200].lower()
    assert "AMT_INCOME_TOTAL" in html
    report = json.loads(written[PREFIX + "report.json"])
    count = report["metrics"][0]
    assert count["config"]["type"] == "evidently:metric_v2:DriftedColumnsCount"
    assert count["value"] == {"count": summary["drifted_count"], "share": summary["drift_share"]}
    assert len(report["metrics"]) == 121  # DriftedColumnsCount + one ValueDrift per field
    # Decline rate by group on the captures (all approved here; no card beside the reference).
    fairness = summary["fairness"]
    assert report["fairness"] == fairness and fairness["reference"] is None
    for attribute in ("gender", "age"):
        table = fairness["decline_rate_by_group"][attribute]
        assert sum(row["applicants"] for row in table.values()) == summary["rows"]["current"]
        assert {row["decline_rate"] for row in table.values() if row["applicants"]} == {0.0}
    result = ok_run["result"]
    assert result["status"] == "ok" and result["written"] == [
        PREFIX + "report.html",
        PREFIX + "report.json",
        PREFIX + "summary.json",
        "reports/drift/latest.json",
    ]


@pytest.mark.slow
def test_only_the_window_is_read_corrupt_captures_are_skipped_and_counted(
    ok_run: dict[str, Any],
) -> None:
    summary = json.loads(ok_run["objects"][PREFIX + "summary.json"])
    captures = summary["captures"]
    corrupt = [key for _, key in ok_run["corrupt_keys"]]
    # 14 good objects in the window + 4 corrupt ones; the two outside the window are not listed.
    assert captures["objects_listed"] == ok_run["capture_objects"] + len(corrupt) == 18
    assert captures["objects_skipped_corrupt"] == len(corrupt) == 4
    assert sorted(captures["skipped_keys"]) == sorted(corrupt)
    assert captures["objects_read"] == 14
    assert captures["model_versions"] == {"1": summary["rows"]["current"]}


@pytest.mark.slow
def test_the_report_compares_scores_and_decline_rate_with_the_reference(
    ok_run: dict[str, Any],
) -> None:
    summary = json.loads(ok_run["objects"][PREFIX + "summary.json"])
    prediction = summary["prediction"]
    current, reference = prediction["current"], prediction["reference"]
    assert current["rows"] == summary["rows"]["current"]
    # the synthetic captures all score 0.1 (approved); 9% of the reference is declined
    assert current["decline_rate"] == 0.0 and current["mean_probability"] == pytest.approx(0.1)
    assert reference["threshold"] == THRESHOLD and reference["rows"] == 1000
    assert reference["decline_rate"] == pytest.approx(0.09)  # i * 0.00055 >= 0.5 for i >= 910
    assert prediction["decline_rate_change"] == pytest.approx(
        current["decline_rate"] - reference["decline_rate"])
    assert prediction["psi"] > 0.25  # every captured score sits in one reference decile
    assert sum(prediction["histogram"]["current"]) == current["rows"]


@pytest.mark.slow
def test_reads_are_bounded_by_max_rows(ok_run: dict[str, Any]) -> None:
    summary = json.loads(ok_run["objects"][PREFIX + "summary.json"])
    assert summary["max_rows"] == 1000
    assert summary["captures"]["gets"] == 18  # each hour's one object, and the 4 corrupt
    assert summary["captures"]["hours_listed"] == 7 * 24
    assert summary["captures"]["rows_used"] == summary["rows"]["current"] <= 1000
    assert summary["sampled"] is True and summary["captures"]["sampled"] is True


@pytest.mark.slow
def test_drift_share_is_one_emf_line(ok_run: dict[str, Any]) -> None:
    emf = [json.loads(line) for line in ok_run["stdout"] if '"_aws"' in line]
    assert len(emf) == 1
    (record,) = emf
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "CreditScoring/Drift",
        "Dimensions": [["Model"]],
        "Metrics": [{"Name": "DriftShare", "Unit": "None"}],
    }
    summary = json.loads(ok_run["objects"][PREFIX + "summary.json"])
    assert record["Model"] == "credit-scoring-test"
    assert record["DriftShare"] == summary["drift_share"]
    assert record["WindowEnd"] == "2026-11-27"
    assert isinstance(record["_aws"]["Timestamp"], int)


@pytest.mark.slow
def test_rerun_of_the_same_event_overwrites_the_same_keys(ok_run: dict[str, Any]) -> None:
    first, second = ok_run["objects"], ok_run["rerun_objects"]
    assert set(first) == set(second)
    for name in ("summary.json", "report.json"):
        assert first[PREFIX + name] == second[PREFIX + name], name
    assert first["reports/drift/latest.json"] == second["reports/drift/latest.json"]
    # Evidently draws fresh widget ids for every render; apart from those, the same bytes.
    html = [RANDOM_IDS.sub("<id>", run[PREFIX + "report.html"].decode()) for run in (first, second)]
    assert html[0] == html[1]
    assert ok_run["rerun_result"]["written"] == ok_run["result"]["written"]
    assert len([line for line in ok_run["rerun_stdout"] if '"_aws"' in line]) == 1


def test_no_captures_writes_a_skipped_summary(world: Any) -> None:
    # The payload exactly as sam generates it (time 1970-01-01): nothing was captured then.
    result, stdout = invoke(scheduled_event(time=None))
    assert result["status"] == "skipped"
    written = objects(world, "reports/")
    assert set(written) == {"reports/drift/1969-12-31/summary.json", "reports/drift/latest.json"}
    summary = json.loads(written["reports/drift/1969-12-31/summary.json"])
    assert summary["status"] == "skipped"
    assert summary["reason"] == "no captures in the window"
    assert summary["window"] == {"start": "1969-12-25", "end": "1969-12-31", "days": 7}
    assert summary["rows"]["current"] == 0
    assert json.loads(written["reports/drift/latest.json"]) == summary
    assert not [line for line in stdout if '"_aws"' in line]


def test_fewer_rows_than_min_rows_writes_a_skipped_summary(world: Any) -> None:
    put_captures(world, BUCKET, applications(90, seed=1), at(WINDOW_DAYS[0]))
    world.put_object(Bucket=BUCKET, Key=capture_key(at(WINDOW_DAYS[1])), Body=CORRUPT["not-utf8"])
    result, _ = invoke(scheduled_event())
    assert result["status"] == "skipped"
    summary = json.loads(objects(world, PREFIX)[PREFIX + "summary.json"])
    assert summary["reason"] == "90 captured rows, fewer than MIN_ROWS=200"
    assert summary["captures"]["objects_skipped_corrupt"] == 1
    assert set(objects(world, "reports/")) == {PREFIX + "summary.json", "reports/drift/latest.json"}


def test_latest_is_not_moved_back_by_an_older_window(world: Any) -> None:
    invoke(scheduled_event())
    invoke(scheduled_event("2026-11-10T06:00:00Z"))
    written = objects(world, "reports/")
    assert "reports/drift/2026-11-09/summary.json" in written
    assert json.loads(written["reports/drift/latest.json"])["window"]["end"] == "2026-11-27"


# --------------------------------------------------------------------------- logs
def test_every_log_line_is_json_with_the_common_fields(ok_run: dict[str, Any]) -> None:
    """contract.logs's style: level, logger, the Lambda request id and cold_start."""
    records = [json.loads(line) for line in ok_run["stdout"] + ok_run["rerun_stdout"]]
    logs = [r for r in records if "_aws" not in r]
    assert {r["event"] for r in logs} >= {"drift_run"}
    assert any(r["logger"] == "drift.captures" for r in logs)  # the corrupt files
    for record in logs:
        assert record["level"] in {"info", "warning", "error"}
        assert record["logger"].startswith("drift")
        assert isinstance(record["lambda_request_id"], str) and record["lambda_request_id"]
        assert isinstance(record["cold_start"], bool)
    (run,) = [r for r in (json.loads(x) for x in ok_run["stdout"]) if r.get("event") ==
              "drift_run"]
    summary = json.loads(ok_run["objects"][PREFIX + "summary.json"])
    assert (run["status"], run["window_end"]) == ("ok", "2026-11-27")
    assert run["rows"] == summary["rows"]["current"] > 0
    assert run["drift_share"] == summary["drift_share"]


def test_monitor_logs_hold_no_applicant_values(world: Any, monkeypatch, caplog) -> None:
    """At DEBUG, with distinctive values in readable and in unreadable captures: no value
    appears in any line (stdout, or any logger's records)."""
    from contract.logs import get_logger

    distinctive = {"AMT_INCOME_TOTAL": 123_457.25, "AMT_CREDIT": 654_321.125,
                   "ORGANIZATION_TYPE": "Industry: type 11"}
    apps = applications(90, seed=5)
    for app in apps:
        app.update(distinctive)
    put_captures(world, BUCKET, apps, at(WINDOW_DAYS[0]))
    bad = capture_records(applications(2, seed=6), at(WINDOW_DAYS[1]))
    bad[0]["features"]["AMT_ANNUITY"] = "Zyxwvut-annuity-4411"
    world.put_object(Bucket=BUCKET, Key=capture_key(at(WINDOW_DAYS[1])),
                     Body=encode_capture(bad))
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    get_logger("drift")
    caplog.set_level("DEBUG")
    try:
        result, stdout = invoke(scheduled_event())
    finally:
        monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL")
        get_logger("drift")
    assert result["status"] == "skipped"
    text = "\n".join(stdout + [r.getMessage() for r in caplog.records])
    assert "skipped capture" in text  # the unreadable object is logged, without its values
    for value in ("123457.25", "123457", "654321.125", "Industry: type 11", "Zyxwvut"):
        assert value not in text, value
