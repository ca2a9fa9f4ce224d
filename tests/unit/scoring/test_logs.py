"""Structured logs (scoring/logs.py over contract/logs.py): one JSON object per line, levels,
the stream switch, the level from AWS_LAMBDA_LOG_LEVEL and the AWS SDK loggers pinned above
DEBUG. What may be logged (never applicant values) is
checked end to end in tests/functional/scoring/test_log_hygiene.py."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from pathlib import Path

import pytest

from scoring import logs


@pytest.fixture
def stream():
    buffer = io.StringIO()
    logs.set_stream(buffer)
    yield buffer
    logs.set_stream(None)


def test_emit_writes_one_json_line(stream):
    logs.emit("request", route="/predict", status=200, latency_ms=1.5)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert list(record) == ["timestamp", "level", "logger", "event", "lambda_request_id",
                            "cold_start", "route", "status", "latency_ms"]
    assert (record["level"], record["event"], record["logger"]) == ("info", "request", "scoring")
    assert (record["route"], record["status"], record["latency_ms"]) == ("/predict", 200, 1.5)
    stamp = datetime.fromisoformat(record["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert " " not in line  # compact separators


def test_levels(stream):
    logs.emit("capture_failed", level=logging.WARNING, reason="timeout")
    logs.emit("noise", level=logging.DEBUG)  # below the scoring logger's INFO
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [(x["event"], x["level"]) for x in lines] == [("capture_failed", "warning")]


def test_aws_lambda_log_level_changes_what_the_scoring_logger_emits(stream, monkeypatch):
    try:
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
        logs.configure()
        logs.emit("noise", level=logging.DEBUG)
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
        logs.configure()
        logs.emit("request")
        logs.emit("capture_failed", level=logging.WARNING)
    finally:
        monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL")
        logs.configure()
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == [
        "noise", "capture_failed"]


def test_values_that_are_not_json_are_written_as_text(stream):
    logs.emit("model_loaded", path=Path("/var/task/model"), error=ValueError("bad card"))
    record = json.loads(stream.getvalue())
    assert (record["path"], record["error"]) == ("/var/task/model", "bad card")


def test_without_a_stream_lines_go_to_the_current_stdout(capsys):
    logs.set_stream(None)
    logs.emit("startup", version="7")
    out = capsys.readouterr().out  # capsys swaps sys.stdout: the handler follows it
    assert json.loads(out)["version"] == "7"


def test_the_scoring_logger_does_not_propagate():
    """Its lines reach stdout once: not again through the root logger's handlers."""
    assert logging.getLogger(logs.LOGGER_NAME).propagate is False


def test_aws_sdk_loggers_are_pinned_at_warning():
    saved = {name: logging.getLogger(name).level for name in logs.AWS_SDK_LOGGERS}
    try:
        for name in logs.AWS_SDK_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        logs.quiet_aws_sdk_loggers()
        assert {logging.getLogger(n).level for n in logs.AWS_SDK_LOGGERS} == {logging.WARNING}
        assert "botocore" in logs.AWS_SDK_LOGGERS  # it logs request headers at DEBUG
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
