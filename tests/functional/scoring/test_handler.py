"""The Lambda entry point ``scoring.handler.handler`` (Mangum) driven with API Gateway HTTP
API (v2) and REST (v1) proxy events shaped as ``sam local generate-event`` makes them,
including the bad-input table: every case is a clear 4xx JSON answer."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from infra.lambda_events import (
    FakeLambdaContext,
    http_api_event,
    response_json,
    rest_api_event,
)
from scoring.config import MAX_BATCH_SIZE
from scoring.request import BatchResponse, ErrorResponse, Health, Prediction

EVENTS = {"v2": http_api_event, "v1": rest_api_event}


def invoke(lambda_entry, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    response = lambda_entry.handler(event, FakeLambdaContext())
    assert isinstance(response["statusCode"], int)
    return response, response_json(response)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_predict_through_the_handler(lambda_entry, apps, version):
    event = EVENTS[version]("POST", "/predict", body=apps[0])
    response, body = invoke(lambda_entry, event)
    assert response["statusCode"] == 200, body
    assert response["headers"]["content-type"] == "application/json"
    Prediction.model_validate(body)
    assert body["client_id"] == apps[0]["SK_ID_CURR"]
    assert len(body["reasons"]) <= 4
    _, with_k = invoke(lambda_entry, EVENTS[version]("POST", "/predict", body=apps[0],
                                                   query={"reasons": "7"}))
    assert 4 < len(with_k["reasons"]) <= 7
    assert with_k["probability_default"] == body["probability_default"]


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_batch_health_and_model_through_the_handler(lambda_entry, apps, version):
    make = EVENTS[version]
    response, body = invoke(lambda_entry, make("POST", "/predict/batch",
                                             body={"applications": apps}))
    assert response["statusCode"] == 200
    BatchResponse.model_validate(body)
    assert [p["client_id"] for p in body["predictions"]] == [a["SK_ID_CURR"] for a in apps]
    response, body = invoke(lambda_entry, make("GET", "/health"))
    assert response["statusCode"] == 200
    Health.model_validate(body)
    assert body["status"] == "ok"
    response, body = invoke(lambda_entry, make("GET", "/model"))
    assert response["statusCode"] == 200
    assert "threshold" in body and "schema" in body


def test_base64_encoded_body_is_decoded(lambda_entry, apps):
    """API Gateway base64-encodes bodies it sees as binary (isBase64Encoded=true): they are
    decoded and validated like any other body (documented policy, not an error)."""
    for make in EVENTS.values():
        event = make("POST", "/predict", body=apps[0], base64_encode=True)
        assert event["isBase64Encoded"] is True
        response, body = invoke(lambda_entry, event)
        assert response["statusCode"] == 200
        assert body["client_id"] == apps[0]["SK_ID_CURR"]


def test_request_id_comes_from_api_gateway_and_lambda(lambda_entry, apps, log_lines):
    context = FakeLambdaContext(aws_request_id="lambda-req-1")
    event = http_api_event("POST", "/predict", body=apps[0], request_id="apigw-req-1")
    response = lambda_entry.handler(event, context)
    assert response["headers"]["x-request-id"] == "apigw-req-1"
    (line,) = [x for x in log_lines() if x["event"] == "request"]
    assert line["request_id"] == "apigw-req-1"
    assert line["lambda_request_id"] == "lambda-req-1"
    assert line["route"] == "/predict"
    assert line["status"] == 200
    assert line["decision"] in ("approve", "decline")
    assert line["latency_ms"] > 0
    assert line["model_version"]


# ------------------------------------------------------------------------ bad-input table
def _valid(apps: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(apps[0])


def _with(apps, **changes: Any) -> str:
    return json.dumps({**_valid(apps), **changes})


def _raw(apps, field: str, token: str) -> str:
    return json.dumps({**_valid(apps), field: "@@"}).replace('"@@"', token)


BAD_INPUTS: dict[str, tuple[str, str, Any, dict[str, Any], int, str]] = {
    # name: (method, path, body builder(apps) -> body, event options, status, named field)
    "malformed JSON": ("POST", "/predict", lambda a: '{"SK_ID_CURR": 1,', {}, 400, "body"),
    "empty body": ("POST", "/predict", lambda a: "", {}, 400, "body"),
    "event without a body": ("POST", "/predict", lambda a: None, {}, 400, "body"),
    "JSON array": ("POST", "/predict", lambda a: "[1, 2, 3]", {}, 422, "body"),
    "JSON string": ("POST", "/predict", lambda a: '"hello"', {}, 422, "body"),
    "array of applications": ("POST", "/predict", lambda a: json.dumps(a[:2]), {}, 422,
                              "body"),
    "body over the limit": ("POST", "/predict", lambda a: " " * 70_000 + "{}", {}, 413,
                            "body"),
    "duplicate keys": ("POST", "/predict",
                       lambda a: _with(a)[:-1] + ', "DAYS_BIRTH": -12000}', {}, 400,
                       "DAYS_BIRTH"),
    "non-UTF-8 bytes": ("POST", "/predict", lambda a: _with(a).encode().replace(
        b'"Cash loans"', b'"Cash \xe9 loans"'), {}, 400, "body"),
    "base64 flag on a non-base64 body": ("POST", "/predict", lambda a: _with(a),
                                         {"force_base64_flag": True}, 400, "body"),
    "NaN": ("POST", "/predict", lambda a: _raw(a, "AMT_CREDIT", "NaN"), {}, 422,
            "AMT_CREDIT"),
    "Infinity": ("POST", "/predict", lambda a: _raw(a, "AMT_ANNUITY", "Infinity"), {}, 422,
                 "AMT_ANNUITY"),
    "overflow 1e400": ("POST", "/predict", lambda a: _raw(a, "AMT_INCOME_TOTAL", "1e400"), {},
                       422, "AMT_INCOME_TOTAL"),
    "boolean for a number": ("POST", "/predict", lambda a: _with(a, AMT_CREDIT=True), {}, 422,
                             "AMT_CREDIT"),
    "boolean for an integer": ("POST", "/predict", lambda a: _with(a, FLAG_MOBIL=True), {},
                               422, "FLAG_MOBIL"),
    "string for a number": ("POST", "/predict", lambda a: _with(a, AMT_CREDIT="abc"), {}, 422,
                            "AMT_CREDIT"),
    "numeric string for a number": ("POST", "/predict",
                                    lambda a: _with(a, AMT_CREDIT="1000.0"), {}, 422,
                                    "AMT_CREDIT"),
    "list for a number": ("POST", "/predict", lambda a: _with(a, DAYS_BIRTH=[-12000]), {},
                          422, "DAYS_BIRTH"),
    "unknown category": ("POST", "/predict", lambda a: _with(a, CODE_GENDER="X"), {}, 422,
                         "CODE_GENDER"),
    "missing required field": ("POST", "/predict", lambda a: json.dumps(
        {k: v for k, v in a[0].items() if k != "NAME_CONTRACT_TYPE"}), {}, 422,
        "NAME_CONTRACT_TYPE"),
    "unknown extra field": ("POST", "/predict", lambda a: _with(a, NOT_A_FIELD=1), {}, 422,
                            "NOT_A_FIELD"),
    "batch of 1,001": ("POST", "/predict/batch", lambda a: json.dumps(
        {"applications": [a[i % len(a)] for i in range(MAX_BATCH_SIZE + 1)]}), {}, 422,
        "applications"),
    "applications not a list": ("POST", "/predict/batch",
                                lambda a: json.dumps({"applications": a[0]}), {}, 422,
                                "applications"),
    "batch item invalid": ("POST", "/predict/batch", lambda a: json.dumps(
        {"applications": [a[0], {**a[1], "FLAG_OWN_CAR": "maybe"}]}), {}, 422,
        "applications[1].FLAG_OWN_CAR"),
    "bad reasons value": ("POST", "/predict", lambda a: _with(a), {"query": {"reasons": "x"}},
                          422, "reasons"),
    "reasons out of range": ("POST", "/predict", lambda a: _with(a),
                             {"query": {"reasons": "11"}}, 422, "reasons"),
    "wrong method": ("DELETE", "/predict", lambda a: None, {}, 405, "method"),
    "unknown route": ("POST", "/predict/v2", lambda a: _with(a), {}, 404, "path"),
}


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_4xx(lambda_entry, apps, version, case):
    method, path, build, options, status, field = BAD_INPUTS[case]
    options = dict(options)
    force_flag = options.pop("force_base64_flag", False)
    event = EVENTS[version](method, path, body=build(apps), **options)
    if force_flag:
        event["isBase64Encoded"] = True  # a body claimed to be base64 that is not
    response, body = invoke(lambda_entry, event)
    assert response["statusCode"] == status, body
    assert response["headers"]["content-type"] == "application/json"
    ErrorResponse.model_validate(body)
    assert field in body["fields"], body


@pytest.mark.parametrize(
    "event",
    [{}, {"hello": "world"}, {"version": "2.0", "requestContext": {}}, [], "text"],
)
def test_unrecognised_events_do_not_crash_the_handler(lambda_entry, event):
    response = lambda_entry.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["fields"] == ["body"]


def test_snapstart_hooks_prime_before_the_snapshot(trained_bundle, monkeypatch):
    """In the Lambda runtime (snapshot_restore_py importable) with SnapStart, the import only
    registers hooks; the before-snapshot hook loads and primes the model."""
    import sys
    import types

    hooks: dict[str, list] = {"before": [], "after": []}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = lambda f, *a, **k: hooks["before"].append(f)
    fake.register_after_restore = lambda f, *a, **k: hooks["after"].append(f)
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    import scoring.handler as app

    module = importlib.reload(app)
    try:
        service = module.app.state.service
        assert service._bundle is None  # not loaded at import: the hook does it
        assert len(hooks["before"]) == 1 and len(hooks["after"]) == 1
        hooks["before"][0]()
        assert service._bundle is not None
        hooks["after"][0]()
        response = module.handler(http_api_event("GET", "/health"), FakeLambdaContext())
        assert response["statusCode"] == 200
    finally:  # leave the module as the other tests expect it: primed on the test bundle
        monkeypatch.delitem(sys.modules, "snapshot_restore_py")
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
        importlib.reload(app)
        monkeypatch.undo()


def test_without_snapstart_the_import_primes(lambda_entry):
    assert lambda_entry.app.state.service._bundle is not None


def test_logs_hold_no_applicant_values(lambda_entry, apps, log_lines):
    """One JSON line per request, with ids, route, status, latency and decisions only."""
    marker_id, marker_amount = 987_654_321, 123_456.789
    app = {**apps[0], "SK_ID_CURR": marker_id, "AMT_CREDIT": marker_amount}
    for event in (
        http_api_event("POST", "/predict", body=app),
        rest_api_event("POST", "/predict/batch", body={"applications": [app, app]}),
        http_api_event("POST", "/predict", body={**app, "CODE_GENDER": "Zorglub"}),
        http_api_event("POST", "/predict", body={**app, "AMT_ANNUITY": "987654"}),
        http_api_event("POST", "/predict", body=json.dumps(app)[:-9]),
    ):
        lambda_entry.handler(event, FakeLambdaContext())
    lines = log_lines()
    text = "\n".join(json.dumps(line) for line in lines)
    assert [line["status"] for line in lines if line["event"] == "request"] == [
        200, 200, 422, 422, 400]
    for needle in (str(marker_id), "123456.789", "Zorglub", "987654", "Cash loans"):
        assert needle not in text


def test_log_lines_carry_the_invocation_and_follow_aws_lambda_log_level(
        trained_bundle, monkeypatch, log_lines):
    """Through the handler as Lambda imports it: every line names its Lambda request id and
    whether it is the cold start; at AWS_LAMBDA_LOG_LEVEL=WARN the request lines go."""
    import scoring.handler as entry

    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    for name in ("CAPTURE_STREAM", "MODEL_S3_URI", "AWS_LAMBDA_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    from contract.logs import restored

    try:
        restored()  # a fresh execution environment
        module = importlib.reload(entry)
        for request_id in ("first-invocation", "second-invocation"):
            module.handler(http_api_event("GET", "/health"),
                           FakeLambdaContext(aws_request_id=request_id))
        requests = [line for line in log_lines() if line["event"] == "request"]
        assert [(line["lambda_request_id"], line["cold_start"], line["logger"], line["level"])
                for line in requests] == [("first-invocation", True, "scoring", "info"),
                                          ("second-invocation", False, "scoring", "info")]
        before = len(log_lines())
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
        module = importlib.reload(entry)
        module.handler(http_api_event("GET", "/health"), FakeLambdaContext())
        module.handler(http_api_event("POST", "/predict", body="{"), FakeLambdaContext())
        assert log_lines()[before:] == []  # nothing at INFO: no model_loaded, no request
    finally:
        monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
        importlib.reload(entry)


def test_an_unexpected_error_is_a_json_500_through_the_handler(trained_bundle):
    """Nothing a client sends reaches this, but a bug must still answer JSON, not crash."""
    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.handler import ScoringMangum

    app = create_app(Settings(model_dir=trained_bundle))

    async def boom(request):  # a plain Starlette endpoint
        raise RuntimeError("bug")

    app.add_route("/boom", boom, methods=["GET"])
    handler = ScoringMangum(app, lifespan="off")
    response = handler(http_api_event("GET", "/boom"), FakeLambdaContext())
    assert response["statusCode"] == 500
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"])["detail"][0]["type"] == "internal_error"
