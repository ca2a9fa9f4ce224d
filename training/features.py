"""The ONE feature-engineering definition, built as an ONNX sub-graph.

Training computes the LightGBM matrix by running this graph in onnxruntime, and the
exported model (training/export.py) embeds the very same nodes in front of the trees, so
training and serving cannot disagree on a feature.

Graph inputs (see contract.schema.encode_columns):

* ``numeric``      float64 [N, 104]  schema.NUMERIC_FIELDS order, NaN = missing;
* ``categorical``  string  [N, 16]   schema.CATEGORICAL_FIELDS order, "" = missing.

Graph output ``features`` float64 [N, F] in FEATURE_NAMES order:

* the 104 numeric fields as-is, except DAYS_EMPLOYED whose 365243 sentinel becomes NaN;
* the 16 categorical fields as codes (index in Field.categories; "" / unknown -> NaN);
* engineered: DAYS_EMPLOYED_ANOMALY, five money ratios, EMPLOYED_AGE_RATIO and the
  NaN-aware EXT_SOURCE mean / min / max / count.

Ratios are NaN when the denominator is missing or not strictly on the valid side of zero
(never +-inf): money and family-size denominators must be > 0; DAYS_BIRTH (days before
the application, so negative) must be < 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from contract import schema
from contract.explain import DEFAULT_PROTECTED, excluded_features
from contract.graph import CATEGORICAL_INPUT, FEATURES_OUTPUT, NUMERIC_INPUT

#: Opsets of every graph this package builds (features + trees).
ONNX_OPSET = 21
ML_OPSET = 5
IR_VERSION = 10

#: (name, numerator field, denominator field, valid denominator sign) of the ratio features.
_RATIOS: tuple[tuple[str, str, str, int], ...] = (
    ("CREDIT_ANNUITY_RATIO", "AMT_CREDIT", "AMT_ANNUITY", 1),
    ("ANNUITY_INCOME_RATIO", "AMT_ANNUITY", "AMT_INCOME_TOTAL", 1),
    ("CREDIT_INCOME_RATIO", "AMT_CREDIT", "AMT_INCOME_TOTAL", 1),
    ("CREDIT_GOODS_RATIO", "AMT_CREDIT", "AMT_GOODS_PRICE", 1),
    ("INCOME_PER_PERSON", "AMT_INCOME_TOTAL", "CNT_FAM_MEMBERS", 1),
    # DAYS_* count backwards from the application: both are negative, the ratio is the
    # share of the applicant's life spent in the current job.
    ("EMPLOYED_AGE_RATIO", "DAYS_EMPLOYED", "DAYS_BIRTH", -1),
)
_EXT_SOURCES = ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3")

ENGINEERED_FEATURES: tuple[str, ...] = (
    "DAYS_EMPLOYED_ANOMALY",
    *(name for name, *_ in _RATIOS),
    "EXT_SOURCE_MEAN",
    "EXT_SOURCE_MIN",
    "EXT_SOURCE_MAX",
    "EXT_SOURCE_COUNT",
)
#: Column names of the feature matrix, in order.
FEATURE_NAMES: tuple[str, ...] = (
    *schema.NUMERIC_FIELDS,
    *schema.CATEGORICAL_FIELDS,
    *ENGINEERED_FEATURES,
)

_NUM = {name: i for i, name in enumerate(schema.NUMERIC_FIELDS)}


def model_features(protected: Sequence[str] = DEFAULT_PROTECTED) -> tuple[str, ...]:
    """The model's features: FEATURE_NAMES without the protected fields and without every
    engineered feature computed from one (contract.explain.ENGINEERED_SOURCES)."""
    unknown = [p for p in protected if p not in schema.FIELDS_BY_NAME or p == schema.ID_FIELD]
    if unknown:
        raise ValueError(f"protected attributes {unknown} are not applicant fields")
    banned = set(excluded_features(FEATURE_NAMES, tuple(protected)))
    return tuple(name for name in FEATURE_NAMES if name not in banned)


def _columns(names: Sequence[str] | None) -> list[int] | None:
    """Indices of ``names`` in FEATURE_NAMES (None: all of them, in order)."""
    if names is None or tuple(names) == FEATURE_NAMES:
        return None
    index = {name: i for i, name in enumerate(FEATURE_NAMES)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise ValueError(f"unknown features {unknown}")
    return [index[n] for n in names]


class _GraphBuilder:
    """Collects nodes and initializers; every name is prefixed to stay unique when merged."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None,
           domain: str = "", **attrs: Any) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, inputs, [out], name=out, domain=domain, **attrs)
        )
        return out


def _gather(g: _GraphBuilder, matrix: str, indices: list[int], hint: str) -> str:
    idx = g.const(np.array(indices, dtype=np.int64), f"idx_{hint}")
    return g.op("Gather", [matrix, idx], hint, axis=1)


