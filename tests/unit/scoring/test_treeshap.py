"""numpy TreeSHAP (function/scoring/treeshap.py) reproduces LightGBM's pred_contrib exactly,
on the arrays training/treeshap_export.py writes (the export alone: test_treeshap_export.py).

Checked three ways: a stump and a two-level tree whose SHAP values are worked out by hand;
brute-force Shapley enumeration of the path-dependent value function on small models; and
``booster.predict(X, pred_contrib=True)`` itself on synthetic data (NaNs, zeros, values on
split thresholds, every missing-value mode) and on real Home Credit rows.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from contract.graph import MISSING_TYPES, ZERO_THRESHOLD
from contract.schema import encode_columns
from scoring.treeshap import TreeShap
from training.treeshap_export import (
    export_paths,
    export_paths_from_dump,
    split_threshold,
)

TOLERANCE = 1e-6


# -- helpers ----------------------------------------------------------------------------------


def _leaf(value: float, count: int) -> dict[str, Any]:
    return {"leaf_value": value, "leaf_count": count}


def _split(
    feature: int,
    threshold: float,
    left: dict[str, Any],
    right: dict[str, Any],
    missing: str = "NaN",
    default_left: bool = True,
) -> dict[str, Any]:
    count = sum(c.get("leaf_count", c.get("internal_count", 0)) for c in (left, right))
    return {
        "split_feature": feature,
        "threshold": threshold,
        "decision_type": "<=",
        "default_left": default_left,
        "missing_type": missing,
        "internal_count": count,
        "left_child": left,
        "right_child": right,
    }


def _dump(*trees: dict[str, Any], num_features: int) -> dict[str, Any]:
    return {
        "num_class": 1,
        "num_tree_per_iteration": 1,
        "max_feature_idx": num_features - 1,
        "average_output": False,
        "tree_info": [{"tree_index": i, "tree_structure": t} for i, t in enumerate(trees)],
    }


def _assert_matches_lightgbm(booster: lgb.Booster, x: np.ndarray) -> float:
    """Our contributions equal pred_contrib (and sum to the raw margin); returns max |diff|."""
    ours = TreeShap.from_arrays(export_paths(booster)).contributions(x)
    reference = booster.predict(x, pred_contrib=True)
    assert ours.shape == reference.shape == (x.shape[0], x.shape[1] + 1)
    error = float(np.max(np.abs(ours - reference)))
    assert error <= TOLERANCE, f"max |ours - pred_contrib| = {error}"
    margin = booster.predict(x, raw_score=True)
    assert np.max(np.abs(ours.sum(axis=1) - margin)) <= TOLERANCE
    return error


def _brute_force_shap(model: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Shapley values of the path-dependent TreeSHAP game, by enumerating all subsets."""

    def goes_left(node: dict[str, Any], value: float) -> bool:
        if abs(value) <= ZERO_THRESHOLD:  # LightGBM's predictor drops these: they read as 0.0
            value = 0.0
        missing = node["missing_type"]
        if math.isnan(value) and missing != "NaN":
            value = 0.0
        if (missing == "Zero" and abs(value) <= ZERO_THRESHOLD) or (
            missing == "NaN" and math.isnan(value)
        ):
            return bool(node["default_left"])
        return value <= split_threshold(node)

    def count(node: dict[str, Any]) -> float:
        return node["leaf_count"] if "leaf_value" in node else node["internal_count"]

    def expectation(node: dict[str, Any], known: frozenset[int]) -> float:
        if "leaf_value" in node:
            return node["leaf_value"]
        if node["split_feature"] in known:
            side = "left_child" if goes_left(node, x[node["split_feature"]]) else "right_child"
            return expectation(node[side], known)
        left, right = node["left_child"], node["right_child"]
        total = count(node)
        return (
            count(left) * expectation(left, known) + count(right) * expectation(right, known)
        ) / total

    n = x.size
    phi = np.zeros(n + 1)
    for tree in model["tree_info"]:
        root = tree["tree_structure"]
        value = {
            frozenset(s): expectation(root, frozenset(s))
            for r in range(n + 1)
            for s in itertools.combinations(range(n), r)
        }
        phi[n] += value[frozenset()]
        for i in range(n):
            others = [j for j in range(n) if j != i]
            for r in range(n):
                weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
                for s in itertools.combinations(others, r):
                    phi[i] += weight * (value[frozenset((*s, i))] - value[frozenset(s)])
    return phi


