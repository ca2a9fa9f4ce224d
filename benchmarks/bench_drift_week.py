"""The drift job on a simulated week of Firehose captures at 1,000 requests/s (and 1/10 of it).

    python -m benchmarks.bench_drift_week [--rates 1000 100] [--max-rows 20000] [--moto-listing]

For each rate, a moto S3 server runs in its own process and is seeded with the object count
and key layout the template's delivery stream would write in a week (16 MiB buffer: objects =
week's JSON-lines bytes / 16 MiB, spread evenly over the 168 hourly prefixes, Firehose's key
names). The objects the sampler can read (the first few of each hour in the job's keyed-hash
order, more than it reads) hold realistic gzip JSON-lines bodies (1,000 capture records of the
synthetic generator's applications; the job stops after ROWS_PER_OBJECT of them); all other
objects hold small bodies. The drift job then runs in a fresh process against the server,
listing and reading exactly as in Lambda, and reports its wall time, ListObjectsV2 and
GetObject calls, bytes read and peak memory (ru_maxrss of that process).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parents[1]
BUCKET = "bench-captures"
DATA = "bench-data"
REFERENCE_KEY = "reference/reference.csv.gz"
EVENT_TIME = "2026-11-28T06:00:00+00:00"
START, END = date(2026, 11, 21), date(2026, 11, 27)
BUFFER_BYTES = 16 * 1024 * 1024
#: Objects per hour given realistic bodies: the sampler reads ceil(quota / rows_per_object).
READABLE_PER_HOUR = 6
REALISTIC_RECORDS = 1_000


def record_bytes() -> int:
    """The size of one capture JSON line (a synthetic application)."""
    from contract.capture_format import encode_record
    from infra.synthetic_traffic import applications, capture_records

    records = capture_records(applications(200, seed=5), datetime(2026, 11, 21, tzinfo=UTC))
    return round(sum(len(encode_record(r)) for r in records) / len(records))


def object_count(rate: float, line: int) -> int:
    return math.ceil(rate * 7 * 86_400 * line / BUFFER_BYTES)


def _bodies(n: int) -> list[bytes]:
    from contract.capture_format import encode_capture
    from infra.synthetic_traffic import applications, capture_records

    when = datetime(2026, 11, 21, tzinfo=UTC)
    return [gzip.compress(encode_capture(capture_records(
        applications(REALISTIC_RECORDS, seed=100 + i), when)), mtime=0) for i in range(n)]


def index_listing(backend: Any, bucket_name: str) -> None:
    """Give the emulator S3's listing cost: O(keys under the prefix), not O(keys in bucket).

    moto answers every ListObjectsV2 by copying and scanning the bucket's whole key store, so
    at a week's object count the 168 hourly lists alone would dominate whatever the job does
    (docs/benchmarks.md). Real S3 reads one index page per call. This wraps moto's own
    ``list_objects`` (delimiter, delete markers, sorting and pagination unchanged) so that it
    scans only the keys under the prefix, found by bisection in a sorted index of the capture
    bucket, which is written once, before the server starts. Other buckets are unchanged.
    """
    import bisect
    from types import SimpleNamespace

    names = sorted(backend.get_bucket(bucket_name).keys)
    scan_all = backend.list_objects

    def list_objects(bucket: Any, prefix: str | None, *args: Any, **kwargs: Any) -> Any:
        if bucket.name != bucket_name or not prefix:
            return scan_all(bucket, prefix, *args, **kwargs)
        lo = bisect.bisect_left(names, prefix)
        hi = bisect.bisect_left(names, prefix + "\U0010ffff")
        under = SimpleNamespace(name=bucket.name,
                                keys={name: bucket.keys[name] for name in names[lo:hi]})
        return scan_all(under, prefix, *args, **kwargs)

    backend.list_objects = list_objects


def serve(rate: float, port_file: Path, indexed_listing: bool = True) -> None:
    """The S3 server process: seed the week through moto's backend, then serve."""
    import logging

    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    from contract.capture_format import firehose_key
    from drift.captures import _rank

    backend = s3_backends["123456789012"]["aws"]
    for bucket in (BUCKET, DATA):
        backend.create_bucket(bucket, "us-east-1")
    from infra.synthetic_traffic import reference_csv_gz

    backend.put_object(DATA, REFERENCE_KEY, reference_csv_gz(5_000))
    total = object_count(rate, record_bytes())
    bodies = _bodies(12)
    seed = f"{START.isoformat()}/{END.isoformat()}"
    hours = 7 * 24
    realistic = 0
    for h in range(hours):
        start = datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(hours=h)
        n = total // hours + (1 if h < total % hours else 0)
        keys = [firehose_key(start + timedelta(seconds=i * 3600 / n), "captures", h * 10**6 + i)
                for i in range(n)]
        ranked = set(sorted(keys, key=lambda k: (_rank(seed, k), k))[:READABLE_PER_HOUR])
        for key in keys:
            if key in ranked:
                backend.put_object(BUCKET, key, bodies[realistic % len(bodies)])
                realistic += 1
            else:
                backend.put_object(BUCKET, key, b"\x1f\x8b small body")
    if indexed_listing:
        index_listing(backend, BUCKET)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    port_file.write_text(json.dumps({"endpoint": f"http://{host}:{port}", "objects": total,
                                     "realistic": realistic}))
    while True:
        time.sleep(3600)


