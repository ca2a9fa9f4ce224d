"""Export a LightGBM booster as ONE exact ONNX graph, and prove it matches LightGBM.

The exported graph is: feature sub-graph (training/features.py) -> tree ensemble ->
sigmoid, all in float64, with outputs ``features`` [N, F], ``margin`` [N], ``probability`` [N].

The tree ensemble is converted with onnxmltools (``convert_lightgbm``), then made exact.
As converted, it is float32: float32 split thresholds compared on float32 inputs, so a value
just past a float64 split (e.g. one ULP) lands on the wrong side (``onnxmltools_float32_model``
keeps that graph so the split-boundary probe can show it), and its missing-value routing is
a heuristic. From the converter is taken the tree structure: trees, nodes, split features,
modes and true/false branches. Rebuilt in ai.onnx.ml opset-5 ``TreeEnsemble``, node for
node, with the exact values of ``booster.dump_model()`` (the same source onnxmltools reads;
every converter node is checked to be the float32 of its booster node, feature and mode
equal, and every converter node must be matched, so the two cannot silently drift):

* float64 split thresholds and leaf weights instead of float32; thresholds +-1e300 (the
  dump's clamp of +-inf) restored to +-inf;
* inputs with |x| <= kZeroThreshold (1e-35) become 0.0, as LightGBM's C API reads them;
* missing values routed as LightGBM does (the converter's nodes_missing_value_tracks_true
  is replaced):
  - numerical split, missing_type NaN:  NaN -> default_left direction;
  - numerical split, missing_type None: NaN is treated as 0.0 -> side of ``0.0 <= threshold``;
  - numerical split, missing_type Zero: only if equivalent to the above (otherwise refused);
* categorical split (``==``): the converter's chain of BRANCH_EQ nodes (one per category)
  is folded into one BRANCH_MEMBER node: left iff the value is in the category set,
  NaN -> right (the codes from the feature graph are whole numbers, so its exact membership
  equals LightGBM's integer-truncating bitset test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightgbm
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from contract.graph import FEATURES_OUTPUT, MARGIN_OUTPUT, PROBABILITY_OUTPUT, ZERO_THRESHOLD
from training import features as fe
from training.treeshap_export import split_threshold

#: ParityError unless max |dP| <= this (and no decision differs at the threshold).
PARITY_TOLERANCE = 1e-5
_LEQ, _MEMBER = 0, 6


class ParityError(AssertionError):
    """The ONNX graph does not reproduce LightGBM; ``figures`` holds the measurements."""

    def __init__(self, message: str, figures: dict[str, Any]) -> None:
        super().__init__(f"{message}: {figures}")
        self.figures = figures


# --------------------------------------------------------------------------- the trees


@dataclass
class _Ensemble:
    """TreeEnsemble (ai.onnx.ml opset 5) attributes, float64 splits and weights."""

    featureids: list[int]
    splits: list[float]
    modes: list[int]
    truenodeids: list[int]
    trueleafs: list[int]
    falsenodeids: list[int]
    falseleafs: list[int]
    missing_tracks_true: list[int]
    membership: list[float]
    tree_roots: list[int]
    leaf_weights: list[float]


def _check_booster(dump: dict[str, Any], num_features: int) -> float:
    """Refuse boosters this exporter cannot reproduce; return the sigmoid coefficient."""
    objective = str(dump.get("objective", ""))
    parts = objective.split()
    if not parts or parts[0] not in ("binary", "cross_entropy"):
        raise ValueError(f"only binary boosters can be exported, got objective {objective!r}")
    if dump.get("num_class", 1) != 1 or dump.get("num_tree_per_iteration", 1) != 1:
        raise ValueError("only single-output (binary) boosters can be exported")
    if dump.get("average_output"):
        raise ValueError("random-forest (average_output) boosters are not supported")
    names = list(dump.get("feature_names", []))
    if len(names) != num_features:
        raise ValueError(f"booster has {len(names)} features, the feature graph {num_features}")
    sigmoid = 1.0
    for part in parts[1:]:
        if part.startswith("sigmoid:"):
            sigmoid = float(part.split(":", 1)[1])
    if parts[0] == "cross_entropy":
        sigmoid = 1.0
    return sigmoid


def sigmoid_coefficient(booster: lightgbm.Booster) -> float:
    """LightGBM's ``s`` in ``P = sigmoid(s * raw margin)`` (refusing boosters it cannot export)."""
    return _check_booster(booster.dump_model(), booster.num_feature())