def _synthetic(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    x[:, : features // 2][rng.random((rows, features // 2)) < 0.25] = np.nan  # NaN columns
    x[:, -3:] = np.round(x[:, -3:])  # many exact zeros (the others never NaN)
    signal = np.nan_to_num(x[:, 0]) + 0.8 * np.nan_to_num(x[:, 1]) * (x[:, -1] > 0)
    signal += np.isnan(x[:, 2]) - 0.5 * x[:, -2] + 0.3 * x[:, -1]
    y = (rng.random(rows) < 1 / (1 + np.exp(-signal))).astype(int)
    return x, y


def _probe_rows(booster: lgb.Booster, x: np.ndarray, seed: int) -> np.ndarray:
    """Rows with values exactly on thresholds, zeros, tiny values, NaNs and infinities."""
    rng = np.random.default_rng(seed)
    arrays = export_paths(booster)
    probes = x[rng.integers(0, x.shape[0], 60)].copy()
    nodes = rng.integers(0, arrays["node_feature"].size, probes.shape[0])
    for row, node in zip(probes, nodes, strict=True):
        row[arrays["node_feature"][node]] = arrays["node_threshold"][node]
    special = np.array([0.0, -0.0, 1e-40, -1e-40, 1e-30, np.nan, np.inf, -np.inf])
    extra = x[rng.integers(0, x.shape[0], 60)].copy()
    mask = rng.random(extra.shape) < 0.3
    extra[mask] = rng.choice(special, size=int(mask.sum()))
    return np.vstack([probes, extra])


# -- hand-checked cases ---------------------------------------------------------------------


def test_stump_by_hand():
    # Split on feature 1 at 0.5: 30 training rows go left (value -1), 70 right (value 2).
    # E[f] = 0.3 * -1 + 0.7 * 2 = 1.1; a row going left gets phi_1 = -1 - 1.1 = -2.1,
    # a row going right phi_1 = 2 - 1.1 = 0.9; feature 0 never splits: 0.
    stump = _split(1, 0.5, _leaf(-1.0, 30), _leaf(2.0, 70), missing="NaN", default_left=False)
    shap = TreeShap.from_arrays(export_paths_from_dump(_dump(stump, num_features=2)))
    rows = np.array([[7.0, 0.2], [7.0, 0.5], [7.0, 0.9], [np.nan, np.nan]])
    expected = np.array(
        [[0.0, -2.1, 1.1], [0.0, -2.1, 1.1], [0.0, 0.9, 1.1], [0.0, 0.9, 1.1]]  # NaN -> right
    )
    np.testing.assert_allclose(shap.contributions(rows), expected, rtol=0, atol=1e-12)
    assert shap.expected_value == pytest.approx(1.1)


def test_missing_value_modes_by_hand():
    # Same stump, threshold -0.5: "None" treats NaN as 0.0 (0 > -0.5: right), "Zero" sends
    # 0, tiny values and NaN to the default side (left here), "NaN" only NaN.
    def phi(missing: str, value: float, threshold: float = -0.5) -> float:
        stump = _split(0, threshold, _leaf(-1.0, 30), _leaf(2.0, 70), missing=missing)
        shap = TreeShap.from_arrays(export_paths_from_dump(_dump(stump, num_features=1)))
        return float(shap.contributions(np.array([value]))[0, 0])

    left, right = -2.1, 0.9
    assert phi("None", np.nan) == pytest.approx(right)
    assert phi("None", 0.0) == pytest.approx(right)
    assert phi("Zero", np.nan) == pytest.approx(left)
    assert phi("Zero", 0.0) == pytest.approx(left)
    assert phi("Zero", 1e-36) == pytest.approx(left)
    assert phi("Zero", 1e-34) == pytest.approx(right)
    assert phi("NaN", np.nan) == pytest.approx(left)
    assert phi("NaN", 0.0) == pytest.approx(right)
    assert phi("NaN", -0.5) == pytest.approx(left)  # x <= threshold goes left
    assert phi("NaN", np.inf) == pytest.approx(right)
    # LightGBM reads |x| <= 1e-35f as 0.0 whatever the missing type: with threshold
    # -1e-35f (LightGBM's "x < 0" split), -1e-35f itself goes right, like 0.0.
    assert phi("NaN", -ZERO_THRESHOLD, threshold=-ZERO_THRESHOLD) == pytest.approx(right)
    assert phi("NaN", -1e-34, threshold=-ZERO_THRESHOLD) == pytest.approx(left)
    # dump_model writes an infinite threshold as 1e300; +inf must still go left of it.
    assert phi("NaN", np.inf, threshold=1e300) == pytest.approx(left)
    assert phi("NaN", 1e300, threshold=1e300) == pytest.approx(left)


def test_two_feature_tree_by_hand():
    # Root: x0 <= 0 (40 rows left, 60 right). Left: leaf 1.0. Right: x1 <= 0 -> 20 rows
    # leaf 2.0, 40 rows leaf 4.0. E = 0.4*1 + 0.2*2 + 0.4*4 = 2.4.
    # Row (1, 1) reaches leaf 4.0. Value function: v({}) = 2.4,
    # v({0}) = (20*2 + 40*4)/60 = 10/3, v({1}) = 0.4*1 + 0.6*4 = 2.8, v({0,1}) = 4.
    # phi_0 = 0.5*(10/3 - 2.4) + 0.5*(4 - 2.8) = 1.0666...; phi_1 = 0.5*(2.8 - 2.4) + 0.5*(4 - 10/3)
    tree = _split(0, 0.0, _leaf(1.0, 40), _split(1, 0.0, _leaf(2.0, 20), _leaf(4.0, 40)))
    shap = TreeShap.from_arrays(export_paths_from_dump(_dump(tree, num_features=2)))
    got = shap.contributions(np.array([1.0, 1.0]))[0]
    phi0 = 0.5 * (10 / 3 - 2.4) + 0.5 * (4 - 2.8)
    phi1 = 0.5 * (2.8 - 2.4) + 0.5 * (4 - 10 / 3)
    np.testing.assert_allclose(got, [phi0, phi1, 2.4], rtol=0, atol=1e-12)


def test_repeated_feature_on_a_path_matches_brute_force():
    # Feature 0 is split twice on one path (merged into one element), feature 1 in between.
    tree = _split(
        0,
        1.0,
        _split(1, 0.0, _split(0, -1.0, _leaf(-3.0, 10), _leaf(1.0, 25)), _leaf(0.5, 15)),
        _split(2, 2.0, _leaf(2.0, 30), _split(0, 3.0, _leaf(-1.0, 12), _leaf(5.0, 8))),
    )
    model = _dump(tree, num_features=3)
    shap = TreeShap.from_arrays(export_paths_from_dump(model))
    rng = np.random.default_rng(3)
    for row in rng.choice([-2.0, -1.0, -0.5, 0.0, 1.0, 2.5, 3.5, np.nan], size=(40, 3)):
        np.testing.assert_allclose(
            shap.contributions(row)[0], _brute_force_shap(model, row), rtol=0, atol=1e-12
        )


def test_small_lightgbm_models_match_brute_force_shapley():
    x, y = _synthetic(600, 5, seed=1)
    booster = lgb.train(
        {
            "num_threads": 1,
            "objective": "binary",
            "num_leaves": 12,
            "min_data_in_leaf": 5,
            "verbose": -1,
        },
        lgb.Dataset(x, y),
        num_boost_round=6,
    )
    model = booster.dump_model()
    shap = TreeShap.from_arrays(export_paths(booster))
    for row in _probe_rows(booster, x, seed=2)[::6]:
        np.testing.assert_allclose(
            shap.contributions(row)[0], _brute_force_shap(model, row), rtol=0, atol=1e-9
        )


# -- against LightGBM pred_contrib ---------------------------------------------------------

SYNTHETIC_CONFIGS = {
    "leaves31": {"num_leaves": 31, "min_data_in_leaf": 10},
    "deep_leafwise": {"num_leaves": 63, "min_data_in_leaf": 3, "learning_rate": 0.3},
    "zero_as_missing": {"num_leaves": 15, "zero_as_missing": True},
    "no_missing": {"num_leaves": 15, "use_missing": False},
    "bagged_regularised": {
        "num_leaves": 20,
        "bagging_fraction": 0.7,
        "bagging_freq": 1,
        "feature_fraction": 0.8,
        "lambda_l2": 5.0,
        "max_depth": 6,
    },
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC_CONFIGS))
def test_synthetic_models_match_pred_contrib(name: str):
    x, y = _synthetic(2000, 12, seed=7)
    params = {
        "num_threads": 1,
        "objective": "binary",
        "verbose": -1,
        "seed": 1,
    }
    params |= SYNTHETIC_CONFIGS[name]
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=60)
    rows = np.vstack([x[:200], _probe_rows(booster, x, seed=5)])
    _assert_matches_lightgbm(booster, rows)
    missing = set(export_paths(booster)["node_missing_type"].tolist())
    if name == "zero_as_missing":
        assert MISSING_TYPES["Zero"] in missing
    elif name == "no_missing":
        assert missing == {MISSING_TYPES["None"]}
    else:
        assert {MISSING_TYPES["None"], MISSING_TYPES["NaN"]} <= missing


