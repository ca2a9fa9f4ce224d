"""Safe-rollout benchmark: the request path before and after the challenger left it, and
the PreTraffic hook.

    python -m benchmarks.bench_rollout [--bundle DIR] [--before-ref REF] [--requests 2000]
                                       [--batch-runs 30]

1. Request path, in one run: three Lambda handlers (Mangum, HTTP API v2 events), each in its
   own worker process: the tree at ``--before-ref`` (the last one with the shadow challenger
   in the scoring function, extracted with ``git archive``) with the challenger off and with
   a challenger of the same size loaded, and this tree (champion only). Requests go to the
   three in turn, the order rotating, so machine load hits all alike. Warm /predict
   (4 reasons) and /predict/batch of 1,000 (no reasons): p50/p99 wall and CPU of each,
   timed inside the worker around the handler call. Capture is off in all three.
2. PreTraffic hook: infra/hooks/pretraffic.run_checks from the package infra/build_hook.py
   builds with the bundle's golden set (as ``sam build`` does; the function in process):
   reading and hashing the packaged golden set, /health, and one batch of the golden
   applications. In Lambda each of the two calls adds an Invoke round trip on top.

Without --bundle a synthetic bundle is trained first (300 trees x 31 leaves, the size of
the TreeSHAP benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from contract.bundle import ModelCard


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def synthetic_bundle(directory: Path, trees: int = 300, rows: int = 20_000) -> Path:
    """Train a LightGBM of the benchmark's size on synthetic rows and write its bundle."""
    import lightgbm

    from contract import schema
    from training.bundle import write_bundle
    from training.costs import Costs
    from training.features import frame_features
    from training.synthetic import generate

    frame = generate(rows, seed=3)
    split = int(rows * 0.8)
    train, holdout = frame.iloc[:split], frame.iloc[split:]
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1,
         "seed": 3, "num_threads": 2},
        lightgbm.Dataset(frame_features(train), label=train[schema.TARGET_FIELD].to_numpy()),
        num_boost_round=trees)
    card: ModelCard = {"model_version": "1", "costs": Costs().to_dict(), "metrics": {},
                       "schema": [f.to_dict() for f in schema.FIELDS]}
    output = directory / "champion"
    write_bundle(output, booster, card, holdout=holdout, reference=train.iloc[:1_000],
                 threshold=0.08)
    return output


#: The last commit whose scoring function ran a shadow challenger (scoring.shadow).
BEFORE_REF = "72f8d69"
ARMS = ("before, challenger off", "before, challenger on", "after (champion only)")

#: A worker: builds one handler, then times the handler call for each line it reads
#: ("single <i>": /predict with 4 reasons; "batch" / "batch4": /predict/batch of 1,000 with
#: 0 / 4 reasons), answering "<wall ms> <cpu ms>".
_WORKER = r"""
import json, os, shutil, sys, time
from pathlib import Path
bundle, mode, work = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
from mangum import Mangum
from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
from scoring import logs
from scoring.api import create_app
from scoring.config import Settings
logs.set_stream(open(os.devnull, "w"))
app = create_app(Settings(model_dir=bundle))
if mode == "challenger":
    from scoring.model import load_bundle
    from scoring.shadow import Challenger
    challenger = work / "challenger"
    if not challenger.exists():
        shutil.copytree(bundle, challenger)
        card = json.loads((challenger / "model_card.json").read_text())
        card.update(model_version="2", threshold=card["threshold"] * 0.8)
        (challenger / "model_card.json").write_text(json.dumps(card))
    app.state.service.challenger = Challenger("local", lambda: load_bundle(challenger))
    assert app.state.service.challenger.bundle() is not None
handler, context = Mangum(app, lifespan="off"), FakeLambdaContext()
apps = reference_applications(bundle, 1000)
single = [http_api_event("POST", "/predict", body=a, query="reasons=4") for a in apps[:200]]
batch = {kind: http_api_event("POST", "/predict/batch", body={"applications": apps},
                              query=f"reasons={k}") for kind, k in (("batch", 0), ("batch4", 4))}
print("ready", flush=True)
for line in sys.stdin:
    kind, _, i = line.strip().partition(" ")
    event = single[int(i) % len(single)] if kind == "single" else batch[kind]
    started, cpu = time.perf_counter(), time.process_time()
    response = handler(event, context)
    wall, cpu = (time.perf_counter() - started) * 1e3, (time.process_time() - cpu) * 1e3
    assert response["statusCode"] == 200, response["body"][:300]
    print(f"{wall} {cpu}", flush=True)
"""