def booster_features(booster: lightgbm.Booster) -> tuple[str, ...]:
    """The feature graph columns a booster was trained on: its feature names, which must be
    FEATURE_NAMES or a subsequence of it (a model without the protected fields); unnamed
    columns (``Column_i``) mean all of FEATURE_NAMES."""
    names = list(booster.feature_name())
    if names == [f"Column_{i}" for i in range(len(fe.FEATURE_NAMES))]:
        return fe.FEATURE_NAMES
    position = {name: i for i, name in enumerate(fe.FEATURE_NAMES)}
    indices = [position.get(name, -1) for name in names]
    if -1 in indices or indices != sorted(set(indices)):
        raise ValueError("booster feature names are not a subsequence of "
                         "features.FEATURE_NAMES")
    return tuple(names)


def _numerical_missing(node: dict[str, Any]) -> int:
    """nodes_missing_value_tracks_true for a LightGBM '<=' node (true branch = left)."""
    threshold = split_threshold(node)
    missing = node.get("missing_type", "None")
    default_left = bool(node.get("default_left", False))
    if missing == "NaN":
        return int(default_left)
    if missing == "None":
        return int(threshold >= 0.0)
    if missing == "Zero":
        # NaN -> 0 -> "is zero" -> default side; exact only if every |x| <= kZeroThreshold
        # already compares onto the default side.
        zero_side_left = threshold >= ZERO_THRESHOLD
        zero_side_right = threshold < -ZERO_THRESHOLD
        if (default_left and zero_side_left) or (not default_left and zero_side_right):
            return int(default_left)
        raise ValueError("missing_type Zero (zero_as_missing) splits around 0 are not supported")
    raise ValueError(f"unknown missing_type {missing!r}")


def _converted_trees(booster: lightgbm.Booster) -> onnx.NodeProto:
    """onnxmltools' conversion of the booster: its TreeEnsembleClassifier node (float32)."""
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    # Only the trees dump_model() exports (up to best_iteration): onnxmltools' own dumper
    # rejects an early-stopped booster, so it is given a copy truncated the same way.
    exported = lightgbm.Booster(model_str=booster.model_to_string())
    converted = convert_lightgbm(
        exported, initial_types=[("input", FloatTensorType([None, booster.num_feature()]))],
        zipmap=False, target_opset=15)
    (trees,) = [n for n in converted.graph.node if n.op_type.startswith("TreeEnsemble")]
    node: onnx.NodeProto = trees
    return node


def _ensemble(dump: dict[str, Any], converted: onnx.NodeProto) -> _Ensemble:
    """The converter's trees, node for node, with the booster's exact doubles and routing.

    Every converter node is checked against the booster's node it stands for (mode, feature,
    float32 of the exact threshold / category / leaf value), so the two cannot drift apart.
    """
    return _EnsembleBuilder(dump, converted).build()


