"""The weekly drift Lambda's entry point: ``drift.handler.handler`` (template.yaml's
DriftFunction, an EventBridge schedule). The run itself is drift.drift_job; its settings
drift.config; its S3 and metric plumbing drift.publish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contract.logs import start_invocation
from drift.config import DriftConfig
from drift.drift_job import run
from drift.publish import s3_client

if TYPE_CHECKING:
    from contract.aws import LambdaContext


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (EventBridge scheduled event)."""
    start_invocation(context)
    config = DriftConfig.from_env()
    result = run(event, config, s3_client(config.read_workers + 2))
    return {k: result[k] for k in ("status", "reason", "window", "rows", "written", "timings_s")}
