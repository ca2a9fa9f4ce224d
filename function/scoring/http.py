"""HTTP plumbing of the scoring API: bounded body reading, the ``reasons`` query parameter,
JSON responses, the one mapping from an exception to an error response, and the middleware
that writes one log line per request.

Every error is a JSON ErrorResponse naming the offending field(s); the model being
unavailable is a 503 with the reason; nothing a client sends produces a 500.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from scoring import logs
from scoring.config import MAX_REASONS
from scoring.request import RequestError, error_item
from scoring.service import RETRY_AFTER_S, Unavailable, dump_json, where

if TYPE_CHECKING:
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Scope key where a route leaves facts for the request's log line.
LOG_KEY = "scoring.log"
#: scope key of the request's id (the x-request-id header), set by RequestLogMiddleware.
REQUEST_ID_KEY = "scoring.request_id"
JSON = "application/json"


def log_facts(request: Request) -> dict[str, Any]:
    """The facts for this request's log line (RequestLogMiddleware writes them)."""
    facts: dict[str, Any] = request.scope.setdefault(LOG_KEY, {})
    return facts


def json_response(status: int, content: object, headers: Mapping[str, str] | None = None,
                  background: BackgroundTask | None = None) -> Response:
    return Response(dump_json(content), status_code=status, media_type=JSON, headers=headers,
                    background=background)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes (else a 413), whatever Content-Length says."""
    too_large = RequestError(413, [error_item((), f"body larger than {limit} bytes",
                                              "body_too_large")])
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def reasons_param(request: Request, default: int) -> int:
    """The ``reasons`` query parameter: an integer 0..MAX_REASONS (else a 422 naming it)."""
    raw = request.query_params.get("reasons")
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and int(raw) <= MAX_REASONS:
        return int(raw)
    raise RequestError(422, [error_item(
        ("query", "reasons"), f"reasons must be an integer from 0 to {MAX_REASONS}",
        "invalid_reasons", field="reasons")])


# ------------------------------------------------------------------------------- errors
def error_response(exc: Exception, log: dict[str, Any]) -> Response:
    """The one mapping from an exception to the JSON error response (and the log facts):
    a client error (4xx), the model unavailable (503), Starlette's 404/405, anything else
    an internal error (500)."""
    if isinstance(exc, RequestError):
        log["error"] = exc.detail[0]["type"] if exc.detail else "error"
        log["error_fields"] = exc.fields[:10]
        return json_response(exc.status, exc.body())
    if isinstance(exc, Unavailable):
        log["error"] = "model_unavailable"
        return json_response(503, _error_body(f"model unavailable: {exc}", "model_unavailable",
                                              "model"),
                             headers={"Retry-After": str(int(RETRY_AFTER_S))})
    if isinstance(exc, StarletteHTTPException):
        field = {404: "path", 405: "method"}.get(exc.status_code, "request")
        slug = _slug(str(exc.detail))
        log["error"] = slug
        body = _error_body(str(exc.detail), slug, field)
        body["fields"] = [field]
        return json_response(exc.status_code, body, headers=exc.headers)
    # Log where, never the message: it could quote request values.
    log["error"] = "internal_error"
    logs.emit("internal_error", logging.ERROR, exception=type(exc).__name__, where=where(exc))
    return json_response(500, _error_body("internal error", "internal_error", "server"))


async def handle_exception(request: Request, exc: Exception) -> Response:
    """The app's exception handler (404/405 from routing; a JSON 500 as defence in depth:
    the routes already catch everything)."""
    return error_response(exc, log_facts(request))


def _error_body(msg: str, type_: str, field: str) -> dict[str, Any]:
    return {"detail": [error_item((), msg, type_, field=field)], "fields": []}


def _slug(text: str) -> str:
    return "_".join(text.lower().split()) or "error"


# ------------------------------------------------------------------------------- logging
class RequestLogMiddleware:
    """One JSON log line per HTTP request; adds the x-request-id response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id, lambda_id = _request_ids(scope)
        facts: dict[str, Any] = {}
        scope[LOG_KEY] = facts
        scope[REQUEST_ID_KEY] = request_id
        status = 500
        latency: float | None = None
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_logged(message: Message) -> None:
            nonlocal status, latency
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                latency = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            elapsed = latency if latency is not None else time.perf_counter() - started
            _log_request(scope, request_id, lambda_id, status, elapsed, facts)


def _log_request(scope: Scope, request_id: str, lambda_id: str | None, status: int,
                 elapsed_s: float, facts: dict[str, Any]) -> None:
    route = scope.get("route")
    line: dict[str, Any] = {
        "request_id": request_id,
        "method": scope.get("method"),
        "route": getattr(route, "path", None) or "unmatched",
        "status": status,
        "latency_ms": round(elapsed_s * 1e3, 3),
    }
    if lambda_id:
        line["lambda_request_id"] = lambda_id
    line.update(facts)
    logs.emit("request", logging.INFO if status < 500 else logging.ERROR, **line)


def _request_ids(scope: Scope) -> tuple[str, str | None]:
    """(request id, Lambda request id): API Gateway's id, else Lambda's, else a new one."""
    lambda_id = getattr(scope.get("aws.context"), "aws_request_id", None)
    event = scope.get("aws.event")
    api_id = None
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        api_id = event["requestContext"].get("requestId")
    request_id = api_id if isinstance(api_id, str) and api_id else lambda_id
    if not isinstance(request_id, str) or not request_id.isascii():
        request_id = uuid.uuid4().hex
    return request_id[:128], lambda_id if isinstance(lambda_id, str) else None