class _EnsembleBuilder:
    """Walks the booster's trees in pre-order next to the converter's node table."""

    def __init__(self, dump: dict[str, Any], converted: onnx.NodeProto) -> None:
        c = {a.name: helper.get_attribute_value(a) for a in converted.attribute}
        self.c = c
        self.at = {key: i for i, key in enumerate(zip(c["nodes_treeids"], c["nodes_nodeids"],
                                                      strict=True))}
        self.weights = dict(zip(zip(c["class_treeids"], c["class_nodeids"], strict=True),
                                c["class_weights"], strict=True))
        self.matched: set[int] = set()
        self.dump = dump
        if len(set(c["nodes_treeids"])) != len(dump["tree_info"]):
            raise ValueError("onnxmltools converted a different number of trees than the booster")
        self.e = _Ensemble([], [], [], [], [], [], [], [], [], [], [])

    def build(self) -> _Ensemble:
        e = self.e
        for t, tree in enumerate(self.dump["tree_info"]):
            structure = tree["tree_structure"]
            if "leaf_value" in structure:
                e.tree_roots.append(self.one_leaf_tree(t, structure["leaf_value"]))
            else:
                e.tree_roots.append(self.visit(t, structure, 0)[0])
        if len(self.matched) != len(self.at):
            unmatched = len(self.at) - len(self.matched)
            raise ValueError(f"{unmatched} onnxmltools nodes match no booster node")
        return e

    def check(self, t: int, node_id: int, mode: str, feature: int = 0, value: float = 0.0) -> int:
        """Index of converter node (t, node_id), asserted to match the booster's node."""
        c, i = self.c, self.at[(t, node_id)]
        self.matched.add(i)
        found = (c["nodes_modes"][i].decode(), c["nodes_featureids"][i],
                 np.float32(c["nodes_values"][i]))
        if mode == "LEAF":
            found, value = (found[0], 0, np.float32(self.weights[(t, node_id)])), float(value)
        if found != (mode, feature, np.float32(value)):
            raise ValueError(f"onnxmltools' tree {t} node {node_id} {found} does not match "
                             f"the booster's {(mode, feature, value)}")
        return i

    def leaf(self, t: int, node_id: int, value: float) -> int:
        self.check(t, node_id, "LEAF", value=value)
        self.e.leaf_weights.append(float(value))
        return len(self.e.leaf_weights) - 1

    def one_leaf_tree(self, t: int, value: float) -> int:
        """A one-leaf tree: one node whose both branches lead to the leaf; returns the node."""
        e = self.e
        i = len(e.featureids)
        target = self.leaf(t, 0, value)
        e.featureids.append(0)
        e.splits.append(0.0)
        e.modes.append(_LEQ)
        e.truenodeids.append(target)
        e.falsenodeids.append(target)
        e.trueleafs.append(1)
        e.falseleafs.append(1)
        e.missing_tracks_true.append(0)
        return i

    def visit(self, t: int, node: dict[str, Any], node_id: int) -> tuple[int, int]:
        """Append node (pre-order); return (index, is_leaf) of its nodes_/leaf_ entry."""
        if "leaf_value" in node:
            if "leaf_coeff" in node:
                raise ValueError("linear-tree boosters (linear_tree=True) are not supported")
            return self.leaf(t, node_id, node["leaf_value"]), 1
        e = self.e
        feature = int(node["split_feature"])
        i = len(e.featureids)
        e.featureids.append(feature)
        for attr in (e.splits, e.modes, e.truenodeids, e.trueleafs, e.falsenodeids,
                     e.falseleafs, e.missing_tracks_true):
            attr.append(0)
        if node["decision_type"] == "<=":
            true_id, false_id = self.numerical(t, node, node_id, feature, i)
        elif node["decision_type"] == "==":
            true_id, false_id = self.categorical(t, node, node_id, feature, i)
        else:
            raise ValueError(f"unsupported decision_type {node['decision_type']!r}")
        e.truenodeids[i], e.trueleafs[i] = self.visit(t, node["left_child"], true_id)
        e.falsenodeids[i], e.falseleafs[i] = self.visit(t, node["right_child"], false_id)
        return i, 0

    def numerical(self, t: int, node: dict[str, Any], node_id: int, feature: int,
                  i: int) -> tuple[int, int]:
        """A '<=' split as BRANCH_LEQ with LightGBM's missing-value routing."""
        j = self.check(t, node_id, "BRANCH_LEQ", feature, split_threshold(node))
        self.e.modes[i] = _LEQ
        self.e.splits[i] = split_threshold(node)
        self.e.missing_tracks_true[i] = _numerical_missing(node)  # not the converter's guess
        return self.c["nodes_truenodeids"][j], self.c["nodes_falsenodeids"][j]

    def categorical(self, t: int, node: dict[str, Any], node_id: int, feature: int,
                    i: int) -> tuple[int, int]:
        """An '==' split: onnxmltools unfolds "a||b||c" into a chain of BRANCH_EQ nodes that
        share the true branch; it is folded back into one exact BRANCH_MEMBER node."""
        e, c = self.e, self.c
        categories = [float(v) for v in str(node["threshold"]).split("||")]
        true_ids, false_id = set(), node_id
        for category in categories:
            j = self.check(t, false_id, "BRANCH_EQ", feature, category)
            true_ids.add(c["nodes_truenodeids"][j])
            false_id = c["nodes_falsenodeids"][j]
        if len(true_ids) != 1:
            raise ValueError(f"onnxmltools' tree {t} category chain at {node_id} forks")
        (true_id,) = true_ids
        e.modes[i] = _MEMBER
        e.splits[i] = math.nan
        if e.membership:
            e.membership.append(math.nan)
        e.membership.extend(sorted(categories))
        e.missing_tracks_true[i] = 0  # LightGBM: NaN (and negatives) go right
        return true_id, false_id


