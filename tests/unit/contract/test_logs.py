"""contract/logs.py: the JSON line every Lambda writes (level, logger, Lambda request id,
cold_start), the level from AWS_LAMBDA_LOG_LEVEL, and child loggers formatted alike."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest

from contract import logs
from infra.lambda_events import FakeLambdaContext


@pytest.fixture
def stream():
    buffer = io.StringIO()
    logs.set_stream(buffer)
    yield buffer
    logs.set_stream(None)
    logs.restored()


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_carries_level_logger_request_id_and_cold_start(stream):
    logger = logs.get_logger("unit-a", env={})
    logs.restored()
    logs.emit(logger, "before")  # init phase: no invocation yet
    logs.start_invocation(FakeLambdaContext(aws_request_id="req-1"))
    logs.emit(logger, "first", rows=3)
    logs.start_invocation(FakeLambdaContext(aws_request_id="req-2"))
    logs.emit(logger, "second", logging.WARNING)
    init, first, second = lines(stream)
    assert list(first) == ["timestamp", "level", "logger", "event", "lambda_request_id",
                           "cold_start", "rows"]
    assert (init["lambda_request_id"], init["cold_start"]) == (None, True)
    assert (first["event"], first["level"], first["logger"]) == ("first", "info", "unit-a")
    assert (first["lambda_request_id"], first["cold_start"], first["rows"]) == ("req-1", True, 3)
    assert (second["lambda_request_id"], second["cold_start"], second["level"]) == (
        "req-2", False, "warning")
    stamp = datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0


def test_a_snapstart_restore_makes_the_next_invocation_a_cold_start(stream):
    logger = logs.get_logger("unit-b", env={})
    logs.start_invocation(FakeLambdaContext())
    logs.start_invocation(FakeLambdaContext())
    logs.restored()
    logs.start_invocation(FakeLambdaContext(aws_request_id="after-restore"))
    logs.emit(logger, "x")
    assert lines(stream)[0]["cold_start"] is True


@pytest.mark.parametrize(("setting", "emitted"), [
    ("", ["info", "warning", "error"]),
    ("DEBUG", ["debug", "info", "warning", "error"]),
    ("TRACE", ["debug", "info", "warning", "error"]),
    ("WARN", ["warning", "error"]),
    ("ERROR", ["error"]),
    ("bogus", ["info", "warning", "error"]),
])
def test_aws_lambda_log_level_decides_what_is_emitted(stream, setting, emitted):
    logger = logs.get_logger("unit-level", env={logs.LEVEL_ENV: setting})
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
        logs.emit(logger, "e", level)
    assert [x["level"] for x in lines(stream)] == emitted


def test_the_level_is_read_from_the_process_environment(stream, monkeypatch):
    monkeypatch.setenv(logs.LEVEL_ENV, "ERROR")
    assert logs.get_logger("unit-env").level == logging.ERROR
    monkeypatch.delenv(logs.LEVEL_ENV)
    assert logs.get_logger("unit-env").level == logging.INFO


def test_child_loggers_and_plain_calls_write_the_same_json(stream):
    logs.get_logger("unit-parent", env={})
    child = logging.getLogger("unit-parent.child")
    child.warning("skipped capture %s: %s", "captures/k.gz", "bad gzip")
    try:
        raise ValueError("boom")
    except ValueError:
        child.exception("cleanup failed")
    warning, error = lines(stream)
    assert (warning["logger"], warning["event"], warning["level"]) == (
        "unit-parent.child", "skipped capture captures/k.gz: bad gzip", "warning")
    assert (error["exception"], "boom" in error["traceback"]) == ("ValueError", True)


def test_a_line_goes_out_once_and_values_that_are_not_json_are_text(stream, capsys):
    logger = logs.get_logger("unit-c", env={})
    logs.get_logger("unit-c", env={})  # configuring twice adds no second handler
    logs.emit(logger, "e", error=ValueError("bad card"))
    (record,) = lines(stream)
    assert record["error"] == "bad card"
    assert logger.propagate is False and capsys.readouterr().err == ""
