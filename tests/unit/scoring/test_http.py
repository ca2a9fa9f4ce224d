"""scoring.http: the exception-to-response mapping, body and query readers, the log middleware."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from scoring import logs
from scoring.http import (
    LOG_KEY,
    RequestLogMiddleware,
    error_response,
    read_body,
    reasons_param,
)
from scoring.request import RequestError, error_item
from scoring.service import RETRY_AFTER_S, Unavailable


def _request(query: bytes = b"", body: bytes = b"", headers: dict[str, str] | None = None,
             chunk: int = 1 << 20) -> Request:
    chunks = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]

    async def receive() -> dict[str, Any]:
        part = chunks.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(chunks)}

    raw_headers = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": "POST", "path": "/", "query_string": query,
             "headers": raw_headers}
    return Request(scope, receive)


def _json(response: Any) -> Any:
    return json.loads(response.body)


# ------------------------------------------------------------------------------ mapping
def test_a_client_error_keeps_its_status_and_names_the_fields() -> None:
    log: dict[str, Any] = {}
    error = RequestError(422, [error_item(("AMT_CREDIT",), "too small", "greater_than_equal")])
    response = error_response(error, log)
    assert response.status_code == 422
    assert _json(response) == {"detail": [{"loc": ["AMT_CREDIT"], "field": "AMT_CREDIT",
                                           "msg": "too small", "type": "greater_than_equal"}],
                               "fields": ["AMT_CREDIT"]}
    assert log == {"error": "greater_than_equal", "error_fields": ["AMT_CREDIT"]}


def test_an_unavailable_model_is_a_503_with_retry_after() -> None:
    log: dict[str, Any] = {}
    response = error_response(Unavailable("model.onnx not found"), log)
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(int(RETRY_AFTER_S))
    (item,) = _json(response)["detail"]
    assert item["msg"] == "model unavailable: model.onnx not found"
    assert item["field"] == "model" and item["type"] == "model_unavailable"
    assert log == {"error": "model_unavailable"}


@pytest.mark.parametrize(("status", "detail", "field"), [
    (404, "Not Found", "path"), (405, "Method Not Allowed", "method"), (400, "Bad", "request")])
def test_routing_errors_name_the_path_or_method(status, detail, field) -> None:
    log: dict[str, Any] = {}
    headers = {"Allow": "POST"} if status == 405 else None
    response = error_response(StarletteHTTPException(status, detail, headers=headers), log)
    assert response.status_code == status
    body = _json(response)
    assert body["fields"] == [field] and body["detail"][0]["msg"] == detail
    assert log["error"] == "_".join(detail.lower().split())
    if headers:
        assert response.headers["allow"] == "POST"


def test_anything_else_is_a_500_that_logs_where_not_what() -> None:
    stream = io.StringIO()
    logs.set_stream(stream)
    try:
        raise KeyError("AMT_INCOME_TOTAL=123456")
    except KeyError as exc:
        log: dict[str, Any] = {}
        response = error_response(exc, log)
    finally:
        logs.set_stream(None)
    assert response.status_code == 500
    assert _json(response)["detail"][0]["msg"] == "internal error"
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["event"] == "internal_error" and line["exception"] == "KeyError"
    assert line["where"].startswith("test_http.py:")
    assert "123456" not in stream.getvalue() and "123456" not in response.body.decode()
    assert log == {"error": "internal_error"}


# ------------------------------------------------------------------------------ readers
@pytest.mark.parametrize(("query", "expected"), [(b"", 4), (b"reasons=0", 0), (b"reasons=10", 10),
                                                 (b"other=1", 4)])
def test_reasons_parameter(query, expected) -> None:
    assert reasons_param(_request(query), 4) == expected


@pytest.mark.parametrize("value", ["11", "-1", "1.0", "", "abc", "0001", "%D9%A3"])
def test_an_invalid_reasons_parameter_is_a_422_naming_it(value) -> None:
    with pytest.raises(RequestError) as raised:
        reasons_param(_request(f"reasons={value}".encode()), 4)
    assert raised.value.status == 422 and raised.value.fields == ["reasons"]


def test_read_body_returns_the_bytes_within_the_limit() -> None:
    body = b'{"a": 1}' * 100
    assert asyncio.run(read_body(_request(body=body, chunk=7), len(body))) == body


@pytest.mark.parametrize("declared", [True, False])
def test_read_body_refuses_more_than_the_limit(declared) -> None:
    body = b"x" * 101
    headers = {"content-length": "101"} if declared else {}
    with pytest.raises(RequestError) as raised:
        asyncio.run(read_body(_request(body=body, headers=headers, chunk=10), 100))
    assert raised.value.status == 413 and raised.value.detail[0]["type"] == "body_too_large"


# ---------------------------------------------------------------------------- middleware
def _run_middleware(scope: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope[LOG_KEY]["n"] = 3
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    stream = io.StringIO()
    logs.set_stream(stream)
    try:
        asyncio.run(RequestLogMiddleware(app)(scope, receive, send))
    finally:
        logs.set_stream(None)
    return [json.loads(line) for line in stream.getvalue().splitlines()], sent


class _Context:
    aws_request_id = "lambda-1"


def test_one_log_line_per_request_with_the_route_facts() -> None:
    scope = {"type": "http", "method": "POST", "aws.context": _Context(),
             "aws.event": {"requestContext": {"requestId": "apigw-1"}}}
    (line,), sent = _run_middleware(scope)
    assert line["event"] == "request" and line["status"] == 201 and line["method"] == "POST"
    assert line["request_id"] == "apigw-1" and line["lambda_request_id"] == "lambda-1"
    assert line["route"] == "unmatched" and line["n"] == 3 and line["latency_ms"] >= 0
    assert (b"x-request-id", b"apigw-1") in sent[0]["headers"]


def test_without_ids_the_request_gets_a_fresh_one() -> None:
    from contract.logs import restored

    restored()  # outside any Lambda invocation (earlier tests ran some)
    (line,), sent = _run_middleware({"type": "http", "method": "GET",
                                     "aws.event": {"requestContext": {"requestId": "é"}}})
    assert len(line["request_id"]) == 32 and line["lambda_request_id"] is None
    assert (b"x-request-id", line["request_id"].encode()) in sent[0]["headers"]
