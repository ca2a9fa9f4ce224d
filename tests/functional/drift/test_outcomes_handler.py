"""The monthly outcomes Lambda on moto S3: reads the lookback's captures and the outcomes,
publishes the month's summary and page, prints the EMF lines the alarm watches."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from contract.capture_format import client_hash, encode_capture, firehose_key, hash_key_id
from contract.schema import FEATURE_FIELDS
from drift.config import OutcomesConfig
from drift.outcomes_handler import emf_lines, run
from drift.outcomes_load import HashKeys, build_records, encode_objects

KEY = b"monthly-key"
FEATURES = {f.name: None for f in FEATURE_FIELDS}
APPROVED: list[tuple[int, float, date]] = []


def _captures(n: int, day: datetime, first_id: int, rng: np.random.Generator) -> tuple[
        bytes, list[tuple[int, float]]]:
    probabilities = rng.beta(1, 12, n)
    records = [{"captured_at": day.isoformat(), "request_id": f"r{first_id + i}",
                "model_version": "7", "client_id_hash": client_hash(KEY, first_id + i),
                "hash_key_id": hash_key_id(KEY), "probability": float(p),
                "decision": "approve" if p < 0.3 else "decline", "features": FEATURES}
               for i, p in enumerate(probabilities)]
    return gzip.compress(encode_capture(records)), [
        (first_id + i, float(p)) for i, p in enumerate(probabilities) if p < 0.3]


@pytest.fixture
def bucket(moto_s3):
    rng = np.random.default_rng(5)
    moto_s3.create_bucket(Bucket="data")
    moto_s3.create_bucket(Bucket="captures")
    approved = []
    # one old month outside the lookback, a matured month, and a young month
    for month, first in ((date(2023, 1, 10), 1), (date(2025, 3, 10), 10_000),
                         (date(2026, 5, 10), 20_000)):
        when = datetime(month.year, month.month, month.day, 9, tzinfo=UTC)
        body, booked = _captures(800, when, first, rng)
        moto_s3.put_object(Bucket="captures", Key=firehose_key(when, "s", first), Body=body)
        approved += [(i, p, month) for i, p in booked]
    APPROVED[:] = approved
    outcomes = pd.DataFrame(
        {"SK_ID_CURR": [str(i) for i, _, _ in approved],
         "outcome": [str(int(rng.random() < p)) for _, p, _ in approved],
         "observed_at": ["2026-06-15"] * len(approved)})
    for key, body in encode_objects(build_records(outcomes, HashKeys(KEY),
                                                  date(2026, 6, 30))).items():
        moto_s3.put_object(Bucket="data", Key=key, Body=body)
    card = {"model_version": "7", "threshold": 0.3, "costs": {"fn": 10.0, "fp": 1.0},
            "outcome_reference": {"auc": {"value": 0.75, "se": 0.01}}}
    moto_s3.put_object(Bucket="data", Key="reference/model_card.json",
                       Body=json.dumps(card).encode())
    return moto_s3


def test_a_monthly_run_publishes_the_cohorts_and_the_metrics(bucket, capsys):
    config = OutcomesConfig.from_env({"REPORT_BUCKET": "data", "CAPTURE_BUCKET": "captures",
                                      "MODEL_CARD_KEY": "reference/model_card.json"})
    event = {"detail-type": "Scheduled Event", "time": "2026-07-01T06:00:00Z", "detail": {}}
    result = run(event, config, bucket)
    assert result["written"] == ["reports/outcomes/2026-07/summary.json",
                                 "reports/outcomes/2026-07/report.html",
                                 "reports/outcomes/2026-07/classification-2025-03-v7.html",
                                 "reports/outcomes/trend.html"]
    summary = json.loads(bucket.get_object(Bucket="data", Key=result["written"][0])["Body"]
                         .read())
    assert [(c["cohort"], c["matured"]) for c in summary["cohorts"]] == [
        ("2025-03", True), ("2026-05", False)]  # 2023-01 is outside the 25-month lookback
    old = sum(1 for _, _, month in APPROVED if month.year == 2023)
    assert summary["join"]["unmatched"] == old > 0  # their captures were not read
    matured = summary["cohorts"][0]
    assert matured["auc"] is not None and matured["auc_vs_reference"]["reference_auc"] == 0.75
    # Evidently's classification report of the matured cohort, its AUC the cohort's
    assert matured["classification_report"]["roc_auc"] == pytest.approx(matured["auc"],
                                                                        abs=1e-9)
    assert "classification_report" not in summary["cohorts"][1]
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for x in lines] == [
        [["Model", "ModelVersion"]], [["Model"]]]
    assert lines[0]["RealisedAUC"] == matured["auc"] and lines[0]["ModelVersion"] == "7"
    assert set(lines[1]) >= {"CalibrationFailures", "AucBelowReference"}
    # the months with captures went into the decisions table, which the join read
    assert result["compacted"] == ["2025-03", "2026-05"]
    tables = bucket.list_objects_v2(Bucket="captures", Prefix="decisions/")["Contents"]
    assert [o["Key"] for o in tables] == ["decisions/month=2025-03/decisions.parquet",
                                          "decisions/month=2026-05/decisions.parquet"]
    # A later run's trend page carries the cohorts of every run; it compacts nothing new
    # (July has no captures) and reads the same cohorts from the table alone
    for key in [o["Key"] for o in bucket.list_objects_v2(Bucket="captures",
                                                         Prefix="captures/")["Contents"]]:
        bucket.delete_object(Bucket="captures", Key=key)  # the captures have expired
    later = run({**event, "time": "2026-08-01T06:00:00Z"}, config, bucket)
    assert later["compacted"] == [] and later["join"] == summary["join"]
    assert [c["scored"] for c in later["cohorts"]] == [c["scored"] for c in summary["cohorts"]]
    trend = bucket.get_object(Bucket="data", Key="reports/outcomes/trend.html")["Body"].read()
    assert b"2 monthly runs, the latest as of 2026-08-01" in trend


def test_emf_counts_failing_cohorts():
    config = OutcomesConfig("d", "c", "d", "k")
    summary = {"as_of": "2026-07-01", "cohorts": [
        {"cohort": "2025-01", "model_version": "3", "matured": True, "auc": 0.6,
         "observed_default_rate": 0.1, "mean_predicted_pd": 0.05,
         "calibration": {"verdict": "fail"}, "auc_vs_reference": {"significantly_below": True}},
        {"cohort": "2026-06", "model_version": "3", "matured": False, "auc": None}]}
    last = json.loads(emf_lines(summary, config)[-1])
    assert (last["CalibrationFailures"], last["AucBelowReference"]) == (1, 1)