def add_tree_nodes(g: fe._GraphBuilder, booster: lightgbm.Booster, features: str,
                   margin: str, probability: str) -> None:
    """Append features -> trees -> margin [N] -> probability [N] (float64) to g."""
    dump = booster.dump_model()
    sigmoid = _check_booster(dump, len(booster_features(booster)))
    e = _ensemble(dump, _converted_trees(booster))
    f64 = np.float64
    attrs: dict[str, Any] = {
        "n_targets": 1,
        "aggregate_function": 1,  # SUM
        "post_transform": 0,  # NONE
        "tree_roots": e.tree_roots,
        "nodes_featureids": e.featureids,
        "nodes_splits": numpy_helper.from_array(np.array(e.splits, dtype=f64), "splits"),
        "nodes_modes": numpy_helper.from_array(np.array(e.modes, dtype=np.uint8), "modes"),
        "nodes_truenodeids": e.truenodeids,
        "nodes_trueleafs": e.trueleafs,
        "nodes_falsenodeids": e.falsenodeids,
        "nodes_falseleafs": e.falseleafs,
        "nodes_missing_value_tracks_true": e.missing_tracks_true,
        "leaf_targetids": [0] * len(e.leaf_weights),
        "leaf_weights": numpy_helper.from_array(np.array(e.leaf_weights, dtype=f64), "w"),
    }
    if e.membership:
        attrs["membership_values"] = numpy_helper.from_array(
            np.array(e.membership, dtype=f64), "membership")
    # LightGBM's predict reads |x| <= kZeroThreshold as 0.0 (dense rows are turned into
    # sparse pairs); do the same, or a value at a +-kZeroThreshold split would route wrongly.
    tiny = g.op("LessOrEqual", [g.op("Abs", [features]),
                                g.const(np.array(ZERO_THRESHOLD, dtype=f64), "k_zero")])
    tree_input = g.op("Where", [tiny, g.const(np.array(0.0, dtype=f64), "zero"), features],
                      "tree_input")
    scores = g.op("TreeEnsemble", [tree_input], "tree_scores", domain="ai.onnx.ml", **attrs)
    g.nodes.append(helper.make_node(
        "Squeeze", [scores, g.const(np.array([1], dtype=np.int64), "axis1")], [margin],
        name=g.name("margin")))
    _add_sigmoid(g, margin, probability, sigmoid)


def _add_sigmoid(g: fe._GraphBuilder, margin: str, probability: str, sigmoid: float) -> None:
    """probability = 1 / (1 + exp(-sigmoid * margin)), LightGBM's formula, in float64."""
    one = g.const(np.array(1.0, dtype=np.float64), "one")
    scaled = g.op("Mul", [margin, g.const(np.array(-sigmoid, dtype=np.float64), "neg_sig")])
    denominator = g.op("Add", [one, g.op("Exp", [scaled])])
    g.nodes.append(helper.make_node("Div", [one, denominator], [probability],
                                    name=g.name("probability")))


def _vector_output(name: str) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.DOUBLE, ["N"])