class Worker:
    """One handler in its own process, on the scoring package of ``tree``."""

    def __init__(self, tree: Path, bundle: Path, mode: str, work: Path) -> None:
        import subprocess

        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "CAPTURE_STREAM", "MODEL_S3_URI")}
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "function")])
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(bundle), mode, str(work)], cwd=tree, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"worker on {tree} did not start")

    def time(self, command: str) -> tuple[float, float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        wall, cpu = self.process.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def before_tree(ref: str, directory: Path) -> Path:
    """The repository at ``ref``, extracted (no worktree left behind)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    directory.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(root), "archive", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    return directory


def rotated(workers: dict[str, Worker], kind: str, runs: int, warmup: int
            ) -> dict[str, dict[str, float]]:
    """Wall and CPU percentiles per arm, the arms taking turns in rotating order."""
    names = list(workers)
    for i in range(warmup):
        for name in names:
            workers[name].time(f"{kind} {i}")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            samples[name].append(workers[name].time(f"{kind} {i}"))
    out = {}
    for name, values in samples.items():
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        out[name] = {"p50_ms": _pct(wall, 50), "p99_ms": _pct(wall, 99),
                     "cpu_p50_ms": _pct(cpu, 50), "cpu_p99_ms": _pct(cpu, 99)}
    after, off = np.asarray(samples[ARMS[2]]), np.asarray(samples[ARMS[0]])
    out["after - before/off"] = {**p99_difference(after[:, 0], off[:, 0], "p99_ms"),
                                 **p99_difference(after[:, 1], off[:, 1], "cpu_p99_ms")}
    return out


def p99_difference(after: np.ndarray, before: np.ndarray, key: str, reps: int = 2_000,
                   seed: int = 0) -> dict[str, float]:
    """The p99 difference after - before with a 95% bootstrap CI, resampling the rotation
    rounds (request i of both arms ran back to back, so the pairs share machine load)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(after), size=(reps, len(after)))
    spread = (np.percentile(after[index], 99, axis=1)
              - np.percentile(before[index], 99, axis=1))
    low, high = np.percentile(spread, [2.5, 97.5])
    diff = float(np.percentile(after, 99) - np.percentile(before, 99))
    return {key: diff, f"{key}_ci95_low": float(low), f"{key}_ci95_high": float(high)}


def hook_timing(handler: Any, bundle: Path, workdir: Path, runs: int) -> dict[str, float]:
    """Wall milliseconds of the hook's checks (its package built from the bundle, the
    function in process)."""
    from infra import build_hook
    from infra.hooks import pretraffic
    from infra.lambda_events import FakeLambdaContext

    package = workdir / "hook"
    build_hook.build(package, bundle)
    context = FakeLambdaContext()
    env = {"TARGET_FUNCTION": "scoring:1"}
    times, rows = [], 0
    for _ in range(runs + 1):  # the first run warms the file cache
        started = time.perf_counter()
        report = pretraffic.run_checks(env, lambda e: handler(e, context), package)
        times.append((time.perf_counter() - started) * 1e3)
        rows = report["golden"]["rows"]
    times = times[1:]
    return {"rows": rows, "median_ms": statistics.median(times), "p90_ms": _pct(times, 90),
            "min_ms": min(times)}


def _line(label: str, figures: dict[str, dict[str, float]]) -> str:
    off, on, after = (figures[name] for name in ARMS)
    return (f"{label:<26} before/off p50 {off['p50_ms']:7.2f} p99 {off['p99_ms']:7.2f} | "
            f"before/on p50 {on['p50_ms']:7.2f} p99 {on['p99_ms']:7.2f} | after p50 "
            f"{after['p50_ms']:7.2f} p99 {after['p99_ms']:7.2f} | after vs off p50 "
            f"{after['p50_ms'] - off['p50_ms']:+6.2f} p99 {after['p99_ms'] - off['p99_ms']:+6.2f}"
            f" ms; vs on p50 {after['p50_ms'] - on['p50_ms']:+6.2f} p99 "
            f"{after['p99_ms'] - on['p99_ms']:+6.2f} ms")


def _verdict(label: str, figures: dict[str, dict[str, float]]) -> str:
    """The champion-only path against the old tree with the challenger off: the p99
    difference with its bootstrap CI, and whether it is no worse (the CI reaches 0)."""
    d = figures["after - before/off"]
    parts = []
    for key, name in (("p99_ms", "wall"), ("cpu_p99_ms", "CPU")):
        low, high = d[f"{key}_ci95_low"], d[f"{key}_ci95_high"]
        verdict = "no worse" if low <= 0.0 else "WORSE"
        parts.append(f"{name} p99 {d[key]:+.2f} ms [95% CI {low:+.2f}, {high:+.2f}]: {verdict}")
    return f"{label:<26} after - before/off: " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="a bundle with a golden set")
    parser.add_argument("--before-ref", default=BEFORE_REF,
                        help="the tree with the shadow challenger (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--batch-runs", type=int, default=30)
    parser.add_argument("--hook-runs", type=int, default=20)
    args = parser.parse_args(argv)
    from scoring import logs

    logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115  (the request log lines)

    with tempfile.TemporaryDirectory(prefix="bench-rollout-") as tmp:
        work = Path(tmp)
        bundle = (args.bundle or synthetic_bundle(work)).resolve()
        before = before_tree(args.before_ref, work / "before")
        here = Path(__file__).resolve().parents[1]
        workers = {ARMS[0]: Worker(before, bundle, "off", work),
                   ARMS[1]: Worker(before, bundle, "challenger", work),
                   ARMS[2]: Worker(here, bundle, "off", work)}
        try:
            warm = rotated(workers, "single", args.requests, warmup=200)
            batched = rotated(workers, "batch", args.batch_runs, warmup=3)
        finally:
            for worker in workers.values():
                worker.close()
        from mangum import Mangum

        from scoring.api import create_app
        from scoring.config import Settings

        handler = Mangum(create_app(Settings(model_dir=bundle)), lifespan="off")
        hook = hook_timing(handler, bundle, work, args.hook_runs)
    print(_line(f"/predict x{args.requests}", warm))
    print(_line(f"/predict/batch 1,000 x{args.batch_runs}", batched))
    print(_verdict(f"/predict x{args.requests}", warm))
    print(_verdict(f"/predict/batch 1,000 x{args.batch_runs}", batched))
    print(f"PreTraffic hook checks, {hook['rows']} golden applications x{args.hook_runs}: "
          f"median {hook['median_ms']:.1f} ms, p90 {hook['p90_ms']:.1f} ms, "
          f"min {hook['min_ms']:.1f} ms (in process; Lambda adds two Invoke round trips)")
    print(json.dumps({"single": warm, "batch": batched, "hook": hook}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
