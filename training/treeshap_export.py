"""Export a LightGBM booster's trees as the arrays numpy TreeSHAP needs at serving time.

The scoring function explains a prediction with exact path-dependent TreeSHAP (what
``booster.predict(X, pred_contrib=True)`` computes) without lightgbm. This module turns
``booster.dump_model()`` into plain arrays, saved in the bundle as ``shap_paths.npz``
and read by ``function/scoring/treeshap.py``.

Format (``contract.graph.SHAP_PATHS_FORMAT_VERSION``: 1).
``Nn`` = internal nodes of all trees, ``P`` = root-to-leaf
paths (one per leaf of every tree with more than one leaf), ``D`` = the most unique
features on one path, ``M`` = the most splits on one feature along one path.

=====================  ==============  =====================================================
key                    dtype, shape    meaning
=====================  ==============  =====================================================
format_version         int64 []        ``contract.graph.SHAP_PATHS_FORMAT_VERSION``
num_features           int64 []        F: the model's feature count (output has F+1 columns)
expected_value         float64 []      what pred_contrib puts in the last column
node_feature           int32 [Nn]      feature index the internal node splits on
node_threshold         float64 [Nn]    exact double threshold (may be +-inf): ``x <= t`` goes left
node_missing_type      int8 [Nn]       0 "None" (NaN -> 0.0), 1 "Zero" (0 and NaN -> default),
                                       2 "NaN" (NaN -> default)
node_default_left      bool [Nn]       default direction for missing values
path_value             float64 [P]     the leaf value (shrinkage included)
path_tree              int32 [P]       the tree the path belongs to (diagnostics only)
path_length            int32 [P]       number of unique features on the path (<= D)
elem_feature           int32 [P, D]    feature of each path element; -1 pads
elem_zero_fraction     float64 [P, D]  product over the element's splits of
                                       count(child taken) / count(node); 1.0 pads
elem_condition         int32 [P, D, M] the element's splits: 2 * node + (1 if the path takes
                                       the right child else 0); -1 pads
=====================  ==============  =====================================================

A path element is "hot" for a row when the row satisfies all of the element's splits
(the one fraction of TreeSHAP). Repeated splits on one feature along a path are merged
into one element exactly as LightGBM's recursive TreeSHAP merges them (product of cover
ratios, conjunction of conditions), so the decomposition reproduces pred_contrib.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contract.graph import MISSING_TYPES, SHAP_PATHS_FORMAT_VERSION

_AVOID_INF = 1e300


class UnsupportedModelError(ValueError):
    """The booster uses something numpy TreeSHAP does not reproduce (categorical split, ...)."""


def export_paths(booster: Any) -> dict[str, np.ndarray]:
    """Decompose ``booster``'s trees (the ones ``predict`` uses) into TreeSHAP path arrays."""
    return export_paths_from_dump(booster.dump_model())


#: One root-to-leaf path: (tree, leaf value, merged elements (feature, zero fraction, conds)).
_Path = tuple[int, float, list[tuple[int, float, list[int]]]]


def export_paths_from_dump(model: dict[str, Any]) -> dict[str, np.ndarray]:
    """``export_paths`` for an already-dumped model (``booster.dump_model()``)."""
    _check_model(model)
    nodes: dict[str, list[Any]] = {"feature": [], "threshold": [], "missing": [], "left": []}
    paths: list[_Path] = []
    expected_value = 0.0
    for tree in model["tree_info"]:
        expected_value = _walk_tree(tree, nodes, paths, expected_value)
    return {
        "format_version": np.asarray(SHAP_PATHS_FORMAT_VERSION, dtype=np.int64),
        "num_features": np.asarray(int(model["max_feature_idx"]) + 1, dtype=np.int64),
        "expected_value": np.asarray(expected_value, dtype=np.float64),
        "node_feature": np.asarray(nodes["feature"], dtype=np.int32),
        "node_threshold": np.asarray(nodes["threshold"], dtype=np.float64),
        "node_missing_type": np.asarray(nodes["missing"], dtype=np.int8),
        "node_default_left": np.asarray(nodes["left"], dtype=bool),
        "path_value": np.asarray([p[1] for p in paths], dtype=np.float64),
        "path_tree": np.asarray([p[0] for p in paths], dtype=np.int32),
        "path_length": np.asarray([len(p[2]) for p in paths], dtype=np.int32),
        **_element_arrays(paths),
    }


