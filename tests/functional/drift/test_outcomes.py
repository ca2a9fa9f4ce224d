"""Outcomes analysis end to end on real labelled applications the model never saw.

Train on 3,000 rows of the real sample (with the card's outcome_reference from 3-fold OOF
predictions), send the other 2,000 through the scoring Lambda handler with capture on into
moto's Firehose, load their TARGET as outcomes with the capture key, run
``python -m drift outcomes`` and compare with an independent computation from the handler's
own responses: coverage, default rate, mean PD, AUC and Gini to 1e-9, and the DeLong CI
against a 2,000-replicate stratified bootstrap to 0.005.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from contract import schema
from drift.__main__ import main

KEY = "outcomes-acceptance-key"
TRAIN_ROWS = 3_000


def _fit(frame: pd.DataFrame) -> Any:
    import lightgbm

    from training.features import frame_features, model_features

    names = model_features()
    return lightgbm.train(
        {"objective": "binary", "num_leaves": 15, "learning_rate": 0.05, "verbose": -1,
         "seed": 7, "num_threads": 1, "min_data_in_leaf": 40},
        lightgbm.Dataset(frame_features(frame, names),
                         label=frame[schema.TARGET_FIELD].to_numpy(), feature_name=list(names)),
        num_boost_round=80), names


@pytest.fixture(scope="module")
def real_bundle(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, pd.DataFrame]:
    """A bundle trained on the first TRAIN_ROWS real rows; the rest, unseen, returned."""
    from training.bundle import write_bundle
    from training.card import field_schema
    from training.costs import Costs, best_threshold
    from training.data import load_dataset
    from training.evaluate import make_folds
    from training.features import frame_features
    from training.outcome_reference import outcome_reference

    frame = load_dataset(real_data_dir / "application_train_sample.csv", progress=False).frame
    train, unseen = frame.iloc[:TRAIN_ROWS], frame.iloc[TRAIN_ROWS:].reset_index(drop=True)
    y = train[schema.TARGET_FIELD].to_numpy()
    oof = np.zeros(len(train))
    for fit_rows, val_rows in make_folds(y, 3, 0):
        booster, names = _fit(train.iloc[fit_rows])
        oof[val_rows] = booster.predict(frame_features(train.iloc[val_rows], names))
    threshold = best_threshold(y, oof, Costs()).threshold
    booster, _ = _fit(train)
    card = {"model_version": "real-1", "costs": Costs().to_dict(), "metrics": {},
            "protected_attributes": ["CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS"],
            "schema": field_schema(train, {}),
            "outcome_reference": outcome_reference(y, oof, threshold)}
    output = tmp_path_factory.mktemp("real") / "model"
    write_bundle(output, booster, card, holdout=unseen.iloc[:500], reference=train.iloc[:1_000],
                 threshold=threshold)
    return output, unseen


def _score_through_the_handler(bundle: Path, unseen: pd.DataFrame, firehose: Any
                               ) -> list[dict[str, Any]]:
    """Batches through the production handler class, capture on; returns the predictions."""
    from infra.lambda_events import FakeLambdaContext, http_api_event
    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.handler import ScoringMangum

    app = create_app(Settings(model_dir=bundle, capture_stream="real-stream",
                              capture_hash_key=KEY.encode(), capture_flush_s=60.0),
                     capture_client_factory=lambda: firehose)
    handler = ScoringMangum(app, lifespan="off")
    apps = json.loads(unseen[[f.name for f in schema.FIELDS]].to_json(orient="records"))
    predictions: list[dict[str, Any]] = []
    for start in range(0, len(apps), 500):
        event = http_api_event("POST", "/predict/batch",
                               {"applications": apps[start:start + 500]})
        response = handler(event, FakeLambdaContext("scoring", 1024, 10))
        assert response["statusCode"] == 200, response["body"][:300]
        predictions.extend(json.loads(response["body"])["predictions"])
    assert app.state.service.capture.producer.flush(30)
    assert app.state.service.capture.stats()["sent"] == len(apps)
    return predictions


def _bootstrap_ci(y: np.ndarray, p: np.ndarray, replicates: int = 2_000) -> tuple[float, float]:
    """Percentile 95% CI of the AUC from a stratified bootstrap (vectorised)."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(0)
    pos, neg = p[y == 1], p[y == 0]
    sample = np.hstack([pos[rng.integers(0, len(pos), (replicates, len(pos)))],
                        neg[rng.integers(0, len(neg), (replicates, len(neg)))]])
    ranks = rankdata(sample, axis=1)
    m, n = len(pos), len(neg)
    aucs = (ranks[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    low, high = np.quantile(aucs, [0.025, 0.975])
    return float(low), float(high)


def test_realised_quality_equals_an_independent_computation(real_bundle, moto_s3, tmp_path,
                                                            monkeypatch):
    import boto3

    from contract.capture_format import hour_prefix
    from tests.firehose import LimitedFirehose, create_stream

    bundle, unseen = real_bundle
    now = datetime.now(UTC)
    create_stream(boto3.client("firehose", region_name="us-east-1"), moto_s3,
                  stream="real-stream", bucket="captures",
                  prefix=hour_prefix(now.date(), now.hour))
    predictions = _score_through_the_handler(
        bundle, unseen, LimitedFirehose(boto3.client("firehose", region_name="us-east-1")))
    as_of = now.date() + timedelta(days=400)
    export = unseen[["SK_ID_CURR", "TARGET"]].rename(columns={"TARGET": "outcome"})
    export = export.assign(observed_at=as_of.isoformat())
    export.to_csv(tmp_path / "outcomes.csv.gz", index=False)
    monkeypatch.setenv("CAPTURE_HASH_KEY", KEY)

    assert main(["outcomes", "--captures", "s3://captures/captures/", "--outcomes",
                 str(tmp_path / "outcomes.csv.gz"), "--as-of", as_of.isoformat(),
                 "--outcome-months", "12", "--output", str(tmp_path / "out"),
                 "--model-dir", str(bundle), "--challenger", str(bundle)]) == 0

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (cohort,) = summary["cohorts"]
    y_all = unseen[schema.TARGET_FIELD].to_numpy()
    p_all = np.array([p["probability_default"] for p in predictions])
    approved = np.array([p["decision"] == "approve" for p in predictions])
    y, p = y_all[approved], p_all[approved]
    assert summary["join"] == {"outcomes": len(unseen), "matched": len(unseen), "unmatched": 0,
                               "ambiguous": 0, "matched_to_decline": int((~approved).sum()),
                               "rescored_clients": 0}
    assert (cohort["cohort"], cohort["model_version"], cohort["matured"]) == (
        now.strftime("%Y-%m"), "real-1", True)
    assert (cohort["scored"], cohort["approved"], cohort["with_outcome"]) == (
        len(unseen), int(approved.sum()), int(approved.sum()))
    assert cohort["coverage"] == pytest.approx(1.0, abs=1e-9)
    assert cohort["observed_default_rate"] == pytest.approx(y.mean(), abs=1e-9)
    assert cohort["mean_predicted_pd"] == pytest.approx(p.mean(), abs=1e-9)
    auc = roc_auc_score(y, p)
    assert cohort["auc"] == pytest.approx(auc, abs=1e-9)
    assert cohort["gini"] == pytest.approx(2 * auc - 1, abs=1e-9)
    low, high = _bootstrap_ci(y, p)
    assert abs(cohort["auc_ci95"][0] - low) <= 0.005
    assert abs(cohort["auc_ci95"][1] - high) <= 0.005
    versus = cohort["auc_vs_reference"]
    assert versus["reference_auc"] == json.loads(
        (bundle / "model_card.json").read_text())["outcome_reference"]["auc"]["value"]
    assert 0 < cohort["min_detectable_auc_drop"] < 0.5
    # The champion's own bundle as challenger, scored by the monitor from the captured
    # fields: exactly the served probabilities, so no flip and no AUC difference.
    challenger = cohort["challenger"]
    assert (challenger["scored"], challenger["agreement_rate"]) == (int(approved.sum()), 1.0)
    assert challenger["paired_delong"]["difference"] == 0.0
    assert challenger["paired_delong"]["auc_second"] == pytest.approx(auc, abs=1e-12)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<svg" in html and "cannot be counted" in html
    # Evidently's classification report on the same booked loans: the same AUC
    evidently = cohort["classification_report"]
    assert evidently["roc_auc"] == pytest.approx(auc, abs=1e-9)
    assert evidently["accuracy"] == pytest.approx(1 - y.mean(), abs=1e-12)
    assert (tmp_path / "out" / evidently["file"]).is_file()
    assert f'href="{evidently["file"]}"' in html
    print(f"\nreal data: {approved.sum()} approved of {len(unseen)}, AUC {auc:.4f}, DeLong "
          f"CI {cohort['auc_ci95']}, bootstrap CI [{low:.4f}, {high:.4f}], reference "
          f"{versus['reference_auc']:.4f} (p {versus['p_value']:.3f}), MDE "
          f"{cohort['min_detectable_auc_drop']:.4f}")
