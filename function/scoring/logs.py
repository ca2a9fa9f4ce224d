"""Structured logs: one JSON object per line on stdout (CloudWatch keeps each line as an event).

Only operational facts are logged: request ids, route, status, latency, decisions, counts,
the model version and fault descriptions. Never applicant field values and never the raw
SK_ID_CURR: callers pass only such facts, and ``emit`` has no way to receive a request body.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER_NAME = "scoring"


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """A stream handler that writes to the *current* sys.stdout (or a stream set by tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.target: TextIO | None = None

    @property
    def stream(self) -> TextIO:
        return self.target if self.target is not None else sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it
        pass


_handler = _StdoutHandler()
_handler.setFormatter(logging.Formatter("%(message)s"))
logger = logging.getLogger(LOGGER_NAME)
logger.addHandler(_handler)
logger.setLevel(logging.INFO)
logger.propagate = False


#: AWS SDK loggers: at DEBUG, botocore logs request headers, including the Lambda role's
#: session token (X-Amz-Security-Token), and urllib3 logs request lines.
AWS_SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")


def quiet_aws_sdk_loggers() -> None:
    """Pin the AWS SDK loggers at WARNING (called before the function creates a boto3
    client), so a DEBUG root logger can never write credentials to the logs."""
    for name in AWS_SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def set_stream(stream: TextIO | None) -> None:
    """Send the JSON lines to ``stream`` (None: back to sys.stdout). For tests and benchmarks."""
    _handler.target = stream


def emit(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Write one JSON line: {"ts", "level", "event", **fields}."""
    if not logger.isEnabledFor(level):
        return
    record = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": logging.getLevelName(level).lower(),
        "event": event,
        **fields,
    }
    logger.log(level, json.dumps(record, separators=(",", ":"), default=str))