def export_model(booster: lightgbm.Booster) -> onnx.ModelProto:
    """The bundle's model.onnx: (numeric, categorical) -> features, margin, probability."""
    names = booster_features(booster)
    g = fe._GraphBuilder("fe/")
    fe.add_feature_nodes(g, output=FEATURES_OUTPUT, names=names)
    t = fe._GraphBuilder("trees/")
    add_tree_nodes(t, booster, FEATURES_OUTPUT, MARGIN_OUTPUT, PROBABILITY_OUTPUT)
    graph = helper.make_graph(
        g.nodes + t.nodes,
        "credit_scoring",
        fe.feature_inputs(),
        [fe.features_value_info(width=len(names)), _vector_output(MARGIN_OUTPUT),
         _vector_output(PROBABILITY_OUTPUT)],
        g.initializers + t.initializers,
    )
    model = fe.make_model(graph)
    model.doc_string = ("features -> LightGBM trees (onnxmltools, made exact: float64 "
                        "TreeEnsemble) -> sigmoid")
    return model


def tree_model(source: onnx.ModelProto | lightgbm.Booster) -> onnx.ModelProto:
    """The tree part alone: input ``features`` [N, F] -> margin, probability.

    From a booster it is built directly; from an exported model it is cut out of it (so the
    probe tests exactly the trees that ship).
    """
    if isinstance(source, lightgbm.Booster):
        t = fe._GraphBuilder("trees/")
        add_tree_nodes(t, source, FEATURES_OUTPUT, MARGIN_OUTPUT, PROBABILITY_OUTPUT)
        graph = helper.make_graph(
            t.nodes, "trees", [fe.features_value_info(width=source.num_feature())],
            [_vector_output(MARGIN_OUTPUT), _vector_output(PROBABILITY_OUTPUT)], t.initializers)
        return fe.make_model(graph)
    if [i.name for i in source.graph.input] == [FEATURES_OUTPUT]:
        return source
    return onnx.utils.Extractor(source).extract_model(
        [FEATURES_OUTPUT], [MARGIN_OUTPUT, PROBABILITY_OUTPUT])


def onnxmltools_float32_model(booster: lightgbm.Booster) -> onnx.ModelProto:
    """The plain onnxmltools conversion (float32 thresholds and inputs), for comparison only.

    Same I/O as tree_model: ``features`` float64 -> ``margin``, ``probability`` float64. The
    converter's TreeEnsembleClassifier is re-declared as a TreeEnsembleRegressor with
    post_transform NONE so its raw margin is visible; nothing else is changed.
    """
    n_features = booster.num_feature()
    trees = _converted_trees(booster)
    rename = {"class_ids": "target_ids", "class_nodeids": "target_nodeids",
              "class_treeids": "target_treeids", "class_weights": "target_weights"}
    attrs: dict[str, Any] = {"n_targets": 1, "post_transform": "NONE"}
    for a in trees.attribute:
        if a.name in ("classlabels_int64s", "classlabels_strings", "post_transform"):
            continue
        value = helper.get_attribute_value(a)
        if a.name == "class_ids":
            value = [0] * len(value)
        attrs[rename.get(a.name, a.name)] = value
    g = fe._GraphBuilder("f32/")
    as_float = g.op("Cast", [FEATURES_OUTPUT], "as_float", to=TensorProto.FLOAT)
    scores = g.op("TreeEnsembleRegressor", [as_float], "scores", domain="ai.onnx.ml", **attrs)
    flat = g.op("Squeeze", [scores, g.const(np.array([1], dtype=np.int64))])
    g.nodes.append(helper.make_node("Cast", [flat], [MARGIN_OUTPUT], to=TensorProto.DOUBLE))
    _add_sigmoid(g, MARGIN_OUTPUT, PROBABILITY_OUTPUT,
                 _check_booster(booster.dump_model(), n_features))
    graph = helper.make_graph(
        g.nodes, "onnxmltools_float32", [fe.features_value_info(width=n_features)],
        [_vector_output(MARGIN_OUTPUT), _vector_output(PROBABILITY_OUTPUT)], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", fe.ONNX_OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = fe.IR_VERSION
    onnx.checker.check_model(model)
    return model


# --------------------------------------------------------------------------- running / checks


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), sess_options=fe.session_options(),
                                providers=["CPUExecutionProvider"])


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if len(a) else 0.0


