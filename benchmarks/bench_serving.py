"""Serving benchmark (the README's speed table), with the pandas-stack baseline measured in the
same run:

* cold start: a new process -> first /predict response through the Lambda handler
  (median of --cold-runs fresh interpreters, ours and the pandas-stack handler interleaved);
* warm /predict with reasons through the handler with API Gateway v2 events (p50/p99);
* a batch of 1,000 applications without reasons through the handler;
* the package: the deployed build (infra/build_function.py, what ``sam build
  ScoringFunction`` runs: pruned, precompiled) and, as the baseline, the layout of sam's
  default Python builder (``pip install --target`` + the code, no .pyc files); cold starts
  from both in a Lambda-like interpreter (``python -S``, only the package dir on sys.path,
  no .pyc writes), next to the dev-venv cold start;
* with ``--baseline-ref GIT_REF``: the deployment package of that commit, built by its own
  infra/build_function.py (in a temporary git worktree) with the same bundle, its cold start
  interleaved with the current build's, and the ratios current/baseline (median and p90) and
  both package sizes. Trees before the contract package have ``app.handler`` as the entry
  point (function/app.py); the entry is read off the built package.

    .venv/bin/python -m benchmarks.bench_serving --bundle function/model [--baseline-ref REF]

Timings are wall-clock on this machine; other processes running at the same time inflate
them (the ratio to the pandas-stack handler, measured alongside, is more stable).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra import build_function, lambda_events

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
# The fake Lambda context comes from infra/lambda_events.py, loaded by its path (it imports
# only the standard library) so that the child's sys.path holds nothing but what it measures.
_CHILD = r"""
import sys, time
event_path, module, events_path = sys.argv[1], sys.argv[2], sys.argv[3]
import importlib.util, json
spec = importlib.util.spec_from_file_location("lambda_events", events_path)
lambda_events = importlib.util.module_from_spec(spec)
sys.modules["lambda_events"] = lambda_events
spec.loader.exec_module(lambda_events)
with open(event_path) as handle:
    event = json.load(handle)
