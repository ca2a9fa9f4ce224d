"""The loan-officer page and the routes it calls.

* ``POST /compare`` (scoring.compare) and ``GET /reference`` (scoring.reference), documented
  in the spec (:data:`ROUTES`);
* ``GET /ui`` (+ ``/ui/app.js``, ``/ui/app.css``): the page, static files from scoring/ui/
  (no data in it); ``GET /examples``: the bundled synthetic example applications;
* ``/officer/<route>``: the routes the page calls (predict, compare, reference, model,
  examples), the same handlers under the prefix that AWS puts behind the officers' JWT
  authorizer while machine clients keep IAM auth on the unprefixed paths.

When API Gateway serves the page it adds the officers' Cognito sign-in settings as request
headers (``x-officer-auth-domain``, ``x-officer-auth-client``); the page then signs in and
sends the token. Locally (no such headers) the page calls the routes directly.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from scoring.config import DEFAULT_REASONS
from scoring.http import JSON, error_response, json_response, log_facts, read_body, reasons_param
from scoring.routes import (
    _ERROR_RESPONSES,
    Route,
    _json_content,
    _scoring_operation,
    bundle_document,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Receive, Scope, Send

    from scoring.service import Service

UI_DIR = Path(__file__).resolve().parent / "ui"
#: Prefix of the routes the page calls (behind the JWT authorizer in AWS).
OFFICER_PREFIX = "/officer"
#: Routes reachable under OFFICER_PREFIX (anything else there is a 404).
OFFICER_ROUTES = frozenset({"/predict", "/compare", "/reference", "/model", "/examples"})
AUTH_DOMAIN_HEADER = "x-officer-auth-domain"
AUTH_CLIENT_HEADER = "x-officer-auth-client"
_DOMAIN = re.compile(r"https://[a-z0-9.-]+\.amazoncognito\.com")
_CLIENT = re.compile(r"[A-Za-z0-9]{1,128}")
STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
#: The page may talk to its own origin and to the Cognito hosted sign-in; nothing else.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' https://*.amazoncognito.com; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class OfficerPrefix:
    """Serves ``/officer/<route>`` as ``/<route>`` for the routes in OFFICER_ROUTES."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(OFFICER_PREFIX + "/"):
            inner = path[len(OFFICER_PREFIX):]
            if inner in OFFICER_ROUTES:
                scope = {**scope, "path": inner, "raw_path": inner.encode()}
        await self.app(scope, receive, send)


@cache
def _static(name: str) -> bytes:
    return (UI_DIR / name).read_bytes()


def page(request: Request) -> bytes:
    """index.html with the sign-in settings API Gateway passed (if any and well formed)."""
    domain = request.headers.get(AUTH_DOMAIN_HEADER, "")
    client = request.headers.get(AUTH_CLIENT_HEADER, "")
    config: dict[str, str] = {}
    if _DOMAIN.fullmatch(domain) and _CLIENT.fullmatch(client):
        config = {"domain": domain, "client_id": client}
    meta = escape(json.dumps(config), quote=True).encode()
    return _static("index.html").replace(b"__OFFICER_AUTH__", meta)


# ---------------------------------------------------------------------------- handlers
async def compare_route(request: Request) -> Response:
    from scoring.compare import compare, parse_compare

    service: Service = request.app.state.service
    log = log_facts(request)
    try:
        reasons = reasons_param(request, DEFAULT_REASONS)
        bundle = service.bundle()
        body = await read_body(request, 2 * service.settings.max_body_bytes)
        a, b = parse_compare(body)
        result = compare(bundle, a, b, reasons)
        log.update(model_version=bundle.version, n=2, reasons=reasons)
        return json_response(200, result)
    except Exception as exc:
        return error_response(exc, log)


async def reference_route(request: Request) -> Response:
    from scoring.reference import reference_bytes

    return await bundle_document(request, lambda bundle, service: reference_bytes(
        bundle.directory, service.settings.model_s3_uri))


async def examples_route(request: Request) -> Response:
    return Response(_static("examples.json"), media_type=JSON)


async def ui_route(request: Request) -> Response:
    return Response(page(request), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


async def ui_static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return json_response(404, {"detail": [{"loc": [], "field": "path", "msg": "Not Found",
                                               "type": "not_found"}], "fields": ["path"]})
    return Response(_static(name), media_type=STATIC[name], headers=PAGE_HEADERS)


ROUTES: tuple[Route, ...] = (
    Route("/compare", "POST", compare_route,
          "Compare two applications: what explains the gap",
          _scoring_operation("CompareRequest", "CompareResponse",
                             "Two applications, a and b; the gap is reported from a to b.",
                             DEFAULT_REASONS)),
    Route("/reference", "GET", reference_route,
          "Training reference: per-feature bins and default rates", {"responses": {
              "200": {"description": "Aggregates only: every bin has at least min_bin_rows "
                      "rows.", "content": _json_content("ReferenceResponse")},
              "503": _ERROR_RESPONSES["503"]}}),
)


def install(app: FastAPI) -> None:
    """Add /compare, /reference, the page and the /officer prefix to the scoring app."""
    for route in ROUTES:
        app.add_api_route(route.path, route.handler, methods=[route.method],
                          summary=route.summary, openapi_extra=route.openapi_extra)
    app.add_route("/examples", examples_route, methods=["GET"], include_in_schema=False)
    app.add_route("/ui", ui_route, methods=["GET"], include_in_schema=False)
    app.add_route("/ui/{name}", ui_static, methods=["GET"], include_in_schema=False)
    app.add_middleware(OfficerPrefix)


def openapi_schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """JSON schemas of /compare and /reference bodies, for the OpenAPI spec."""
    from pydantic.json_schema import models_json_schema

    from scoring.compare import CompareRequest, CompareResponse
    from scoring.reference import ReferenceResponse

    _, top = models_json_schema(
        [(CompareRequest, "validation"), (CompareResponse, "serialization"),
         (ReferenceResponse, "serialization")], ref_template=ref_template)
    defs: dict[str, Any] = top["$defs"]
    return defs