def add_feature_nodes(
    g: _GraphBuilder,
    numeric: str = NUMERIC_INPUT,
    categorical: str = CATEGORICAL_INPUT,
    output: str = FEATURES_OUTPUT,
    names: Sequence[str] | None = None,
) -> None:
    """Append the feature sub-graph (inputs ``numeric``/``categorical`` -> ``output``) to g.

    ``names`` (default: all of FEATURE_NAMES) selects the output columns: the model's
    features, so an excluded field's column never leaves the sub-graph."""
    nan = g.const(np.array(np.nan, dtype=np.float64), "nan")
    zero = g.const(np.array(0.0, dtype=np.float64), "zero")
    axis1 = g.const(np.array([1], dtype=np.int64), "axis1")
    is_sentinel, days_employed = _days_employed(g, numeric, nan)
    numeric_parts = _numeric_columns(g, numeric, days_employed, axis1)
    codes = _category_codes(g, categorical)
    engineered = [
        g.op("Cast", [is_sentinel], "anomaly", to=TensorProto.DOUBLE),
        *_ratios(g, numeric, days_employed, zero, nan),
        *_ext_source_summary(g, numeric, zero, nan, axis1),
    ]
    keep = _columns(names)
    concat = output if keep is None else g.name("all_features")
    g.nodes.append(helper.make_node(
        "Concat", [*numeric_parts, codes, *engineered], [concat], name=g.name("features"),
        axis=1,
    ))
    if keep is not None:
        selected = g.const(np.array(keep, dtype=np.int64), "model_columns")
        g.nodes.append(helper.make_node("Gather", [concat, selected], [output],
                                        name=g.name("model_features"), axis=1))


def _days_employed(g: _GraphBuilder, numeric: str, nan: str) -> tuple[str, str]:
    """(is the 365243 sentinel, DAYS_EMPLOYED with the sentinel as NaN) of that one column."""
    days_employed = _gather(g, numeric, [_NUM["DAYS_EMPLOYED"]], "days_employed_raw")
    is_sentinel = g.op("Equal", [days_employed, g.const(
        np.array(schema.DAYS_EMPLOYED_SENTINEL, dtype=np.float64), "sentinel")], "is_sentinel")
    return is_sentinel, g.op("Where", [is_sentinel, nan, days_employed], "days_employed")


def _numeric_columns(g: _GraphBuilder, numeric: str, days_employed: str,
                     axis1: str) -> list[str]:
    """The numeric columns with the cleaned DAYS_EMPLOYED in its place. The others are
    copied once, by the final Concat (cheaper than a Where over the whole matrix)."""
    k, n_numeric = _NUM["DAYS_EMPLOYED"], len(schema.NUMERIC_FIELDS)

    def columns(start: int, stop: int) -> str:
        bounds = [g.const(np.array([v], dtype=np.int64)) for v in (start, stop)]
        return g.op("Slice", [numeric, *bounds, axis1], f"numeric_{start}_{stop}")

    before = columns(0, k)
    return [before, days_employed, columns(k + 1, n_numeric)]


def _category_codes(g: _GraphBuilder, categorical: str) -> str:
    """Categorical codes [N, 16]: each string's index in its field's vocabulary, else NaN.

    One LabelEncoder over the whole string matrix maps each string to its id in the union of
    the vocabularies ("" and unknown strings -> a last "none" id), then a per-column lookup
    table turns (column, id) into the code in that column's vocabulary (NaN where the string
    is not in it: "XNA", "N", "Y" occur in several).
    """
    vocabularies = [schema.FIELDS_BY_NAME[f].categories for f in schema.CATEGORICAL_FIELDS]
    union = sorted({v for vocabulary in vocabularies for v in vocabulary})
    uid = {v: i for i, v in enumerate(union)}
    width = len(union) + 1  # + the "none" id
    table = np.full(len(vocabularies) * width, np.nan, dtype=np.float64)
    for j, vocabulary in enumerate(vocabularies):
        for code, v in enumerate(vocabulary):
            table[j * width + uid[v]] = code
    ids = g.op("LabelEncoder", [categorical], "category_id", domain="ai.onnx.ml",
               keys_strings=union, values_int64s=list(range(len(union))),
               default_int64=len(union))
    offsets = np.arange(len(vocabularies), dtype=np.int64)[None, :] * width
    flat = g.op("Add", [ids, g.const(offsets, "column_offsets")], "category_slot")
    return g.op("Gather", [g.const(table, "code_table"), flat], "codes", axis=0)


def _ratios(g: _GraphBuilder, numeric: str, days_employed: str, zero: str,
            nan: str) -> list[str]:
    """The ratio features, NaN unless the denominator is strictly on its valid side of 0."""

    def column(field: str) -> str:
        if field == "DAYS_EMPLOYED":
            return days_employed
        return _gather(g, numeric, [_NUM[field]], f"col_{field}")

    out = []
    for name, num_field, den_field, sign in _RATIOS:
        num, den = column(num_field), column(den_field)
        valid = g.op("Greater" if sign > 0 else "Less", [den, zero], f"valid_{name}")
        out.append(g.op("Where", [valid, g.op("Div", [num, den]), nan], name))
    return out