def check_parity(model: onnx.ModelProto, booster: lightgbm.Booster,
                 inputs: dict[str, np.ndarray], threshold: float,
                 tolerance: float = PARITY_TOLERANCE) -> dict[str, Any]:
    """Compare the ONNX graph with booster.predict(compute_features(inputs)).

    Raises ParityError unless the graph's features equal compute_features bit for bit (NaN
    positions included), max |dP| <= tolerance and no decision (P >= threshold) differs.
    Returns the figures.
    """
    feeds = fe.validate_inputs(inputs)
    onnx_features, onnx_margin, onnx_p = session(model).run(
        [FEATURES_OUTPUT, MARGIN_OUTPUT, PROBABILITY_OUTPUT], feeds)
    x = fe.compute_features(feeds, booster_features(booster))
    lgb_margin = np.asarray(booster.predict(x, raw_score=True), dtype=np.float64)
    lgb_p = np.asarray(booster.predict(x), dtype=np.float64)
    figures: dict[str, Any] = {
        "rows": len(x),
        "rows_with_missing_features": int(np.isnan(x).any(axis=1).sum()),
        "features_identical": bool(np.array_equal(onnx_features, x, equal_nan=True)),
        "max_abs_diff_probability": _max_abs(onnx_p, lgb_p),
        "max_abs_diff_margin": _max_abs(onnx_margin, lgb_margin),
        "threshold": float(threshold),
        "decisions_differing": int(np.sum((onnx_p >= threshold) != (lgb_p >= threshold))),
        "declined": int(np.sum(lgb_p >= threshold)),
        "tolerance": tolerance,
    }
    failed = (not figures["features_identical"]
              or not figures["max_abs_diff_probability"] <= tolerance
              or figures["decisions_differing"] > 0)
    figures["passed"] = not failed
    if failed:
        raise ParityError("ONNX graph does not match LightGBM", figures)
    return figures


def _tree_paths(dump: dict[str, Any]) -> list[dict[int, list[tuple[int, float]]]]:
    """Per tree: leaf_index -> the finite numerical splits (feature, threshold) on its path."""
    paths: list[dict[int, list[tuple[int, float]]]] = []
    for tree in dump["tree_info"]:
        leaves: dict[int, list[tuple[int, float]]] = {}
        stack: list[tuple[dict[str, Any], tuple[tuple[int, float], ...]]] = [
            (tree["tree_structure"], ())]
        while stack:
            node, path = stack.pop()
            if "leaf_value" in node:
                leaves[int(node.get("leaf_index", 0))] = list(path)
                continue
            here = path
            if node["decision_type"] == "<=" and math.isfinite(split_threshold(node)):
                here = (*path, (int(node["split_feature"]), split_threshold(node)))
            stack.append((node["left_child"], here))
            stack.append((node["right_child"], here))
        paths.append(leaves)
    return paths


def _leaf_values(dump: dict[str, Any]) -> np.ndarray:
    """[T, max leaves]: the value of leaf_index j of tree t (NaN pads)."""
    trees = dump["tree_info"]
    table = np.full((len(trees), max(t.get("num_leaves", 1) for t in trees)), np.nan)
    for t, tree in enumerate(trees):
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "leaf_value" in node:
                table[t, int(node.get("leaf_index", 0))] = float(node["leaf_value"])
            else:
                stack.extend((node["left_child"], node["right_child"]))
    return table


PER_TREE_OUTPUT = "per_tree"


