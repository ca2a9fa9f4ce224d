"""API Gateway proxy events for driving the Lambda handler in tests and benchmarks.

The templates are verbatim ``sam local generate-event`` output (SAM CLI 1.170.0):

* ``apigw_http_api_v2.json``: ``sam local generate-event apigateway http-api-proxy``
* ``apigw_rest_v1.json``:     ``sam local generate-event apigateway aws-proxy``

``http_api_event`` / ``rest_api_event`` copy a template and set only what a real request
changes (method, path, query string, body, headers, ids), keeping every other key as SAM
makes it.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

EVENTS_DIR = Path(__file__).resolve().parent
_V2 = json.loads((EVENTS_DIR / "apigw_http_api_v2.json").read_text())
_V1 = json.loads((EVENTS_DIR / "apigw_rest_v1.json").read_text())


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda runtime's context object that code may read."""

    function_name: str = "ScoringFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:ScoringFunction"
    )
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/ScoringFunction"
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _body(body: bytes | str | dict[str, Any] | list[Any] | None, base64_encode: bool
          ) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if isinstance(body, dict | list):
        body = json.dumps(body)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if base64_encode or isinstance(body, bytes):
        return base64.b64encode(raw).decode("ascii"), True
    return body, False


def http_api_event(
    method: str,
    path: str,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    query: dict[str, str] | str | None = None,
    headers: dict[str, str] | None = None,
    base64_encode: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload v2.0) event. ``bytes`` bodies are sent base64-encoded, as
    API Gateway does for binary payloads; ``str``/JSON bodies as text unless asked."""
    event = copy.deepcopy(_V2)
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
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
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
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    base64_encode: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A REST API (v1 proxy) event, ``/{proxy+}`` resource on stage ``prod``."""
    event = copy.deepcopy(_V1)
    event["path"] = path
    event["httpMethod"] = method
    event["pathParameters"] = {"proxy": path.lstrip("/")}
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
    context["requestId"] = request_id or f"apigw-{uuid.uuid4()}"
    text, is_b64 = _body(body, base64_encode)
    event["body"] = text
    event["isBase64Encoded"] = is_b64
    return event


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a handler response (decoding base64 if the handler encoded it)."""
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)


# ------------------------------------------------------------------------ applications
def to_application(row: dict[str, Any], client_id: int | None = None) -> dict[str, Any]:
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


def reference_applications(bundle_dir: Path, n: int, first_id: int = 100_001
                           ) -> list[dict[str, Any]]:
    """``n`` valid applications from the bundle's reference.csv.gz (ids first_id, ...)."""
    import csv
    import gzip

    with gzip.open(Path(bundle_dir) / "reference.csv.gz", "rt", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            rows.append(row)
            if len(rows) == n:
                break
    if len(rows) < n:  # a small reference sample: cycle through it
        rows = [rows[i % len(rows)] for i in range(n)]
    return [to_application(row, first_id + i) for i, row in enumerate(rows)]
