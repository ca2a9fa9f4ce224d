"""training/export.py: the exported graph reproduces LightGBM exactly (writing the bundle
around it: test_bundle.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, numpy_helper

from contract import schema
from contract.graph import ZERO_THRESHOLD
from training import export, synthetic
from training.features import FEATURE_NAMES, frame_features

N_FEATURES = len(FEATURE_NAMES)
PARAMS = {"objective": "binary", "verbose": -1, "num_leaves": 31, "learning_rate": 0.1,
          "min_data_in_leaf": 20, "seed": 7, "num_threads": 1}


def train(x: np.ndarray, y: np.ndarray, rounds: int = 80, **params: Any) -> lgb.Booster:
    return lgb.train({**PARAMS, **params}, lgb.Dataset(x, y, free_raw_data=False), rounds)


@pytest.fixture(scope="module")
def synthetic_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = synthetic.generate(4000, seed=3)
    return df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def synthetic_booster(synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> lgb.Booster:
    train_df, _ = synthetic_split
    return train(frame_features(train_df), train_df[schema.TARGET_FIELD].to_numpy())


@pytest.fixture(scope="module")
def real_split(real_data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(real_data_dir / "application_train_sample.csv")
    return df.iloc[:4000].reset_index(drop=True), df.iloc[4000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def real_booster(real_split: tuple[pd.DataFrame, pd.DataFrame]) -> lgb.Booster:
    train_df, _ = real_split
    return train(frame_features(train_df), train_df[schema.TARGET_FIELD].to_numpy(),
                 rounds=150, learning_rate=0.05)


def tree_predict(model: onnx.ModelProto, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    margin, p = export.session(export.tree_model(model)).run(
        ["margin", "probability"], {"features": x})
    return margin, p


def assert_trees_match(model: onnx.ModelProto, booster: lgb.Booster, x: np.ndarray) -> None:
    margin, p = tree_predict(model, x)
    np.testing.assert_allclose(margin, booster.predict(x, raw_score=True), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p, booster.predict(x), rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- graph shape


def test_exported_graph_inputs_outputs_and_precision(
        synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    model = export.export_model(synthetic_booster)
    onnx.checker.check_model(model, full_check=True)

    def io(values: Any) -> list[tuple[str, int, list[Any]]]:
        return [(v.name, v.type.tensor_type.elem_type,
                 [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
                for v in values]

    assert io(model.graph.input) == [("numeric", TensorProto.DOUBLE, ["N", 104]),
                                     ("categorical", TensorProto.STRING, ["N", 16])]
    assert io(model.graph.output) == [("features", TensorProto.DOUBLE, ["N", N_FEATURES]),
                                      ("margin", TensorProto.DOUBLE, ["N"]),
                                      ("probability", TensorProto.DOUBLE, ["N"])]
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 21), ("ai.onnx.ml", 5)}
    (trees,) = [n for n in model.graph.node if n.op_type == "TreeEnsemble"]
    attrs = {a.name: a for a in trees.attribute}
    assert numpy_helper.to_array(attrs["nodes_splits"].t).dtype == np.float64
    assert numpy_helper.to_array(attrs["leaf_weights"].t).dtype == np.float64
    casts = [n for n in model.graph.node if n.op_type == "Cast"]
    assert all(a.i != TensorProto.FLOAT for n in casts for a in n.attribute)

    _, holdout = synthetic_split
    out = export.session(model).run(None, schema.encode_columns(holdout.head(7)))
    assert [o.shape for o in out] == [(7, N_FEATURES), (7,), (7,)]
    assert all(o.dtype == np.float64 for o in out)


# --------------------------------------------------------------------------- parity gate


@pytest.mark.real_data
def test_parity_gate_passes_on_real_rows(real_booster: lgb.Booster,
                                         real_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, holdout = real_split
    figures = export.check_parity(export.export_model(real_booster), real_booster,
                                  schema.encode_columns(holdout), threshold=0.1)
    assert figures["passed"] and figures["features_identical"]
    assert figures["rows"] == 1000 and figures["rows_with_missing_features"] > 900
    assert figures["max_abs_diff_probability"] <= 1e-15
    assert figures["max_abs_diff_margin"] <= 1e-12
    assert figures["decisions_differing"] == 0 and figures["declined"] > 0


def test_parity_gate_passes_on_synthetic_rows(
        synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, holdout = synthetic_split
    figures = export.check_parity(export.export_model(synthetic_booster), synthetic_booster,
                                  schema.encode_columns(holdout), threshold=0.08)
    assert figures["passed"] and figures["rows"] == 1000
    assert figures["max_abs_diff_probability"] <= 1e-15
    assert figures["decisions_differing"] == 0


def test_parity_gate_raises_for_a_different_booster(
        synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train_df, holdout = synthetic_split
    other = train(frame_features(train_df), train_df[schema.TARGET_FIELD].to_numpy(),
                  rounds=30, num_leaves=7)
    with pytest.raises(export.ParityError) as caught:
        export.check_parity(export.export_model(other), synthetic_booster,
                            schema.encode_columns(holdout), threshold=0.08)
    figures = caught.value.figures
    assert not figures["passed"]
    assert figures["max_abs_diff_probability"] > 1e-3
    assert "max_abs_diff_probability" in str(caught.value)


def test_parity_gate_raises_on_a_decision_flip_alone(
        synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """A tolerance that hides the difference still fails when a decision flips."""
    train_df, holdout = synthetic_split
    other = train(frame_features(train_df), train_df[schema.TARGET_FIELD].to_numpy(),
                  rounds=30, num_leaves=7)
    with pytest.raises(export.ParityError) as caught:
        export.check_parity(export.export_model(other), synthetic_booster,
                            schema.encode_columns(holdout), threshold=0.08, tolerance=1.0)
    assert caught.value.figures["decisions_differing"] > 0


# --------------------------------------------------------------------------- split probe


def assert_probe_has_teeth(booster: lgb.Booster, x: np.ndarray) -> dict[str, Any]:
    float32 = export.probe_split_boundaries(export.onnxmltools_float32_model(booster), booster,
                                            x, rows=400, seed=1, threshold=0.1)
    exact = export.probe_split_boundaries(export.export_model(booster), booster, x,
                                          rows=400, seed=1, threshold=0.1)
    # the plain converter's float32 thresholds send "one ULP past the split" the wrong way
    assert float32["one_ulp_above"]["flips"] > 200
    assert float32["max_abs_diff_margin"] > 1e-3
    # the exported graph routes every probe like LightGBM
    assert exact["rows"] == 400 and exact["probes"] == 1200
    for variant in ("at_threshold", "one_ulp_above", "missing"):
        assert exact[variant]["flips"] == 0, (variant, exact)
        assert exact[variant]["max_abs_diff_margin"] <= 1e-12
        assert exact[variant]["decisions_differing"] == 0
    return {"float32": float32, "exact": exact}


def test_probe_catches_float32_graph_and_passes_exact_graph_synthetic(
        synthetic_booster: lgb.Booster,
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assert_probe_has_teeth(synthetic_booster, frame_features(synthetic_split[1]))


@pytest.mark.real_data
def test_probe_catches_float32_graph_and_passes_exact_graph_real(
        real_booster: lgb.Booster, real_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assert_probe_has_teeth(real_booster, frame_features(real_split[1]))


# --------------------------------------------------------------------------- LightGBM semantics


def test_missing_value_semantics_match_lightgbm() -> None:
    """NaN in columns trained with NaN (missing_type NaN) and without (None: NaN -> 0.0)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, N_FEATURES))
    x[:, :10] = np.where(rng.random((3000, 10)) < 0.3, np.nan, x[:, :10])
    y = (np.nan_to_num(x[:, 0], nan=0.7) + x[:, 12] + 0.5 * np.isnan(x[:, 1])
         + rng.normal(size=3000) > 0.5).astype(int)
    booster = train(x, y, rounds=60)
    kinds = {(n["missing_type"], n["default_left"]) for n in _splits(booster)}
    assert {"NaN", "None"} <= {k for k, _ in kinds}

    probe = rng.normal(size=(3000, N_FEATURES))
    probe[rng.random(probe.shape) < 0.4] = np.nan  # NaN everywhere, incl. "None" columns
    probe[:50] = np.nan
    assert_trees_match(export.export_model(booster), booster, probe)


