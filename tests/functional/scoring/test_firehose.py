"""The Firehose producer (scoring.firehose) against moto behind tests.firehose.LimitedFirehose,
which enforces the service's limits: packing within them, a partly failed batch retried once,
a full buffer dropping and counting, and the flush on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from scoring import firehose
from tests.firehose import (
    BUCKET,
    STREAM,
    create_stream,
    delivered_lines,
    limit_violation,
)

REPO = Path(__file__).resolve().parents[3]


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


class TrafficDuringSend:
    """Passes calls on; while each call is "on the network", new lines arrive."""

    def __init__(self, inner: Any, arriving: list[bytes]) -> None:
        self.inner, self.arriving = inner, arriving
        self.producer: firehose.FirehoseProducer | None = None

    def put_record_batch(self, **kwargs: Any) -> Any:
        assert self.producer is not None
        self.producer.append(self.arriving)
        return self.inner.put_record_batch(**kwargs)


def test_a_round_sends_what_was_waiting_not_what_arrives_meanwhile(stream, moto_s3):
    arriving = _lines(3, 1_000)
    client = TrafficDuringSend(stream, arriving)
    producer = firehose.FirehoseProducer(STREAM, flush_bytes=10**9, interval_s=60,
                                         client_factory=lambda: client)
    client.producer = producer
    waiting = _lines(30, 300_000)  # ~9 MB: three calls of at most CALL_BYTES
    producer.append(waiting)
    producer.send_waiting()
    stats = producer.stats()
    # Three calls carry what was waiting (small late lines may ride along in the last one);
    # a sender that chased new lines would call again after every call, forever here.
    assert len(stream.calls) == 3
    assert stats["sent"] >= len(waiting)
    assert stats["sent"] + stats["buffered"] == len(waiting) + 3 * len(arriving)
    assert stats["buffered"] > 0
    client.arriving = []
    assert producer.flush(10)
    assert producer.stats()["sent"] == len(waiting) + 3 * len(arriving)
    assert len(delivered_lines(moto_s3)) == producer.stats()["sent"]


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

