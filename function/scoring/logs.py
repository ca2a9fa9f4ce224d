"""The scoring function's logger: contract.logs's JSON lines under the name ``scoring``.

Only operational facts are logged: request ids, route, status, latency, decisions, counts,
the model version and fault descriptions. Never applicant field values and never the raw
SK_ID_CURR: callers pass only such facts, and ``emit`` has no way to receive a request body.
"""

from __future__ import annotations

import logging
from typing import Any

from contract.logs import AWS_SDK_LOGGERS, get_logger, quiet_aws_sdk_loggers, set_stream
from contract.logs import emit as emit_line

LOGGER_NAME = "scoring"
logger = logging.getLogger(LOGGER_NAME)


def configure() -> logging.Logger:
    """(Re)attach the JSON handler and read AWS_LAMBDA_LOG_LEVEL (at import and in tests)."""
    return get_logger(LOGGER_NAME)


def emit(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Write one JSON line (contract.logs) on the scoring logger."""
    emit_line(logger, event, level, **fields)


configure()

__all__ = ["AWS_SDK_LOGGERS", "LOGGER_NAME", "configure", "emit", "logger",
           "quiet_aws_sdk_loggers", "set_stream"]