entry = __import__(module, fromlist=["handler"])
response = entry.handler(event, lambda_events.FakeLambdaContext(aws_request_id="cold-start"))
sys.stdout.write(f"@@done {response['statusCode']} {time.process_time() * 1e3:.1f}\n")
sys.stdout.flush()
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _cold_start(event_path: Path, module: str, cwd: Path, env: dict[str, str],
                python_args: tuple[str, ...] = ()) -> tuple[float, float]:
    """(wall ms, CPU ms of the child) from spawning the interpreter to the first response."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *python_args, "-c", _CHILD, str(event_path), module,
         lambda_events.__file__],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    while line and not line.startswith("@@done"):  # skip the function's JSON log lines
        line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    _, stderr = process.communicate(timeout=300)
    parts = line.split()
    if parts[:2] != ["@@done", "200"]:
        raise RuntimeError(f"{module} cold start answered {line!r}: {stderr[-2000:]}")
    return elapsed * 1e3, float(parts[2])


def _trees(bundle: Path) -> int:
    import numpy as np

    with np.load(bundle / "shap_paths.npz", allow_pickle=False) as npz:
        if "path_tree" in npz.files and npz["path_tree"].size:
            return int(npz["path_tree"].max()) + 1
    return 300


def measure_cold(bundle: Path, event_path: Path, runs: int, workdir: Path,
                 package_dir: Path | None, built_dir: Path | None,
                 baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    from benchmarks.pandas_stack_handler import build_pipeline

    pickle_path = build_pipeline(bundle, workdir, n_estimators=_trees(bundle))
    # PYTHONDONTWRITEBYTECODE dropped: the untimed first runs write the .pyc files of
    # function/ and of the pandas-stack module, as the venv's packages already have theirs.
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("CAPTURE_STREAM", "MODEL_S3_URI", "PYTHONPATH",
                             "PYTHONDONTWRITEBYTECODE")}
    ours_env = {**base_env, "MODEL_DIR": str(bundle)}
    stack_env = {**base_env, "PANDAS_STACK_PIPELINE": str(pickle_path)}
    # Lambda-like runs: no site-packages (-S), only the package dir (deps + function code +
    # model, MODEL_DIR unset so the packaged bundle is used) on sys.path, never writing .pyc
    # files (/var/task is read-only): the deployed build, and sam's default layout (no .pyc:
    # every module is compiled at each cold start).
    lambda_env = {**ours_env, "MODEL_DIR": "", "PYTHONDONTWRITEBYTECODE": "1"}
    ours: list[tuple[float, float]] = []
    stack: list[tuple[float, float]] = []
    packaged: list[tuple[float, float]] = []
    no_pyc: list[tuple[float, float]] = []
    old: list[tuple[float, float]] = []
    kinds: list[tuple[str, Path, dict[str, str], tuple[str, ...], list[Any]]] = [
        ("scoring.handler", REPO, ours_env, (), ours),
        ("benchmarks.pandas_stack_handler", REPO, stack_env, (), stack),
    ]
    for directory, runs_list in ((built_dir, packaged), (package_dir, no_pyc)):
        if directory is not None:
            env = {**lambda_env, "PYTHONPATH": str(directory)}
            kinds.append(("scoring.handler", directory, env, ("-S",), runs_list))
    if baseline is not None:
        env = {**lambda_env, "PYTHONPATH": baseline["path"]}
        kinds.append((baseline["entry"], Path(baseline["path"]), env, ("-S",), old))
    # One untimed run each (writes the dev-venv .pyc files of function/ and of the pandas-stack
    # module, warms the OS file cache), then the timed runs interleaved so that background
    # load hits every kind alike.
    for module, cwd, env, python_args, _ in kinds:
        _cold_start(event_path, module, cwd, env, python_args)
    for _ in range(runs):
        for module, cwd, env, python_args, runs_list in kinds:
            runs_list.append(_cold_start(event_path, module, cwd, env, python_args))
    result: dict[str, Any] = {
        "ours_ms": statistics.median(w for w, _ in ours),
        "stack_ms": statistics.median(w for w, _ in stack),
        "ours_cpu_ms": statistics.median(c for _, c in ours),
        "stack_cpu_ms": statistics.median(c for _, c in stack),
        "ours_runs": [w for w, _ in ours],
        "stack_runs": [w for w, _ in stack],
    }
    result["ratio"] = result["stack_ms"] / result["ours_ms"]
    result["cpu_ratio"] = result["stack_cpu_ms"] / result["ours_cpu_ms"]
    if no_pyc:
        result["package_no_pyc_ms"] = statistics.median(w for w, _ in no_pyc)
        result["package_no_pyc_cpu_ms"] = statistics.median(c for _, c in no_pyc)
    if packaged:
        result["package_ms"] = statistics.median(w for w, _ in packaged)
        result["package_cpu_ms"] = statistics.median(c for _, c in packaged)
        result["package_runs"] = [w for w, _ in packaged]
        result["package_ratio"] = result["stack_ms"] / result["package_ms"]
        result["package_cpu_ratio"] = result["stack_cpu_ms"] / result["package_cpu_ms"]
    if old and packaged:
        result["baseline"] = _versus_baseline(packaged, old)
    return result


def _versus_baseline(new: list[tuple[float, float]], old: list[tuple[float, float]]
                     ) -> dict[str, Any]:
    """Cold starts of the current build against the baseline build: medians, p90s, ratios."""
    figures: dict[str, Any] = {"runs_new": [w for w, _ in new], "runs_old": [w for w, _ in old]}
    for name, runs in (("new", new), ("old", old)):
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        figures[f"{name}_ms"] = statistics.median(walls)
        figures[f"{name}_p90_ms"] = _percentile(walls, 90)
        figures[f"{name}_cpu_ms"] = statistics.median(cpus)
        figures[f"{name}_cpu_p90_ms"] = _percentile(cpus, 90)
    for key in ("ms", "p90_ms", "cpu_ms", "cpu_p90_ms"):
        figures[f"ratio_{key}"] = figures[f"new_{key}"] / figures[f"old_{key}"]
    return figures


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                          check=False)  # nosec B603 B607: fixed git subcommands
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


#: Top-level entries of a deployment package that are the project's own code.
FIRST_PARTY = ("scoring", "contract", "app.py", "__pycache__")


def package_figures(built: Path) -> dict[str, Any]:
    """Unzipped sizes of a deployment package: total, first-party code, model, dependencies."""
    total = build_function.package_bytes(built)
    code = sum(build_function.package_bytes(built / name) if (built / name).is_dir()
               else (built / name).stat().st_size
               for name in FIRST_PARTY if (built / name).exists())
    model = build_function.package_bytes(built / "model") if (built / "model").is_dir() else 0
    return {"total_mb": total / 1e6, "code_kb": code / 1e3, "model_mb": model / 1e6,
            "deps_mb": (total - code - model) / 1e6}


def build_baseline(ref: str, workdir: Path, bundle: Path) -> dict[str, Any]:
    """The deployment package of the tree at git ``ref``, built by that tree's own
    infra/build_function.py (run from a temporary worktree) with ``bundle`` as its model."""
    commit = _git("rev-parse", "--short", f"{ref}^{{commit}}")
    tree = workdir / "baseline-tree"
    out = workdir / "baseline-built"
    _git("worktree", "add", "--detach", str(tree), commit)
    try:
        # The old tree's packages first: its infra/ and, where it kept them there, function/.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "function")])
        done = subprocess.run(  # nosec B603: this interpreter, the old tree's build script
            [sys.executable, "-m", "infra.build_function", str(out), "--model", str(bundle)],
            cwd=tree, env=env, capture_output=True, text=True, timeout=3_600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"building {ref} failed:\n{(done.stderr or done.stdout)[-2000:]}")
    finally:
        _git("worktree", "remove", "--force", str(tree))
    entry = "app" if (out / "app.py").is_file() else "scoring.handler"
    return {"ref": ref, "commit": commit, "path": str(out), "entry": entry,
            **package_figures(out)}


def _events(bundle: Path, n: int) -> list[dict[str, Any]]:
    from infra.lambda_events import http_api_event, reference_applications

    return [http_api_event("POST", "/predict", body=app)
            for app in reference_applications(bundle, n)]


def _timed_request(handler: Any, event: dict[str, Any], context: Any,
                   times: list[float], cpu: list[float]) -> None:
    """Call the handler once, appending wall and thread-CPU milliseconds; fail on non-200."""
    started, cpu_started = time.perf_counter(), time.thread_time()
    response = handler(event, context)
    times.append((time.perf_counter() - started) * 1e3)
    cpu.append((time.thread_time() - cpu_started) * 1e3)
    if response["statusCode"] != 200:
        raise RuntimeError(f"request failed: {response['body'][:500]}")


def measure_warm(handler: Any, events: list[dict[str, Any]], requests: int,
                 warmup: int = 200) -> dict[str, float]:
    from infra.lambda_events import FakeLambdaContext

    context = FakeLambdaContext()
    for i in range(warmup):
        handler(events[i % len(events)], context)
    times: list[float] = []
    cpu: list[float] = []
    for i in range(requests):
        _timed_request(handler, events[i % len(events)], context, times, cpu)
    return {"p50_ms": _percentile(times, 50), "p99_ms": _percentile(times, 99),
            "mean_ms": statistics.fmean(times), "cpu_p50_ms": _percentile(cpu, 50),
            "cpu_p99_ms": _percentile(cpu, 99), "requests": requests}


def measure_batch(handler: Any, bundle: Path, runs: int) -> dict[str, float]:
    from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications

    apps = reference_applications(bundle, 1_000)
    event = http_api_event("POST", "/predict/batch", body={"applications": apps})
    context = FakeLambdaContext()
    for _ in range(3):
        handler(event, context)
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        _timed_request(handler, event, context, times, cpu)
    return {"median_ms": statistics.median(times), "p90_ms": _percentile(times, 90),
            "min_ms": min(times), "cpu_median_ms": statistics.median(cpu),
            "body_mb": len(event["body"]) / 1e6}


def build_packages(workdir: Path, bundle: Path) -> dict[str, Any]:
    """Two packages, both with the bundle under test as model/ (MODEL_DIR unset at run time):

    * ``package``: what sam build's default Python builder lays out (pip install
      --no-compile --target of requirements-fn.txt + the code; no .pyc files), the baseline;
    * ``built``: the deployed build, infra/build_function.py's ``build()`` (what
      ``sam build ScoringFunction`` runs): pruned and precompiled (unchecked-hash .pyc).
    """
    figures: dict[str, Any] = {}
    package = workdir / "package"
    try:
        package.mkdir()
        build_function.install_requirements(package)
        deps = build_function.package_bytes(package)
        build_function.copy_code(package, bundle)
        model = build_function.package_bytes(package / "model")
        total = build_function.package_bytes(package)
        figures["package"] = {"deps_mb": deps / 1e6, "model_mb": model / 1e6,
                              "code_mb": (total - deps - model) / 1e6, "total_mb": total / 1e6}
        built = build_function.build(workdir / "built", model_dir=bundle)
        figures["package_built"] = {
            **package_figures(built),
            "pyc_files": sum(1 for _ in built.rglob("*.pyc")),
            "path": str(built),
        }
    except build_function.BuildError as exc:
        figures.setdefault("package", {"error": str(exc)[-500:]})
        figures["package_built"] = {"error": str(exc)[-500:]}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=FUNCTION_DIR / "model")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--batch-runs", type=int, default=20)
    parser.add_argument("--stack-requests", type=int, default=200)
    parser.add_argument("--skip-package", action="store_true")
    parser.add_argument("--baseline-ref", metavar="GIT_REF",
                        help="also build this commit's package and compare cold starts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    bundle = args.bundle.resolve()
    if not (bundle / "model.onnx").is_file():
        parser.error(f"no bundle at {bundle} (make train, or pass --bundle)")
    if args.baseline_ref and args.skip_package:
        parser.error("--baseline-ref compares deployment packages: drop --skip-package")

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = Path(tmp)
        package_dir = built = None
        if not args.skip_package:
            print("building the packages (sam's default layout; infra/build_function.py) ...",
                  flush=True)
            figures.update(build_packages(workdir, bundle))
            if "error" not in figures["package"]:
                package_dir = workdir / "package"
            if "error" not in figures["package_built"]:
                built = Path(figures["package_built"]["path"])
        baseline = None
        if args.baseline_ref:
            print(f"building the package of {args.baseline_ref} (its own build script) ...",
                  flush=True)
            baseline = figures["baseline_package"] = build_baseline(args.baseline_ref,
                                                                    workdir, bundle)

        events = _events(bundle, 200)
        event_path = workdir / "event.json"
        event_path.write_text(json.dumps(events[0]))
        print(f"cold starts ({args.cold_runs} runs each) ...", flush=True)
        figures["cold"] = measure_cold(bundle, event_path, args.cold_runs, workdir, package_dir,
                                       built, baseline)

        print("warm requests ...", flush=True)
        os.environ["MODEL_DIR"] = str(bundle)
        os.environ.pop("CAPTURE_STREAM", None)
        from scoring import logs

        logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115  (JSON lines cost, not I/O)
        import scoring.handler as app

        figures["warm"] = measure_warm(app.handler, events, args.requests)
        figures["batch"] = measure_batch(app.handler, bundle, args.batch_runs)

        os.environ["PANDAS_STACK_PIPELINE"] = str(workdir / "pandas_stack_pipeline.pkl")
        from benchmarks import pandas_stack_handler

        pandas_stack_handler = importlib.reload(pandas_stack_handler)  # now loads the pickle
        figures["stack_warm"] = measure_warm(pandas_stack_handler.handler, events,
                                            args.stack_requests, warmup=20)

    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def _baseline_rows(f: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Rows comparing the current build with the --baseline-ref build (none without it)."""
    old_package, versus = f.get("baseline_package"), f["cold"].get("baseline")
    if not old_package or not versus:
        return []
    ref, commit = old_package["ref"], old_package["commit"]
    label = ref if commit.startswith(ref) else f"{ref} = {commit}"
    name = f"{label} (entry {old_package['entry']})"
    new_package = f["package_built"]
    return [
        (f"cold start, baseline build {name}: median / p90",
         f"{versus['old_ms']:.0f} / {versus['old_p90_ms']:.0f}",
         f"{versus['old_cpu_ms']:.0f} / {versus['old_cpu_p90_ms']:.0f}", "", ""),
        ("cold start, current build: median / p90",
         f"{versus['new_ms']:.0f} / {versus['new_p90_ms']:.0f}",
         f"{versus['new_cpu_ms']:.0f} / {versus['new_cpu_p90_ms']:.0f}", "", ""),
        ("cold start ratio current/baseline, median",
         f"{versus['ratio_ms']:.3f}", f"{versus['ratio_cpu_ms']:.3f}", "<= 1", ""),
        ("cold start ratio current/baseline, p90",
         f"{versus['ratio_p90_ms']:.3f}", f"{versus['ratio_cpu_p90_ms']:.3f}", "<= 1", ""),
        (f"package unzipped, baseline (code {old_package['code_kb']:.0f} kB, deps "
         f"{old_package['deps_mb']:.2f} MB, model {old_package['model_mb']:.2f} MB)",
         f"{old_package['total_mb']:.2f} MB", "", "", ""),
        (f"package unzipped, current (code {new_package['code_kb']:.0f} kB, deps "
         f"{new_package['deps_mb']:.2f} MB, model {new_package['model_mb']:.2f} MB)",
         f"{new_package['total_mb']:.2f} MB", "", f"<= {old_package['total_mb']:.2f}",
         "yes" if new_package["total_mb"] <= old_package["total_mb"] else "NO"),
    ]


def print_table(f: dict[str, Any]) -> None:
    cold, warm, batch, stack = f["cold"], f["warm"], f["batch"], f["stack_warm"]
    t = TARGETS

    def row(name: str, wall: float, cpu: float | None, unit: str, target: str,
            ok: bool | None) -> tuple[str, str, str, str, str]:
        cpu_text = "" if cpu is None else f"{cpu:.2f}{unit}" if unit == " ms" and cpu < 100 \
            else f"{cpu:.0f}{unit}"
        wall_text = f"{wall:.2f}{unit}" if unit == " ms" and wall < 100 else f"{wall:.0f}{unit}"
        return name, wall_text, cpu_text, target, "" if ok is None else ("yes" if ok else "NO")

    rows = []
    if "package_ms" in cold:
        rows += [
            row("cold start, deployed build (infra/build_function.py, median)",
                cold["package_ms"], cold["package_cpu_ms"], " ms", f"<= {t['cold_ms']:.0f} ms",
                cold["package_ms"] <= t["cold_ms"]),
            ("cold start ratio pandas-stack/deployed build", f"{cold['package_ratio']:.1f}x",
             f"{cold['package_cpu_ratio']:.1f}x", f">= {t['cold_ratio']:.0f}x",
             "yes" if cold["package_ratio"] >= t["cold_ratio"] else "NO"),
        ]
    rows += [
        row("cold start, dev venv (median)", cold["ours_ms"], cold["ours_cpu_ms"], " ms",
            f"<= {t['cold_ms']:.0f} ms", cold["ours_ms"] <= t["cold_ms"]),
        row("cold start, pandas-stack (median)", cold["stack_ms"], cold["stack_cpu_ms"], " ms", "",
            None),
        ("cold start ratio pandas-stack/dev venv", f"{cold['ratio']:.1f}x",
         f"{cold['cpu_ratio']:.1f}x", f">= {t['cold_ratio']:.0f}x",
         "yes" if cold["ratio"] >= t["cold_ratio"] else "NO"),
    ]
    if "package_no_pyc_ms" in cold:
        rows.append(row("cold start, sam default builder layout (no .pyc; not deployed)",
                        cold["package_no_pyc_ms"], cold["package_no_pyc_cpu_ms"], " ms", "",
                        None))
    rows += [
        row(f"warm /predict p50 (4 reasons, v2 events, {warm['requests']} req)",
            warm["p50_ms"], warm["cpu_p50_ms"], " ms", f"<= {t['warm_p50_ms']:.0f} ms",
            warm["p50_ms"] <= t["warm_p50_ms"]),
        row("warm /predict p99", warm["p99_ms"], warm["cpu_p99_ms"], " ms",
            f"<= {t['warm_p99_ms']:.0f} ms", warm["p99_ms"] <= t["warm_p99_ms"]),
        row("warm pandas-stack p50", stack["p50_ms"], stack["cpu_p50_ms"], " ms", "", None),
        row("warm pandas-stack p99", stack["p99_ms"], stack["cpu_p99_ms"], " ms", "", None),
        row(f"batch of 1,000, no reasons (median, {batch['body_mb']:.1f} MB body)",
            batch["median_ms"], batch["cpu_median_ms"], " ms", f"<= {t['batch_ms']:.0f} ms",
            batch["median_ms"] <= t["batch_ms"]),
    ]
    built = f.get("package_built")
    if built and "total_mb" in built:
        rows.append((f"deployed package unzipped (pruned, {built['pyc_files']} .pyc files)",
                     f"{built['total_mb']:.1f} MB", "", f"<= {t['package_mb']:.0f} MB",
                     "yes" if built["total_mb"] <= t["package_mb"] else "NO"))
    elif built:
        rows.append(("deployed package", "n/a", "", "", built["error"][:60]))
    package = f.get("package")
    if package and "error" not in package:
        rows.append((
            f"sam default layout unzipped (deps {package['deps_mb']:.1f} + code "
            f"{package['code_mb']:.2f} + model {package['model_mb']:.1f} MB)",
            f"{package['total_mb']:.1f} MB", "", "", ""))
    rows += _baseline_rows(f)
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'wall':>11}  {'cpu':>11}  {'target':>10}  ok")
    print("-" * (width + 44))
    for name, wall, cpu, target, ok in rows:
        print(f"{name:<{width}}  {wall:>11}  {cpu:>11}  {target:>10}  {ok}")
    print()
    print("ok = the wall-clock figure meets the target; cpu = CPU time of the process/thread,")
    print("less inflated than wall time when other processes share the cores.")
    print("cold runs (wall ms): deployed build",
          [round(x) for x in cold.get("package_runs", [])],
          "dev venv", [round(x) for x in cold["ours_runs"]],
          "pandas-stack", [round(x) for x in cold["stack_runs"]])
    if "baseline" in cold:
        print("cold runs (wall ms), interleaved: current build",
              [round(x) for x in cold["baseline"]["runs_new"]], "baseline build",
              [round(x) for x in cold["baseline"]["runs_old"]])
    print("load average at the end of the run:", " ".join(
        f"{x:.1f}" for x in os.getloadavg()), f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    raise SystemExit(main())