def test_values_within_lightgbm_zero_threshold_read_as_zero() -> None:
    """LightGBM splits zero bins at +-1e-35 and reads |x| <= 1e-35 as 0.0."""
    rng = np.random.default_rng(6)
    x = rng.choice([-1.0, 0.0, 1.0], size=(2000, N_FEATURES))
    y = ((x[:, 3] == 0) ^ (x[:, 4] > 0)).astype(int)
    booster = train(x, y, rounds=10)
    assert any(abs(float(n["threshold"])) == ZERO_THRESHOLD for n in _splits(booster))
    tiny = [0.0, -0.0, 1e-36, -1e-36, ZERO_THRESHOLD, -ZERO_THRESHOLD,
            np.nextafter(ZERO_THRESHOLD, 1), -np.nextafter(ZERO_THRESHOLD, 1),
            5e-324, np.nan]
    probe = x[:len(tiny) ** 2].copy()
    grid = np.array([(a, b) for a in tiny for b in tiny])
    probe[:, 3], probe[:, 4] = grid[:, 0], grid[:, 1]
    assert_trees_match(export.export_model(booster), booster, probe)


def test_categorical_splits_match_lightgbm(
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train_df, holdout = synthetic_split
    categorical = [FEATURE_NAMES.index(c) for c in schema.CATEGORICAL_FIELDS]
    booster = lgb.train({**PARAMS, "min_data_per_group": 5, "cat_smooth": 1.0},
                        lgb.Dataset(frame_features(train_df),
                                    train_df[schema.TARGET_FIELD].to_numpy(),
                                    categorical_feature=categorical), 60)
    assert any(n["decision_type"] == "==" for n in _splits(booster))
    model = export.export_model(booster)
    figures = export.check_parity(model, booster, schema.encode_columns(holdout), 0.08)
    assert figures["max_abs_diff_probability"] <= 1e-15
    # missing and unknown categories (NaN codes) go right, as in LightGBM
    x = frame_features(holdout)
    x[::3, categorical] = np.nan
    assert_trees_match(model, booster, x)


def test_single_leaf_booster() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(300, N_FEATURES))
    booster = train(x, (rng.random(300) < 0.2).astype(int), rounds=5, min_data_in_leaf=250)
    assert "leaf_value" in booster.dump_model()["tree_info"][0]["tree_structure"]
    assert_trees_match(export.export_model(booster), booster, x[:20])


