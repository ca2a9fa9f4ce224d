"""The TreeSHAP export (training/treeshap_export.py): LightGBM's dump turned into the arrays of
shap_paths.npz (layout, exact thresholds, merged repeated splits) and the models it refuses.
That the serving explainer reproduces pred_contrib from them: tests/unit/scoring/test_treeshap.py.
"""

from __future__ import annotations

import math
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from contract.graph import MISSING_TYPES, SHAP_PATHS_FORMAT_VERSION
from training.treeshap_export import (
    UnsupportedModelError,
    export_paths,
    export_paths_from_dump,
    split_threshold,
)


def _leaf(value: float, count: int) -> dict[str, Any]:
    return {"leaf_value": value, "leaf_count": count}


def _split(feature: int, threshold: float, left: dict[str, Any], right: dict[str, Any],
           missing: str = "NaN", default_left: bool = True) -> dict[str, Any]:
    count = sum(c.get("leaf_count", c.get("internal_count", 0)) for c in (left, right))
    return {"split_feature": feature, "threshold": threshold, "decision_type": "<=",
            "default_left": default_left, "missing_type": missing, "internal_count": count,
            "left_child": left, "right_child": right}


def _dump(*trees: dict[str, Any], num_features: int) -> dict[str, Any]:
    return {"num_class": 1, "num_tree_per_iteration": 1, "max_feature_idx": num_features - 1,
            "average_output": False,
            "tree_info": [{"tree_index": i, "tree_structure": t} for i, t in enumerate(trees)]}


def test_a_stump_by_hand():
    stump = _split(1, 0.5, _leaf(-1.0, 30), _leaf(2.0, 70), missing="Zero", default_left=False)
    arrays = export_paths_from_dump(_dump(stump, num_features=3))
    assert int(arrays["format_version"]) == SHAP_PATHS_FORMAT_VERSION
    assert int(arrays["num_features"]) == 3
    assert float(arrays["expected_value"]) == pytest.approx(0.3 * -1.0 + 0.7 * 2.0)
    assert arrays["node_feature"].tolist() == [1]
    assert arrays["node_threshold"].tolist() == [0.5]
    assert arrays["node_missing_type"].tolist() == [MISSING_TYPES["Zero"]]
    assert arrays["node_default_left"].tolist() == [False]
    assert arrays["path_length"].tolist() == [1, 1]
    assert arrays["elem_feature"][:, 0].tolist() == [1, 1]
    # Per path (in any order): leaf value, cover fraction, and the condition
    # 2 * node + (1 if the path takes the right child).
    paths = sorted(zip(arrays["path_value"].tolist(),
                       arrays["elem_zero_fraction"][:, 0].tolist(),
                       arrays["elem_condition"][:, 0, 0].tolist(), strict=True))
    assert paths == [(-1.0, pytest.approx(0.3), 0), (2.0, pytest.approx(0.7), 1)]


def test_repeated_splits_on_one_feature_are_one_element():
    tree = _split(0, 1.0, _split(0, -1.0, _leaf(1.0, 10), _leaf(2.0, 30)), _leaf(3.0, 60))
    arrays = export_paths_from_dump(_dump(tree, num_features=1))
    first = arrays["path_value"].tolist().index(1.0)
    assert arrays["path_length"][first] == 1  # one unique feature on the path
    assert arrays["elem_zero_fraction"][first, 0] == pytest.approx(0.4 * 0.25)
    conditions = arrays["elem_condition"][first, 0]
    assert sorted(c for c in conditions.tolist() if c >= 0) == [0, 2]  # left at both nodes


def test_a_single_leaf_tree_adds_only_to_the_expected_value():
    arrays = export_paths_from_dump(_dump(_leaf(0.25, 100),
                                          _split(0, 0.0, _leaf(-1.0, 50), _leaf(1.0, 50)),
                                          num_features=1))
    assert float(arrays["expected_value"]) == pytest.approx(0.25)
    assert sorted(arrays["path_value"].tolist()) == [-1.0, 1.0]


def test_split_threshold_restores_lightgbms_infinities():
    assert split_threshold({"threshold": 1e300}) == math.inf
    assert split_threshold({"threshold": -1e300}) == -math.inf
    assert split_threshold({"threshold": 0.30000000000000004}) == 0.30000000000000004
    assert split_threshold({"threshold": "1.5"}) == 1.5


def test_a_real_booster_exports_one_path_per_leaf():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, 4))
    y = (x[:, 0] + rng.normal(scale=0.5, size=500) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbose": -1,
                         "num_threads": 1, "seed": 1}, lgb.Dataset(x, y), 10)
    arrays = export_paths(booster)
    leaves = sum(t["num_leaves"] for t in booster.dump_model()["tree_info"])
    assert arrays["path_value"].shape == (leaves,)
    assert int(arrays["num_features"]) == 4
    assert set(arrays["path_tree"].tolist()) == set(range(booster.num_trees()))


def test_export_rejects_categorical_splits_and_multiclass():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(0, 6, 800), rng.normal(size=800)]).astype(float)
    y = (x[:, 0] % 2 == 0).astype(int)
    categorical = lgb.train(
        {
            "num_threads": 1,
            "objective": "binary",
            "verbose": -1,
            "min_data_per_group": 5,
            "cat_smooth": 1,
        },
        lgb.Dataset(x, y, categorical_feature=[0]),
        5,
    )
    with pytest.raises(UnsupportedModelError, match=r"categorical|'=='"):
        export_paths(categorical)
    multiclass = lgb.train(
        {"num_threads": 1, "objective": "multiclass", "num_class": 3, "verbose": -1},
        lgb.Dataset(x, rng.integers(0, 3, 800)),
        2,
    )
    with pytest.raises(UnsupportedModelError, match="single-output"):
        export_paths(multiclass)