def test_regression_objective_and_single_leaf_trees():
    x, _ = _synthetic(500, 6, seed=11)
    target = np.nan_to_num(x[:, 0]) * 3.0
    # Huge min_data_in_leaf after a few rounds cannot be set mid-training; instead a
    # constant target gives single-leaf trees only, which contribute just the constant.
    booster = lgb.train(
        {"num_threads": 1, "objective": "regression", "verbose": -1, "num_leaves": 7},
        lgb.Dataset(x, target),
        num_boost_round=20,
    )
    _assert_matches_lightgbm(booster, x[:100])
    flat = lgb.train(
        {"num_threads": 1, "objective": "regression", "verbose": -1},
        lgb.Dataset(x, np.ones(500)),
        3,
    )
    shap = TreeShap.from_arrays(export_paths(flat))
    got = shap.contributions(x[:5])
    np.testing.assert_allclose(got, flat.predict(x[:5], pred_contrib=True), atol=TOLERANCE)
    assert np.all(got[:, :-1] == 0.0)


def test_batch_equals_single_rows_and_npz_round_trip(tmp_path):
    x, y = _synthetic(1500, 10, seed=3)
    booster = lgb.train(
        {"num_threads": 1, "objective": "binary", "verbose": -1, "num_leaves": 31},
        lgb.Dataset(x, y),
        40,
    )
    path = tmp_path / "shap_paths.npz"
    np.savez(path, **export_paths(booster))
    shap = TreeShap.load(path)
    rows = x[:150]  # more than one batch chunk
    batch = shap.contributions(rows)
    single = np.vstack([shap.contributions(row) for row in rows])
    np.testing.assert_array_equal(batch, single)
    np.testing.assert_allclose(batch, booster.predict(rows, pred_contrib=True), atol=TOLERANCE)
    with pytest.raises(ValueError, match="shape"):
        shap.contributions(rows[:, :-1])