def per_tree_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """The routing of ``model``'s trees made visible: ``features`` -> ``per_tree`` [N, T].

    The tree node of tree_model(model) is kept as is (same splits, modes, missing
    handling) except that every leaf contributes to its own tree's target instead of the
    sum, so column t holds the value of the leaf reached in tree t. Comparing it with
    LightGBM's pred_leaf values shows exactly which rows were routed differently.
    """
    trees = tree_model(model)
    (node,) = [n for n in trees.graph.node if n.op_type.startswith("TreeEnsemble")]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "TreeEnsemble":
        falls = {}  # leaf -> tree, by walking each tree from its root
        for t, root in enumerate(attrs["tree_roots"]):
            stack = [root]
            while stack:
                i = stack.pop()
                for ids, leafs in (("nodes_truenodeids", "nodes_trueleafs"),
                                   ("nodes_falsenodeids", "nodes_falseleafs")):
                    if attrs[leafs][i]:
                        falls[attrs[ids][i]] = t
                    else:
                        stack.append(attrs[ids][i])
        attrs["leaf_targetids"] = [falls[j] for j in range(len(attrs["leaf_targetids"]))]
        attrs["n_targets"] = len(attrs["tree_roots"])
        attrs["post_transform"] = 0
    elif node.op_type == "TreeEnsembleRegressor":
        attrs["target_ids"] = list(attrs["target_treeids"])
        attrs["n_targets"] = len(set(attrs["nodes_treeids"]))
        attrs["post_transform"] = "NONE"
        attrs.pop("base_values", None)
        attrs.pop("base_values_as_tensor", None)
    else:
        raise ValueError(f"unsupported tree node {node.op_type}")
    routed = helper.make_node(node.op_type, list(node.input), [PER_TREE_OUTPUT + "_raw"],
                              domain=node.domain, **attrs)
    cast = helper.make_node("Cast", [PER_TREE_OUTPUT + "_raw"], [PER_TREE_OUTPUT],
                            to=TensorProto.DOUBLE)
    # The nodes between the features input and the tree node (e.g. a Cast to float32).
    produced = {o: n for n in trees.graph.node for o in n.output}
    needed, upstream, stack = set(), [], list(node.input)
    while stack:
        name = stack.pop()
        if name in produced and name not in needed:
            needed.add(name)
            upstream.append(produced[name])
            stack.extend(produced[name].input)
    used = {i for n in upstream for i in n.input}
    graph = helper.make_graph(
        [*reversed(upstream), routed, cast], "per_tree",
        [helper.make_tensor_value_info(FEATURES_OUTPUT, TensorProto.DOUBLE, ["N", "F"])],
        [helper.make_tensor_value_info(PER_TREE_OUTPUT, TensorProto.DOUBLE, ["N", "T"])],
        [t for t in trees.graph.initializer if t.name in used])
    out = helper.make_model(graph, opset_imports=list(trees.opset_import))
    out.ir_version = trees.ir_version
    return out


def probe_split_boundaries(model: onnx.ModelProto, booster: lightgbm.Booster,
                           features_matrix: np.ndarray, rows: int = 2000, seed: int = 0,
                           threshold: float | None = None) -> dict[str, Any]:
    """Put rows exactly on, one ULP past, and missing at real split points; compare.

    For each sampled row, one finite numerical split on the row's own path through a
    random tree is chosen (so the nudged feature really is compared at that node); three
    probes are made: the feature set to the threshold, to nextafter(threshold, +inf), and
    to NaN. The tree part of ``model`` (its ``features`` input onwards) is run on the
    probes and compared with LightGBM:

    * ``flips``: probes routed to a different leaf in at least one tree (per-tree leaf
      values of the graph vs LightGBM's pred_leaf; float32 graphs compared at float32);
    * ``max_abs_diff_margin`` / ``_probability`` and, given a threshold,
      ``decisions_differing`` (P >= threshold).
    """
    dump = booster.dump_model()
    variants = _boundary_probes(booster, dump, features_matrix, rows, seed)
    runner = _ProbeRunner.of(model, booster, dump)
    report: dict[str, Any] = {"rows": len(variants["at_threshold"]), "seed": seed}
    for variant, probes in variants.items():
        if not probes:
            report[variant] = {"probes": 0, "flips": 0}
        else:
            report[variant] = runner.compare(np.vstack(probes), threshold)
    parts = [report[v] for v in variants]
    report["probes"] = sum(p["probes"] for p in parts)
    report["flips"] = sum(p["flips"] for p in parts)
    report["max_abs_diff_margin"] = max(p.get("max_abs_diff_margin", 0.0) for p in parts)
    report["max_abs_diff_probability"] = max(
        p.get("max_abs_diff_probability", 0.0) for p in parts)
    if threshold is not None:
        report["threshold"] = float(threshold)
        report["decisions_differing"] = sum(p.get("decisions_differing", 0) for p in parts)
    return report


