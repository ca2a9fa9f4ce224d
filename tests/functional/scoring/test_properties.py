"""Hypothesis properties of the request schema, through the Lambda handler (Mangum, API Gateway
HTTP API v2 events).

Strategies are generated from contract.schema (kinds, bounds, vocabularies, nullability), never
re-declared here:

* every valid application scores (integer fields written as ``2`` or ``2.0``): 200,
  probability in [0, 1], the decision is "decline" iff probability >= the card's threshold,
  client_id echoed (an int), at most ``reasons`` reasons;
* a valid batch scores in order, each prediction equal to the single-application answer;
* any single invalid field (wrong type: string, bool, list, object, number for a category;
  out of range; a non-integral number for an integer field; NaN, Infinity, overflow 1e400;
  an unknown category; null in a non-nullable field; a required field omitted) in an
  otherwise valid application gets a 4xx JSON error whose ``fields`` is exactly that field,
  alone and at its position in a batch.

Reproducible: derandomize=True, no example database.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contract import schema
from infra.lambda_events import FakeLambdaContext, http_api_event, response_json
from scoring.config import MAX_REASONS
from scoring.request import BatchResponse, ErrorResponse, Prediction

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PLACEHOLDER = "@@INVALID@@"
OMIT = object()  # "leave the field out of the body"


# ------------------------------------------------------------------------------ strategies
def _valid_value(field: schema.Field) -> st.SearchStrategy[Any]:
    if field.kind == "category":
        return st.sampled_from(field.categories)
    low = None if field.minimum is None else math.ceil(field.minimum)
    high = None if field.maximum is None else math.floor(field.maximum)
    integers = st.integers(min_value=low, max_value=high)
    if field.kind == "integer":  # an integral float (2.0) is an integer too (JSON Schema)
        return st.one_of(integers, integers.map(float))
    floats = st.floats(min_value=field.minimum, max_value=field.maximum, allow_nan=False,
                       allow_infinity=False)
    return st.one_of(floats, integers)  # a JSON integer is a valid number too


@st.composite
def applications(draw: st.DrawFn) -> dict[str, Any]:
    """A valid application; nullable fields are sometimes null, sometimes omitted."""
    app: dict[str, Any] = {}
    for field in schema.FIELDS:
        value = _valid_value(field)
        if field.nullable:
            value = st.one_of(st.none(), st.just(OMIT), value)
        drawn = draw(value)
        if drawn is not OMIT:
            app[field.name] = drawn
    return app


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


def _invalid_tokens(field: schema.Field) -> st.SearchStrategy[tuple[str, str | object]]:
    """(what, raw JSON token or OMIT): values that make ``field`` alone invalid."""
    options: list[st.SearchStrategy[tuple[str, str | object]]] = [
        st.sampled_from([("bool", "true"), ("bool", "false")]),
        st.tuples(st.just("list"), st.sampled_from(["[]", "[1]", '["x"]', "[null]"])),
        st.tuples(st.just("object"), st.sampled_from(["{}", '{"value": 1}'])),
    ]
    if not field.nullable:
        options.append(st.sampled_from([("null", "null"), ("missing", OMIT)]))
    if field.kind == "category":
        options += [
            st.tuples(st.just("unknown category"),
                      st.text(max_size=30).filter(lambda s: s not in field.categories)
                      .map(_json)),
            st.tuples(st.just("case-changed category"),
                      st.sampled_from(field.categories).map(str.swapcase)
                      .filter(lambda s: s not in field.categories).map(_json)),
            st.tuples(st.just("number for a category"),
                      st.one_of(st.integers(), st.floats(allow_nan=False,
                                                         allow_infinity=False)).map(_json)),
        ]
        return st.one_of(options)
    options += [
        st.tuples(st.just("string"), st.text(max_size=20).map(_json)),
        st.tuples(st.just("numeric string"),
                  _valid_value(field).map(lambda v: _json(str(v)))),
        st.tuples(st.just("non-finite"),
                  st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])),
    ]
    if field.minimum is not None:
        below = (st.integers(max_value=math.ceil(field.minimum) - 1) if field.kind == "integer"
                 else st.floats(max_value=field.minimum, exclude_max=True, allow_nan=False,
                                allow_infinity=False))
        options.append(st.tuples(st.just("below minimum"), below.map(_json)))
    if field.maximum is not None:
        above = (st.integers(min_value=math.floor(field.maximum) + 1) if field.kind == "integer"
                 else st.floats(min_value=field.maximum, exclude_min=True, allow_nan=False,
                                allow_infinity=False))
        options.append(st.tuples(st.just("above maximum"), above.map(_json)))
    if field.kind == "integer":
        low = field.minimum if field.minimum is not None else -1e6
        high = field.maximum if field.maximum is not None else 1e6
        options.append(st.tuples(
            st.just("non-integral number"),
            st.floats(min_value=low, max_value=high, allow_nan=False)
            .filter(lambda x: not x.is_integer()).map(_json)))
    return st.one_of(options)


@st.composite
def invalid_applications(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], str | object]:
    """(field, what, the valid rest of the application, the invalid token or OMIT)."""
    field = draw(st.sampled_from(schema.FIELDS))
    what, token = draw(_invalid_tokens(field))
    app = draw(applications())
    app.pop(field.name, None)
    return field.name, what, app, token


def _with_token(app: dict[str, Any], name: str, token: str | object) -> str:
    if token is OMIT:
        return json.dumps(app)
    return json.dumps({**app, name: PLACEHOLDER}).replace(json.dumps(PLACEHOLDER), token)


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def threshold(card: dict[str, Any]) -> float:
    return float(card["threshold"])


def _post(handler, path: str, body: str, query: dict[str, str] | None = None
          ) -> tuple[int, Any]:
    response = handler(http_api_event("POST", path, body=body, query=query),
                       FakeLambdaContext())
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], response_json(response)


def _assert_scored(prediction: dict[str, Any], app: dict[str, Any], threshold: float,
                   k: int) -> None:
    Prediction.model_validate(prediction)
    p = prediction["probability_default"]
    assert 0.0 <= p <= 1.0
    assert prediction["decision"] == ("decline" if p >= threshold else "approve")
    assert prediction["threshold"] == threshold
    assert prediction["client_id"] == app["SK_ID_CURR"]
    assert isinstance(prediction["client_id"], int)
    assert len(prediction["reasons"]) <= k


def _assert_same_prediction(batch: dict[str, Any], single: dict[str, Any]) -> None:
    """Equal up to float rounding: onnxruntime may round the last bit of a probability (or
    a contribution) differently in a batch of N than for one row (seen: 1 ulp)."""
    close = {"rel": 1e-12, "abs": 1e-15}
    assert batch["probability_default"] == pytest.approx(single["probability_default"], **close)
    if abs(single["probability_default"] - single["threshold"]) > 1e-12:
        assert batch["decision"] == single["decision"]
    for key in ("client_id", "threshold", "model_version"):
        assert batch[key] == single[key]
    if batch["decision"] != single["decision"]:
        return  # a probability on the threshold: the reasons follow the decision
    assert [r["fields"] for r in batch["reasons"]] == [r["fields"] for r in single["reasons"]]
    for a, b in zip(batch["reasons"], single["reasons"], strict=True):
        assert a["contribution"] == pytest.approx(b["contribution"], **close)
        assert a["values"] == b["values"]


# ----------------------------------------------------------------------------- properties
@settings(SETTINGS, max_examples=250)
@given(app=applications(), k=st.integers(0, MAX_REASONS))
def test_every_valid_application_scores(handler, threshold, app, k):
    status, body = _post(handler, "/predict", json.dumps(app), {"reasons": str(k)})
    assert status == 200, body
    _assert_scored(body, app, threshold, k)


@settings(SETTINGS, max_examples=40)
@given(apps=st.lists(applications(), min_size=1, max_size=8))
def test_a_valid_batch_scores_in_order_like_single_calls(handler, threshold, apps):
    status, body = _post(handler, "/predict/batch", json.dumps({"applications": apps}),
                         {"reasons": "2"})
    assert status == 200, body
    BatchResponse.model_validate(body)
    assert len(body["predictions"]) == len(apps)
    for app, prediction in zip(apps, body["predictions"], strict=True):
        _assert_scored(prediction, app, threshold, 2)
        _, single = _post(handler, "/predict", json.dumps(app), {"reasons": "2"})
        _assert_same_prediction(prediction, single)


@settings(SETTINGS, max_examples=300)
@given(case=invalid_applications())
def test_a_single_invalid_field_is_a_4xx_naming_it(handler, case):
    name, what, app, token = case
    event(what)
    status, body = _post(handler, "/predict", _with_token(app, name, token))
    assert 400 <= status < 500, (what, body)
    ErrorResponse.model_validate(body)
    assert body["fields"] == [name], (what, token, body)


@settings(SETTINGS, max_examples=60)
@given(case=invalid_applications(), others=st.lists(applications(), min_size=1, max_size=3),
       position=st.integers(0, 3))
def test_a_single_invalid_field_in_a_batch_is_named_with_its_index(handler, case, others,
                                                                    position):
    name, what, app, token = case
    position = min(position, len(others))
    items = [json.dumps(a) for a in others]
    items.insert(position, _with_token(app, name, token))
    status, body = _post(handler, "/predict/batch",
                         '{"applications": [' + ", ".join(items) + "]}")
    assert 400 <= status < 500, (what, body)
    ErrorResponse.model_validate(body)
    assert body["fields"] == [f"applications[{position}].{name}"], (what, token, body)


def _fixed_invalid_tokens(field: schema.Field) -> list[tuple[str, str | object]]:
    """One value of every invalid kind that applies to ``field`` (deterministic)."""
    tokens: list[tuple[str, str | object]] = [("bool", "true"), ("list", "[1]"),
                                              ("object", "{}")]
    if not field.nullable:
        tokens += [("null", "null"), ("missing", OMIT)]
    if field.kind == "category":
        return [*tokens, ("unknown category", '"not a category"'),
                ("number for a category", "1")]
    tokens += [("string", '"abc"'), ("numeric string", '"1"'), ("NaN", "NaN"),
               ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400")]
    if field.minimum is not None:
        tokens.append(("below minimum", _json(field.minimum - 1)))
    if field.maximum is not None:
        tokens.append(("above maximum", _json(field.maximum + 1)))
    if field.kind == "integer":
        tokens.append(("non-integral number", _json((field.minimum or 0) + 0.5)))
    return tokens


def test_every_field_rejects_every_kind_of_invalid_value(handler, apps):
    """The exhaustive companion of the property: every field x every invalid kind."""
    base = apps[0]
    tried = 0
    for field in schema.FIELDS:
        app = {k: v for k, v in base.items() if k != field.name}
        for what, token in _fixed_invalid_tokens(field):
            status, body = _post(handler, "/predict", _with_token(app, field.name, token))
            assert 400 <= status < 500, (field.name, what, body)
            assert body["fields"] == [field.name], (field.name, what, body)
            tried += 1
    print(f"\n{tried} single-field invalid requests, all 4xx naming the field")
    assert tried > 8 * len(schema.FIELDS)
