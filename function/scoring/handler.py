"""AWS Lambda entry point of the scoring function: ``Handler: scoring.handler.handler``.

``handler`` is Mangum over the FastAPI app (API Gateway HTTP API v2 and REST v1 proxy
events). Cold start loads the model bundle and runs one request's path end to end, so the
first real request finds a warm onnxruntime session and warm code:

* on SnapStart, in the runtime's before-snapshot hook (the primed state is snapshotted;
  after a restore only the Firehose client of inference capture is recreated);
* otherwise at import, during the Lambda init phase.

A bundle that cannot be loaded never crashes the import: /health and /predict answer 503
with the reason (and the load is retried on demand, see scoring.service.RETRY_AFTER_S).
"""

from __future__ import annotations

import binascii
import gc
import json
import logging
import os
from typing import TYPE_CHECKING, Any, cast

# One request at a time per execution environment: BLAS threads would only cost cold start
# (OpenBLAS sizes its thread pool when numpy loads). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Start-up builds many long-lived objects (Pydantic/FastAPI models, the ONNX session): no
# garbage-collector passes until the function is primed (docs/decisions.md, "Serving").
gc.disable()

from mangum import Mangum  # noqa: E402

from contract.logs import restored, start_invocation  # noqa: E402
from scoring import logs  # noqa: E402
from scoring.api import create_app  # noqa: E402
from scoring.firehose import install_sigterm_flush  # noqa: E402

if TYPE_CHECKING:
    from mangum.types import LambdaContext as MangumContext

    from contract.aws import LambdaContext
    from scoring.service import Service

logs.configure()  # the level from AWS_LAMBDA_LOG_LEVEL
app = create_app()
service: Service = app.state.service
if service.capture is not None:
    # Flush the buffered captures on SIGTERM (Lambda sends it when an extension is present).
    install_sigterm_flush(service.capture.producer)


class ScoringMangum(Mangum):
    """Mangum that answers a malformed API Gateway event with a JSON 400 instead of raising.

    (Mangum raises before the app runs on, e.g., an ``isBase64Encoded`` body that is not
    base64 or an event it cannot recognise; Lambda would turn that into a 502.)
    """

    def __call__(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        start_invocation(context)
        try:
            return super().__call__(event, cast("MangumContext", context))
        except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError, AttributeError,
                RuntimeError) as exc:
            logs.emit("bad_event", logging.WARNING, exception=type(exc).__name__,
                      lambda_request_id=getattr(context, "aws_request_id", None))
            return _event_error(event, str(exc) if isinstance(exc, binascii.Error) else
                                "malformed API Gateway event")


def _event_error(event: Any, message: str) -> dict[str, Any]:
    body = json.dumps({"detail": [{"loc": [], "field": "body", "msg": message,
                                   "type": "bad_event"}], "fields": ["body"]})
    response: dict[str, Any] = {
        "statusCode": 400,
        "headers": {"content-type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
    }
    if not (isinstance(event, dict) and event.get("version") == "2.0"):
        response["multiValueHeaders"] = {}
    return response


handler = ScoringMangum(app, lifespan="off")


def _register_snapstart_hooks() -> bool:
    """Register the SnapStart hooks when running in the Lambda runtime; True if registered."""
    try:
        from snapshot_restore_py import (
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:  # not in the Lambda runtime (tests, uvicorn, benchmarks)
        return False
    register_before_snapshot(service.prime)
    register_after_restore(_after_restore)
    return True


def _after_restore() -> None:
    """After a SnapStart restore: the next invocation is a cold start; fresh clients."""
    restored()
    service.after_restore()


try:
    _hooks = _register_snapstart_hooks()
    if not (_hooks and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"):
        service.prime()
finally:
    gc.freeze()  # what start-up built lives as long as the process: keep it out of GC scans
    gc.enable()

__all__ = ["app", "handler", "service"]
