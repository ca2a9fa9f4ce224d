"""The scoring API (FastAPI): /predict, /predict/batch, /health, /model; OpenAPI at /docs.

``create_app`` only assembles the pieces: the service (scoring.service), the routes and
their documentation (scoring.routes), the one exception-to-response mapping and the
request-log middleware (scoring.http), and the OpenAPI spec (:class:`ScoringAPI`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from scoring import officer
from scoring.config import Settings, load_settings
from scoring.http import RequestLogMiddleware, handle_exception
from scoring.request import openapi_schemas
from scoring.routes import ROUTES
from scoring.service import Service

if TYPE_CHECKING:
    from scoring.firehose import FirehoseClient

DESCRIPTION = (
    "Probability of default, approve/decline decision (decline iff probability >= "
    "the model card's cost-optimal threshold) and TreeSHAP reason codes for Home "
    "Credit applications. Unseen categories are rejected (422, listing the allowed "
    "values)."
)


class ScoringAPI(FastAPI):
    """FastAPI whose spec also holds the request and response schemas of scoring.request
    (the routes read raw bodies, so FastAPI cannot derive them), built on first use."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(title=self.title, version=self.version,
                               description=self.description, routes=self.routes)
            spec.setdefault("components", {}).setdefault("schemas", {}).update(
                openapi_schemas())
            spec["components"]["schemas"].update(officer.openapi_schemas())
            self.openapi_schema = spec
        return self.openapi_schema


def _settings(settings: Settings | None) -> tuple[Settings, str | None]:
    """The settings (default: from the environment) and why the environment's are invalid:
    a bad value makes the service answer 503 with the reason, not crash at import."""
    if settings is not None:
        return settings, None
    try:
        return load_settings(), None
    except ValueError as exc:
        return Settings(), str(exc)


def create_app(
    settings: Settings | None = None,
    capture_client_factory: Callable[[], FirehoseClient] | None = None,
) -> FastAPI:
    """The scoring app. Settings default to the environment (see scoring.config)."""
    settings, config_error = _settings(settings)
    app = ScoringAPI(
        title="Credit scoring",
        version="1.0",
        description=DESCRIPTION,
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # "/predict/" is an unknown route (404 JSON), not a 307 to a Location built from the
        # Lambda event's host (e.g. https://mangum:80/predict with HTTP API v2 events).
        redirect_slashes=False,
    )
    app.state.service = Service(settings, config_error, capture_client_factory)
    app.add_middleware(RequestLogMiddleware)
    for route in ROUTES:
        app.add_api_route(route.path, route.handler, methods=[route.method],
                          summary=route.summary, openapi_extra=route.openapi_extra)
    officer.install(app)  # /compare, /reference and the loan-officer page
    app.add_exception_handler(StarletteHTTPException, handle_exception)
    app.add_exception_handler(Exception, handle_exception)
    return app


__all__ = ["ScoringAPI", "create_app"]
