"""Writing a model bundle (training/bundle.py): the four files of contract.bundle, the card
completed with the export's facts, all or nothing (staged, then moved into place)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
import pandas as pd
import pytest

from contract import schema
from training import bundle, export, synthetic
from training.features import FEATURE_NAMES, frame_features


def _train(frame: pd.DataFrame, rounds: int = 40, **params: Any) -> lgb.Booster:
    base = {"objective": "binary", "verbose": -1, "num_leaves": 15, "learning_rate": 0.1,
            "seed": 7, "num_threads": 1}
    data = lgb.Dataset(frame_features(frame), frame[schema.TARGET_FIELD].to_numpy())
    return lgb.train({**base, **params}, data, rounds)


@pytest.fixture(scope="module")
def synthetic_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = synthetic.generate(3000, seed=3)
    return df.iloc[:2200].reset_index(drop=True), df.iloc[2200:].reset_index(drop=True)


@pytest.fixture(scope="module")
def synthetic_booster(synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> lgb.Booster:
    return _train(synthetic_split[0])


def test_write_bundle(tmp_path: Path, synthetic_booster: lgb.Booster,
                      synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train_df, holdout = synthetic_split
    out = tmp_path / "model"
    out.mkdir()
    (out / ".gitkeep").write_text("")
    card = bundle.write_bundle(out, synthetic_booster, {"model_version": "t1"}, holdout,
                               train_df.head(300), threshold=0.08, probe_rows=200)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".gitkeep", "golden_set.json", "model.onnx", "model_card.json", "reference.csv.gz",
         "reference_bins.json", "reference_scores.json", "shap_paths.npz"])
    scores = json.loads((out / "reference_scores.json").read_text())
    assert scores["threshold"] == 0.08 and len(scores["probabilities"]) == len(holdout)
    assert all(0.0 <= p <= 1.0 for p in scores["probabilities"])
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging dir left behind

    written = json.loads((out / "model_card.json").read_text())
    assert written == card
    assert card["model_version"] == "t1" and card["threshold"] == 0.08
    assert card["features"] == list(FEATURE_NAMES)
    assert card["onnx_sha256"] == hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    assert card["parity"]["passed"] and card["parity"]["rows"] == len(holdout)
    assert card["probe"]["passed"] and card["probe"]["flips"] == 0
    assert card["probe"]["probes"] == 600
    golden = (out / "golden_set.json").read_bytes()
    assert card["golden_sha256"] == hashlib.sha256(golden).hexdigest()
    assert card["golden"]["rows"] == len(json.loads(golden)["rows"])

    with gzip.open(out / "reference.csv.gz", "rt") as fh:
        reference = pd.read_csv(fh)
    assert list(reference.columns) == [f.name for f in schema.FEATURE_FIELDS]
    assert len(reference) == 300

    paths = np.load(out / "shap_paths.npz")
    assert int(paths["num_features"]) == len(FEATURE_NAMES)

    model = onnx.load(out / "model.onnx")
    (p,) = export.session(model).run(["probability"], schema.encode_columns(holdout))
    np.testing.assert_allclose(p, synthetic_booster.predict(frame_features(holdout)),
                               rtol=0, atol=1e-15)


def test_write_bundle_writes_nothing_when_the_gate_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train_df, holdout = synthetic_split
    other = _train(train_df, rounds=20, num_leaves=5)
    wrong_model = export.export_model(other)  # a real graph, of the wrong booster
    monkeypatch.setattr(export, "export_model", lambda booster: wrong_model)
    out = tmp_path / "model"
    with pytest.raises(export.ParityError):
        bundle.write_bundle(out, synthetic_booster, {}, holdout, train_df.head(10), 0.08)
    assert list(tmp_path.iterdir()) == []
