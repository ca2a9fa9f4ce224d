"""Warm /predict latency with inference capture on (Firehose behind a 50 ms endpoint) vs off.

    python -m benchmarks.bench_capture_latency --bundle function/model [--requests 2000]
        [--rounds 10]

A child process runs a moto server (S3 + Firehose) and, in front of it, a small HTTP proxy
that waits 50 ms before forwarding each request (a slow Firehose endpoint) and rejects a
PutRecordBatch that breaks Firehose's limits (500 records, 4 MiB, 1,000 KiB per record).
This process scores through the Lambda handler class (scoring.handler.ScoringMangum over
create_app, API Gateway v2 events, 4 reasons), back to back: one app with capture off and
one with CAPTURE_STREAM set (AWS_ENDPOINT_URL = the proxy). Each round runs 2,000 requests
without capture and 2,000 with it, in alternating order; a p99 of 2,000 requests rests on its
20 slowest, so one round is at the mercy of the machine's other work: the figures reported
are pooled over the rounds (and listed per round), in wall and thread-CPU time. The Firehose
stand-in runs at the lowest CPU priority (in Lambda, Firehose's work is not on the function's
CPU). Finally the producer is flushed and the records that reached S3 are counted:
delivered must equal scored.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import subprocess
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.bench_serving import _events, _percentile, _timed_request

REPO = Path(__file__).resolve().parents[1]
STREAM = "bench-captures"
BUCKET = "bench-capture-bucket"
DELAY_S = 0.05
WARMUP = 200
LIMITS = {"records": 500, "call_bytes": 4 * 1024 * 1024, "record_bytes": 1_000 * 1024}


def _violation(body: bytes) -> str | None:
    records = json.loads(body).get("Records", [])
    sizes = [len(base64.b64decode(r["Data"])) for r in records]
    if not 1 <= len(sizes) <= LIMITS["records"]:
        return f"{len(sizes)} records"
    if max(sizes) > LIMITS["record_bytes"] or sum(sizes) > LIMITS["call_bytes"]:
        return "record or call too large"
    return None


def serve(port_file: Path) -> None:
    """moto server + the slow, limit-enforcing proxy in front of it."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    upstream = f"http://{host}:{port}"

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(DELAY_S)
            target = self.headers.get("x-amz-target", "")
            if target.endswith("PutRecordBatch") and (why := _violation(body)):
                self.send_response(400)
                self.end_headers()
                self.wfile.write(json.dumps({"__type": "InvalidArgumentException",
                                             "message": why}).encode())
                return
            request = urllib.request.Request(upstream + self.path, data=body or None,
                                             method=self.command, headers=dict(self.headers))
            try:
                with urllib.request.urlopen(request) as answer:  # nosec B310 (loopback)
                    status, headers, data = answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as error:
                status, headers, data = error.code, error.headers, error.read()
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = _forward

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    port_file.write_text(json.dumps({"moto": upstream,
                                     "proxy": f"http://127.0.0.1:{proxy.server_port}"}))
    proxy.serve_forever()


def _clients(endpoint: str) -> tuple[Any, Any]:
    import boto3

    kw = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    return boto3.client("s3", **kw), boto3.client("firehose", **kw)


def _set_up(moto: str) -> None:
    s3, firehose = _clients(moto)
    s3.create_bucket(Bucket=BUCKET)
    firehose.create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/bench", "Prefix": "captures/",
            "BucketARN": f"arn:aws:s3:::{BUCKET}", "CompressionFormat": "UNCOMPRESSED"})


def _delivered(moto: str) -> int:
    s3, _ = _clients(moto)
    lines = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            lines += s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().count(b"\n")
    return lines


def _phase(handler: Any, events: list[dict[str, Any]], context: Any, requests: int
           ) -> dict[str, list[float]]:
    times: list[float] = []
    cpu: list[float] = []
    for i in range(requests):
        _timed_request(handler, events[i % len(events)], context, times, cpu)
    return {"wall": times, "cpu": cpu}


