"""The scoring API (FastAPI): /predict, /predict/batch, /health, /model; OpenAPI at /docs.

Request bodies are read and validated here, not by FastAPI's body parameters: the raw bytes
are size-checked, then validated in one pass by pydantic-core (scoring.request), which also
lets duplicate keys and non-UTF-8 bodies be rejected. The spec still documents them exactly
(``openapi_extra`` points at the generated Application / BatchRequest schemas). Responses
are serialised once with ``json.dumps`` (their models are declared for the spec; tests
validate real responses against them).

Every error is a JSON ErrorResponse naming the offending field(s); the model being
unavailable is a 503 with the reason; nothing a client sends produces a 500.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.schema import ID_FIELD
from scoring import capture as capture_mod
from scoring import logs
from scoring.config import (
    DEFAULT_BATCH_REASONS,
    DEFAULT_REASONS,
    MAX_BATCH_SIZE,
    MAX_REASONS,
    Settings,
    load_settings,
)
from scoring.model import Bundle, BundleError, download_bundle, load_bundle, prime_application
from scoring.reasons import reasons_for_rows
from scoring.request import (
    Application,
    BatchRequest,
    RequestError,
    encode,
    error_item,
    openapi_schemas,
    parse_application,
    parse_batch,
)

#: scope key where a route leaves facts for the request's log line.
LOG_KEY = "scoring.log"
#: A failed bundle load is retried on demand at most this often.
RETRY_AFTER_S = 30.0
JSON = "application/json"


class Unavailable(Exception):
    """The model cannot serve; str(exc) is the reason."""


# ---------------------------------------------------------------------------------- service
class Service:
    """The loaded bundle (or why it is not loaded) and the capture writer of one app."""

    def __init__(
        self,
        settings: Settings,
        config_error: str | None = None,
        capture_client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self._config_error = config_error
        self._bundle: Bundle | None = None
        self._error: str | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()
        self.capture: capture_mod.CaptureWriter | None = None
        if settings.capture_enabled and config_error is None:
            self.capture = capture_mod.CaptureWriter(
                bucket=settings.capture_bucket or "",
                prefix=settings.capture_prefix,
                hash_key=settings.capture_hash_key,
                timeout_s=settings.capture_timeout_s,
                client_factory=capture_client_factory,
            )

    def bundle(self) -> Bundle:
        """The loaded bundle; loads it on first use. Raises Unavailable with the reason."""
        bundle = self._bundle
        if bundle is not None:
            return bundle
        with self._lock:
            if self._bundle is None and (
                self._error is None or time.monotonic() - self._failed_at >= RETRY_AFTER_S
            ):
                self._load()
            if self._bundle is None:
                raise Unavailable(self._error)
            return self._bundle

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            if self._config_error is not None:
                raise BundleError(f"invalid configuration: {self._config_error}")
            directory = self.settings.model_dir
            if self.settings.model_s3_uri:
                directory = download_bundle(self.settings.model_s3_uri)
                try:
                    self._bundle = load_bundle(directory, threads=self.settings.ort_threads)
                finally:
                    if self._bundle is None:  # a retry downloads afresh: free /tmp
                        shutil.rmtree(directory, ignore_errors=True)
            else:
                self._bundle = load_bundle(directory, threads=self.settings.ort_threads)
            self._error = None
            logs.emit("model_loaded", model_version=self._bundle.version,
                      load_ms=round((time.perf_counter() - started) * 1e3, 1))
        except BundleError as exc:
            self._error = str(exc)
            self._failed_at = time.monotonic()
            logs.emit("model_unavailable", logging.ERROR, reason=self._error)
        except Exception as exc:  # never let a load bug crash the function at import
            self._error = f"unexpected error loading the model: {type(exc).__name__}"
            self._failed_at = time.monotonic()
            logs.emit("model_unavailable", logging.ERROR, reason=self._error,
                      where=_where(exc))

    def prime(self) -> None:
        """Load the bundle and run the whole request path once (JSON -> reasons), so the
        first real request meets warm code: at import, or before a SnapStart snapshot."""
        if self.capture is not None:
            self.capture.warm()
        try:
            bundle = self.bundle()
        except Unavailable:
            return
        try:
            body = json.dumps(prime_application()).encode()
            predictions = score(bundle, [parse_application(body)], DEFAULT_REASONS)
            _json_bytes({"predictions": predictions})
            parse_batch(b'{"applications": [' + body + b"]}")
        except Exception as exc:  # a bundle that cannot score: 503, never a crash at import
            with self._lock:
                self._bundle = None
                self._error = f"the model fails on a probe application: {type(exc).__name__}"
                self._failed_at = time.monotonic()
            logs.emit("model_unavailable", logging.ERROR, reason=self._error,
                      where=_where(exc))

    def after_restore(self) -> None:
        """After a SnapStart restore: S3 connections from the snapshot are stale; build a
        fresh client now rather than on the first request."""
        if self.capture is not None:
            self.capture.reset_client()
            self.capture.warm()

    def health(self) -> tuple[int, dict[str, Any]]:
        stats = capture_mod.stats()
        capture = {"enabled": self.capture is not None, **stats}
        try:
            bundle = self.bundle()
        except Unavailable as exc:
            return 503, {"status": "unavailable", "model_version": None, "reason": str(exc),
                         "capture": capture}
        return 200, {"status": "ok", "model_version": bundle.version, "reason": None,
                     "capture": capture}


# ---------------------------------------------------------------------------------- scoring
def score(bundle: Bundle, apps: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Predictions (response dicts) for validated applications, with k reasons each."""
    probability, features = bundle.predict(encode(apps), with_features=k > 0)
    probabilities = probability.tolist()
    threshold = bundle.threshold
    version = bundle.version
    if k > 0 and features is not None:
        reasons = reasons_for_rows(bundle.explain(features), features, apps,
                                   bundle.feature_names, bundle.raw_fields, k)
    else:
        reasons = [[] for _ in apps]
    return [
        {
            "client_id": app[ID_FIELD],
            "probability_default": p,
            "decision": "decline" if p >= threshold else "approve",
            "threshold": threshold,
            "model_version": version,
            "reasons": r,
        }
        for app, p, r in zip(apps, probabilities, reasons, strict=True)
    ]


