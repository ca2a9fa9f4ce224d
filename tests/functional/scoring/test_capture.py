"""Inference capture through Firehose (moto, behind tests.firehose.LimitedFirehose which enforces
the service's limits): records in the drift job's format, nothing sent from the request
thread, packing within the limits, partial failures retried once, a full buffer drops and
counts, faults never fail the response, counters in /health."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from contract.capture_format import hash_key_id
from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
from scoring import capture, firehose
from scoring.api import create_app
from scoring.config import Settings
from tests.firehose import (
    STREAM,
    delivered_records,
)

KEY = b"test-hmac-key"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    return reference_applications(trained_bundle, 5, first_id=456_001)


def _settings(bundle: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {"model_dir": bundle, "capture_stream": STREAM,
                            "capture_hash_key": KEY, "capture_flush_s": 60.0}
    return Settings(**{**base, **kw})


def _app(bundle: Path, client: Any, **kw: Any) -> Any:
    return create_app(_settings(bundle, **kw), capture_client_factory=lambda: client)


def _flush(app: Any) -> dict[str, int]:
    writer = app.state.service.capture
    assert writer.producer.flush(10)
    return writer.stats()


def test_predict_captures_one_record_sent_later(stream, moto_s3, trained_bundle, apps):
    app = _app(trained_bundle, stream)
    client = TestClient(app)
    response = client.post("/predict", json=apps[0])
    assert response.status_code == 200
    assert stream.calls == []  # the request only buffered it
    assert app.state.service.capture.stats()["buffered"] == 1
    stats = _flush(app)
    assert (stats["buffered"], stats["sent"], stats["calls"]) == (0, 1, 1)
    (record,) = delivered_records(moto_s3)
    assert record["client_id_hash"] == hmac.new(KEY, b"456001", hashlib.sha256).hexdigest()
    assert record["hash_key_id"] == hash_key_id(KEY)
    assert record["request_id"] == response.headers["x-request-id"]
    assert record["probability"] == response.json()["probability_default"]
    assert record["decision"] == response.json()["decision"]
    assert record["model_version"] == response.json()["model_version"]
    assert record["features"] == {k: v for k, v in apps[0].items() if k != "SK_ID_CURR"}
    assert "456001" not in json.dumps(record)  # the raw id is never stored


def test_batch_records_are_packed_into_one_firehose_record(stream, moto_s3, trained_bundle,
                                                            apps):
    app = _app(trained_bundle, stream)
    response = TestClient(app).post("/predict/batch", json={"applications": apps})
    assert response.status_code == 200
    stats = _flush(app)
    assert (stats["sent"], stats["firehose_records"], stats["calls"]) == (5, 1, 1)
    records = delivered_records(moto_s3)
    assert [r["probability"] for r in records] == [
        p["probability_default"] for p in response.json()["predictions"]]
    assert {r["request_id"] for r in records} == {response.headers["x-request-id"]}
    assert len({r["client_id_hash"] for r in records}) == len(apps)


def test_the_lambda_handler_sends_nothing_on_the_request_thread(stream, moto_s3,
                                                                trained_bundle, apps,
                                                                log_lines):
    from scoring.handler import ScoringMangum

    app = _app(trained_bundle, stream, capture_flush_s=0.05)
    handler = ScoringMangum(app, lifespan="off")
    for i in range(20):
        event = http_api_event("POST", "/predict", body=apps[i % len(apps)])
        assert handler(event, FakeLambdaContext())["statusCode"] == 200
    deadline = time.monotonic() + 10
    while app.state.service.capture.stats()["sent"] < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.state.service.capture.stats()["sent"] == 20
    assert stream.calls and {c["thread"] for c in stream.calls} == {"capture-producer"}
    assert len(delivered_records(moto_s3)) == 20
    requests = [x for x in log_lines() if x["event"] == "request"]
    assert [x["capture"] for x in requests] == ["buffered"] * 20


def _denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}},
                       "PutRecordBatch")


class Raising:
    def __init__(self, error: BaseException) -> None:
        self.error, self.calls = error, 0

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        raise self.error


def test_faults_never_fail_the_response_and_are_counted(trained_bundle, apps, log_lines):
    fault = Raising(_denied())
    app = _app(trained_bundle, fault)
    client = TestClient(app)
    response = client.post("/predict/batch", json={"applications": apps})
    assert response.status_code == 200
    stats = _flush(app)
    assert fault.calls == 2  # the call and its one retry
    assert (stats["sent"], stats["retried"], stats["failed"]) == (0, 5, 5)
    health = client.get("/health").json()
    assert health["capture"]["enabled"] is True
    assert {k: health["capture"][k] for k in ("buffered", "sent", "retried", "dropped",
                                              "failed")} == {
        "buffered": 0, "sent": 0, "retried": 5, "dropped": 0, "failed": 5}
    (failure,) = [x for x in log_lines() if x["event"] == "capture_failed"]
    assert "AccessDeniedException" in failure["error"]
    text = json.dumps(log_lines())
    for app_fields in apps:
        assert str(app_fields["SK_ID_CURR"]) not in text
    assert "Cash loans" not in text and "AMT_CREDIT" not in text


def test_client_creation_failure_is_a_counted_failure(trained_bundle, apps):
    def no_client() -> Any:
        raise RuntimeError("no credentials")

    app = create_app(_settings(trained_bundle), capture_client_factory=no_client)
    assert TestClient(app).post("/predict", json=apps[0]).status_code == 200
    app.state.service.capture.producer.flush(5)
    assert app.state.service.capture.stats()["failed"] == 1


def test_capture_off_reports_zero_counters(trained_bundle):
    health = TestClient(create_app(Settings(model_dir=trained_bundle))).get("/health").json()
    assert health["capture"] == {"enabled": False, **capture.empty_stats()}


def test_without_a_hash_key_a_random_per_process_key_is_used():
    def make(key: bytes | None) -> capture.CaptureWriter:
        return capture.CaptureWriter(STREAM, key, buffer_bytes=1024, interval_s=5)

    a, b = make(None), make(None)
    assert a.random_key and b.random_key
    assert a.hash_id(100002) == a.hash_id(100002)
    assert a.hash_id(100002) != b.hash_id(100002)
    assert make(KEY).hash_id(7) == hmac.new(KEY, b"7", hashlib.sha256).hexdigest()


def test_the_hash_key_is_read_from_secrets_manager_at_start_up(stream, moto_s3, trained_bundle,
                                                             apps, log_lines):
    """CAPTURE_HASH_KEY_SECRET_ARN (the template's setting): the key is read once, when the
    function primes (before a SnapStart snapshot), never from the environment."""
    import boto3

    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="capture-key", SecretString="from-the-secret")["ARN"]
    app = _app(trained_bundle, stream, capture_hash_key=None, capture_hash_key_secret_arn=arn)
    writer = app.state.service.capture
    assert not writer.random_key
    app.state.service.prime()
    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)  # read already
    assert TestClient(app).post("/predict", json=apps[0]).status_code == 200
    _flush(app)
    (record,) = delivered_records(moto_s3)
    assert record["client_id_hash"] == hmac.new(b"from-the-secret", b"456001",
                                                hashlib.sha256).hexdigest()
    assert "capture_key_loaded" in [line["event"] for line in log_lines()]
    assert "from-the-secret" not in json.dumps(log_lines())


def test_an_unreadable_hash_key_secret_fails_captures_not_requests(stream, moto_s3,
                                                                    trained_bundle, apps,
                                                                    log_lines):
    """No record is written under another key: they are counted as failed, and logged."""
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    app = _app(trained_bundle, stream, capture_hash_key=None,
               capture_hash_key_secret_arn=missing)
    app.state.service.prime()
    assert TestClient(app).post("/predict", json=apps[0]).status_code == 200
    assert _flush(app)["failed"] == 1
    assert delivered_records(moto_s3) == []
    events = [(line["event"], line.get("stage")) for line in log_lines()]
    assert ("capture_key_error", None) in events and ("capture_failed", "key") in events


def test_the_settings_read_the_secret_arn_and_the_local_key():
    from scoring.config import load_settings

    settings = load_settings({"CAPTURE_HASH_KEY_SECRET_ARN": "arn:x", "CAPTURE_STREAM": "s"})
    assert (settings.capture_hash_key_secret_arn, settings.capture_hash_key) == ("arn:x", None)
    assert load_settings({"CAPTURE_HASH_KEY": "k"}).capture_hash_key == b"k"


def test_aws_sdk_loggers_are_pinned_above_debug(stream):
    """botocore logs request headers (the session token) at DEBUG: creating the capture
    client pins the SDK loggers at WARNING, whatever the root logger's level."""
    import logging

    logging.getLogger("botocore").setLevel(logging.NOTSET)
    firehose.make_client()
    for name in ("botocore", "botocore.auth", "botocore.endpoint", "urllib3", "boto3"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING

