"""Serving benchmark (issue 3's speed table), with the seed-style baseline measured in the
same run:

* cold start: a new process -> first /predict response through the Lambda handler
  (median of --cold-runs fresh interpreters, ours and the seed-style handler interleaved);
* warm /predict with reasons through the handler with API Gateway v2 events (p50/p99);
* a batch of 1,000 applications without reasons through the handler;
* the package: ``pip install --target`` of requirements-fn.txt + the function/ directory.

    .venv/bin/python -m benchmarks.bench_serving --bundle function/model

Timings are wall-clock on this machine; other processes running at the same time inflate
them (the ratio to the seed-style handler, measured alongside, is more stable).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FUNCTION_DIR = REPO / "function"

TARGETS = {
    "cold_ms": 450.0,
    "cold_ratio": 3.0,
    "warm_p50_ms": 5.0,
    "warm_p99_ms": 10.0,
    "batch_ms": 50.0,
    "package_mb": 150.0,
}

# The child process of a cold-start run: read the event, import the handler, answer once.
_CHILD = r"""
import sys
event_path, module = sys.argv[1], sys.argv[2]
class Context:
    function_name = "ScoringFunction"
    memory_limit_in_mb = 1024
    aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ScoringFunction"
    def get_remaining_time_in_millis(self):
        return 30000
import json
with open(event_path) as handle:
    event = json.load(handle)
entry = __import__(module, fromlist=["handler"])
response = entry.handler(event, Context())
sys.stdout.write(f"@@done {response['statusCode']}\n")
sys.stdout.flush()
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _cold_start(event_path: Path, module: str, cwd: Path, env: dict[str, str],
                python_args: tuple[str, ...] = ()) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *python_args, "-c", _CHILD, str(event_path), module],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    while line and not line.startswith("@@done"):  # skip the function's JSON log lines
        line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    _, stderr = process.communicate(timeout=300)
    if line.strip() != "@@done 200":
        raise RuntimeError(f"{module} cold start answered {line!r}: {stderr[-2000:]}")
    return elapsed * 1e3


def _trees(bundle: Path) -> int:
    import numpy as np

    with np.load(bundle / "shap_paths.npz", allow_pickle=False) as npz:
        if "path_tree" in npz.files and npz["path_tree"].size:
            return int(npz["path_tree"].max()) + 1
    return 300


def measure_cold(bundle: Path, event_path: Path, runs: int, workdir: Path,
                 package_dir: Path | None) -> dict[str, Any]:
    from benchmarks.seed_style_handler import build_pipeline

    pickle_path = build_pipeline(bundle, workdir, n_estimators=_trees(bundle))
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("CAPTURE_BUCKET", "MODEL_S3_URI", "PYTHONPATH")}
    ours_env = {**base_env, "MODEL_DIR": str(bundle)}
    seed_env = {**base_env, "SEED_PIPELINE": str(pickle_path)}
    # One untimed run each: compiles .pyc files and warms the OS file cache for both.
    _cold_start(event_path, "app", FUNCTION_DIR, ours_env)
    _cold_start(event_path, "benchmarks.seed_style_handler", REPO, seed_env)
    ours, seed, packaged = [], [], []
    for _ in range(runs):
        ours.append(_cold_start(event_path, "app", FUNCTION_DIR, ours_env))
        seed.append(_cold_start(event_path, "benchmarks.seed_style_handler", REPO, seed_env))
    if package_dir is not None:
        # Lambda-like: no site-packages, only the package dir (deps + function code).
        pkg_env = {**ours_env, "PYTHONPATH": str(package_dir)}
        _cold_start(event_path, "app", package_dir, pkg_env, ("-S",))
        for _ in range(runs):
            packaged.append(_cold_start(event_path, "app", package_dir, pkg_env, ("-S",)))
    result = {
        "ours_ms": statistics.median(ours),
        "seed_ms": statistics.median(seed),
        "ours_runs": ours,
        "seed_runs": seed,
    }
    result["ratio"] = result["seed_ms"] / result["ours_ms"]
    if packaged:
        result["package_ms"] = statistics.median(packaged)
        result["package_runs"] = packaged
    return result


def _events(bundle: Path, n: int) -> list[dict[str, Any]]:
    from tests.events import http_api_event, reference_applications

    return [http_api_event("POST", "/predict", body=app)
            for app in reference_applications(bundle, n)]


def measure_warm(handler: Any, events: list[dict[str, Any]], requests: int,
                 warmup: int = 200) -> dict[str, float]:
    from tests.events import FakeLambdaContext

    context = FakeLambdaContext()
    for i in range(warmup):
        handler(events[i % len(events)], context)
    times = []
    for i in range(requests):
        event = events[i % len(events)]
        started = time.perf_counter()
        response = handler(event, context)
        times.append((time.perf_counter() - started) * 1e3)
        if response["statusCode"] != 200:
            raise RuntimeError(f"warm request failed: {response['body'][:500]}")
    return {"p50_ms": _percentile(times, 50), "p99_ms": _percentile(times, 99),
            "mean_ms": statistics.fmean(times), "requests": requests}