def _ext_source_summary(g: _GraphBuilder, numeric: str, zero: str, nan: str,
                        axis1: str) -> list[str]:
    """NaN-aware mean, min and max of the EXT_SOURCE scores (NaN if none), and their count."""
    ext = _gather(g, numeric, [_NUM[f] for f in _EXT_SOURCES], "ext")
    ext_missing = g.op("IsNaN", [ext], "ext_missing")
    present = g.op("Cast", [g.op("Not", [ext_missing])], "ext_present", to=TensorProto.DOUBLE)
    count = g.op("ReduceSum", [present, axis1], "ext_count", keepdims=1)
    any_present = g.op("Greater", [count, zero], "ext_any")

    def reduce(op: str, fill: float) -> str:
        filled = g.op("Where", [ext_missing, g.const(np.array(fill, dtype=np.float64)), ext])
        return g.op(op, [filled, axis1], keepdims=1)

    mean = g.op("Div", [reduce("ReduceSum", 0.0), count], "ext_mean_raw")
    summaries = (("mean", mean), ("min", reduce("ReduceMin", np.inf)),
                 ("max", reduce("ReduceMax", -np.inf)))
    out = [g.op("Where", [any_present, value, nan], f"ext_{op_name}")
           for op_name, value in summaries]
    return [*out, count]


def feature_inputs() -> list[onnx.ValueInfoProto]:
    """The graph inputs shared by the feature graph and the exported model."""
    return [
        helper.make_tensor_value_info(
            NUMERIC_INPUT, TensorProto.DOUBLE, ["N", len(schema.NUMERIC_FIELDS)]),
        helper.make_tensor_value_info(
            CATEGORICAL_INPUT, TensorProto.STRING, ["N", len(schema.CATEGORICAL_FIELDS)]),
    ]


def features_value_info(name: str = FEATURES_OUTPUT,
                        width: int = len(FEATURE_NAMES)) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.DOUBLE, ["N", width])


def make_model(graph: onnx.GraphProto) -> onnx.ModelProto:
    """Wrap a graph with this package's opsets and IR version, and check it."""
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET),
                       helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="credit-scoring-training",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def build_feature_model() -> onnx.ModelProto:
    """The feature graph alone: (numeric, categorical) -> features."""
    g = _GraphBuilder("fe/")
    add_feature_nodes(g)
    graph = helper.make_graph(
        g.nodes, "features", feature_inputs(), [features_value_info()], g.initializers
    )
    return make_model(graph)


def session_options() -> ort.SessionOptions:
    """onnxruntime options for the offline sessions (no busy-waiting worker threads: the
    graph is memory-bound, and spinning only steals CPU from LightGBM on a small box)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


@lru_cache(maxsize=1)
def _feature_session() -> ort.InferenceSession:
    return ort.InferenceSession(
        build_feature_model().SerializeToString(),
        sess_options=session_options(),
        providers=["CPUExecutionProvider"],
    )


def validate_inputs(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check shapes/dtypes of encode_columns output and return onnxruntime-ready arrays."""
    numeric = np.ascontiguousarray(inputs[NUMERIC_INPUT], dtype=np.float64)
    categorical = np.asarray(inputs[CATEGORICAL_INPUT], dtype=object)
    n_num, n_cat = len(schema.NUMERIC_FIELDS), len(schema.CATEGORICAL_FIELDS)
    if numeric.ndim != 2 or numeric.shape[1] != n_num:
        raise ValueError(f"numeric must be [N, {n_num}], got {numeric.shape}")
    if categorical.ndim != 2 or categorical.shape != (numeric.shape[0], n_cat):
        raise ValueError(f"categorical must be [{numeric.shape[0]}, {n_cat}], "
                         f"got {categorical.shape}")
    return {NUMERIC_INPUT: numeric, CATEGORICAL_INPUT: categorical}


def compute_features(inputs: dict[str, np.ndarray],
                     names: Sequence[str] | None = None) -> np.ndarray:
    """Run the feature graph on encode_columns output: float64 [N, F], the columns
    ``names`` (default: all of FEATURE_NAMES)."""
    feeds = validate_inputs(inputs)
    keep = _columns(names)
    if feeds[NUMERIC_INPUT].shape[0] == 0:
        width = len(FEATURE_NAMES) if keep is None else len(keep)
        return np.empty((0, width), dtype=np.float64)
    features: np.ndarray = _feature_session().run([FEATURES_OUTPUT], feeds)[0]
    return features if keep is None else np.ascontiguousarray(features[:, keep])


def frame_features(df: object, names: Sequence[str] | None = None) -> np.ndarray:
    """compute_features(schema.encode_columns(df), names) for a DataFrame with the schema
    columns."""
    return compute_features(schema.encode_columns(df), names)