def measure(bundle: Path, requests: int, rounds: int, endpoints: dict[str, str]
            ) -> dict[str, Any]:
    """``rounds`` rounds, each one phase of ``requests`` without capture and one with (the
    order alternates). After each capture phase the producer is flushed, unmeasured, so the
    next phase without capture has no producer work in the background."""
    from infra.lambda_events import FakeLambdaContext
    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.handler import ScoringMangum

    os.environ["AWS_ENDPOINT_URL"] = endpoints["proxy"]
    apps = {
        "off": create_app(Settings(model_dir=bundle)),
        "on": create_app(Settings(model_dir=bundle, capture_stream=STREAM,
                                  capture_hash_key=b"bench")),
    }
    handlers = {name: ScoringMangum(app, lifespan="off") for name, app in apps.items()}
    for app in apps.values():
        app.state.service.prime()
    producer = apps["on"].state.service.capture.producer
    events = _events(bundle, 500)
    context = FakeLambdaContext()
    for handler in handlers.values():  # warm-up (captured too)
        for event in events[:WARMUP]:
            handler(event, context)
    producer.flush(120)
    gc.collect()
    gc.freeze()  # as scoring.handler does once primed: start-up objects leave the GC's scans
    phases: dict[str, list[dict[str, list[float]]]] = {"off": [], "on": []}
    for r in range(rounds):
        for name in ("off", "on") if r % 2 == 0 else ("on", "off"):
            phases[name].append(_phase(handlers[name], events, context, requests))
            if name == "on":
                producer.flush(120)
    flushed = producer.flush(120)
    return {"phases": phases, "scored_with_capture": WARMUP + rounds * requests,
            "flushed": flushed, "counters": producer.stats(),
            "delivered": _delivered(endpoints["moto"])}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """p50 and p99 of wall and thread-CPU ms per round and over all rounds pooled (the p99 of
    10,000 requests rests on 100 of them, that of one round on 20)."""
    out: dict[str, Any] = {"rounds": []}
    phases = result["phases"]
    for off, on in zip(phases["off"], phases["on"], strict=True):
        out["rounds"].append({f"{name}_{q}": _percentile(mode["wall"], q)
                              for name, mode in (("off", off), ("on", on)) for q in (50, 99)})
    for name, rounds in phases.items():
        for kind in ("wall", "cpu"):
            pooled = [t for r in rounds for t in r[kind]]
            for q in (50, 99):
                out[f"{name}_{kind}_p{q}_ms"] = _percentile(pooled, q)
    for kind in ("wall", "cpu"):
        for q in (50, 99):
            out[f"added_{kind}_p{q}_ms"] = (out[f"on_{kind}_p{q}_ms"]
                                            - out[f"off_{kind}_p{q}_ms"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("function/model"))
    parser.add_argument("--requests", type=int, default=2000, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_SESSION_TOKEN", None)
    port_file = REPO / "artifacts" / "bench" / "capture-latency-server.json"
    port_file.parent.mkdir(parents=True, exist_ok=True)
    port_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'function'}"}
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_capture_latency",
                               "--serve", str(port_file)], cwd=REPO, env=env,
                              preexec_fn=lambda: os.nice(19))
    try:
        while not port_file.exists():
            time.sleep(0.2)
        endpoints = json.loads(port_file.read_text())
        _set_up(endpoints["moto"])
        result = measure(args.bundle.resolve(), args.requests, args.rounds, endpoints)
    finally:
        server.terminate()
        server.wait(30)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; Firehose endpoint "
          f"answers after {DELAY_S * 1e3:.0f} ms; {args.rounds} rounds of {args.requests} "
          "requests per mode, 4 reasons")
    m = summary(result)
    for r, x in enumerate(m["rounds"]):
        print(f"round {r + 1}: off p50 {x['off_50']:.3f} p99 {x['off_99']:.3f} ms | "
              f"on p50 {x['on_50']:.3f} p99 {x['on_99']:.3f} ms")
    for kind in ("wall", "cpu"):
        print(f"all rounds, {kind} ms: capture off p50 {m[f'off_{kind}_p50_ms']:.3f} p99 "
              f"{m[f'off_{kind}_p99_ms']:.3f}; on p50 {m[f'on_{kind}_p50_ms']:.3f} p99 "
              f"{m[f'on_{kind}_p99_ms']:.3f}; added p50 {m[f'added_{kind}_p50_ms']:+.3f} "
              f"(target <= +0.3), p99 {m[f'added_{kind}_p99_ms']:+.3f} (target <= +1)")
    print(f"scored with capture {result['scored_with_capture']}, delivered "
          f"{result['delivered']} (counters {result['counters']})")
    print(json.dumps({k: v for k, v in result.items() if k != "phases"} | {"summary": m}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
