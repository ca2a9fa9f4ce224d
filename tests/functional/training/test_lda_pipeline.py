"""The less-discriminatory-alternatives search inside ``train`` (training/pipeline.py):
tolerance 0 reproduces the champion of a run without the search bit for bit, and when the
rule switches, everything downstream (threshold, features, bundle, golden set, fairness
reference) follows the chosen candidate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract import schema
from contract.explain import feature_sources
from training.calibration import Platt
from training.costs import Costs, best_threshold
from training.data import load_dataset
from training.evaluate import make_folds, split_holdout
from training.features import frame_features, model_features
from training.models import lgbm_oof
from training.pipeline import TrainConfig, TrainResult, train
from training.synthetic import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample(tmp_path_factory.mktemp("lda") / "train.parquet", rows=1_500, seed=5)


def _train(sample: Path, out: Path, tolerance: float | None) -> TrainResult:
    return train(TrainConfig(
        output=out / "bundle", data=sample, folds=3, trials=2, seed=4, bootstrap=100,
        compare_protected=False, lda_tolerance=tolerance, progress=False,
        tracking_uri=f"sqlite:///{out / 'mlflow.db'}"))


def _files(bundle: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(bundle.iterdir())
            if p.is_file() and p.name != "model_card.json"}


def _untimed(candidates: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {name: {k: v for k, v in c.items() if k != "seconds"}
            for name, c in candidates.items()}


@pytest.mark.slow
def test_tolerance_zero_reproduces_the_champion_bit_for_bit(sample: Path,
                                                            tmp_path: Path) -> None:
    without = _train(sample, tmp_path / "without", None)
    zero = _train(sample, tmp_path / "zero", 0.0)
    assert _files(tmp_path / "without" / "bundle") == _files(tmp_path / "zero" / "bundle")
    for key in ("threshold", "features", "hyperparameters", "onnx_sha256", "golden_sha256",
                "metrics", "fairness"):
        assert zero.card[key] == without.card[key], key  # type: ignore[literal-required]
    assert _untimed(zero.card["candidates"]) == _untimed(without.card["candidates"])
    assert "less_discriminatory_alternatives" not in without.card
    entry = zero.card["less_discriminatory_alternatives"]
    assert not entry["choice"]["changed"]
    assert entry["reason"].startswith("tolerance 0")
    assert entry["choice"]["before"] == entry["choice"]["after"]
    assert len(entry["candidates"]) >= 2 + 5   # the trials and the refits were still run


@pytest.mark.slow
def test_a_switch_is_followed_downstream(sample: Path, tmp_path: Path) -> None:
    # The widest tolerance: any candidate within 0.005 AUC with a better age ratio wins.
    result = _train(sample, tmp_path, 0.99)
    card, bundle = result.card, tmp_path / "bundle"
    entry = card["less_discriminatory_alternatives"]
    assert entry["choice"]["changed"], entry["reason"]
    chosen = next(c for c in entry["candidates"] if c["chosen"])
    assert chosen["name"] == entry["choice"]["name"] and not chosen["champion"]
    assert chosen["within_tolerance"]
    assert entry["choice"]["after"]["ratio"] > entry["choice"]["before"]["ratio"]

    # Features and parameters of the bundle are the chosen candidate's.
    assert not set(chosen["dropped"]) & set(card["features"])
    for feature, direction in chosen["monotone"].items():
        position = card["features"].index(feature)
        assert card["hyperparameters"]["monotone_constraints"][position] == direction

    # The threshold is recomputed from the chosen model's OOF predictions (evaluation folds),
    # then mapped by the calibration fitted on them.
    frame = load_dataset(sample, progress=False).frame
    y = frame[schema.TARGET_FIELD].to_numpy()
    train_idx, _ = split_holdout(y, 0.2, 4)
    X = frame_features(frame, card["features"])[train_idx]
    oof = lgbm_oof(X, y[train_idx], make_folds(y[train_idx], 3, 5), card["hyperparameters"],
                   4, 1, False, "")
    raw = best_threshold(y[train_idx], oof, Costs()).threshold
    calibration = card["calibration"]
    assert calibration["threshold_uncalibrated"] == raw
    assert card["threshold"] == float(Platt(calibration["a"], calibration["b"]).probability(raw))
    # The fairness reference (read by the drift job) comes from the same decisions.
    assert card["fairness"]["threshold"] == card["threshold"]
    declined = (oof >= raw).mean()
    rates = card["fairness"]["reference_decline_rates"]["gender"]
    sizes = {g: row["applicants"]["value"] for g, row in card["fairness"]["oof"]["gender"].items()}
    pooled = sum(rates[g] * sizes[g] for g in sizes) / sum(sizes.values())
    assert pooled == pytest.approx(declined)

    # The golden set was scored by the chosen model at its threshold; reasons name only
    # applicant fields its features are computed from.
    golden = json.loads((bundle / "golden_set.json").read_text())
    assert golden["threshold"] == card["threshold"]
    sources = {field for f in card["features"] for field in feature_sources(f)}
    named = {field for row in golden["rows"] for reason in row["reasons"]
             for field in reason["fields"]}
    assert named and named <= sources
    assert len(card["features"]) == len(model_features()) - len(chosen["dropped"])
