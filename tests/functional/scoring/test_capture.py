"""Inference capture through Firehose (moto, behind tests.firehose.LimitedFirehose which enforces
the service's limits): records in the drift job's format, nothing sent from the request
thread, packing within the limits, partial failures retried once, a full buffer drops and
counts, faults never fail the response, counters in /health."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
from scoring import capture, firehose, logs
from scoring.api import create_app
from scoring.config import Settings
from tests.firehose import (
    BUCKET,
    STREAM,
    LimitedFirehose,
    create_stream,
    delivered_lines,
    delivered_records,
    limit_violation,
)

KEY = b"test-hmac-key"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    return reference_applications(trained_bundle, 5, first_id=456_001)


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    logs.set_stream(stream)

    def read() -> list[dict[str, Any]]:
        return [json.loads(x) for x in stream.getvalue().splitlines()]

    yield read
    logs.set_stream(None)


@pytest.fixture
def stream(moto_s3) -> LimitedFirehose:
    """moto's Firehose (delivering to a moto bucket) behind the limits wrapper."""
    create_stream(boto3.client("firehose", region_name="us-east-1"), moto_s3)
    return LimitedFirehose(boto3.client("firehose", region_name="us-east-1"))


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


def test_limits_wrapper_rejects_what_firehose_rejects():
    ok = {"Data": b"x" * 1000}
    assert limit_violation([ok] * 500) is None
    assert "501 records" in (limit_violation([ok] * 501) or "")
    assert "record of" in (limit_violation([{"Data": b"x" * (1_000 * 1024 + 1)}]) or "")
    assert "in one call" in (limit_violation([{"Data": b"x" * 1_000_000}] * 5) or "")


def test_many_records_are_sent_within_firehose_limits(stream, moto_s3):
    producer = firehose.FirehoseProducer(STREAM, buffer_bytes=64 * 1024 * 1024,
                                         flush_bytes=64 * 1024 * 1024, interval_s=60,
                                         client_factory=lambda: stream)
    line = json.dumps({"pad": "x" * 3_500}).encode() + b"\n"
    for _ in range(5):  # five "batches" of 1,000 lines: ~17.5 MB in all
        assert producer.append([line] * 1_000) == "buffered"
    assert producer.flush(30)
    stats = producer.stats()
    assert stats["sent"] == 5_000 and stats["failed"] == stats["dropped"] == 0
    assert all(c["violation"] is None for c in stream.calls)
    assert len(stream.calls) >= 5  # 4 MB per call at most
    assert max(c["bytes"] for c in stream.calls) <= firehose.CALL_BYTES
    # Each Firehose record packs many lines and stays well above the 5 KB billing unit.
    assert stats["firehose_records"] <= 5_000 * len(line) // (firehose.RECORD_BYTES // 2)


class PartlyFailing:
    """Rejects the first ``failures`` records of each call, ``rounds`` times."""

    def __init__(self, inner: Any, failures: int, rounds: int) -> None:
        self.inner, self.failures, self.rounds = inner, failures, rounds

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, Any]]
                         ) -> dict[str, Any]:
        if self.rounds <= 0:
            return self.inner.put_record_batch(DeliveryStreamName=DeliveryStreamName,
                                               Records=Records)
        self.rounds -= 1
        bad, good = Records[: self.failures], Records[self.failures:]
        answers = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
                   for _ in bad]
        if good:
            answers += self.inner.put_record_batch(DeliveryStreamName=DeliveryStreamName,
                                                   Records=good)["RequestResponses"]
        return {"FailedPutCount": len(bad), "RequestResponses": answers}


def _lines(n: int, size: int = 200_000) -> list[bytes]:
    return [json.dumps({"i": i, "pad": "y" * size}).encode() + b"\n" for i in range(n)]


@pytest.mark.parametrize(("rounds", "sent", "failed"), [(1, 4, 0), (2, 3, 1)],
                         ids=["retry-succeeds", "fails-twice"])
def test_partly_failed_batch_is_retried_once(stream, moto_s3, log_lines, rounds, sent, failed):
    client = PartlyFailing(stream, failures=1, rounds=rounds)
    producer = firehose.FirehoseProducer(STREAM, interval_s=60, client_factory=lambda: client)
    producer.append(_lines(4))  # 4 Firehose records of one 200 KB line each
    producer.flush(10)
    stats = producer.stats()
    assert (stats["sent"], stats["retried"], stats["failed"]) == (sent, 1, failed)
    assert len(delivered_lines(moto_s3)) == sent
    failures = [x for x in log_lines() if x["event"] == "capture_failed"]
    assert len(failures) == failed
    if failures:
        assert failures[0]["error"] == "ServiceUnavailableException"
        assert "yyyy" not in json.dumps(failures)


def test_a_full_buffer_drops_new_records_and_counts_them():
    producer = firehose.FirehoseProducer(STREAM, buffer_bytes=10_000, flush_bytes=10**9,
                                         interval_s=60, client_factory=lambda: None)
    line = b"z" * 999 + b"\n"
    outcomes = [producer.append([line, line]) for _ in range(7)]
    assert outcomes == ["buffered"] * 5 + ["dropped"] * 2
    assert producer.stats()["buffered"] == 10 and producer.stats()["dropped"] == 4


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


def test_aws_sdk_loggers_are_pinned_above_debug(stream):
    """botocore logs request headers (the session token) at DEBUG: creating the capture
    client pins the SDK loggers at WARNING, whatever the root logger's level."""
    import logging

    logging.getLogger("botocore").setLevel(logging.NOTSET)
    firehose.make_client()
    for name in ("botocore", "botocore.auth", "botocore.endpoint", "urllib3", "boto3"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


_SIGTERM_CHILD = """
import sys, time
from scoring import firehose
producer = firehose.FirehoseProducer(sys.argv[1], interval_s=3600)
assert firehose.install_sigterm_flush(producer, budget_s=5)
producer.client()
producer.append([b'{"n": %d}\\n' % i for i in range(300)])
print("ready", flush=True)
time.sleep(60)
"""


def test_sigterm_flushes_the_buffer_before_exit(tmp_path):
    """A process holding 300 buffered records (next timed flush in an hour) gets SIGTERM:
    everything reaches the stream (a moto server) before it exits."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "PYTHONPATH": f"{REPO}:{REPO / 'function'}"}
        env.pop("AWS_SESSION_TOKEN", None)
        kw = {"endpoint_url": endpoint, "region_name": "us-east-1",
              "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        s3 = boto3.client("s3", **kw)
        create_stream(boto3.client("firehose", **kw), s3)
        child = subprocess.Popen([sys.executable, "-c", _SIGTERM_CHILD, STREAM], env=env,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 128 + signal.SIGTERM
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        bodies = b"".join(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys)
        assert sorted(json.loads(x)["n"] for x in bodies.splitlines()) == list(range(300))
    finally:
        server.stop()
