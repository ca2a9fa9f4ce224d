"""The one home of the fake Lambda context and of the events that drive the handlers: API
Gateway proxy events (HTTP API payload 2.0, REST payload 1.0) and EventBridge scheduled
events, plus request bodies built from a bundle's reference sample.

Used by the tests, the benchmarks, ``infra/invoke.py`` (the Docker-free invoker) and
``infra/make_events.py`` (which writes the event files in infra/events/).

The templates in ``infra/event_templates/`` are verbatim ``sam local generate-event`` output
(``python -m infra.make_events --refresh-templates`` rewrites them):

* ``apigw_http_api_v2.json``: ``sam local generate-event apigateway http-api-proxy``
* ``apigw_rest_v1.json``:     ``sam local generate-event apigateway aws-proxy``
* ``scheduled_event.json``:   ``sam local generate-event cloudwatch scheduled-event``

Each builder copies a template and sets only what a real request changes (method, path,
query string, body, headers, ids), keeping every other key as SAM makes it.

Only the standard library is imported at module level: a cold-start probe can load this
file without pulling anything into the process it measures.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

TEMPLATES_DIR = Path(__file__).resolve().parent / "event_templates"
#: Template file name -> the ``sam local generate-event`` arguments that print it.
TEMPLATES = {
    "apigw_http_api_v2.json": ("apigateway", "http-api-proxy"),
    "apigw_rest_v1.json": ("apigateway", "aws-proxy"),
    "scheduled_event.json": ("cloudwatch", "scheduled-event"),
}
#: The region and account the local events and the fake context name.
REGION = "eu-west-1"
ACCOUNT = "123456789012"

Body = bytes | str | Mapping[str, Any] | list[Any] | None


@cache
def _template(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((TEMPLATES_DIR / name).read_text(encoding="utf-8"))
    return loaded


def template(name: str) -> dict[str, Any]:
    """A fresh copy of one of TEMPLATES."""
    return copy.deepcopy(_template(name))


# --------------------------------------------------------------------------- the context
@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Mangum read.

    The remaining time counts down from ``timeout_s`` from the moment the context is made,
    as the runtime's does from the start of the invocation.
    """

    function_name: str = "ScoringFunction"
    memory_limit_in_mb: int = 1024
    timeout_s: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}")
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_s - elapsed) * 1000))