def drift(endpoint: str, max_rows: int) -> None:
    """The drift job in this (fresh) process; prints its figures as one JSON line."""
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                       "REPORT_BUCKET": DATA, "CAPTURE_BUCKET": BUCKET,
                       "REFERENCE_KEY": REFERENCE_KEY, "MAX_ROWS": str(max_rows)})
    from drift.config import DriftConfig
    from drift.drift_job import run
    from drift.publish import s3_client

    config = DriftConfig.from_env()
    s3 = s3_client(config.read_workers + 2)
    calls: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    cast(Any, s3).meta.events.register("before-call.s3", count)  # boto3 client event hooks
    started = time.perf_counter()
    result = run({"time": EVENT_TIME}, config, s3)
    wall = time.perf_counter() - started
    print(json.dumps({
        "wall_s": round(wall, 1), "timings_s": result["timings_s"], "status": result["status"],
        "rows": result["rows"]["current"], "captures": result["captures"], "calls": calls,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


def run_rate(rate: float, max_rows: int, workdir: Path, moto_listing: bool = False
             ) -> dict[str, Any]:
    port_file = workdir / f"server-{rate:g}.json"
    port_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'function'}"}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_drift_week", "serve",
                              "--rate", str(rate), "--port-file", str(port_file),
                              *(["--moto-listing"] if moto_listing else [])],
                             cwd=REPO, env=env)
    try:
        while not port_file.exists():
            if server.poll() is not None:
                raise RuntimeError("the S3 server process exited")
            time.sleep(1)
        info = json.loads(port_file.read_text())
        seeded = time.perf_counter() - started
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_drift_week", "drift",
                              "--endpoint", info["endpoint"], "--max-rows", str(max_rows)],
                             cwd=REPO, env=env, capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(30)
    return {"rate": rate, "objects": info["objects"], "realistic": info["realistic"],
            "seed_s": round(seeded), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    serve_p = sub.add_parser("serve")
    serve_p.add_argument("--rate", type=float, required=True)
    serve_p.add_argument("--port-file", type=Path, required=True)
    for p in (serve_p, parser):
        p.add_argument("--moto-listing", action="store_true",
                       help="keep moto's whole-bucket scan per ListObjectsV2 (see index_listing)")
    drift_p = sub.add_parser("drift")
    drift_p.add_argument("--endpoint", required=True)
    drift_p.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--rates", type=float, nargs="+", default=[1000, 100])
    parser.add_argument("--max-rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.rate, args.port_file, indexed_listing=not args.moto_listing)
        return 0
    if args.command == "drift":
        drift(args.endpoint, args.max_rows)
        return 0
    workdir = REPO / "artifacts" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"one capture line ~ {record_bytes()} bytes; Firehose object = 16 MiB of lines; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for rate in args.rates:
        r = run_rate(rate, args.max_rows, workdir, args.moto_listing)
        c = r["captures"]
        print(f"{rate:>6g} req/s: {r['objects']:,} objects listed over {c['hours_listed']} "
              f"hours ({r['calls'].get('ListObjectsV2', 0)} ListObjectsV2), "
              f"{r['calls'].get('GetObject', 0)} GetObject, {c['bytes_read'] / 1e6:.1f} MB read, "
              f"{r['rows']:,} rows, wall {r['wall_s']} s (read {r['timings_s']['read']} s, "
              f"report {r['timings_s']['report']} s), peak {r['peak_rss_mb']} MB "
              f"[seeding {r['seed_s']} s]")
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
