"""One logging style for every Lambda: one JSON object per line on stdout.

Every line holds ``timestamp`` (RFC 3339, UTC), ``level`` (lower case, as Lambda's log-level
filter reads it), ``logger``, ``event``, ``lambda_request_id`` (None outside an invocation)
and ``cold_start`` (true from process start until the end of the first invocation, and again
after a SnapStart restore), then the caller's fields.

The level comes from ``AWS_LAMBDA_LOG_LEVEL`` (set by Lambda from the template's
``ApplicationLogLevel`` when the log format is JSON; default INFO). Only operational facts
are logged: callers pass counts, ids, routes, statuses and fault descriptions, never
applicant values (tests/functional/*/test_log_hygiene.py).

Standard library only: the scoring zip, the drift image and the PreTraffic hook's package
all ship it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

LEVEL_ENV = "AWS_LAMBDA_LOG_LEVEL"
#: Lambda's level names -> logging's (TRACE and FATAL have no logging equivalent).
LAMBDA_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
                 "WARN": logging.WARNING, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
                 "FATAL": logging.CRITICAL, "CRITICAL": logging.CRITICAL}
#: AWS SDK loggers: at DEBUG, botocore logs request headers, including the Lambda role's
#: session token (X-Amz-Security-Token), and urllib3 logs request lines.
AWS_SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")
_FIELDS = "log_fields"


class _Invocation:
    """What every line says about the current invocation (one at a time per process)."""

    request_id: str | None = None
    cold_start: bool = True
    invocations: int = 0


def start_invocation(context: object) -> None:
    """Call at the start of each Lambda invocation with its context object."""
    request_id = getattr(context, "aws_request_id", None)
    _Invocation.request_id = request_id if isinstance(request_id, str) else None
    _Invocation.cold_start = _Invocation.invocations == 0
    _Invocation.invocations += 1


def restored() -> None:
    """After a SnapStart restore: the next invocation is a cold start again."""
    _Invocation.invocations = 0
    _Invocation.cold_start = True
    _Invocation.request_id = None


def level_from_env(env: Mapping[str, str] | None = None) -> int:
    """The logging level named by AWS_LAMBDA_LOG_LEVEL; INFO when unset or unknown."""
    env = os.environ if env is None else env
    return LAMBDA_LEVELS.get(env.get(LEVEL_ENV, "").strip().upper(), logging.INFO)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line (see the module doc)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "lambda_request_id": _Invocation.request_id,
            "cold_start": _Invocation.cold_start,
        }
        line.update(getattr(record, _FIELDS, {}))
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, separators=(",", ":"), default=str)


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
_handler.setFormatter(JsonFormatter())


def get_logger(name: str, env: Mapping[str, str] | None = None) -> logging.Logger:
    """The JSON logger ``name`` (its children log through it), at AWS_LAMBDA_LOG_LEVEL.

    Calling it again re-reads the level. It does not propagate, so a line reaches stdout
    once, not again through the root logger the Lambda runtime configures.
    """
    logger = logging.getLogger(name)
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    logger.setLevel(level_from_env(env))
    logger.propagate = False
    return logger


def emit(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """One line: the common fields, ``event``, then ``fields``."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", event, extra={_FIELDS: fields})


def set_stream(stream: TextIO | None) -> None:
    """Send every JSON line to ``stream`` (None: back to sys.stdout). For tests and tools."""
    _handler.target = stream


def quiet_aws_sdk_loggers() -> None:
    """Pin the AWS SDK loggers at WARNING (call before creating a boto3 client), so a DEBUG
    level can never write credentials to the logs."""
    for name in AWS_SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