def _json_bytes(content: Any) -> bytes:
    return json.dumps(content, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _json_response(status: int, content: Any, headers: dict[str, str] | None = None,
                   background: BackgroundTask | None = None) -> Response:
    return Response(_json_bytes(content), status_code=status, media_type=JSON, headers=headers,
                    background=background)


def _failure_response(exc: Exception, log: dict[str, Any]) -> Response:
    """A scoring route's answer to an exception: 4xx, 503 or (unexpected) 500, all JSON."""
    if isinstance(exc, RequestError):
        return _error_response(exc, log)
    if isinstance(exc, Unavailable):
        return _unavailable_response(str(exc), log)
    return _internal_error(exc, log)


def _error_response(error: RequestError, log: dict[str, Any]) -> Response:
    log["error"] = error.detail[0]["type"] if error.detail else "error"
    log["error_fields"] = error.fields[:10]
    return _json_response(error.status, error.body())


def _unavailable_response(reason: str, log: dict[str, Any]) -> Response:
    log["error"] = "model_unavailable"
    body = {"detail": [error_item((), f"model unavailable: {reason}", "model_unavailable",
                                  field="model")], "fields": []}
    return _json_response(503, body, headers={"Retry-After": str(int(RETRY_AFTER_S))})


def _internal_error(exc: Exception, log: dict[str, Any]) -> Response:
    # Log where, never the message: it could quote request values.
    log["error"] = "internal_error"
    logs.emit("internal_error", logging.ERROR, exception=type(exc).__name__, where=_where(exc))
    body = {"detail": [error_item((), "internal error", "internal_error", field="server")],
            "fields": []}
    return _json_response(500, body)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"


async def _read_body(request: Request, limit: int) -> bytes:
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


# ------------------------------------------------------------------------------- middleware
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
            route = scope.get("route")
            line: dict[str, Any] = {
                "request_id": request_id,
                "method": scope.get("method"),
                "route": getattr(route, "path", None) or "unmatched",
                "status": status,
                "latency_ms": round(((latency if latency is not None
                                      else time.perf_counter() - started)) * 1e3, 3),
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


# -------------------------------------------------------------------------------------- app
def _ref(model: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model}"}


def _json_content(model: str) -> dict[str, Any]:
    return {JSON: {"schema": _ref(model)}}


_ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "Malformed body: empty, not UTF-8, not JSON, or with duplicate "
            "keys.", "content": _json_content("ErrorResponse")},
    "413": {"description": "Body too large.", "content": _json_content("ErrorResponse")},
    "422": {"description": "Invalid application(s) or query; `fields` names the offending "
            "fields.", "content": _json_content("ErrorResponse")},
    "503": {"description": "The model bundle is unavailable (reason given).",
            "content": _json_content("ErrorResponse")},
}


def _scoring_operation(request_model: str, response_model: str, description: str,
                       default_reasons: int) -> dict[str, Any]:
    """The OpenAPI operation of a scoring route (documented here: the route itself reads
    the raw body and the query, so FastAPI builds nothing for them at import)."""
    return {
        "parameters": [{
            "name": "reasons", "in": "query", "required": False,
            "description": f"Number of reasons per prediction (0 to {MAX_REASONS}).",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_REASONS,
                       "default": default_reasons},
        }],
        "requestBody": {"required": True, "description": description,
                        "content": _json_content(request_model)},
        "responses": {"200": {"description": "Scored.", "content": _json_content(response_model)},
                      **_ERROR_RESPONSES},
    }


def _reasons_param(request: Request, default: int) -> int:
    """The ``reasons`` query parameter: an integer 0..MAX_REASONS (else a 422 naming it)."""
    raw = request.query_params.get("reasons")
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and int(raw) <= MAX_REASONS:
        return int(raw)
    raise RequestError(422, [error_item(
        ("query", "reasons"), f"reasons must be an integer from 0 to {MAX_REASONS}",
        "invalid_reasons", field="reasons")])


