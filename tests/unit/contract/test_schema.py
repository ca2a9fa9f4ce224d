"""contract.schema: the 121-field input schema (kinds, nullability, bounds, vocabularies) and
the encoder that turns applications into the graph's inputs for training and serving alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contract import schema
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT


def test_shape_of_the_schema():
    assert len(schema.FIELDS) == 121
    assert schema.FIELDS[0].name == schema.ID_FIELD == "SK_ID_CURR"
    assert len(schema.FEATURE_FIELDS) == 120
    assert (len(schema.NUMERIC_FIELDS), len(schema.CATEGORICAL_FIELDS)) == (104, 16)
    assert len({f.name for f in schema.FIELDS}) == 121
    assert set(schema.FIELDS_BY_NAME) == {f.name for f in schema.FIELDS}
    assert schema.TRAINING_COLUMNS[:2] == ("SK_ID_CURR", "TARGET")
    assert schema.TRAINING_COLUMNS[2:] == tuple(f.name for f in schema.FEATURE_FIELDS)


def test_every_field_is_well_formed():
    for field in schema.FIELDS:
        assert field.kind in ("integer", "number", "category"), field
        if field.kind == "category":
            assert field.categories and len(set(field.categories)) == len(field.categories)
            assert schema.MISSING_CATEGORY not in field.categories
            assert (field.minimum, field.maximum) == (None, None)
        else:
            assert not field.categories
            if field.minimum is not None and field.maximum is not None:
                assert field.minimum <= field.maximum, field


def test_facts_the_api_and_training_rely_on():
    by_name = schema.FIELDS_BY_NAME
    assert by_name["SK_ID_CURR"].nullable is False and by_name["SK_ID_CURR"].kind == "integer"
    assert by_name["NAME_CONTRACT_TYPE"].categories == ("Cash loans", "Revolving loans")
    assert (by_name["DAYS_BIRTH"].minimum, by_name["DAYS_BIRTH"].maximum) == (-36_500, 0)
    assert by_name["EXT_SOURCE_1"].nullable and (by_name["EXT_SOURCE_1"].minimum,
                                                 by_name["EXT_SOURCE_1"].maximum) == (0, 1)
    assert by_name["AMT_CREDIT"].maximum is None  # money has no upper bound
    # DAYS_EMPLOYED carries the "not employed" sentinel, so its bounds admit it.
    days_employed = by_name["DAYS_EMPLOYED"]
    assert days_employed.maximum is not None
    assert days_employed.maximum >= schema.DAYS_EMPLOYED_SENTINEL == 365243


def test_to_dict():
    gender = schema.FIELDS_BY_NAME["CODE_GENDER"].to_dict()
    assert gender == {"name": "CODE_GENDER", "type": "category", "nullable": False,
                      "categories": ["F", "M", "XNA"]}
    children = schema.FIELDS_BY_NAME["CNT_CHILDREN"].to_dict()
    assert children == {"name": "CNT_CHILDREN", "type": "integer", "nullable": False,
                        "minimum": 0, "maximum": 100}


def _application(**changes):
    app = {}
    for field in schema.FEATURE_FIELDS:
        if field.kind == "category":
            app[field.name] = field.categories[-1]
        else:
            app[field.name] = 1 if field.kind == "integer" else 0.5
    return {**app, **changes}


def test_encode_records_orders_columns_and_marks_missing_values():
    first = _application(AMT_CREDIT=512_000.0, NAME_TYPE_SUITE=None, EXT_SOURCE_1=None)
    second = _application(CODE_GENDER="F")
    del second["OWN_CAR_AGE"]  # an omitted nullable field is missing too
    encoded = schema.encode_records([first, second])
    numeric, categorical = encoded[NUMERIC_INPUT], encoded[CATEGORICAL_INPUT]
    assert set(encoded) == {NUMERIC_INPUT, CATEGORICAL_INPUT}
    assert numeric.shape == (2, 104) and numeric.dtype == np.float64
    assert categorical.shape == (2, 16) and categorical.dtype == object
    column = schema.NUMERIC_FIELDS.index
    assert numeric[0, column("AMT_CREDIT")] == 512_000.0
    assert math.isnan(numeric[0, column("EXT_SOURCE_1")])
    assert math.isnan(numeric[1, column("OWN_CAR_AGE")])
    category = schema.CATEGORICAL_FIELDS.index
    assert categorical[0, category("NAME_TYPE_SUITE")] == schema.MISSING_CATEGORY
    assert categorical[1, category("CODE_GENDER")] == "F"


def test_a_data_frame_encodes_exactly_as_the_same_records():
    """Training encodes pandas columns, serving dicts: the graph must see the same inputs."""
    pd = pytest.importorskip("pandas")
    records = [_application(), _application(AMT_ANNUITY=None, OCCUPATION_TYPE=None,
                                             CNT_CHILDREN=3)]
    frame = pd.DataFrame(records)
    from_frame, from_records = schema.encode_columns(frame), schema.encode_records(records)
    np.testing.assert_array_equal(from_frame[NUMERIC_INPUT], from_records[NUMERIC_INPUT])
    assert (from_frame[CATEGORICAL_INPUT] == from_records[CATEGORICAL_INPUT]).all()


def test_field_order_is_the_column_order_of_the_real_files(real_data_dir):
    header = (real_data_dir / "application_test_sample.csv").open().readline().strip()
    assert tuple(header.split(",")) == tuple(f.name for f in schema.FIELDS)