def _boundary_probes(booster: lightgbm.Booster, dump: dict[str, Any],
                     features_matrix: np.ndarray, rows: int,
                     seed: int) -> dict[str, list[np.ndarray]]:
    """The three probes of each sampled row (see probe_split_boundaries), by variant."""
    x = np.asarray(features_matrix, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(x), size=min(rows, len(x)), replace=False)
    base = x[sample]
    leaves = np.asarray(booster.predict(base, pred_leaf=True), dtype=np.int64).reshape(
        len(base), -1)
    paths = _tree_paths(dump)
    variants: dict[str, list[np.ndarray]] = {
        "at_threshold": [], "one_ulp_above": [], "missing": []}
    for i, row in enumerate(base):
        candidates = [t for t in range(len(paths)) if paths[t].get(int(leaves[i, t]))]
        if not candidates:
            continue
        t = candidates[rng.integers(len(candidates))]
        path = paths[t][int(leaves[i, t])]
        feature, split = path[rng.integers(len(path))]
        for variant, value in (("at_threshold", split),
                               ("one_ulp_above", np.nextafter(split, np.inf)),
                               ("missing", np.nan)):
            probe = row.copy()
            probe[feature] = value
            variants[variant].append(probe)
    return variants


@dataclass(frozen=True)
class _ProbeRunner:
    """The graph's trees (sums and per-tree leaves) and the booster, side by side."""

    trees: ort.InferenceSession
    routing: ort.InferenceSession
    booster: lightgbm.Booster
    leaf_values: np.ndarray
    float32_graph: bool

    @classmethod
    def of(cls, model: onnx.ModelProto, booster: lightgbm.Booster,
           dump: dict[str, Any]) -> _ProbeRunner:
        routing = per_tree_model(model)
        float32_graph = any(n.op_type == "Cast" and helper.get_attribute_value(n.attribute[0])
                            == TensorProto.FLOAT for n in routing.graph.node)
        return cls(trees=session(tree_model(model)), routing=session(routing), booster=booster,
                   leaf_values=_leaf_values(dump), float32_graph=float32_graph)

    def compare(self, matrix: np.ndarray, threshold: float | None) -> dict[str, Any]:
        """Leaf flips, margin and probability differences (and decisions) on ``matrix``."""
        booster, tables = self.booster, self.leaf_values
        onnx_margin, onnx_p = self.trees.run([MARGIN_OUTPUT, PROBABILITY_OUTPUT],
                                             {FEATURES_OUTPUT: matrix})
        (onnx_leaf,) = self.routing.run([PER_TREE_OUTPUT], {FEATURES_OUTPUT: matrix})
        lgb_leaves = np.asarray(booster.predict(matrix, pred_leaf=True), dtype=np.int64)
        lgb_leaf = tables[np.arange(tables.shape[0]), lgb_leaves.reshape(len(matrix), -1)]
        if self.float32_graph:
            lgb_leaf = lgb_leaf.astype(np.float32).astype(np.float64)
        lgb_margin = np.asarray(booster.predict(matrix, raw_score=True), dtype=np.float64)
        lgb_p = np.asarray(booster.predict(matrix), dtype=np.float64)
        entry: dict[str, Any] = {
            "probes": len(matrix),
            "flips": int(np.sum((onnx_leaf != lgb_leaf).any(axis=1))),
            "max_abs_diff_margin": _max_abs(onnx_margin, lgb_margin),
            "max_abs_diff_probability": _max_abs(onnx_p, lgb_p),
        }
        if threshold is not None:
            entry["decisions_differing"] = int(
                np.sum((onnx_p >= threshold) != (lgb_p >= threshold)))
        return entry
