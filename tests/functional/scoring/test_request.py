"""Request validation (scoring/request.py) through the API: every field's type, bounds and
vocabulary, unknown and missing fields, non-finite numbers, malformed and duplicate-key
bodies, batch item errors; and the fast encoder against the schema's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contract import schema
from infra.lambda_events import to_application
from scoring.request import Application, ErrorResponse, encode, parse_application


def _field_errors(response) -> list[str]:
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    ErrorResponse.model_validate(body)
    return body["fields"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("AMT_CREDIT", "abc"),
        ("AMT_CREDIT", True),
        ("AMT_CREDIT", [1.0]),
        ("AMT_CREDIT", {"x": 1}),
        ("AMT_CREDIT", -1.0),
        ("AMT_CREDIT", None),  # required
        ("CNT_CHILDREN", 1.5),
        ("CNT_CHILDREN", 2.5),  # integer fields take integral numbers only
        ("CNT_CHILDREN", 101.0),
        ("CNT_CHILDREN", "2"),
        ("CNT_CHILDREN", False),
        ("CNT_CHILDREN", 101),
        ("DAYS_BIRTH", 5),  # days count backwards: never in the future
        ("EXT_SOURCE_1", 1.5),
        ("SK_ID_CURR", -1),
        ("SK_ID_CURR", 2**60),
        ("SK_ID_CURR", "100002"),
        ("CODE_GENDER", "Q"),
        ("CODE_GENDER", 1),
        ("NAME_TYPE_SUITE", "Cousin"),
        ("ORGANIZATION_TYPE", "business entity type 3"),  # case matters
    ],
)
def test_invalid_field_is_named(client, apps, field, value):
    response = client.post("/predict", json={**apps[0], field: value})
    assert response.status_code == 422
    assert _field_errors(response) == [field]


def test_unseen_category_lists_allowed_values(client, apps):
    response = client.post("/predict", json={**apps[0], "NAME_CONTRACT_TYPE": "Mortgage"})
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["field"] == "NAME_CONTRACT_TYPE"
    assert item["type"] == "unknown_category"
    assert item["allowed"] == ["Cash loans", "Revolving loans"]
    assert "Revolving loans" in item["msg"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("field", ["AMT_CREDIT", "AMT_ANNUITY", "CNT_CHILDREN", "SK_ID_CURR"])
def test_non_finite_numbers_are_rejected(client, apps, token, field):
    body = json.dumps({**apps[0], field: "@@"}).replace('"@@"', token)
    response = client.post("/predict", content=body)
    assert response.status_code == 422
    assert _field_errors(response) == [field]


def test_huge_integer_literal_is_rejected(client, apps):
    body = json.dumps({**apps[0], "AMT_CREDIT": "@@"}).replace('"@@"', "1" + "0" * 500)
    assert _field_errors(client.post("/predict", content=body)) == ["AMT_CREDIT"]


def test_missing_required_and_unknown_fields(client, apps):
    app = {k: v for k, v in apps[0].items() if k != "AMT_INCOME_TOTAL"}
    assert _field_errors(client.post("/predict", json=app)) == ["AMT_INCOME_TOTAL"]
    assert _field_errors(client.post("/predict", json={**apps[0], "TARGET": 1})) == ["TARGET"]


def test_several_errors_are_all_named(client, apps):
    app = {**apps[0], "CODE_GENDER": "?", "AMT_CREDIT": "x", "EXTRA": 1}
    del app["DAYS_BIRTH"]
    fields = _field_errors(client.post("/predict", json=app))
    assert set(fields) == {"CODE_GENDER", "AMT_CREDIT", "EXTRA", "DAYS_BIRTH"}


def test_batch_errors_name_the_item_and_field(client, apps):
    batch = [apps[0], {**apps[1], "AMT_CREDIT": "x"}]
    fields = _field_errors(client.post("/predict/batch", json={"applications": batch}))
    assert fields == ["applications[1].AMT_CREDIT"]
    for bad in ({"applications": apps[0]}, {"applications": "x"}, {"applications": []}, {},
                {"applications": [apps[0]], "extra": 1}):
        assert _field_errors(client.post("/predict/batch", json=bad))


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"", 400, "empty_body"),
        (b"   ", 400, "empty_body"),
        (b"{", 400, "json_invalid"),
        (b"{'a': 1}", 400, "json_invalid"),
        (b"\xff\xfe{}", 400, "invalid_utf8"),
        (b"[]", 422, "model_type"),
        (b"[1, 2]", 422, "model_type"),
        (b'"a string"', 422, "model_type"),
        (b"42", 422, "model_type"),
        (b"null", 422, "model_type"),
        (b"[" * 100_000, 413, "body_too_large"),
        (b"[" * 30_000, 400, "json_invalid"),
    ],
)
def test_malformed_bodies(client, body, status, kind):
    response = client.post("/predict", content=body)
    assert response.status_code == status
    assert response.json()["detail"][0]["type"] == kind
    assert response.json()["fields"] == ["body"]


def test_duplicate_keys_are_rejected(client, apps):
    text = json.dumps(apps[0])
    body = text[:-1] + ', "AMT_CREDIT": 1.0}'
    response = client.post("/predict", content=body)
    assert response.status_code == 400
    assert response.json()["fields"] == ["AMT_CREDIT"]
    assert response.json()["detail"][0]["type"] == "duplicate_key"
    batch = json.dumps({"applications": [apps[0], apps[1]]})
    dup = batch.replace('"CODE_GENDER"', '"CODE_GENDER": "F", "CODE_GENDER"', 1)
    assert client.post("/predict/batch", content=dup).json()["fields"] == ["CODE_GENDER"]


def test_duplicate_check_survives_spacing_colons_and_escapes(client, apps):
    """The fast duplicate check (colon counting) must never miss a duplicate, whatever the
    whitespace, colons inside strings or escapes; valid bodies still score."""
    spaced = json.dumps(apps[0], separators=(" , ", " : "), indent=2)
    assert client.post("/predict", content=spaced).status_code == 200
    dup_spaced = spaced[:-1] + ' , "AMT_CREDIT"\n:\t1.0}'
    assert client.post("/predict", content=dup_spaced).status_code == 400
    industry = {**apps[0], "ORGANIZATION_TYPE": "Industry: type 1"}
    assert client.post("/predict", json=industry).status_code == 200
    text = json.dumps(industry)
    assert client.post("/predict", content=text[:-1] + ', "AMT_CREDIT": 1.0}').status_code == 400
    escaped = text.replace('"Industry: type 1"', '"Industry\\u003a type 1"')
    assert escaped != text
    response = client.post("/predict", content=escaped)
    assert response.status_code == 200, response.text
    assert response.json() == client.post("/predict", json=industry).json()
    # An escaped colon plus a duplicate key: the counts could balance, the check must not.
    dup_escaped = escaped[:-1] + ', "AMT_CREDIT": 1.0}'
    assert client.post("/predict", content=dup_escaped).status_code == 400
    dup_key_escaped = text[:-1] + ', "\\u0041MT_CREDIT": 1.0}'
    response = client.post("/predict", content=dup_key_escaped)
    assert response.status_code == 400
    assert response.json()["fields"] == ["AMT_CREDIT"]
    tricky = json.dumps({**apps[0], "CODE_GENDER": 'F\\":'})
    response = client.post("/predict", content=tricky)
    assert response.status_code == 422
    assert response.json()["fields"] == ["CODE_GENDER"]


# -------------------------------------------------------------------------- encoding parity
def test_fast_encoder_equals_the_schema_encoder(real_data_dir):
    import pandas as pd

    frame = pd.read_csv(real_data_dir / "application_test_sample.csv")
    apps = [to_application(row) for row in frame.head(500).to_dict("records")]
    validated = [parse_application(json.dumps(a).encode()) for a in apps]
    ours, reference = encode(validated), schema.encode_records(validated)
    np.testing.assert_array_equal(ours["numeric"], reference["numeric"])
    assert ours["numeric"].dtype == np.float64
    assert (ours["categorical"] == reference["categorical"]).all()
    # Validation keeps every field and does not change values.
    assert all(v == Application.model_validate(a).__dict__ for v, a in
               zip(validated, apps, strict=True))


def test_integral_floats_are_integers(client, apps) -> None:
    app = apps[0]
    every_float = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                   for k, v in app.items()}
    assert any(isinstance(v, float) and v.is_integer() for v in every_float.values())
    as_floats = client.post("/predict", json=every_float)
    assert as_floats.status_code == 200, as_floats.text
    assert as_floats.json() == client.post("/predict", json=app).json()
    assert isinstance(as_floats.json()["client_id"], int)
    for bad in (2.5, "2", True, 101.0, -1.0):
        response = client.post("/predict", json={**app, "CNT_CHILDREN": bad})
        assert response.status_code == 422 and response.json()["fields"] == ["CNT_CHILDREN"]
    text = json.dumps(app).replace(f'"CNT_CHILDREN": {app["CNT_CHILDREN"]}',
                                   '"CNT_CHILDREN": NaN')
    assert client.post("/predict", content=text).json()["fields"] == ["CNT_CHILDREN"]
