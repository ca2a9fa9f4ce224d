"""Docker-free local invocation: run a Lambda handler in-process on an event file.

    python -m infra.invoke infra/events/predict_valid.json [--function Scoring|Drift|Outcomes]

The function is picked from the event's shape unless ``--function`` says: API Gateway
events (REST payload 1.0 or HTTP API payload 2.0) go to the scoring function's
``scoring.handler.handler``, EventBridge scheduled events to ``drift.handler.handler`` (the
outcomes schedule's, whose rule is named ...OutcomesFunction..., to
``drift.outcomes_handler.handler``). Without REPORT_BUCKET a scheduled event runs the whole
job locally on a moto server (infra.local_drift, infra.local_outcomes).
The handler runs with a fake Lambda context and the current environment (MODEL_DIR,
CAPTURE_STREAM, REPORT_BUCKET, ...); the response is printed as pretty JSON with an API
response's body decoded (base64 undone, JSON parsed) on stdout; what the handler itself
writes to stdout (its JSON log lines, the drift job's EMF line) goes to stderr, so the
response can be piped (``| jq .body``). The exit status is 0 unless the handler raised; an
AWS set-up problem (no region, no credentials) is one sentence on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from contract.aws_errors import explain
from infra.lambda_events import FakeLambdaContext, decode_response

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Logical id in template.yaml -> "module:attribute" of its handler.
HANDLERS = {"Scoring": "scoring.handler:handler", "Drift": "drift.handler:handler",
            "Outcomes": "drift.outcomes_handler:handler"}
#: Memory (MB) and timeout (s) as deployed (template.yaml defaults).
LIMITS = {"Scoring": (1024, 10), "Drift": (3008, 900), "Outcomes": (3008, 900)}


def detect_function(event: Mapping[str, Any]) -> str:
    """"Scoring" for an API Gateway proxy event, "Outcomes" for the outcomes schedule's
    event (its rule's name), "Drift" for another scheduled event."""
    if "httpMethod" in event or "routeKey" in event or "requestContext" in event:
        return "Scoring"
    if event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.events":
        if any("Outcomes" in str(r) for r in event.get("resources") or ()):
            return "Outcomes"
        return "Drift"
    raise ValueError(
        "cannot tell the function from the event (neither an API Gateway proxy event nor "
        "a scheduled event): pass --function Scoring|Drift"
    )


def load_handler(function: str) -> Callable[[dict[str, Any], Any], Any]:
    """Import a function's handler the way the Lambda runtime would."""
    if function not in HANDLERS:
        raise ValueError(f"unknown function {function!r}: choose from {sorted(HANDLERS)}")
    module_name, attribute = HANDLERS[function].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def invoke(event: dict[str, Any], function: str | None = None) -> Any:
    """Run the handler for ``event`` in-process and return its raw response."""
    function = function or detect_function(event)
    handler = load_handler(function)
    memory, timeout = LIMITS[function]
    context = FakeLambdaContext(f"credit-scoring-{function.lower()}", memory, timeout)
    return handler(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Invoke a Lambda handler in-process.")
    parser.add_argument("event", type=Path, help="event JSON file (see infra/events/)")
    parser.add_argument("--function", choices=sorted(HANDLERS), help="default: from the event")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    function = args.function or detect_function(event)
    if function in ("Drift", "Outcomes") and not os.environ.get("REPORT_BUCKET"):
        # no AWS configured: the whole job on a moto server
        from infra import local_drift, local_outcomes

        return (local_drift if function == "Drift" else local_outcomes).main([str(args.event)])
    try:
        with contextlib.redirect_stdout(sys.stderr):
            response = decode_response(invoke(event, args.function))
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        print(f"invoke: {message}", file=sys.stderr)
        return 1
    print(json.dumps(response, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
