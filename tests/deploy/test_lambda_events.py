"""infra/lambda_events.py: the fake Lambda context and the event builders every test,
benchmark and local tool drives the handlers with."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

from infra import lambda_events
from infra.lambda_events import (
    FakeLambdaContext,
    decode_response,
    http_api_event,
    reference_applications,
    response_json,
    rest_api_event,
    scheduled_event,
)


def test_context_has_the_runtime_attributes():
    context = FakeLambdaContext("credit-scoring-drift", 3008, 900)
    assert context.function_name == "credit-scoring-drift"
    assert context.memory_limit_in_mb == 3008
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == (
        "arn:aws:lambda:eu-west-1:123456789012:function:credit-scoring-drift")
    assert context.log_group_name == "/aws/lambda/credit-scoring-drift"
    assert context.log_stream_name
    assert FakeLambdaContext().aws_request_id != FakeLambdaContext().aws_request_id
    assert FakeLambdaContext(aws_request_id="r-1").aws_request_id == "r-1"


def test_remaining_time_counts_down_from_the_timeout():
    context = FakeLambdaContext(timeout_s=2.0)
    first = context.get_remaining_time_in_millis()
    assert 1_900 < first <= 2_000
    time.sleep(0.05)
    assert context.get_remaining_time_in_millis() <= first - 40
    assert FakeLambdaContext(timeout_s=0.0).get_remaining_time_in_millis() == 0


def test_context_satisfies_the_contract_protocol():
    """The context type the handlers are annotated with (contract.aws.LambdaContext)."""
    from contract.aws import LambdaContext

    context: LambdaContext = FakeLambdaContext()
    assert isinstance(context, LambdaContext)
    assert not isinstance(object(), LambdaContext)


def test_http_api_event_sets_what_a_request_changes():
    event = http_api_event("POST", "/predict", body={"a": 1}, query={"reasons": "2"},
                           request_id="r-9")
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default",
                                                                      "/predict")
    assert event["rawQueryString"] == "reasons=2"
    assert event["queryStringParameters"] == {"reasons": "2"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["requestId"] == "r-9"
    assert event["headers"]["content-type"] == "application/json"
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    get = http_api_event("GET", "/health", route_key="GET /health")
    assert "body" not in get and "queryStringParameters" not in get
    assert get["routeKey"] == get["requestContext"]["routeKey"] == "GET /health"


def test_bytes_bodies_are_base64_encoded():
    event = http_api_event("POST", "/predict", body=b"\xff\xfe")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"
    text = rest_api_event("POST", "/predict", body="{}", base64_encode=True)
    assert (base64.b64decode(text["body"]), text["isBase64Encoded"]) == (b"{}", True)


def test_rest_api_event_proxy_and_explicit_resources():
    proxy = rest_api_event("POST", "/predict/batch", body={"applications": []})
    assert (proxy["resource"], proxy["pathParameters"]) == ("/{proxy+}",
                                                            {"proxy": "predict/batch"})
    assert proxy["requestContext"]["path"] == "/prod/predict/batch"
    assert proxy["queryStringParameters"] is None
    explicit = rest_api_event("POST", "/predict", body={}, query={"reasons": "3"},
                              resource="/predict")
    assert explicit["pathParameters"] is None
    assert explicit["requestContext"]["resourcePath"] == "/predict"
    assert explicit["multiValueQueryStringParameters"] == {"reasons": ["3"]}
    assert explicit["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_builders_never_change_the_templates():
    http_api_event("POST", "/predict", body={"x": 1})
    rest_api_event("POST", "/predict", body={"x": 1})
    scheduled_event("2026-11-28T06:00:00Z")
    for name in lambda_events.TEMPLATES:
        on_disk = json.loads((lambda_events.TEMPLATES_DIR / name).read_text())
        assert lambda_events.template(name) == on_disk


def test_scheduled_event():
    event = scheduled_event("2026-11-28T06:00:00Z", rule="nightly", region="eu-west-1")
    assert (event["detail-type"], event["source"]) == ("Scheduled Event", "aws.events")
    assert event["time"] == "2026-11-28T06:00:00Z"
    assert event["resources"] == ["arn:aws:events:eu-west-1:123456789012:rule/nightly"]
    assert scheduled_event()["time"] == "1970-01-01T00:00:00Z"


def test_response_decoding():
    encoded = {"statusCode": 200, "body": base64.b64encode(b'{"ok": true}').decode(),
               "isBase64Encoded": True}
    assert response_json(encoded) == {"ok": True}
    assert decode_response(encoded)["body"] == {"ok": True}
    binary = {"statusCode": 200, "body": base64.b64encode(b"\xff").decode(),
              "isBase64Encoded": True}
    assert decode_response(binary)["body"] == "<1 bytes of binary>"
    assert decode_response({"status": "ok"}) == {"status": "ok"}


def test_reference_applications_are_valid_and_numbered(trained_bundle):
    from scoring.request import Application

    apps = reference_applications(trained_bundle, 3, first_id=500)
    assert [a["SK_ID_CURR"] for a in apps] == [500, 501, 502]
    for app in apps:
        Application.model_validate(app)


def test_the_module_imports_only_the_standard_library():
    """A cold-start probe loads it next to the code it measures."""
    probe = ("import sys, infra.lambda_events; "
             "print(sorted({m.split('.')[0] for m in sys.modules}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    roots = set(json.loads(result.stdout.replace("'", '"')))
    assert not roots & {"numpy", "pandas", "contract", "scoring", "pydantic", "boto3"}, roots
