"""Load test: uvicorn on loopback serving the real app, locust with N concurrent users.

    make load-test                      # = python -m benchmarks.load_test --bundle function/model
    python -m benchmarks.load_test --bundle DIR [--users 50] [--duration 60] [--workers 2]

Starts ``uvicorn scoring.handler:app`` ( MODEL_DIR=--bundle, capture off) on 127.0.0.1 at
a free port, waits for /health, runs locust headless (benchmarks/locustfile.py: --users
closed-loop users posting valid applications to /predict, one request in --batch-every a
/predict/batch of --batch-size) for --duration seconds, then stops locust and the server
(both bounded by timeouts). Prints throughput, p50/p99 per endpoint (exact, from the
locustfile's timings) and the error count: locust failures (non-200 or a malformed body) plus
5xx lines in the server's request log. Exits 1 if there was any error. Loopback only.

Not a CI test: a benchmark command (the client and the server share this machine's cores,
so the figures are a floor for the server alone).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import statistics
import subprocess  # nosec B404: starts uvicorn and locust from this venv, fixed argv
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FUNCTION_DIR = REPO / "function"
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310: loopback
                body = json.loads(response.read())
                if body.get("status") == "ok":
                    return body
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server did not become healthy within {timeout_s:.0f} s")


def _stop(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _server_log_counts(path: Path) -> tuple[int, int]:
    """(requests logged, of which 5xx) from the app's JSON request lines."""
    served = errors = 0
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "request":
            served += 1
            errors += int(record.get("status", 0) >= 500)
    return served, errors


def run(args: argparse.Namespace) -> int:
    bundle = args.bundle.resolve()
    if not (bundle / "model_card.json").is_file():
        raise SystemExit(f"no model bundle at {bundle} (train one: make demo, or pass --bundle)")
    from infra.lambda_events import reference_applications

    work = Path(tempfile.mkdtemp(prefix="load-test-"))
    payloads, timings = work / "payloads.json", work / "timings.json"
    payloads.write_text(json.dumps(reference_applications(bundle, args.applications)))
    port = _free_port()
    base = f"http://{HOST}:{port}"
    server_log = work / "server.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("CAPTURE_STREAM", "MODEL_S3_URI")}
    env.update(MODEL_DIR=str(bundle))

    with server_log.open("w") as log_file:
        server = subprocess.Popen(  # nosec B603: fixed argv
            [sys.executable, "-m", "uvicorn", "scoring.handler:app",
             "--host", HOST, "--port", str(port), "--workers", str(args.workers),
             "--no-access-log", "--log-level", "warning"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO,
        )
        try:
            health = _wait_healthy(f"{base}/health", server, timeout_s=90)
            print(f"uvicorn on {base} ({args.workers} worker(s)), model "
                  f"{health['model_version']}; locust: {args.users} users for "
                  f"{args.duration} s, 1 request in {args.batch_every} a batch of "
                  f"{args.batch_size}", flush=True)
            locust_env = {**env, "LOAD_TEST_PAYLOADS": str(payloads),
                          "LOAD_TEST_TIMINGS": str(timings),
                          "LOAD_TEST_BATCH_EVERY": str(args.batch_every),
                          "LOAD_TEST_BATCH_SIZE": str(args.batch_size),
                          "LOAD_TEST_REASONS": str(args.reasons)}
            started = time.monotonic()
            locust = subprocess.run(  # nosec B603: fixed argv
                [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                 "--host", base, "--users", str(args.users), "--spawn-rate", str(args.users),
                 "--run-time", f"{args.duration}s", "--stop-timeout", "5",
                 "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING",
                 "--exit-code-on-error", "0"],
                env=locust_env, cwd=REPO, capture_output=True, text=True,
                timeout=args.duration + 120, check=False,
            )
            elapsed = time.monotonic() - started
        finally:
            _stop(server)

    if locust.returncode != 0 or not timings.is_file():
        print(locust.stdout[-3000:], locust.stderr[-3000:], sep="\n")
        raise SystemExit(f"locust failed (exit code {locust.returncode})")
    with (work / "locust_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    total = stats["Aggregated"]
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    served, server_errors = _server_log_counts(server_log)
    times: dict[str, list[float]] = json.loads(timings.read_text())
    run_s = float(args.duration)

    print(f"\nload test: {args.users} users, {args.duration} s, loopback "
          f"(wall {elapsed:.0f} s incl. start/stop)")
    print(f"{'endpoint':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}")
    for name in ("/predict", "/predict/batch"):
        values = times.get(name, [])
        row = stats.get(name, {})
        count = int(row.get("Request Count", 0))
        if not values:
            continue
        print(f"{name:<16}{count:>10}{count / run_s:>10.1f}{statistics.median(values):>9.2f}"
              f"{_percentile(values, 99):>9.2f}{max(values):>9.1f}"
              f"{int(row.get('Failure Count', 0)):>8}")
    everything = [t for values in times.values() for t in values]
    applications = (int(stats.get("/predict", {}).get("Request Count", 0))
                    + args.batch_size * int(stats.get("/predict/batch", {})
                                            .get("Request Count", 0)))
    print(f"{'all':<16}{requests:>10}{requests / run_s:>10.1f}"
          f"{statistics.median(everything):>9.2f}{_percentile(everything, 99):>9.2f}"
          f"{max(everything):>9.1f}{failures:>8}")
    print(f"applications scored: {applications} ({applications / run_s:.0f}/s); server "
          f"logged {served} requests, {server_errors} with a 5xx")
    errors = failures + server_errors
    print(f"errors: {errors}")
    if args.json:
        args.json.write_text(json.dumps({
            "users": args.users, "duration_s": args.duration, "requests": requests,
            "throughput_rps": requests / run_s, "applications_per_s": applications / run_s,
            "errors": errors,
            "latency_ms": {name: {"p50": statistics.median(v), "p99": _percentile(v, 99)}
                           for name, v in times.items() if v},
        }, indent=2))
    return 1 if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=FUNCTION_DIR / "model")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="uvicorn worker processes (default: up to 2, one per core)")
    parser.add_argument("--reasons", type=int, default=4, help="reasons per /predict")
    parser.add_argument("--batch-every", type=int, default=20,
                        help="one request in N is a /predict/batch (0: never)")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--applications", type=int, default=200,
                        help="distinct applications sent (from the bundle's reference.csv.gz)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.users < 1 or args.duration < 1:
        parser.error("--users and --duration must be positive")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