def _check_model(model: dict[str, Any]) -> None:
    if model.get("num_tree_per_iteration", 1) != 1 or model.get("num_class", 1) != 1:
        raise UnsupportedModelError(
            "only single-output models (binary, regression) are supported, got "
            f"num_class={model.get('num_class')}"
        )
    if model.get("average_output"):
        raise UnsupportedModelError("averaged-output models (boosting='rf') are not supported")


def _walk_tree(tree: dict[str, Any], nodes: dict[str, list[Any]], paths: list[_Path],
               expected: float) -> float:
    """Append the tree's internal nodes to ``nodes`` and its paths to ``paths``; return
    ``expected`` plus the tree's cover-weighted mean leaf value (added leaf by leaf)."""
    root = tree["tree_structure"]
    if "leaf_value" in root:  # a single-leaf tree: a constant, no attribution
        return expected + float(root["leaf_value"])
    total = float(root["internal_count"])
    if total <= 0:
        raise UnsupportedModelError(f"tree {tree['tree_index']} has no training rows")
    tree_index = int(tree["tree_index"])
    # Iterative depth-first walk: (node, path so far as [(feature, ratio, cond)]).
    stack: list[tuple[dict[str, Any], list[tuple[int, float, int]]]] = [(root, [])]
    while stack:
        node, path = stack.pop()
        if "leaf_value" in node:
            if "leaf_coeff" in node:
                raise UnsupportedModelError("linear trees (linear_tree=True) are not supported")
            value = float(node["leaf_value"])
            expected += value * float(node["leaf_count"]) / total
            paths.append((tree_index, value, _merge(path)))
            continue
        if node.get("decision_type") != "<=":
            raise UnsupportedModelError(
                f"tree {tree_index} has a {node.get('decision_type')!r} split on feature "
                f"{node['split_feature']}: only numerical '<=' splits are supported "
                "(encode categories as numeric codes)"
            )
        index = len(nodes["feature"])
        nodes["feature"].append(int(node["split_feature"]))
        nodes["threshold"].append(split_threshold(node))
        nodes["missing"].append(MISSING_TYPES[node["missing_type"]])
        nodes["left"].append(bool(node["default_left"]))
        count = float(node["internal_count"])
        for side, child in ((0, node["left_child"]), (1, node["right_child"])):
            ratio = _count(child) / count if count > 0 else 0.0
            stack.append((child, [*path, (int(node["split_feature"]), ratio, 2 * index + side)]))
    return expected


def _element_arrays(paths: list[_Path]) -> dict[str, np.ndarray]:
    """elem_feature, elem_zero_fraction and elem_condition, padded to the longest path."""
    depth = max((len(p[2]) for p in paths), default=1)
    width = max((len(e[2]) for p in paths for e in p[2]), default=1)
    elem_feature = np.full((len(paths), depth), -1, dtype=np.int32)
    elem_zero = np.ones((len(paths), depth), dtype=np.float64)
    elem_cond = np.full((len(paths), depth, width), -1, dtype=np.int32)
    for p, (_, _, elements) in enumerate(paths):
        for d, (feature, zero, conds) in enumerate(elements):
            elem_feature[p, d] = feature
            elem_zero[p, d] = zero
            elem_cond[p, d, : len(conds)] = conds
    return {"elem_feature": elem_feature, "elem_zero_fraction": elem_zero,
            "elem_condition": elem_cond}


def split_threshold(node: dict[str, Any]) -> float:
    """The exact float64 threshold of a '<=' node, as LightGBM compares it.

    dump_model() writes thresholds with 17 significant digits (exact) but through
    ``Common::AvoidInf``, which turns +-inf (LightGBM uses +inf, e.g. for "NaN vs. everything
    else" splits) into +-1e300; they are mapped back, or a value beyond 1e300 (or +inf)
    would go right where LightGBM sends it left. The ONNX export uses it too.
    """
    threshold = float(node["threshold"])
    if abs(threshold) >= _AVOID_INF:
        return math.copysign(math.inf, threshold)
    return threshold


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "leaf_value" in node else node["internal_count"])


def _merge(path: list[tuple[int, float, int]]) -> list[tuple[int, float, list[int]]]:
    """One element per unique feature: product of cover ratios, list of conditions."""
    merged: dict[int, tuple[float, list[int]]] = {}
    for feature, ratio, cond in path:
        zero, conds = merged.get(feature, (1.0, []))
        merged[feature] = (zero * ratio, [*conds, cond])
    return [(feature, zero, conds) for feature, (zero, conds) in merged.items()]
