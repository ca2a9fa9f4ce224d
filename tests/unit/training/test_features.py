"""training/features.py: the feature graph, checked by hand on constructed rows and on real data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto

from contract import schema
from training import features as fe
from training.features import FEATURE_NAMES, compute_features, frame_features

COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
SENTINEL = schema.DAYS_EMPLOYED_SENTINEL


def base_row() -> dict[str, Any]:
    """One valid application with round numbers (every field present)."""
    row: dict[str, Any] = {}
    for f in schema.FEATURE_FIELDS:
        if f.kind == "category":
            row[f.name] = f.categories[0]
        else:
            row[f.name] = 0 if f.minimum is None else max(f.minimum, min(0, f.maximum or 0))
    row.update({
        "AMT_INCOME_TOTAL": 200_000.0, "AMT_CREDIT": 600_000.0, "AMT_ANNUITY": 30_000.0,
        "AMT_GOODS_PRICE": 500_000.0, "CNT_FAM_MEMBERS": 4.0, "DAYS_BIRTH": -10_000,
        "DAYS_EMPLOYED": -2_500, "EXT_SOURCE_1": 0.2, "EXT_SOURCE_2": 0.5,
        "EXT_SOURCE_3": 0.8, "REGION_RATING_CLIENT": 2, "REGION_RATING_CLIENT_W_CITY": 2,
    })
    return row


def features_of(*overrides: dict[str, Any]) -> np.ndarray:
    """Feature matrix of base_row() with each override applied (one row per override)."""
    rows = [{**base_row(), **o} for o in overrides]
    return compute_features(schema.encode_records(rows))


def value(x: np.ndarray, name: str, row: int = 0) -> float:
    return float(x[row, COL[name]])


def test_feature_names_order() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == 104 + 16 + 11
    assert FEATURE_NAMES[:104] == schema.NUMERIC_FIELDS
    assert FEATURE_NAMES[104:120] == schema.CATEGORICAL_FIELDS
    assert FEATURE_NAMES[120:] == (
        "DAYS_EMPLOYED_ANOMALY", "CREDIT_ANNUITY_RATIO", "ANNUITY_INCOME_RATIO",
        "CREDIT_INCOME_RATIO", "CREDIT_GOODS_RATIO", "INCOME_PER_PERSON",
        "EMPLOYED_AGE_RATIO", "EXT_SOURCE_MEAN", "EXT_SOURCE_MIN", "EXT_SOURCE_MAX",
        "EXT_SOURCE_COUNT",
    )


def test_graph_inputs_and_outputs() -> None:
    model = fe.build_feature_model()
    onnx.checker.check_model(model, full_check=True)

    def io(values: Any) -> list[tuple[str, int, list[Any]]]:
        return [(v.name, v.type.tensor_type.elem_type,
                 [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
                for v in values]

    assert io(model.graph.input) == [
        ("numeric", TensorProto.DOUBLE, ["N", 104]),
        ("categorical", TensorProto.STRING, ["N", 16]),
    ]
    assert io(model.graph.output) == [("features", TensorProto.DOUBLE, ["N", 131])]
    x = features_of({}, {})
    assert x.shape == (2, 131) and x.dtype == np.float64


def test_numeric_fields_pass_through() -> None:
    x = features_of({"AMT_CREDIT": 123_456.5, "OWN_CAR_AGE": None, "EXT_SOURCE_2": 0.25})
    assert value(x, "AMT_CREDIT") == 123_456.5
    assert math.isnan(value(x, "OWN_CAR_AGE"))
    assert value(x, "EXT_SOURCE_2") == 0.25
    assert value(x, "DAYS_BIRTH") == -10_000
    assert value(x, "REGION_RATING_CLIENT") == 2


def test_days_employed_sentinel_becomes_missing_with_a_flag() -> None:
    x = features_of({"DAYS_EMPLOYED": SENTINEL}, {"DAYS_EMPLOYED": -2_500},
                    {"DAYS_EMPLOYED": 0})
    assert math.isnan(value(x, "DAYS_EMPLOYED", 0))
    assert value(x, "DAYS_EMPLOYED_ANOMALY", 0) == 1.0
    assert math.isnan(value(x, "EMPLOYED_AGE_RATIO", 0))  # cleaned value is used
    assert value(x, "DAYS_EMPLOYED", 1) == -2_500
    assert value(x, "DAYS_EMPLOYED_ANOMALY", 1) == 0.0
    assert value(x, "EMPLOYED_AGE_RATIO", 1) == 0.25
    assert value(x, "DAYS_EMPLOYED", 2) == 0.0
    assert value(x, "EMPLOYED_AGE_RATIO", 2) == 0.0


def test_ratios_by_hand() -> None:
    x = features_of({})
    assert value(x, "CREDIT_ANNUITY_RATIO") == 20.0
    assert value(x, "ANNUITY_INCOME_RATIO") == 0.15
    assert value(x, "CREDIT_INCOME_RATIO") == 3.0
    assert value(x, "CREDIT_GOODS_RATIO") == 1.2
    assert value(x, "INCOME_PER_PERSON") == 50_000.0
    assert value(x, "EMPLOYED_AGE_RATIO") == 0.25


@pytest.mark.parametrize(
    ("override", "nan_features"),
    [
        ({"AMT_ANNUITY": None}, {"CREDIT_ANNUITY_RATIO", "ANNUITY_INCOME_RATIO"}),
        ({"AMT_ANNUITY": 0.0}, {"CREDIT_ANNUITY_RATIO"}),
        ({"AMT_INCOME_TOTAL": 0.0}, {"ANNUITY_INCOME_RATIO", "CREDIT_INCOME_RATIO"}),
        ({"AMT_GOODS_PRICE": None}, {"CREDIT_GOODS_RATIO"}),
        ({"AMT_GOODS_PRICE": -5.0}, {"CREDIT_GOODS_RATIO"}),
        ({"CNT_FAM_MEMBERS": 0.0}, {"INCOME_PER_PERSON"}),
        ({"CNT_FAM_MEMBERS": None}, {"INCOME_PER_PERSON"}),
        ({"DAYS_BIRTH": 0}, {"EMPLOYED_AGE_RATIO"}),  # DAYS_BIRTH must be < 0
        ({"DAYS_BIRTH": 5}, {"EMPLOYED_AGE_RATIO"}),
    ],
)
def test_ratio_with_zero_negative_or_missing_denominator_is_nan(
    override: dict[str, Any], nan_features: set[str]
) -> None:
    x = features_of(override)
    assert np.isfinite(x[~np.isnan(x)]).all()  # never +-inf
    ratios = ("CREDIT_ANNUITY_RATIO", "ANNUITY_INCOME_RATIO", "CREDIT_INCOME_RATIO",
              "CREDIT_GOODS_RATIO", "INCOME_PER_PERSON", "EMPLOYED_AGE_RATIO")
    assert {r for r in ratios if math.isnan(value(x, r))} == nan_features


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ((0.2, 0.5, 0.8), (0.5, 0.2, 0.8, 3.0)),
        ((None, 0.5, 0.8), (0.65, 0.5, 0.8, 2.0)),
        ((0.2, None, 0.8), (0.5, 0.2, 0.8, 2.0)),
        ((0.9, 0.1, None), (0.5, 0.1, 0.9, 2.0)),
        ((None, None, 0.3), (0.3, 0.3, 0.3, 1.0)),
        ((0.0, None, None), (0.0, 0.0, 0.0, 1.0)),
        ((None, None, None), (math.nan, math.nan, math.nan, 0.0)),
    ],
)
def test_ext_source_aggregates(sources: tuple[float | None, ...],
                               expected: tuple[float, float, float, float]) -> None:
    x = features_of(dict(zip(("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"), sources,
                              strict=True)))
    got = [value(x, f"EXT_SOURCE_{s}") for s in ("MEAN", "MIN", "MAX", "COUNT")]
    np.testing.assert_allclose(got, expected, rtol=1e-15, equal_nan=True)


def test_categorical_codes_missing_and_unknown() -> None:
    x = features_of(
        {"NAME_INCOME_TYPE": "Working", "OCCUPATION_TYPE": "Laborers",
         "ORGANIZATION_TYPE": "XNA", "WEEKDAY_APPR_PROCESS_START": "SUNDAY"},
        {"OCCUPATION_TYPE": None, "NAME_TYPE_SUITE": ""},
        {"OCCUPATION_TYPE": "Astronaut", "CODE_GENDER": "m"},  # unknown (case matters)
    )
    cats = {name: schema.FIELDS_BY_NAME[name].categories for name in schema.CATEGORICAL_FIELDS}
    assert value(x, "NAME_INCOME_TYPE", 0) == cats["NAME_INCOME_TYPE"].index("Working") == 7
    assert value(x, "OCCUPATION_TYPE", 0) == cats["OCCUPATION_TYPE"].index("Laborers") == 8
    assert value(x, "ORGANIZATION_TYPE", 0) == len(cats["ORGANIZATION_TYPE"]) - 1
    assert value(x, "WEEKDAY_APPR_PROCESS_START", 0) == 6.0
    assert value(x, "CODE_GENDER", 0) == 0.0  # first category ("F") is code 0, not missing
    assert math.isnan(value(x, "OCCUPATION_TYPE", 1))
    assert math.isnan(value(x, "NAME_TYPE_SUITE", 1))
    assert math.isnan(value(x, "OCCUPATION_TYPE", 2))
    assert math.isnan(value(x, "CODE_GENDER", 2))


def test_every_category_gets_its_index() -> None:
    longest = max(len(schema.FIELDS_BY_NAME[c].categories) for c in schema.CATEGORICAL_FIELDS)
    rows = []
    for i in range(longest):
        row = base_row()
        for name in schema.CATEGORICAL_FIELDS:
            vocabulary = schema.FIELDS_BY_NAME[name].categories
            row[name] = vocabulary[i % len(vocabulary)]
        rows.append(row)
    x = compute_features(schema.encode_records(rows))
    for name in schema.CATEGORICAL_FIELDS:
        n = len(schema.FIELDS_BY_NAME[name].categories)
        np.testing.assert_array_equal(x[:, COL[name]], np.arange(longest) % n)


def test_input_validation_and_empty_batch() -> None:
    inputs = schema.encode_records([base_row()])
    with pytest.raises(ValueError, match="numeric"):
        compute_features({**inputs, "numeric": inputs["numeric"][:, :100]})
    with pytest.raises(ValueError, match="categorical"):
        compute_features({**inputs, "categorical": inputs["categorical"][:, :3]})
    empty = {"numeric": np.empty((0, 104)), "categorical": np.empty((0, 16), dtype=object)}
    assert compute_features(empty).shape == (0, 131)


@pytest.mark.real_data
def test_real_sample(real_data_dir: Path) -> None:
    df = pd.read_csv(real_data_dir / "application_train_sample.csv")
    x = frame_features(df)
    assert x.shape == (len(df), 131)
    assert not np.isinf(x).any()
    raw_days = df["DAYS_EMPLOYED"].to_numpy(dtype=float)
    sentinel = raw_days == SENTINEL
    assert sentinel.any()
    np.testing.assert_array_equal(x[:, COL["DAYS_EMPLOYED_ANOMALY"]], sentinel.astype(float))
    np.testing.assert_array_equal(
        x[:, COL["DAYS_EMPLOYED"]], np.where(sentinel, np.nan, raw_days))
    for name in schema.NUMERIC_FIELDS:
        if name != "DAYS_EMPLOYED":
            np.testing.assert_array_equal(x[:, COL[name]], df[name].to_numpy(dtype=float),
                                          err_msg=name)
    for name in schema.CATEGORICAL_FIELDS:
        vocabulary = schema.FIELDS_BY_NAME[name].categories
        expected = [vocabulary.index(v) if isinstance(v, str) else np.nan for v in df[name]]
        np.testing.assert_array_equal(x[:, COL[name]], expected, err_msg=name)
    ext = df[["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"]]
    np.testing.assert_array_equal(x[:, COL["EXT_SOURCE_COUNT"]], ext.notna().sum(axis=1))
    np.testing.assert_allclose(x[:, COL["EXT_SOURCE_MEAN"]], ext.mean(axis=1), rtol=1e-15)
    np.testing.assert_array_equal(x[:, COL["EXT_SOURCE_MIN"]], ext.min(axis=1))
    np.testing.assert_allclose(x[:, COL["CREDIT_INCOME_RATIO"]],
                               df["AMT_CREDIT"] / df["AMT_INCOME_TOTAL"], rtol=0)
    # the record path (serving) and the column path (training) give the same matrix
    records = df.head(50).astype(object).where(df.head(50).notna(), None).to_dict("records")
    np.testing.assert_array_equal(compute_features(schema.encode_records(records)), x[:50])
