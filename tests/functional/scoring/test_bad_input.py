"""Bad input through the Lambda handler: the rows of the bad-input table below that
test_handler.py does not already drive through the handler, one test per row.

Every case goes through ``scoring.handler.ScoringMangum`` (the production handler class) with
API Gateway HTTP API v2 events (REST v1 where the framing differs) and must get a clear 4xx
JSON answer (an ErrorResponse whose ``fields`` names the problem), never a crash or a 5xx.

Where each input of the bad-input table is covered
------------------------------------------------

``H`` = test_handler.py::test_bad_input_gets_a_clear_4xx[<case>-v2 and -v1] (through the
handler, both event versions); ``B`` = this file; ``A`` / ``R`` = test_api.py /
test_request.py (TestClient); ``F`` / ``P`` = test_fuzz.py / test_properties.py (generated
cases). All in tests/functional/scoring/.

=====================  ==========================================================================
table input            covered by
=====================  ==========================================================================
malformed JSON         H "malformed JSON"; B test_malformed_json_variants (trailing data, single
                       quotes, comments, a 30,000-deep nesting, a 5,000-digit integer, a lone
                       surrogate, a UTF-8 BOM); R test_malformed_bodies
empty body             H "empty body"; B test_empty_and_absent_bodies_on_batch
event without a body   H "event without a body" (/predict); B test_empty_and_absent_bodies_on_batch
JSON array / string    H "JSON array", "JSON string", "array of applications";
                       B test_non_object_bodies (null, a number, an array on /predict/batch)
body over the limit    H "body over the limit" (/predict, 64 KiB); B test_batch_body_over_the_limit
                       (5 MiB), test_body_over_the_limit_with_a_lying_content_length
duplicate keys         H "duplicate keys" (/predict); B test_duplicate_keys_in_a_batch_item
non-UTF-8 bytes        H "non-UTF-8 bytes" (/predict); B test_non_utf8_encodings (batch,
                       UTF-16, Latin-1)
base64-encoded body    H test_base64_encoded_body_is_decoded (v1 + v2, 200), "base64 flag on a
                       non-base64 body" (400); B test_base64_body_is_validated_after_decoding
NaN, Infinity, 1e400   H "NaN", "Infinity", "overflow 1e400"; B test_non_finite_numbers_in_a_batch
                       _item; R test_non_finite_numbers_are_rejected; P (every numeric field)
bool/string/list for   H "boolean for a number", "boolean for an integer", "string for a number",
a number               "numeric string for a number", "list for a number"; P (every field)
unknown category       H "unknown category"; R test_unseen_category_lists_allowed_values; P
missing required       H "missing required field"; B test_missing_required_field_in_a_batch_item; P
unknown extra field    H "unknown extra field"; B test_unknown_field_with_a_huge_name_is_clipped,
                       test_many_errors_are_capped
1,001 items            H "batch of 1,001"; A test_batch_of_1000_and_1001
applications not list  H "applications not a list"; B test_applications_shapes (null, empty,
                       numbers, missing, extra top-level key)
bad reasons value      H "bad reasons value", "reasons out of range" (/predict);
                       B test_bad_reasons_on_batch; A test_bad_reasons_query
wrong method           H "wrong method" (DELETE /predict); B test_wrong_method_on_every_route
unknown route          H "unknown route" (/predict/v2); B test_unknown_routes (trailing slash,
                       case, traversal, root)
=====================  ==========================================================================

Policy choices (documented and tested here or in H):

* An unseen category is a 422 naming the field and listing the allowed values (never a guess).
* A base64-encoded body (``isBase64Encoded: true``, as API Gateway sends bodies it treats as
  binary) is decoded by Mangum and then validated like any other body: valid JSON scores
  (H), malformed JSON / non-UTF-8 after decoding get the same 400s as a plain body (B), and
  a body flagged base64 that is not base64 is a 400 naming ``body`` (H).
* The body is parsed as JSON whatever the Content-Type says (clients behind API Gateway often
  omit or mislabel it): a form-encoded body is a 400 malformed-JSON error
  (B test_body_is_json_whatever_the_content_type).
* ``/predict/`` (trailing slash) is an unknown route (404), not a redirect.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.lambda_events import (
    FakeLambdaContext,
    http_api_event,
    response_json,
    rest_api_event,
)
from scoring.config import MAX_BATCH_SIZE, Settings
from scoring.request import MAX_ECHOED_KEY, MAX_LISTED_ERRORS, ErrorResponse

ROUTES = {"/predict": "POST", "/predict/batch": "POST", "/health": "GET", "/model": "GET"}


def _invoke(handler, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response["headers"], response_json(response)


def _assert_4xx(handler, event: dict[str, Any], status: int, fields: list[str],
                kind: str | None = None) -> dict[str, Any]:
    """A clear 4xx: the status, JSON, an ErrorResponse naming exactly ``fields``."""
    got, headers, body = _invoke(handler, event)
    assert got == status, body
    assert headers["content-type"] == "application/json"
    ErrorResponse.model_validate(body)
    assert body["fields"] == fields, body
    if kind is not None:
        assert body["detail"][0]["type"] == kind, body
    return body


def _raw(app: dict[str, Any], field: str, token: str) -> str:
    return json.dumps({**app, field: "@@"}).replace('"@@"', token)


def _batch(*items: str) -> str:
    return '{"applications": [' + ", ".join(items) + "]}"


# ------------------------------------------------------------------------ body and framing
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("trailing data", lambda a: json.dumps(a) + " {}"),
        ("single quotes", lambda a: json.dumps(a).replace('"', "'")),
        ("comment", lambda a: "// application\n" + json.dumps(a)),
        ("30,000-deep nesting", lambda a: "[" * 30_000),
        ("5,000-digit integer", lambda a: _raw(a, "AMT_CREDIT", "1" + "0" * 4_999)),
        ("lone surrogate", lambda a: _raw(a, "CODE_GENDER", '"\\ud800"')),
        ("UTF-8 byte order mark", lambda a: "\ufeff" + json.dumps(a)),
        ("truncated", lambda a: json.dumps(a)[:-40]),
    ],
)
def test_malformed_json_variants(handler, apps, name, body):
    _assert_4xx(handler, http_api_event("POST", "/predict", body=body(apps[0])), 400, ["body"],
                "json_invalid")


@pytest.mark.parametrize("make", [http_api_event, rest_api_event])
@pytest.mark.parametrize("body", [None, "", "  \n"])
def test_empty_and_absent_bodies_on_batch(handler, make, body):
    _assert_4xx(handler, make("POST", "/predict/batch", body=body), 400, ["body"], "empty_body")


@pytest.mark.parametrize(
    ("path", "body"),
    [("/predict", "null"), ("/predict", "42"), ("/predict", "true"),
     ("/predict/batch", "null"), ("/predict/batch", '"applications"'),
     ("/predict/batch", "[]")],
)
def test_non_object_bodies(handler, apps, path, body):
    _assert_4xx(handler, http_api_event("POST", path, body=body), 422, ["body"], "model_type")
    if path == "/predict/batch":  # an array of applications instead of {"applications": [...]}
        _assert_4xx(handler, http_api_event("POST", path, body=json.dumps(apps)), 422, ["body"])


def test_batch_body_over_the_limit(handler, apps):
    """/predict/batch allows 5 MiB (MAX_BATCH_BODY_BYTES); one byte more is a 413."""
    limit = Settings().max_batch_body_bytes
    body = _batch(json.dumps(apps[0]))
    body = body[:-2] + " " * (limit + 1 - len(body)) + "]}"
    assert len(body.encode()) == limit + 1
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=body), 413, ["body"],
                "body_too_large")


def test_body_over_the_limit_with_a_lying_content_length(handler, apps):
    """The limit counts the bytes received, not the Content-Length the client declares."""
    body = json.dumps(apps[0])[:-1] + " " * 70_000 + "}"
    event = http_api_event("POST", "/predict", body=body, headers={"content-length": "10"})
    _assert_4xx(handler, event, 413, ["body"], "body_too_large")


def test_duplicate_keys_in_a_batch_item(handler, apps):
    first, second = json.dumps(apps[0]), json.dumps(apps[1])
    dup = second[:-1] + ', "AMT_ANNUITY": 1000.0}'
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=_batch(first, dup)), 400,
                ["AMT_ANNUITY"], "duplicate_key")
    top = '{"applications": [' + first + '], "applications": [' + second + "]}"
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=top), 400,
                ["applications"], "duplicate_key")


@pytest.mark.parametrize(
    ("path", "encode"),
    [
        ("/predict/batch", lambda text: text.encode().replace(b'"Cash loans"', b'"Cash\xff"')),
        ("/predict", lambda text: text.encode("utf-16")),
        ("/predict", lambda text: text.replace("Cash loans", "Cash lo\u00e4ns").encode("latin-1")),
    ],
    ids=["batch-invalid-byte", "utf-16", "latin-1"],
)
def test_non_utf8_encodings(handler, apps, path, encode):
    text = json.dumps(apps[0] if path == "/predict" else {"applications": apps})
    event = http_api_event("POST", path, body=encode(text))  # bytes: sent base64-encoded
    assert event["isBase64Encoded"] is True
    _assert_4xx(handler, event, 400, ["body"], "invalid_utf8")


@pytest.mark.parametrize("make", [http_api_event, rest_api_event])
def test_base64_body_is_validated_after_decoding(handler, apps, make):
    """Policy: a base64-encoded body is decoded, then validated like any other body."""
    malformed = make("POST", "/predict", body='{"SK_ID_CURR": 1,', base64_encode=True)
    _assert_4xx(handler, malformed, 400, ["body"], "json_invalid")
    invalid = make("POST", "/predict", body={**apps[0], "CODE_GENDER": "X"}, base64_encode=True)
    _assert_4xx(handler, invalid, 422, ["CODE_GENDER"], "unknown_category")
    batch = make("POST", "/predict/batch", body={"applications": apps}, base64_encode=True)
    status, _, body = _invoke(handler, batch)
    assert status == 200 and len(body["predictions"]) == len(apps)


def test_body_is_json_whatever_the_content_type(handler, apps):
    """Policy: the Content-Type is not trusted either way; the body must be a JSON object."""
    for content_type in ("text/plain", "application/octet-stream"):
        event = http_api_event("POST", "/predict", body=json.dumps(apps[0]),
                               headers={"content-type": content_type})
        assert _invoke(handler, event)[0] == 200
    form = http_api_event("POST", "/predict", body="SK_ID_CURR=1&CODE_GENDER=F",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    _assert_4xx(handler, form, 400, ["body"], "json_invalid")


# --------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("token", ["NaN", "-Infinity", "1e400"])
def test_non_finite_numbers_in_a_batch_item(handler, apps, token):
    bad = _raw(apps[1], "EXT_SOURCE_2", token)
    body = _batch(json.dumps(apps[0]), bad, json.dumps(apps[2]))
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=body), 422,
                ["applications[1].EXT_SOURCE_2"])


# ------------------------------------------------------------------------ fields and values
def test_missing_required_field_in_a_batch_item(handler, apps):
    missing = {k: v for k, v in apps[2].items() if k != "DAYS_BIRTH"}
    body = json.dumps({"applications": [apps[0], apps[1], missing]})
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=body), 422,
                ["applications[2].DAYS_BIRTH"], "missing")


def test_unknown_field_with_a_huge_name_is_clipped(handler, apps):
    """An unknown key is named, clipped to MAX_ECHOED_KEY characters: a huge key (60 kB in a
    /predict body, 1 MB in a batch) must not be echoed, several times, into the response and
    the log line."""
    for path, name, body in [
        ("/predict", "UNKNOWN_" + "K" * 60_000, lambda name: {**apps[0], name: 1}),
        ("/predict/batch", "UNKNOWN_" + "K" * 1_000_000,
         lambda name: {"applications": [{**apps[0], name: 1}]}),
    ]:
        event = http_api_event("POST", path, body=body(name))
        response = handler(event, FakeLambdaContext())
        assert response["statusCode"] == 422
        assert len(response["body"]) < 2_000
        (field,) = response_json(response)["fields"]
        assert field.endswith(name[:MAX_ECHOED_KEY] + "...")


def test_many_errors_are_capped(handler, apps):
    """Every field wrong in every item of a full batch: 50 errors listed, then a count."""
    wrong = {name: "x" for name in apps[0]}
    body = json.dumps({"applications": [wrong] * MAX_BATCH_SIZE})
    response = handler(http_api_event("POST", "/predict/batch", body=body), FakeLambdaContext())
    assert response["statusCode"] == 422
    detail = response_json(response)["detail"]
    assert len(detail) == MAX_LISTED_ERRORS + 1
    assert detail[-1]["type"] == "too_many_errors"
    assert len(response["body"]) < 20_000


# ----------------------------------------------------------------------------------- batch
@pytest.mark.parametrize(
    ("body", "fields", "kind"),
    [
        ('{"applications": null}', ["applications"], "list_type"),
        ('{"applications": []}', ["applications"], "too_short"),
        ('{"applications": [1, "x"]}', ["applications[0]", "applications[1]"], "model_type"),
        ("{}", ["applications"], "missing"),
        ('{"applications": {}}', ["applications"], "list_type"),
    ],
)
def test_applications_shapes(handler, body, fields, kind):
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=body), 422, fields, kind)


def test_batch_with_an_extra_top_level_key(handler, apps):
    body = json.dumps({"applications": apps[:1], "reasons": 3})
    _assert_4xx(handler, http_api_event("POST", "/predict/batch", body=body), 422, ["reasons"],
                "extra_forbidden")


# -------------------------------------------------------------------------- query, routes
@pytest.mark.parametrize("value", ["11", "-1", "x", "1e1", "3.0", " 3", "9" * 5_000])
def test_bad_reasons_on_batch(handler, apps, value):
    event = http_api_event("POST", "/predict/batch", body={"applications": apps[:1]},
                           query={"reasons": value})
    _assert_4xx(handler, event, 422, ["reasons"])


@pytest.mark.parametrize("make", [http_api_event, rest_api_event])
@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for path in ROUTES
     for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
     if method != ROUTES[path]],
)
def test_wrong_method_on_every_route(handler, make, method, path):
    event = make(method, path)
    _assert_4xx(handler, event, 405, ["method"])
    assert handler(event, FakeLambdaContext())["headers"]["allow"] == ROUTES[path]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/predict/"), ("GET", "/health/"), ("POST", "/PREDICT"), ("GET", "/"),
     ("GET", "/predict/../model"), ("POST", "/predict/batch/1"), ("GET", "/.env")],
)
def test_unknown_routes(handler, apps, method, path):
    event = http_api_event(method, path, body=apps[0] if method == "POST" else None)
    _assert_4xx(handler, event, 404, ["path"], "not_found")