# -- real Home Credit rows ------------------------------------------------------------------

REAL_CONFIGS = {
    "leaves31_200_trees": ({"num_leaves": 31, "learning_rate": 0.05}, 200, None),
    "shallow": ({"num_leaves": 8, "max_depth": 3, "learning_rate": 0.1}, 100, None),
    "balanced": ({"num_leaves": 15, "learning_rate": 0.05}, 120, "balanced"),
}


@pytest.fixture(scope="module")
def real_numeric(real_data_dir) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    train = pd.read_csv(real_data_dir / "application_train_sample.csv")
    test = pd.read_csv(real_data_dir / "application_test_sample.csv")
    x = encode_columns(train)["numeric"]
    y = train["TARGET"].to_numpy()
    probe = np.vstack([x[4000:4150], encode_columns(test)["numeric"][:150]])  # 300 rows
    return x[:4000], y[:4000], probe


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(REAL_CONFIGS))
def test_real_rows_match_pred_contrib(real_numeric, name: str):
    x, y, probe = real_numeric
    params, rounds, class_weight = REAL_CONFIGS[name]
    model = lgb.LGBMClassifier(
        n_estimators=rounds,
        class_weight=class_weight,
        random_state=0,
        n_jobs=1,
        verbose=-1,
        **params,
    ).fit(x, y)
    booster = model.booster_
    assert np.isnan(x).any(axis=0).sum() > 0 and (~np.isnan(x).any(axis=0)).sum() > 0
    missing = set(export_paths(booster)["node_missing_type"].tolist())
    assert {MISSING_TYPES["None"], MISSING_TYPES["NaN"]} <= missing
    assert probe.shape[0] >= 200
    _assert_matches_lightgbm(booster, probe)


def test_serving_module_imports_numpy_only():
    import ast
    from pathlib import Path

    import scoring.treeshap

    tree = ast.parse(Path(scoring.treeshap.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses", "pathlib", "numpy", "contract"}
