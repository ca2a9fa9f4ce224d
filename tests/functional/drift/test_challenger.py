"""drift.challenger: the monitor scores captured applications exactly as the scoring
function would, from a bundle directory or an S3 prefix, and judges it on outcomes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from contract.schema import ID_FIELD, encode_records
from drift.challenger import ChallengerModel, agreement, on_outcomes


@pytest.fixture(scope="module")
def apps(trained_bundle: Path) -> list[dict]:
    from infra.lambda_events import reference_applications

    return [{k: v for k, v in a.items() if k != ID_FIELD}
            for a in reference_applications(trained_bundle, 200)]


def test_the_monitor_scores_as_the_scoring_function(trained_bundle, apps):
    from scoring.model import load_bundle

    served, _ = load_bundle(trained_bundle).predict(encode_records(apps), with_features=False)
    challenger = ChallengerModel.load(trained_bundle)
    np.testing.assert_array_equal(challenger.score(apps), served)
    assert challenger.threshold == 0.2 and challenger.version == "test"


def test_a_challenger_bundle_on_s3_is_read(trained_bundle, apps, moto_s3):
    moto_s3.create_bucket(Bucket="models")
    for name in ("model.onnx", "model_card.json", "reference.csv.gz"):
        moto_s3.upload_file(str(trained_bundle / name), "models", f"models/9/{name}")
    challenger = ChallengerModel.load("s3://models/models/9", moto_s3)
    np.testing.assert_array_equal(challenger.score(apps),
                                  ChallengerModel.load(trained_bundle).score(apps))


def test_a_missing_bundle_is_a_sentence(tmp_path, trained_bundle):
    shutil.copy(trained_bundle / "model_card.json", tmp_path / "model_card.json")
    with pytest.raises(ValueError, match=r"model\.onnx is missing"):
        ChallengerModel.load(tmp_path)


def test_agreement_and_flips():
    champion = np.array([0, 0, 1, 1, 0], bool)
    challenger = np.array([0, 1, 1, 0, 0], bool)
    result = agreement(champion, challenger, "5")
    assert result["agreement_rate"] == 0.6 and result["flips"] == {
        "approve_to_decline": 1, "decline_to_approve": 1}


def test_on_outcomes_counts_what_each_model_would_have_cost():
    y = np.array([1, 0, 0, 1, 0, 0])
    champion = np.array([0.3, 0.1, 0.2, 0.25, 0.05, 0.15])
    challenger = np.array([0.6, 0.1, 0.5, 0.2, 0.05, 0.1])
    declined = challenger >= 0.4
    result = on_outcomes(y, champion, challenger, declined, {"fn": 10.0, "fp": 1.0})
    cost = result["observed_cost"]
    assert cost["champion"] == {"missed_defaulters": 2, "cost": 20.0}
    assert cost["challenger"] == {"missed_defaulters": 1, "good_loans_declined": 1,
                                  "cost": 11.0}
    paired = result["paired_delong"]
    assert (paired["auc_first"], paired["auc_second"]) == (1.0, 7 / 8)  # counted by hand
    assert json.dumps(result)  # plain JSON


def test_the_weekly_drift_run_scores_the_window_with_the_challenger(trained_bundle,
                                                                     monkeypatch):
    """CHALLENGER_MODEL_S3_URI on the drift job: the window's captures scored by the
    challenger (the test bundle under a lower threshold), agreement and flips reported."""
    from contract.capture_format import encode_capture
    from infra.synthetic_traffic import applications, capture_key, capture_records
    from tests.functional.drift.test_handler import (
        BUCKET,
        PREFIX,
        WINDOW_DAYS,
        at,
        aws_world,
        invoke,
        objects,
        scheduled_event,
    )

    apps = applications(150, seed=8)
    probability = ChallengerModel.load(trained_bundle).score(apps)
    with aws_world() as s3:
        card = json.loads((trained_bundle / "model_card.json").read_text())
        s3.put_object(Bucket=BUCKET, Key="models/9/model.onnx",
                      Body=(trained_bundle / "model.onnx").read_bytes())
        s3.put_object(Bucket=BUCKET, Key="models/9/model_card.json",
                      Body=json.dumps({**card, "model_version": "9", "threshold": 0.1}).encode())
        records = capture_records(apps, at(WINDOW_DAYS[2]), model_version="test")
        for record, p in zip(records, probability, strict=True):
            record.update(probability=float(p), decision="decline" if p >= 0.2 else "approve")
        s3.put_object(Bucket=BUCKET, Key=capture_key(at(WINDOW_DAYS[2])),
                      Body=encode_capture(records))
        monkeypatch.setenv("CHALLENGER_MODEL_S3_URI", f"s3://{BUCKET}/models/9/")
        invoke(scheduled_event())
        summary = json.loads(objects(s3, PREFIX)[PREFIX + "summary.json"])
    challenger = summary["challenger"]
    read = probability[:100]  # ROWS_PER_OBJECT: the first 100 records of the object
    flipped = int(((read >= 0.1) & (read < 0.2)).sum())
    assert flipped > 0
    assert challenger["challenger_version"] == "9" and challenger["scored"] == 100
    assert challenger["flips"] == {"approve_to_decline": flipped, "decline_to_approve": 0}
    assert challenger["agreement_rate"] == pytest.approx(1 - flipped / 100)
