"""contract.graph: the names and constants the exported ONNX graph (training) and the scoring
function agree on, checked against a real exported bundle."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from contract import graph, schema


def test_lightgbm_zero_threshold_is_the_float32_literal_widened():
    assert float(np.float32(1e-35)) == graph.ZERO_THRESHOLD
    assert graph.ZERO_THRESHOLD != 1e-35  # 1e-35 has no exact float32: the widened value
    assert graph.ZERO_THRESHOLD == 1.0000000180025095e-35


def test_missing_types_are_distinct_codes():
    assert sorted(graph.MISSING_TYPES.values()) == [0, 1, 2]


def test_the_exported_graph_has_the_contract_inputs_and_outputs(trained_bundle):
    session = ort.InferenceSession(str(trained_bundle / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    assert set(inputs) == {graph.NUMERIC_INPUT, graph.CATEGORICAL_INPUT}
    assert inputs[graph.NUMERIC_INPUT].type == "tensor(double)"
    assert inputs[graph.NUMERIC_INPUT].shape[1] == len(schema.NUMERIC_FIELDS)
    assert inputs[graph.CATEGORICAL_INPUT].type == "tensor(string)"
    assert inputs[graph.CATEGORICAL_INPUT].shape[1] == len(schema.CATEGORICAL_FIELDS)
    assert tuple(o.name for o in session.get_outputs()) == graph.OUTPUTS
    assert {o.type for o in session.get_outputs()} == {"tensor(double)"}


def test_the_shap_paths_carry_the_format_version(trained_bundle):
    with np.load(trained_bundle / "shap_paths.npz", allow_pickle=False) as npz:
        assert int(npz["format_version"]) == graph.SHAP_PATHS_FORMAT_VERSION