def test_early_stopped_booster_exports_its_best_iteration(
        synthetic_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train_df, holdout = synthetic_split
    x, y = frame_features(train_df), train_df[schema.TARGET_FIELD].to_numpy()
    valid = lgb.Dataset(x[2000:], y[2000:])
    booster = lgb.train({**PARAMS, "learning_rate": 0.3}, lgb.Dataset(x[:2000], y[:2000]), 200,
                        valid_sets=[valid], callbacks=[lgb.early_stopping(5, verbose=False)],
                        keep_training_booster=True)
    assert 0 < booster.best_iteration < booster.current_iteration()
    figures = export.check_parity(export.export_model(booster), booster,
                                  schema.encode_columns(holdout), 0.08)
    assert figures["max_abs_diff_probability"] <= 1e-15


def test_linear_trees_are_refused() -> None:
    rng = np.random.default_rng(10)
    x = rng.normal(size=(500, N_FEATURES))
    booster = train(x, (x[:, 0] > 0).astype(int), rounds=3, linear_tree=True)
    with pytest.raises(ValueError, match="linear"):
        export.export_model(booster)


def test_infinite_threshold_is_restored() -> None:
    assert export.split_threshold({"threshold": 1e300}) == np.inf
    assert export.split_threshold({"threshold": -1e300}) == -np.inf
    assert export.split_threshold({"threshold": 0.25}) == 0.25


def test_unsupported_boosters_are_refused() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(200, 5)), rng.integers(0, 2, 200)
    with pytest.raises(ValueError, match="features"):
        export.export_model(train(x, y, rounds=3))
    x = rng.normal(size=(200, N_FEATURES))
    with pytest.raises(ValueError, match="binary"):
        export.export_model(lgb.train({**PARAMS, "objective": "regression"},
                                      lgb.Dataset(x, x[:, 0]), 3))
    zero_node = {"threshold": 0.0, "missing_type": "Zero", "default_left": False}
    with pytest.raises(ValueError, match="Zero"):
        export._numerical_missing(zero_node)


def _splits(booster: lgb.Booster) -> list[dict[str, Any]]:
    out, stack = [], [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            out.append(node)
            stack.extend((node["left_child"], node["right_child"]))
    return out
