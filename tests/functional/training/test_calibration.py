"""The served probability of default is a probability: whatever class weights the search
picks, what the Lambda handler answers on unseen labelled applications is calibrated; a
bundle that skips the map fails the same check; the map keeps reasons additive, the
golden set exact and every decision unchanged; training refuses a miscalibrated model."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest

from contract import schema
from contract.bundle import CARD_FILE
from tests.conftest import FORCED_CLASS_WEIGHTS
from tests.served_calibration import assert_served_calibrated, served
from training import calibration as calib
from training import golden
from training.bundle import write_bundle
from training.cli import main
from training.features import frame_features, model_features
from training.synthetic import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unseen() -> pd.DataFrame:
    """Labelled synthetic applications no run trained on (another seed)."""
    return generate(4_000, seed=77)


def _card(bundle: Path) -> dict:
    return json.loads((bundle / CARD_FILE).read_text())


@pytest.mark.parametrize("weights", sorted(FORCED_CLASS_WEIGHTS))
def test_served_probability_is_calibrated_whatever_the_weights(
        calibrated_bundles: dict[str, Path], unseen: pd.DataFrame, weights: str) -> None:
    bundle = calibrated_bundles[weights]
    forced = FORCED_CLASS_WEIGHTS[weights][0]
    assert _card(bundle)["hyperparameters"]["class_weight"] == forced
    figures = assert_served_calibrated(bundle, unseen)
    assert figures["rows"] == len(unseen)


def test_a_weighted_bundle_without_the_map_fails_the_check(unseen: pd.DataFrame,
                                                          tmp_path: Path) -> None:
    frame = generate(4_000, seed=3)
    names = model_features()
    model = lightgbm.LGBMClassifier(n_estimators=150, num_leaves=8, learning_rate=0.05,
                                    class_weight="balanced", verbose=-1, n_jobs=1)
    model.fit(frame_features(frame, names), frame[schema.TARGET_FIELD].to_numpy(),
              feature_name=list(names))
    bundle = tmp_path / "uncalibrated"
    write_bundle(bundle, model.booster_, {"model_version": "raw", "costs": {"fn": 10, "fp": 1}},
                 holdout=frame.iloc[:500], reference=frame.iloc[:300], threshold=0.5,
                 probe_rows=100)
    with pytest.raises(AssertionError, match="miscalibrated"):
        assert_served_calibrated(bundle, unseen)


def test_the_card_says_how_and_how_well(calibrated_bundles: dict[str, Path]) -> None:
    card = _card(calibrated_bundles["balanced"])
    c = card["calibration"]
    assert c["method"] == "platt" and c["a"] > 0
    assert "calibrated on training data" in c["description"]
    platt = calib.Platt(c["a"], c["b"])
    assert card["threshold"] == c["threshold"] == float(
        platt.probability(c["threshold_uncalibrated"]))
    # Balanced weights inflate the odds: the map pulls the threshold (and every PD) down.
    assert c["threshold"] < c["threshold_uncalibrated"]
    assert c["uncalibrated"]["oof"]["ece"] > 0.1 > c["max_ece"] >= c["oof"]["ece"]["value"]
    assert c["decisions_changed"] == {"oof": 0, "test": 0}
    for part in ("oof", "test"):
        assert c[part]["ece"]["ci_low"] <= c[part]["ece"]["value"] <= c[part]["ece"]["ci_high"]
        assert len(c[part]["reliability"]) == calib.RELIABILITY_BINS
        assert c[part]["mean_within_jeffreys"]
    assert c["test"]["rows"] == card["metrics"]["test"]["rows"]
    # Every candidate calibrated alike (the dummy's constant score has no map to fit).
    assert set(c["candidates"]) == {"dummy", "logistic_regression", "onehot_grid", "champion"}
    assert c["candidates"]["champion"]["cv_ece"] < c["candidates"]["champion"][
        "cv_ece_uncalibrated"]
    # The fairness table's mean probability is now a probability: close to the default rate.
    for row in card["fairness"]["oof"]["gender"].values():
        assert abs(row["mean_probability"]["value"] - row["default_rate"]["value"]) < 0.03


def test_reasons_add_up_to_the_calibrated_log_odds(calibrated_bundles: dict[str, Path],
                                                  unseen: pd.DataFrame) -> None:
    for bundle in calibrated_bundles.values():
        for row in served(bundle, unseen.iloc[:300], reasons=5):
            total = row["base_log_odds"] + row["other_log_odds"] + sum(
                r["contribution"] for r in row["reasons"])
            p = row["probability_default"]
            assert abs(total - np.log(p / (1 - p))) <= 1e-9


def test_golden_set_replays_exactly(calibrated_bundles: dict[str, Path]) -> None:
    for bundle in calibrated_bundles.values():
        report = golden.verify(bundle)
        assert report["decisions_differing"] == 0
        assert report["max_abs_diff_probability"] == 0.0


def test_training_refuses_a_model_above_the_limit(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    output = tmp_path / "bundle"
    code = main(["train", "--rows", "1500", "--folds", "2", "--trials", "1",
                 "--no-compliance-cost", "--quiet", "--output", str(output),
                 "--max-ece", "0.0001"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: export refused: out-of-fold expected calibration error 0.0" in err
    assert "is above the limit 0.0001 (--max-ece)" in err
    assert not output.exists()
