"""Log hygiene: no raw SK_ID_CURR, no applicant value and no secret in any log output.

Predictions run through the Lambda handler (``scoring.handler.ScoringMangum`` over ``create_app()``
configured from the environment, as in Lambda) with inference capture ON, sending to a moto
Firehose delivery stream; the environment holds a CAPTURE_HASH_KEY and AWS credentials
with distinctive values. Requests: a single prediction, a batch (both captured), a 422
(invalid values), a 400 (a truncated body full of applicant values) and a capture fault (a
missing stream: the error is logged). Every byte of output is collected: the scoring JSON
lines, every record of every logger (the root logger, the library loggers: botocore,
urllib3, ...), and the process's stdout/stderr; then it is searched for each distinctive
value in several spellings.

* At INFO (the template's default ApplicationLogLevel: the scoring logger logs INFO, and
  the root logger stays at WARNING) nothing may leak.
* At DEBUG (the root logger at DEBUG, as a Lambda application log level of DEBUG would set
  it) nothing may leak either: botocore logs request headers at DEBUG, including
  ``X-Amz-Security-Token`` (the role's session token), so the serving code pins the AWS SDK
  loggers at WARNING (scoring.logs.AWS_SDK_LOGGERS); this test fails if that pin goes.

Complements test_handler.py::test_logs_hold_no_applicant_values (capture off, the scoring
stream only), test_capture.py::test_capture_logs_hold_no_applicant_values, the monitor's
tests/functional/drift/test_handler.py::test_monitor_logs_hold_no_applicant_values and the
unit tests of contract/logs.py and scoring/logs.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
from scoring import logs
from scoring.api import create_app
from tests.firehose import STREAM, create_stream, delivered_records

SECRETS = {
    "CAPTURE_HASH_KEY": "hk-LogHygiene-7d1e5c09b3a24f68",
    "AWS_ACCESS_KEY_ID": "AKIALOGHYGIENE7Q2Z",
    "AWS_SECRET_ACCESS_KEY": "LogHygiene/Secret+Key/4b1d7e2f9a0c3e5d7f91",
    "AWS_SESSION_TOKEN": "LogHygieneSessionToken//8c7b6a5f4e3d2c1b0a99",
}
#: Distinctive applicant values (each unlikely to appear in a log by coincidence).
IDS = [918_273_645, 918_273_646, 918_273_647]
VALUES: dict[str, Any] = {
    "AMT_INCOME_TOTAL": 123_457.25,
    "AMT_CREDIT": 654_321.125,
    "AMT_ANNUITY": 31_415.875,
    "EXT_SOURCE_2": 0.7364519283746501,
    "EXT_SOURCE_3": 0.2718281828459045,
    "DAYS_BIRTH": -13_579,
    "DAYS_EMPLOYED": -2_468,
    "ORGANIZATION_TYPE": "Industry: type 11",
    "NAME_TYPE_SUITE": "Spouse, partner",
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, self.format(record)))  # includes any traceback


def _needles() -> dict[str, str]:
    """Every forbidden string -> what it is."""
    found: dict[str, str] = {value: name for name, value in SECRETS.items()}
    for client_id in IDS:
        found[str(client_id)] = "SK_ID_CURR"
    for name, value in VALUES.items():
        for spelling in {str(value), json.dumps(value), repr(value)}:
            found[spelling.strip('"')] = name
    found["Zorglub-LogHygiene"] = "CODE_GENDER (invalid value)"
    found["98765.4321"] = "AMT_GOODS_PRICE (invalid value)"
    return found


@pytest.fixture
def applications(trained_bundle: Path) -> list[dict[str, Any]]:
    base = reference_applications(trained_bundle, len(IDS))
    return [{**app, **VALUES, "SK_ID_CURR": client_id} for app, client_id in
            zip(base, IDS, strict=True)]


@pytest.fixture
def lambda_env(monkeypatch, trained_bundle: Path) -> Iterator[Any]:
    """The function's environment (capture on, secrets set), a moto stream and its bucket."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    monkeypatch.setenv("CAPTURE_STREAM", STREAM)
    monkeypatch.delenv("MODEL_S3_URI", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        create_stream(boto3.client("firehose", region_name="us-east-1"), s3)
        yield s3


def _run_requests(applications: list[dict[str, Any]], level: int
                  ) -> tuple[str, list[Any], dict[str, int]]:
    """Run the requests (and flush the captures) with every logger at ``level``; returns
    (all output, records, capture counters)."""
    from scoring.handler import ScoringMangum

    collect = _Collect()
    stream = io.StringIO()
    root = logging.getLogger()
    scoring_logger = logging.getLogger(logs.LOGGER_NAME)
    saved = (root.level, scoring_logger.level)
    root.addHandler(collect)
    scoring_logger.addHandler(collect)  # it does not propagate to the root
    root.setLevel(level)
    scoring_logger.setLevel(min(level, logging.INFO))
    logs.set_stream(stream)
    try:
        app = create_app()
        handler = ScoringMangum(app, lifespan="off")
        single, batch = applications[0], applications
        responses = [
            handler(http_api_event("POST", "/predict", body=single), FakeLambdaContext()),
            handler(http_api_event("POST", "/predict/batch", body={"applications": batch},
                                   query={"reasons": "10"}), FakeLambdaContext()),
            handler(http_api_event("POST", "/predict", body=json.dumps(
                {**single, "CODE_GENDER": "Zorglub-LogHygiene"}).replace(
                str(VALUES["AMT_ANNUITY"]), '"98765.4321"')), FakeLambdaContext()),
            handler(http_api_event("POST", "/predict", body=json.dumps(single)[:-25]),
                    FakeLambdaContext()),
        ]
        app.state.service.capture.producer.flush(10)
        stats = app.state.service.capture.stats()
    finally:
        logs.set_stream(None)
        root.removeHandler(collect)
        scoring_logger.removeHandler(collect)
        root.setLevel(saved[0])
        scoring_logger.setLevel(saved[1])
    assert [r["statusCode"] for r in responses] == [200, 200, 422, 400]
    text = stream.getvalue() + "\n".join(line for _, line in collect.records)
    return text, collect.records, stats


def _leaks(text: str) -> dict[str, str]:
    return {needle: what for needle, what in _needles().items() if needle in text}


def test_no_applicant_value_id_or_secret_in_any_log_at_info(lambda_env, applications, capfd):
    text, _, stats = _run_requests(applications, logging.INFO)
    out, err = capfd.readouterr()
    # The captures were really sent (so the capture path ran and logged).
    assert len(delivered_records(lambda_env)) == 4
    assert stats["sent"] == 4
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert [x["status"] for x in lines if x.get("event") == "request"] == [200, 200, 422, 400]
    assert _leaks(text + out + err) == {}


def test_capture_fault_logs_no_value_id_or_secret(lambda_env, applications, monkeypatch,
                                                  capfd):
    monkeypatch.setenv("CAPTURE_STREAM", "no-such-stream-log-hygiene")
    text, _, stats = _run_requests(applications, logging.INFO)
    out, err = capfd.readouterr()
    assert stats["failed"] == 4
    assert '"capture_failed"' in text and "ResourceNotFoundException" in text
    assert _leaks(text + out + err) == {}


def test_no_leak_at_debug_level_either(lambda_env, applications, monkeypatch, capfd):
    for name in logs.AWS_SDK_LOGGERS:  # as in a fresh process: the app must pin them itself
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    text, records, stats = _run_requests(applications, logging.DEBUG)
    out, err = capfd.readouterr()
    assert stats["sent"] == 4
    leaks = {name: _leaks(line) for name, line in records if _leaks(line)}
    assert leaks == {}, f"leaks at DEBUG, by logger: {leaks}"
    assert _leaks(text + out + err) == {}


def test_the_scan_has_teeth(lambda_env, applications, monkeypatch, capfd):
    """Plant values in the three channels (scoring JSON line, a library logger, stderr):
    the scan must find each."""
    import sys

    from scoring import routes

    real_score = routes.score

    def leaky_score(bundle: Any, apps: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
        logs.emit("planted", client=apps[0]["SK_ID_CURR"])
        logging.getLogger("botocore.planted").warning("income %s", apps[0]["AMT_INCOME_TOTAL"])
        print(f"key={SECRETS['CAPTURE_HASH_KEY']}", file=sys.stderr)
        return real_score(bundle, apps, k)

    monkeypatch.setattr(routes, "score", leaky_score)
    text, _, _ = _run_requests(applications, logging.INFO)
    out, err = capfd.readouterr()
    assert set(_leaks(text + out + err).values()) == {
        "SK_ID_CURR", "AMT_INCOME_TOTAL", "CAPTURE_HASH_KEY"}