def measure_batch(handler: Any, bundle: Path, runs: int) -> dict[str, float]:
    from tests.events import FakeLambdaContext, http_api_event, reference_applications

    apps = reference_applications(bundle, 1_000)
    event = http_api_event("POST", "/predict/batch", body={"applications": apps})
    context = FakeLambdaContext()
    for _ in range(3):
        handler(event, context)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = handler(event, context)
        times.append((time.perf_counter() - started) * 1e3)
        if response["statusCode"] != 200:
            raise RuntimeError(f"batch failed: {response['body'][:500]}")
    return {"median_ms": statistics.median(times), "p90_ms": _percentile(times, 90),
            "min_ms": min(times), "body_mb": len(event["body"]) / 1e6}


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build_package(target: Path) -> dict[str, Any]:
    """pip install --target of requirements-fn.txt, then function/ copied in (sam build's
    layout: dependencies and code side by side at the zip root)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--target", str(target), "-r", str(REPO / "requirements-fn.txt")]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        return {"error": result.stderr.strip()[-500:]}
    deps = _du(target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FUNCTION_DIR, target, dirs_exist_ok=True, ignore=ignore)
    model = _du(target / "model") if (target / "model").is_dir() else 0
    total = _du(target)
    return {"deps_mb": deps / 1e6, "model_mb": model / 1e6,
            "code_mb": (total - deps - model) / 1e6, "total_mb": total / 1e6}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=FUNCTION_DIR / "model")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--batch-runs", type=int, default=20)
    parser.add_argument("--seed-requests", type=int, default=200)
    parser.add_argument("--skip-package", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    bundle = args.bundle.resolve()
    if not (bundle / "model.onnx").is_file():
        parser.error(f"no bundle at {bundle} (make train, or pass --bundle)")

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = Path(tmp)
        package_dir = None
        if not args.skip_package:
            print("building the package (pip install --target) ...", flush=True)
            figures["package"] = build_package(workdir / "package")
            if "error" not in figures["package"]:
                package_dir = workdir / "package"
                # The bundle under test, not whatever function/model holds.
                shutil.rmtree(package_dir / "model", ignore_errors=True)
                shutil.copytree(bundle, package_dir / "model")

        events = _events(bundle, 200)
        event_path = workdir / "event.json"
        event_path.write_text(json.dumps(events[0]))
        print(f"cold starts ({args.cold_runs} runs each) ...", flush=True)
        figures["cold"] = measure_cold(bundle, event_path, args.cold_runs, workdir, package_dir)

        print("warm requests ...", flush=True)
        os.environ["MODEL_DIR"] = str(bundle)
        os.environ.pop("CAPTURE_BUCKET", None)
        sys.path.insert(0, str(FUNCTION_DIR))
        from scoring import logs

        logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115  (JSON lines cost, not I/O)
        import app

        figures["warm"] = measure_warm(app.handler, events, args.requests)
        figures["batch"] = measure_batch(app.handler, bundle, args.batch_runs)

        os.environ["SEED_PIPELINE"] = str(workdir / "seed_pipeline.pkl")
        from benchmarks import seed_style_handler

        seed_style_handler = importlib.reload(seed_style_handler)  # now loads the pickle
        figures["seed_warm"] = measure_warm(seed_style_handler.handler, events,
                                            args.seed_requests, warmup=20)

    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def print_table(f: dict[str, Any]) -> None:
    cold, warm, batch, seed = f["cold"], f["warm"], f["batch"], f["seed_warm"]
    rows = [
        ("cold start, ours (median)", f"{cold['ours_ms']:.0f} ms",
         f"<= {TARGETS['cold_ms']:.0f} ms", cold["ours_ms"] <= TARGETS["cold_ms"]),
        ("cold start, seed-style (median)", f"{cold['seed_ms']:.0f} ms", "", None),
        ("cold start ratio seed/ours", f"{cold['ratio']:.1f}x",
         f">= {TARGETS['cold_ratio']:.0f}x", cold["ratio"] >= TARGETS["cold_ratio"]),
    ]
    if "package_ms" in cold:
        rows.append(("cold start, ours from the package dir", f"{cold['package_ms']:.0f} ms",
                     f"<= {TARGETS['cold_ms']:.0f} ms", cold["package_ms"] <= TARGETS["cold_ms"]))
    rows += [
        (f"warm /predict p50 (v2 events, {warm['requests']} req)", f"{warm['p50_ms']:.2f} ms",
         f"<= {TARGETS['warm_p50_ms']:.0f} ms", warm["p50_ms"] <= TARGETS["warm_p50_ms"]),
        ("warm /predict p99", f"{warm['p99_ms']:.2f} ms", f"<= {TARGETS['warm_p99_ms']:.0f} ms",
         warm["p99_ms"] <= TARGETS["warm_p99_ms"]),
        ("warm seed-style p50 / p99", f"{seed['p50_ms']:.1f} / {seed['p99_ms']:.1f} ms", "",
         None),
        (f"batch of 1,000, no reasons (median, {batch['body_mb']:.1f} MB body)",
         f"{batch['median_ms']:.1f} ms", f"<= {TARGETS['batch_ms']:.0f} ms",
         batch["median_ms"] <= TARGETS["batch_ms"]),
    ]
    package = f.get("package")
    if package and "error" not in package:
        rows.append((
            f"package unzipped (deps {package['deps_mb']:.1f} + code {package['code_mb']:.2f}"
            f" + model {package['model_mb']:.1f} MB)",
            f"{package['total_mb']:.1f} MB", f"<= {TARGETS['package_mb']:.0f} MB",
            package["total_mb"] <= TARGETS["package_mb"]))
    elif package:
        rows.append(("package unzipped", "n/a", package["error"][:60], None))
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>16}  {'target':>10}  ok")
    print("-" * (width + 36))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>16}  {target:>10}  {mark}")
    print()
    print("cold runs (ms): ours", [round(x) for x in cold["ours_runs"]],
          "seed", [round(x) for x in cold["seed_runs"]])


if __name__ == "__main__":
    raise SystemExit(main())