# --------------------------------------------------------------------------- API Gateway
def _body(body: Body, base64_encode: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if not isinstance(body, str | bytes):
        body = json.dumps(body)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if base64_encode or isinstance(body, bytes):
        return base64.b64encode(raw).decode("ascii"), True
    return body, False


def http_api_event(
    method: str,
    path: str,
    body: Body = None,
    query: Mapping[str, str] | str | None = None,
    headers: Mapping[str, str] | None = None,
    base64_encode: bool = False,
    request_id: str | None = None,
    route_key: str = "$default",
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event. ``bytes`` bodies are sent base64-encoded, as API
    Gateway does for binary payloads; ``str``/JSON bodies as text unless asked.
    ``route_key`` is ``$default`` (a catch-all route) or an explicit "POST /predict"."""
    event = template("apigw_http_api_v2.json")
    raw_query = query if isinstance(query, str) else urlencode(query or {})
    event["rawPath"] = path
    event["rawQueryString"] = raw_query
    parsed = parse_qs(raw_query, keep_blank_values=True)
    event["queryStringParameters"] = {k: ",".join(v) for k, v in parsed.items()}
    if not event["queryStringParameters"]:
        del event["queryStringParameters"]
    event["headers"] = {**event["headers"], "content-type": "application/json", **(headers or {})}
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = request_id or f"apigw-{uuid.uuid4()}"
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    text, is_b64 = _body(body, base64_encode)
    if text is None:
        event.pop("body", None)
    else:
        event["body"] = text
    event["isBase64Encoded"] = is_b64
    return event


def rest_api_event(
    method: str,
    path: str,
    body: Body = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    base64_encode: bool = False,
    request_id: str | None = None,
    resource: str = "/{proxy+}",
) -> dict[str, Any]:
    """A REST API (payload 1.0, aws-proxy) event on stage ``prod``: by default for the
    ``/{proxy+}`` resource, or for an explicit ``resource`` such as "/predict"."""
    event = template("apigw_rest_v1.json")
    event["resource"] = resource
    event["path"] = path
    event["httpMethod"] = method
    event["pathParameters"] = {"proxy": path.lstrip("/")} if "{proxy+}" in resource else None
    added = {"Content-Type": "application/json", **(headers or {})}
    event["headers"] = {**event["headers"], **added}
    event["multiValueHeaders"] = {**event["multiValueHeaders"],
                                  **{k: [v] for k, v in added.items()}}
    event["queryStringParameters"] = dict(query) if query else None
    event["multiValueQueryStringParameters"] = (
        {k: [v] for k, v in query.items()} if query else None
    )
    context = event["requestContext"]
    context["httpMethod"] = method
    context["path"] = f"/{context['stage']}{path}"
    context["resourcePath"] = resource
    context["requestId"] = request_id or f"apigw-{uuid.uuid4()}"
    text, is_b64 = _body(body, base64_encode)
    event["body"] = text
    event["isBase64Encoded"] = is_b64
    return event


# --------------------------------------------------------------------------- EventBridge
def scheduled_event(time: str | None = None, rule: str | None = None,
                    region: str | None = None) -> dict[str, Any]:
    """An EventBridge scheduled event (what a ``Schedule`` event source sends) at ``time``
    (ISO 8601, e.g. "2026-11-28T06:00:00Z"; the template's epoch when None), from ``rule``
    in ``region`` (the template's ExampleRule in us-east-1 when None)."""
    event = template("scheduled_event.json")
    if time is not None:
        event["time"] = time
    if region is not None:
        event["region"] = region
    if rule is not None or region is not None:
        arn_region = event["region"]
        name = rule or event["resources"][0].rsplit("/", 1)[-1]
        event["resources"] = [f"arn:aws:events:{arn_region}:{event['account']}:rule/{name}"]
    return event


# --------------------------------------------------------------------------- responses
def response_json(response: Mapping[str, Any]) -> Any:
    """The JSON body of a handler response (decoding base64 if the handler encoded it)."""
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)


def decode_response(response: Any) -> Any:
    """An API Gateway response with its body decoded (base64 undone, JSON parsed when it is
    JSON); anything else (the drift job's summary) unchanged."""
    if not isinstance(response, Mapping) or "statusCode" not in response:
        return response
    decoded = dict(response)
    body = decoded.get("body")
    if isinstance(body, str):
        if decoded.get("isBase64Encoded"):
            raw = base64.b64decode(body)
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body = f"<{len(raw)} bytes of binary>"
            decoded["isBase64Encoded"] = False
        try:
            decoded["body"] = json.loads(body)
        except (json.JSONDecodeError, TypeError):
            decoded["body"] = body
    return decoded


# --------------------------------------------------------------------------- request bodies
def to_application(row: Mapping[str, Any], client_id: int | None = None) -> dict[str, Any]:
    """A JSON-ready application from a CSV/DataFrame row (NaN/'' -> null, kinds per schema)."""
    import math

    from contract import schema

    app: dict[str, Any] = {}
    for f in schema.FIELDS:
        if f.name == schema.ID_FIELD and client_id is not None:
            app[f.name] = client_id
            continue
        value = row.get(f.name)
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            app[f.name] = None
        elif f.kind == "category":
            app[f.name] = str(value)
        elif f.kind == "integer":
            app[f.name] = int(float(value))
        else:
            app[f.name] = float(value)
    return app


def reference_applications(bundle_dir: Path | str, n: int, first_id: int = 100_001
                           ) -> list[dict[str, Any]]:
    """``n`` valid applications from the bundle's reference sample (ids first_id, ...)."""
    import csv
    import gzip

    from contract.bundle import REFERENCE_FILE

    with gzip.open(Path(bundle_dir) / REFERENCE_FILE, "rt", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            rows.append(row)
            if len(rows) == n:
                break
    if len(rows) < n:  # a small reference sample: cycle through it
        rows = [rows[i % len(rows)] for i in range(n)]
    return [to_application(row, first_id + i) for i, row in enumerate(rows)]