def create_app(
    settings: Settings | None = None,
    capture_client_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """The scoring app. Settings default to the environment (see scoring.config)."""
    config_error = None
    if settings is None:
        try:
            settings = load_settings()
        except ValueError as exc:
            settings, config_error = Settings(), str(exc)
    service = Service(settings, config_error, capture_client_factory)

    app = FastAPI(
        title="Credit scoring",
        version="1.0",
        description=(
            "Probability of default, approve/decline decision (decline iff probability >= "
            "the model card's cost-optimal threshold) and TreeSHAP reason codes for Home "
            "Credit applications. Unseen categories are rejected (422, listing the allowed "
            "values)."
        ),
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # "/predict/" is an unknown route (404 JSON), not a 307 to a Location built from the
        # Lambda event's host (e.g. https://mangum:80/predict with HTTP API v2 events).
        redirect_slashes=False,
    )
    app.state.service = service
    app.add_middleware(RequestLogMiddleware)

    def capture_task(apps: list[dict[str, Any]], predictions: list[dict[str, Any]],
                     version: str, log: dict[str, Any]) -> BackgroundTask | None:
        writer = service.capture
        if writer is None:
            return None

        def run() -> None:
            log["capture"] = writer.capture(
                apps, [p["probability_default"] for p in predictions],
                [p["decision"] for p in predictions], version)

        return BackgroundTask(run)

    @app.post(
        "/predict",
        summary="Score one application",
        openapi_extra=_scoring_operation("Application", "Prediction", "One application.",
                                         DEFAULT_REASONS),
    )
    async def predict(request: Request) -> Response:
        log = request.scope.setdefault(LOG_KEY, {})
        try:
            reasons = _reasons_param(request, DEFAULT_REASONS)
            bundle = service.bundle()
            body = await _read_body(request, service.settings.max_body_bytes)
            app_fields = parse_application(body)
            (prediction,) = score(bundle, [app_fields], reasons)
            log.update(model_version=bundle.version, n=1, decision=prediction["decision"],
                       reasons=reasons)
            return _json_response(200, prediction, background=capture_task(
                [app_fields], [prediction], bundle.version, log))
        except Exception as exc:
            return _failure_response(exc, log)

    @app.post(
        "/predict/batch",
        summary="Score up to 1,000 applications",
        openapi_extra=_scoring_operation("BatchRequest", "BatchResponse",
                                         f"1 to {MAX_BATCH_SIZE} applications.",
                                         DEFAULT_BATCH_REASONS),
    )
    async def predict_batch(request: Request) -> Response:
        log = request.scope.setdefault(LOG_KEY, {})
        try:
            reasons = _reasons_param(request, DEFAULT_BATCH_REASONS)
            bundle = service.bundle()
            body = await _read_body(request, service.settings.max_batch_body_bytes)
            apps = parse_batch(body)
            predictions = score(bundle, apps, reasons)
            declines = sum(p["decision"] == "decline" for p in predictions)
            log.update(model_version=bundle.version, n=len(apps), reasons=reasons,
                       decisions={"approve": len(apps) - declines, "decline": declines})
            return _json_response(200, {"predictions": predictions}, background=capture_task(
                apps, predictions, bundle.version, log))
        except Exception as exc:
            return _failure_response(exc, log)

    @app.get(
        "/health",
        summary="Liveness and model status",
        openapi_extra={"responses": {
            "200": {"description": "Serving.", "content": _json_content("Health")},
            "503": {"description": "The model is unavailable (reason given).",
                    "content": _json_content("Health")},
        }},
    )
    async def health(request: Request) -> Response:
        status, body = service.health()
        request.scope.setdefault(LOG_KEY, {})["model_version"] = body["model_version"]
        return _json_response(status, body)

    @app.get(
        "/model",
        summary="The model card: version, threshold, costs, metrics, schema",
        openapi_extra={"responses": {
            "200": {"description": "The model card.", "content": _json_content("ModelCard")},
            "503": _ERROR_RESPONSES["503"],
        }},
    )
    async def model_card(request: Request) -> Response:
        log = request.scope.setdefault(LOG_KEY, {})
        try:
            bundle = service.bundle()
        except Unavailable as exc:
            return _unavailable_response(str(exc), log)
        log["model_version"] = bundle.version
        return Response(bundle.card_json, media_type=JSON)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        field = {404: "path", 405: "method"}.get(exc.status_code, "request")
        body = {"detail": [error_item((), str(exc.detail), _slug(str(exc.detail)),
                                      field=field)], "fields": [field]}
        request.scope.setdefault(LOG_KEY, {})["error"] = _slug(str(exc.detail))
        return _json_response(exc.status_code, body, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Defence in depth (routes catch everything): a JSON 500, never a traceback.
        return _internal_error(exc, request.scope.setdefault(LOG_KEY, {}))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes)
            spec.setdefault("components", {}).setdefault("schemas", {}).update(
                openapi_schemas())
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _slug(text: str) -> str:
    return "_".join(text.lower().split()) or "error"


__all__ = ["Application", "BatchRequest", "Service", "create_app", "score"]
