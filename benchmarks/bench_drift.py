"""Drift job benchmark: wall time, CPU time and peak memory of one scheduled run.

    python -m benchmarks.bench_drift [--rows 50000] [--small-objects 5000] [--real-data DIR]

A moto S3 server runs in this process (so its stored objects do not count against the job's
memory); the handler runs in a fresh subprocess, exactly as Lambda calls it
(``drift.handler.handler(<scheduled event>, <context>)``), against that server through
AWS_ENDPOINT_URL_S3. The subprocess reports its wall and CPU time (from the imports on, as in
a cold start), the handler's own read/report/publish split and its ru_maxrss.

Scenarios (captures written with the scoring function's format, spread over the 7-day window):

* ``batches``: ``rows`` records in objects of 1,000 (API batch-sized), MAX_ROWS = rows;
* ``batches-capped``: the same objects with the default MAX_ROWS (a deterministic sample);
* ``small-objects``: ``rows`` records in ``--small-objects`` objects (single requests), to
  show the per-object cost of listing and GETs.

Baseline, in the first scenario's subprocess: Evidently alone (drift.report.run_report) on
the same rows already in memory; the job/baseline ratio is the cost of reading, decoding and
publishing around it. The machine's load affects wall time; CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENT_TIME = "2026-11-28T06:00:00Z"
WINDOW = [date(2026, 11, 21) + timedelta(days=i) for i in range(7)]
REFERENCE_KEY = "model/reference.csv.gz"
REFERENCE_ROWS = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child(baseline: bool) -> None:
    """Run in the subprocess: one cold handler call, then (optionally) the baseline."""
    import resource

    started = time.perf_counter()
    cpu0 = time.process_time()
    from drift import handler  # cold start: the job imports Evidently on its first call
    from infra.lambda_events import FakeLambdaContext, scheduled_event

    event = scheduled_event(EVENT_TIME)
    result = handler.handler(event, FakeLambdaContext("credit-scoring-drift", 3008, 900))
    finished = time.perf_counter()
    out: dict[str, Any] = {
        "wall_s": round(finished - started, 2),
        "cpu_s": round(time.process_time() - cpu0, 2),
        "handler": result,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if baseline:
        from drift.captures import read_window
        from drift.config import DriftConfig
        from drift.drift_job import load_reference
        from drift.publish import s3_client
        from drift.report import frame_from_encoded, run_report
        from drift.schedule import window_for

        config = DriftConfig.from_env()
        s3 = s3_client()
        window = window_for(event, config.window_days)
        reference = load_reference(s3, config)
        sample = read_window(
            s3, config.capture_bucket, window.start, window.end, max_rows=config.max_rows
        )
        current = frame_from_encoded(sample.encoded())
        t0, c0 = time.perf_counter(), time.process_time()
        run_report(reference, current)
        out["baseline_wall_s"] = round(time.perf_counter() - t0, 2)
        out["baseline_cpu_s"] = round(time.process_time() - c0, 2)
    print("BENCH " + json.dumps(out), flush=True)


def _reference_bytes(real_data: Path | None) -> bytes:
    import gzip
    import io

    import pandas as pd

    from contract.schema import FEATURE_FIELDS
    from infra.synthetic_traffic import reference_csv_gz

    if real_data is None:
        return reference_csv_gz(REFERENCE_ROWS)
    train = pd.read_csv(real_data / "application_train_sample.csv")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(train[[f.name for f in FEATURE_FIELDS]].to_csv(index=False).encode())
    return buffer.getvalue()


def _application_source(real_data: Path | None):
    """f(n, seed) -> n applications: synthetic (drifted), or resampled from the test sample."""
    from infra.synthetic_traffic import applications

    if real_data is None:
        return lambda n, seed: applications(n, seed=seed, drifted=True)
    import numpy as np
    import pandas as pd

    from contract.schema import FEATURE_FIELDS

    test = pd.read_csv(real_data / "application_test_sample.csv")[[f.name for f in FEATURE_FIELDS]]
    test = test.astype(object).where(test.notna(), None)
    records = test.to_dict("records")

    def draw(n: int, seed: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng(seed)
        return [_plain(records[i]) for i in rng.integers(0, len(records), n)]

    return draw


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v.item() if hasattr(v, "item") else v for k, v in record.items()}


def _seed_captures(s3: Any, bucket: str, prefix: str, rows: int, objects: int, source: Any) -> None:
    from infra.synthetic_traffic import put_captures

    per_object = rows // objects

    def put(i: int) -> None:
        day = WINDOW[i % len(WINDOW)]
        when = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=i)
        put_captures(s3, bucket, source(per_object, 10_000 + i), when, prefix)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(objects)))


def _run_child(env: dict[str, str], baseline: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_drift", "--child"]
    if baseline:
        cmd.append("--baseline")
    proc = subprocess.run(  # nosec B603 (our own module, fixed arguments)
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(line.removeprefix("BENCH "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--small-objects", type=int, default=5_000, help="0 to skip")
    parser.add_argument("--default-max-rows", type=int, default=None)
    parser.add_argument("--real-data", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.baseline)
        return 0

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request access log

    from drift.config import DriftConfig

    default_max_rows = args.default_max_rows or DriftConfig.max_rows
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
    }
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    try:
        os.environ.update(credentials)
        s3 = boto3.client("s3")
        source = _application_source(args.real_data)
        reference = _reference_bytes(args.real_data)
        scenarios = [
            ("batches", "batches", args.rows // 1000, args.rows, True),
            ("batches-capped", "batches", args.rows // 1000, default_max_rows, False),
        ]
        if args.small_objects:
            scenarios.append(("small-objects", "small", args.small_objects, args.rows, False))
        seeded = set()
        results = []
        for name, bucket, objects, max_rows, baseline in scenarios:
            if bucket not in seeded:
                t0 = time.perf_counter()
                s3.create_bucket(Bucket=bucket)
                s3.put_object(Bucket=bucket, Key=REFERENCE_KEY, Body=reference)
                _seed_captures(s3, bucket, "captures/", args.rows, objects, source)
                seeded.add(bucket)
                print(
                    f"seeded {objects} objects ({args.rows} rows) in "
                    f"{time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
            env = {
                **os.environ,
                **credentials,
                "REPORT_BUCKET": bucket,
                "CAPTURE_BUCKET": bucket,
                "REFERENCE_KEY": REFERENCE_KEY,
                "MAX_ROWS": str(max_rows),
                "MIN_ROWS": "200",
                "WINDOW_DAYS": "7",
            }
            result = _run_child(env, baseline)
            summary_key = result["handler"]["written"][2]  # <prefix><end>/summary.json
            summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
            result["drift_share"] = summary["drift_share"]
            result["drifted"] = [c["column"] for c in summary["drifted_columns"]]
            results.append((name, objects, max_rows, result))
            print(f"{name}: {json.dumps(result)}", flush=True)
    finally:
        server.stop()

    print(
        f"\n{'scenario':<15} {'objects':>7} {'max_rows':>8} {'rows used':>9} {'wall s':>7} "
        f"{'cpu s':>6} {'import':>6} {'read':>6} {'report':>6} {'publish':>7} {'peak MB':>8} "
        f"{'drifted':>7} {'share':>6}"
    )
    for name, objects, max_rows, r in results:
        h = r["handler"]
        t = h["timings_s"]
        print(
            f"{name:<15} {objects:>7} {max_rows:>8} {h['rows']['current']:>9} {r['wall_s']:>7} "
            f"{r['cpu_s']:>6} {t['import']:>6} {t['read']:>6} {t['report']:>6} "
            f"{t['publish']:>7} {r['max_rss_mb']:>8} {len(r['drifted']):>7} "
            f"{r['drift_share']:>6.3f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    full, capped = results[0][3], results[1][3]
    differ = sorted(set(full["drifted"]) ^ set(capped["drifted"]))
    print(
        f"drifted columns, all {results[0][2]} rows vs a {results[1][2]}-row sample: "
        + ("identical" if not differ else f"differ in {', '.join(differ)}")
    )
    first = results[0][3]
    if "baseline_wall_s" in first:
        print(
            f"\nbaseline (Evidently alone on the same {first['handler']['rows']['current']} rows): "
            f"{first['baseline_wall_s']} s wall, {first['baseline_cpu_s']} s CPU; "
            f"job/baseline = {first['wall_s'] / first['baseline_wall_s']:.2f} (wall), "
            f"{first['cpu_s'] / first['baseline_cpu_s']:.2f} (CPU)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
