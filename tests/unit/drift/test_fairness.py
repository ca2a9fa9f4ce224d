"""Decline rate by gender, age band and marital status on captured traffic, against the
card's reference."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest

from contract.bundle import reference_card_key
from contract.capture_format import encode_capture
from contract.explain import DAYS_PER_YEAR
from drift import fairness
from drift.captures import read_window
from infra.synthetic_traffic import applications, capture_key, capture_records

BUCKET = "data"
REFERENCE_KEY = "models/7/reference.csv.gz"


def test_card_key_sits_beside_the_reference():
    assert reference_card_key(REFERENCE_KEY) == "models/7/model_card.json"
    assert reference_card_key("reference.csv.gz") == "model_card.json"


def test_captured_decisions_give_decline_rates_by_group(moto_s3):
    apps = applications(40, seed=3)
    for i, app in enumerate(apps):
        app["CODE_GENDER"] = "F" if i < 20 else "M"
        app["DAYS_BIRTH"] = -round((25 if i % 2 else 65) * DAYS_PER_YEAR)
        app["NAME_FAMILY_STATUS"] = "Married" if i % 4 == 0 else "Single / not married"
    apps[39]["NAME_FAMILY_STATUS"] = None
    when = datetime(2026, 11, 27, 12, tzinfo=UTC)
    records = capture_records(apps, when)
    for i, record in enumerate(records):  # F: 5 of 20 declined; M: 15 of 20
        declined = (i < 5) if i < 20 else (i < 35)
        record["decision"] = "decline" if declined else "approve"
    s3 = moto_s3
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=capture_key(when), Body=encode_capture(records))
    card = {"fairness": {"reference_decline_rates": {
        "gender": {"F": 0.2, "M": 0.3}, "age": {"<30": 0.4, "62+": 0.1},
        "marital_status": {"Married": 0.3, "Widow": 0.25}}}}
    s3.put_object(Bucket=BUCKET, Key="models/7/model_card.json", Body=json.dumps(card))
    sample = read_window(s3, BUCKET, date(2026, 11, 27), date(2026, 11, 27), max_rows=100)
    reference = fairness.reference_rates(s3, BUCKET, reference_card_key(REFERENCE_KEY))
    assert fairness.reference_rates(s3, BUCKET, "other/model_card.json") is None
    assert sample.declined.sum() == 20 and len(sample.declined) == 40
    result = fairness.decline_by_group(sample.numeric, sample.categorical, sample.declined,
                                       reference)
    gender = result["decline_rate_by_group"]["gender"]
    assert gender["F"] == {"applicants": 20, "decline_rate": 0.25,
                           "reference_decline_rate": 0.2, "difference": pytest.approx(0.05)}
    assert gender["M"]["decline_rate"] == 0.75
    age = result["decline_rate_by_group"]["age"]
    assert age["<30"]["applicants"] == age["62+"]["applicants"] == 20
    expected_young = np.mean([(i < 5) if i < 20 else (i < 35) for i in range(1, 40, 2)])
    assert age["<30"]["decline_rate"] == pytest.approx(expected_young)
    assert age["62+"]["reference_decline_rate"] == 0.1
    assert "30-44" not in age  # neither captured nor in the reference
    marital = result["decline_rate_by_group"]["marital_status"]
    married = [i for i in range(40) if i % 4 == 0]
    assert marital["Married"]["applicants"] == len(married) == 10
    assert marital["Married"]["decline_rate"] == pytest.approx(
        np.mean([(i < 5) if i < 20 else (i < 35) for i in married]))
    assert marital["Married"]["reference_decline_rate"] == 0.3
    assert marital["Single / not married"]["applicants"] == 29
    assert marital["missing"]["applicants"] == 1
    assert marital["Widow"]["applicants"] == 0  # in the reference, not captured
