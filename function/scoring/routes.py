"""The API's routes: module-level handlers, each with its OpenAPI documentation (:data:`ROUTES`).

Request bodies are read and validated here, not by FastAPI's body parameters: the raw bytes
are size-checked, then validated in one pass by pydantic-core (scoring.request), which also
lets duplicate keys and non-UTF-8 bodies be rejected. The spec still documents them exactly
(``openapi_extra`` points at the generated Application / BatchRequest schemas). Responses
are serialised once with ``json.dumps`` (their models are declared for the spec; tests
validate real responses against them).

/predict and /predict/batch share one path (:func:`_score`); an :class:`Endpoint` holds what
differs between them. Handlers find the app's Service at ``request.app.state.service``.
The handlers carry no docstrings: FastAPI would publish them as operation descriptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

# Runtime imports: FastAPI resolves the handlers' annotations when the routes are added.
from starlette.requests import Request
from starlette.responses import Response

from scoring.config import DEFAULT_BATCH_REASONS, DEFAULT_REASONS, MAX_BATCH_SIZE, MAX_REASONS
from scoring.http import (
    JSON,
    REQUEST_ID_KEY,
    error_response,
    json_response,
    log_facts,
    read_body,
    reasons_param,
)
from scoring.request import parse_application, parse_batch
from scoring.service import score

if TYPE_CHECKING:
    from scoring.capture import CaptureWriter
    from scoring.config import Settings
    from scoring.model import Bundle
    from scoring.service import Service
    from scoring.shapes import PredictionBody

Handler = Callable[[Request], Awaitable[Response]]


class Endpoint(NamedTuple):
    """What differs between the single and the batch scoring route. (NamedTuples, not
    dataclasses, here: a dataclass costs more to define at every cold start.)"""

    default_reasons: int
    body_limit: Callable[[Settings], int]
    parse: Callable[[bytes], list[dict[str, Any]]]
    #: The response body for the predictions.
    body: Callable[[list[PredictionBody]], object]
    #: The decision facts of the request's log line.
    decisions: Callable[[list[PredictionBody]], dict[str, Any]]


def _one(body: bytes) -> list[dict[str, Any]]:
    return [parse_application(body)]


def _decision(predictions: list[PredictionBody]) -> dict[str, Any]:
    return {"decision": predictions[0]["decision"]}


def _decision_counts(predictions: list[PredictionBody]) -> dict[str, Any]:
    declines = sum(p["decision"] == "decline" for p in predictions)
    return {"decisions": {"approve": len(predictions) - declines, "decline": declines}}


SINGLE = Endpoint(DEFAULT_REASONS, attrgetter("max_body_bytes"), _one, lambda p: p[0],
                  _decision)
BATCH = Endpoint(DEFAULT_BATCH_REASONS, attrgetter("max_batch_body_bytes"), parse_batch,
                 lambda p: {"predictions": p}, _decision_counts)


async def _score(request: Request, endpoint: Endpoint) -> Response:
    """The scoring path of both routes: query, model, body, validation, scores, capture."""
    service: Service = request.app.state.service
    log = log_facts(request)
    try:
        reasons = reasons_param(request, endpoint.default_reasons)
        bundle = service.bundle()
        body = await read_body(request, endpoint.body_limit(service.settings))
        apps = endpoint.parse(body)
        predictions = score(bundle, apps, reasons)
        log.update(model_version=bundle.version, n=len(apps), reasons=reasons,
                   **endpoint.decisions(predictions))
        if service.capture is not None:
            _capture(service.capture, apps, predictions, bundle.version, log,
                     str(request.scope.get(REQUEST_ID_KEY, "")))
        return json_response(200, endpoint.body(predictions))
    except Exception as exc:
        return error_response(exc, log)


def _capture(writer: CaptureWriter, apps: Sequence[Mapping[str, Any]],
             predictions: list[PredictionBody], version: str, log: dict[str, Any],
             request_id: str = "") -> None:
    """Capture only buffers its records (the Firehose producer sends them later), so it runs
    here, before the response; its outcome joins the request's log line."""
    log["capture"] = writer.capture(apps, [p["probability_default"] for p in predictions],
                                    [p["decision"] for p in predictions], version, request_id)


# ---------------------------------------------------------------------------- handlers
async def predict(request: Request) -> Response:
    return await _score(request, SINGLE)


async def predict_batch(request: Request) -> Response:
    return await _score(request, BATCH)


async def health(request: Request) -> Response:
    service: Service = request.app.state.service
    status, body = service.health()
    log_facts(request)["model_version"] = body["model_version"]
    return json_response(status, body)


async def bundle_document(request: Request, read: Callable[[Bundle, Service], bytes]
                          ) -> Response:
    """A JSON document of the loaded bundle (``read`` gives its bytes); 503 without one."""
    service: Service = request.app.state.service
    log = log_facts(request)
    try:
        bundle = service.bundle()
        body = read(bundle, service)
    except Exception as exc:
        return error_response(exc, log)
    log["model_version"] = bundle.version
    return Response(body, media_type=JSON)


async def model_card(request: Request) -> Response:
    return await bundle_document(request, lambda bundle, _: bundle.card_json)


# ----------------------------------------------------------------------------- OpenAPI
def _json_content(model: str) -> dict[str, Any]:
    return {JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}}


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


class Route(NamedTuple):
    path: str
    method: str
    handler: Handler
    summary: str
    openapi_extra: dict[str, Any]


ROUTES: tuple[Route, ...] = (
    Route("/predict", "POST", predict, "Score one application",
          _scoring_operation("Application", "Prediction", "One application.", DEFAULT_REASONS)),
    Route("/predict/batch", "POST", predict_batch, "Score up to 1,000 applications",
          _scoring_operation("BatchRequest", "BatchResponse",
                             f"1 to {MAX_BATCH_SIZE} applications.", DEFAULT_BATCH_REASONS)),
    Route("/health", "GET", health, "Liveness and model status", {"responses": {
        "200": {"description": "Serving.", "content": _json_content("Health")},
        "503": {"description": "The model is unavailable (reason given).",
                "content": _json_content("Health")},
    }}),
    Route("/model", "GET", model_card,
          "The model card: version, threshold, costs, metrics, calibration, schema",
          {"responses": {
              "200": {"description": "The model card. `calibration` says how "
                                     "probability_default is calibrated (method, a, b) and "
                                     "how well (ECE, Brier, reliability table).",
                      "content": _json_content("ModelCard")},
              "503": _ERROR_RESPONSES["503"],
          }}),
)
