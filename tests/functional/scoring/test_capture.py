"""Inference capture: real puts to (moto) S3 in the drift job's format, and injected faults
(errors, denial, a hung S3) that never fail or unduly delay the response, and are logged and
counted."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError
from fastapi.testclient import TestClient

from contract.capture_format import day_prefix, decode_capture
from infra.lambda_events import FakeLambdaContext, http_api_event
from scoring import capture
from scoring.api import create_app
from scoring.config import Settings

BUCKET = "captures-test"
KEY = b"test-hmac-key"


@pytest.fixture(autouse=True)
def fresh_stats():
    capture.reset_stats()
    yield
    capture.reset_stats()


@pytest.fixture
def s3(moto_s3):
    moto_s3.create_bucket(Bucket=BUCKET)
    return moto_s3


def _settings(bundle: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {"model_dir": bundle, "capture_bucket": BUCKET,
                            "capture_prefix": "captures/", "capture_hash_key": KEY,
                            "capture_timeout_s": 1.0}
    return Settings(**{**base, **kw})


def _objects(s3) -> list[dict[str, Any]]:
    return s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])


def test_predict_writes_one_capture_record(s3, trained_bundle, apps):
    app = {**apps[0], "SK_ID_CURR": 456_001}  # an id no feature value contains
    client = TestClient(create_app(_settings(trained_bundle)))
    response = client.post("/predict", json=app)
    assert response.status_code == 200
    (obj,) = _objects(s3)
    assert obj["Key"].startswith(day_prefix(datetime.now(UTC).date(), "captures/"))
    assert obj["Key"].endswith(".jsonl")
    body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    (record,) = decode_capture(body)
    expected_hash = hmac.new(KEY, b"456001", hashlib.sha256).hexdigest()
    assert record["client_id_hash"] == expected_hash
    assert record["probability"] == response.json()["probability_default"]
    assert record["decision"] == response.json()["decision"]
    assert record["model_version"] == response.json()["model_version"]
    assert record["features"] == {k: v for k, v in app.items() if k != "SK_ID_CURR"}
    assert b"456001" not in body  # the raw id is never stored
    assert capture.stats()["written"] == 1


def test_batch_writes_one_object_with_every_record(s3, trained_bundle, apps):
    client = TestClient(create_app(_settings(trained_bundle)))
    response = client.post("/predict/batch", json={"applications": apps})
    assert response.status_code == 200
    (obj,) = _objects(s3)
    records = decode_capture(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
    assert [r["probability"] for r in records] == [
        p["probability_default"] for p in response.json()["predictions"]]
    assert len({r["client_id_hash"] for r in records}) == len(apps)


def test_capture_through_the_lambda_handler(s3, trained_bundle, apps, log_lines):
    from scoring.handler import ScoringMangum

    handler = ScoringMangum(create_app(_settings(trained_bundle)), lifespan="off")
    response = handler(http_api_event("POST", "/predict", body=apps[1]), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert len(_objects(s3)) == 1
    (line,) = [x for x in log_lines() if x["event"] == "request"]
    assert line["capture"] == "written"


def test_without_a_hash_key_a_random_per_process_key_is_used():
    a = capture.CaptureWriter(BUCKET, "c/", None, 1.0, client_factory=lambda: None)
    b = capture.CaptureWriter(BUCKET, "c/", None, 1.0, client_factory=lambda: None)
    assert a.random_key and b.random_key
    assert a.hash_id(100002) == a.hash_id(100002)
    assert a.hash_id(100002) != b.hash_id(100002)
    keyed = capture.CaptureWriter(BUCKET, "c/", KEY, 1.0, client_factory=lambda: None)
    assert keyed.hash_id(7) == hmac.new(KEY, b"7", hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- faults
class FaultyClient:
    """An S3 client whose put_object fails the way the real one can, or hangs until released
    (at the end of the test, so that no capture is still in flight when the next one runs)."""

    def __init__(self, error: BaseException | None = None, hang_s: float = 0.0) -> None:
        self.error = error
        self.hang_s = hang_s
        self.calls = 0
        self.release = threading.Event()

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.hang_s:
            self.release.wait(self.hang_s)
        if self.error is not None:
            raise self.error
        return {}


def _denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                       "PutObject")


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        (FaultyClient(error=_denied()), "failed"),
        (FaultyClient(error=ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com")),
         "failed"),
        (FaultyClient(error=RuntimeError("boom")), "failed"),
        (FaultyClient(hang_s=3.0), "timed_out"),
    ],
    ids=["access-denied", "connect-timeout", "unexpected-error", "hung-s3"],
)
def test_capture_faults_never_fail_the_response(trained_bundle, apps, log_lines, fault,
                                                outcome):
    bound = 0.3
    app = create_app(_settings(trained_bundle, capture_timeout_s=bound),
                     capture_client_factory=lambda: fault)
    client = TestClient(app)
    client.post("/predict", json=apps[0])  # warm-up
    capture.reset_stats()
    started = time.perf_counter()
    response = client.post("/predict", json=apps[0])
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json()["probability_default"] >= 0
    assert elapsed < bound + 0.5, f"capture delayed the response by {elapsed:.2f}s"
    assert capture.stats()[outcome] == 1
    events = [x["event"] for x in log_lines()]
    assert {"failed": "capture_failed", "timed_out": "capture_timeout"}[outcome] in events
    request_line = [x for x in log_lines() if x["event"] == "request"][-1]
    assert request_line["status"] == 200
    assert request_line["capture"] == outcome
    health = client.get("/health").json()
    assert health["capture"]["enabled"] is True
    assert health["capture"][outcome] == 1
    fault.release.set()
    # The warm-up's put and the timed one were both hung: both finish once released.
    _settle(lambda: capture.stats()["written"] == (2 if outcome == "timed_out" else 0))


def _settle(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for captures still in flight (released hung puts) to finish and be counted."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "captures still in flight"
        time.sleep(0.01)


def test_missing_bucket_is_a_counted_failure(s3, trained_bundle, apps, log_lines):
    client = TestClient(create_app(_settings(trained_bundle, capture_bucket="no-such-bucket")))
    assert client.post("/predict", json=apps[0]).status_code == 200
    assert capture.stats()["failed"] == 1
    (failure,) = [x for x in log_lines() if x["event"] == "capture_failed"]
    assert "NoSuchBucket" in failure["error"]


def test_client_creation_failure_is_a_counted_failure(trained_bundle, apps):
    def no_client() -> Any:
        raise RuntimeError("no credentials")

    client = TestClient(create_app(_settings(trained_bundle), capture_client_factory=no_client))
    assert client.post("/predict", json=apps[0]).status_code == 200
    assert capture.stats()["failed"] == 1


def test_puts_piling_up_behind_a_hung_s3_are_dropped(trained_bundle, apps):
    release = threading.Event()

    class Hung:
        def put_object(self, **kwargs: Any) -> dict[str, Any]:
            release.wait(10)
            return {}

    writer = capture.CaptureWriter(BUCKET, "c/", KEY, 0.05, client_factory=Hung)
    outcomes = [writer.capture([apps[0]], [0.1], ["approve"], "1")
                for _ in range(capture.MAX_PENDING + 2)]
    release.set()
    assert outcomes.count("timed_out") == capture.MAX_PENDING
    assert outcomes.count("dropped") == 2
    assert capture.stats()["dropped"] == 2
    _settle(lambda: capture.stats()["written"] == capture.MAX_PENDING)


def test_capture_logs_hold_no_applicant_values(s3, trained_bundle, apps, log_lines):
    client = TestClient(create_app(_settings(trained_bundle, capture_bucket="no-such-bucket")))
    client.post("/predict/batch", json={"applications": apps[:5]})
    text = json.dumps(log_lines())
    for app in apps[:5]:
        assert str(app["SK_ID_CURR"]) not in text
    assert "Cash loans" not in text and "AMT_CREDIT" not in text


def test_aws_sdk_loggers_are_pinned_above_debug(s3, trained_bundle, apps):
    """botocore logs request headers (the session token) at DEBUG: creating the capture
    client pins the SDK loggers at WARNING, whatever the root logger's level."""
    import logging

    logging.getLogger("botocore").setLevel(logging.NOTSET)
    client = TestClient(create_app(_settings(trained_bundle)))
    assert client.post("/predict", json=apps[0]).status_code == 200
    for name in ("botocore", "botocore.auth", "botocore.endpoint", "urllib3", "boto3"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
