"""CodeDeploy PreTraffic hook of the scoring function: the golden set must pass before a new
version takes any traffic.

CodeDeploy invokes this function (``pretraffic.handler``) once the new version is published
and before the ``live`` alias shifts traffic to it. The hook calls that version directly,
with the events API Gateway (HTTP API, payload 2.0) sends:

1. ``GET /health`` must answer 200 with status ``ok`` and the model_version the hook was
   built for;
2. ``POST /predict/batch?reasons=0`` with the golden set's applications: every probability
   within ``probability_tolerance`` (1e-9) of the golden value and every decision equal.

It then reports Succeeded or Failed to CodeDeploy (Failed rolls the deployment back).

The hook reads nothing but its own package: ``sam build`` (infra/hooks/Makefile, running
infra/build_hook.py) puts the golden set of the bundle named by ``HOOK_BUNDLE`` next to this
file, checked against that bundle's card, with :data:`EXPECTATIONS_FILE` (the card's
model_version and golden_sha256, and the golden set's file name). The golden set's sha256 is
checked again here before any call.

Packaged with contract/logs.py (its JSON log lines, the style of every function here):
standard library and the runtime's boto3 only.

Environment: TARGET_FUNCTION (the new version's ARN).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.logs import emit, get_logger, start_invocation

log = get_logger("pretraffic")

#: Written by the build next to this file: model_version, golden_sha256, golden_file.
EXPECTATIONS_FILE = "hook_expectations.json"
#: The directory the build packaged this file in, with the golden set and the expectations.
PACKAGE_DIR = Path(__file__).resolve().parent
BATCH_LIMIT = 1_000
#: At most this many mismatches are listed in the report (all are counted).
MAX_LISTED = 10


class HookFailure(Exception):
    """The new version must not take traffic; str(exc) says why."""


def api_event(method: str, path: str, body: Any = None, query: str = "") -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) proxy event, as the scoring route receives it."""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "accept": "application/json",
                    "user-agent": "codedeploy-pretraffic-hook"},
        "requestContext": {
            "accountId": "pretraffic", "apiId": "pretraffic", "domainName": "pretraffic.local",
            "domainPrefix": "pretraffic", "requestId": f"pretraffic-{int(now * 1e6)}",
            "routeKey": f"{method} {path}", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "codedeploy-pretraffic-hook"},
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if body is not None:
        event["body"] = json.dumps(body, separators=(",", ":"))
    return event


def call(invoke: Callable[[dict[str, Any]], dict[str, Any]], event: dict[str, Any]
         ) -> tuple[int, Any]:
    """(status code, parsed JSON body) of one API response from the function."""
    response = invoke(event)
    status = int(response.get("statusCode", 0))
    try:
        return status, json.loads(response.get("body") or "null")
    except ValueError:
        raise HookFailure(f"{event['routeKey']} answered {status} with a non-JSON body") from None


def read_package(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(expectations, golden set) packaged with the hook; the golden set must still have the
    sha256 recorded when the package was built."""
    try:
        expected = json.loads((directory / EXPECTATIONS_FILE).read_bytes())
        data = (directory / expected["golden_file"]).read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise HookFailure(f"the hook's package in {directory} has no golden set and "
                          f"expectations ({exc}): build it with sam build") from None
    if hashlib.sha256(data).hexdigest() != expected.get("golden_sha256"):
        raise HookFailure(f"the packaged {expected['golden_file']} does not match the "
                          "golden_sha256 recorded when the hook was built")
    return expected, json.loads(data)


def check_health(invoke: Callable[[dict[str, Any]], dict[str, Any]],
                 version: str) -> dict[str, Any]:
    status, body = call(invoke, api_event("GET", "/health"))
    if status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        reason = body.get("reason") if isinstance(body, dict) else body
        raise HookFailure(f"/health answered {status}: {reason}")
    served = str(body.get("model_version"))
    if served != version:
        raise HookFailure(f"hook built with the golden set of model {version}, the new version "
                          f"serves {served}: build with HOOK_BUNDLE=<the bundle of model "
                          f"{served}, e.g. artifacts/promoted/{served}> sam build")
    return body


def check_golden(invoke: Callable[[dict[str, Any]], dict[str, Any]],
                 golden: dict[str, Any]) -> dict[str, Any]:
    """Replay the golden set; raises HookFailure listing the mismatches."""
    rows = golden["rows"]
    tolerance = float(golden.get("probability_tolerance", 1e-9))
    max_diff, mismatches, decisions = 0.0, [], 0
    for start in range(0, len(rows), BATCH_LIMIT):
        chunk = rows[start : start + BATCH_LIMIT]
        status, body = call(invoke, api_event(
            "POST", "/predict/batch", {"applications": [r["application"] for r in chunk]},
            "reasons=0"))
        if status != 200:
            raise HookFailure(f"/predict/batch answered {status}: {json.dumps(body)[:300]}")
        predictions = body["predictions"]
        if len(predictions) != len(chunk):
            raise HookFailure(f"{len(predictions)} predictions for {len(chunk)} applications")
        for offset, (want, got) in enumerate(zip(chunk, predictions, strict=True)):
            diff = abs(float(got["probability_default"]) - float(want["probability_default"]))
            max_diff = max(max_diff, diff)
            decision_differs = got["decision"] != want["decision"]
            decisions += decision_differs
            if diff > tolerance or decision_differs:
                mismatches.append({"row": start + offset, "abs_diff": diff,
                                   "expected": want["decision"], "got": got["decision"]})
    report = {"rows": len(rows), "max_abs_diff_probability": max_diff,
              "decisions_differing": decisions, "mismatches": len(mismatches)}
    if mismatches:
        raise HookFailure(f"golden set: {len(mismatches)} of {len(rows)} applications differ "
                          f"(max |dP| {max_diff:.3g}, {decisions} decisions differ): "
                          f"{json.dumps(mismatches[:MAX_LISTED])}")
    return report


def lambda_invoker(client: Any, function: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Synchronous invocation of one function version, returning its API response."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result = client.invoke(FunctionName=function, InvocationType="RequestResponse",
                               Payload=json.dumps(event).encode("utf-8"))
        payload = result["Payload"].read()
        if result.get("FunctionError"):
            raise HookFailure(f"{function} raised ({result['FunctionError']}): {payload[:300]!r}")
        response = json.loads(payload)
        if not isinstance(response, dict):
            raise HookFailure(f"{function} returned {payload[:300]!r}, not an API response")
        return response

    return invoke


def run_checks(env: dict[str, str], invoke: Callable[[dict[str, Any]], dict[str, Any]],
               package_dir: Path = PACKAGE_DIR) -> dict[str, Any]:
    """Every check of the hook; raises HookFailure on the first that fails."""
    started = time.perf_counter()
    expected, golden = read_package(package_dir)
    report: dict[str, Any] = {"target": env.get("TARGET_FUNCTION"),
                              "model_version": expected["model_version"]}
    report["health"] = check_health(invoke, str(expected["model_version"])).get("model_version")
    report["golden"] = check_golden(invoke, golden)
    report["duration_ms"] = round((time.perf_counter() - started) * 1e3, 1)
    return report


def handle(event: dict[str, Any], env: dict[str, str], lambda_client: Any, codedeploy: Any,
           package_dir: Path = PACKAGE_DIR) -> dict[str, Any]:
    """Run the checks and report the outcome to CodeDeploy (Failed on any error)."""
    report: dict[str, Any]
    try:
        report = run_checks(env, lambda_invoker(lambda_client, env["TARGET_FUNCTION"]),
                            package_dir)
        status = "Succeeded"
    except Exception as exc:  # every failure, expected or not, must fail the deployment
        report = {"target": env.get("TARGET_FUNCTION"), "error": f"{type(exc).__name__}: {exc}"}
        status = "Failed"
    report["status"] = status
    emit(log, "pretraffic", **report)
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status)
    return report


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3  # in the Lambda runtime

    start_invocation(context)
    return handle(event, dict(os.environ), boto3.client("lambda"), boto3.client("codedeploy"))
