"""Safe-rollout benchmark: the shadow challenger's added latency, and the PreTraffic hook.

    python -m benchmarks.bench_rollout [--bundle DIR] [--requests 2000] [--batch-runs 30]

1. Shadow challenger: the same Lambda handler (Mangum, HTTP API v2 events) without and with
   a challenger of the same size (the bundle again, under another threshold), requests
   interleaved one for one so machine load hits both alike. Warm /predict (4 reasons) and
   /predict/batch of 1,000 (no reasons): p50/p99 wall and CPU of each, and the difference
   (the challenger's cost per request). Capture is off in both, so only the shadow differs.
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
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from contract.bundle import CARD_FILE, ModelCard


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


def handlers(bundle: Path, workdir: Path) -> tuple[Any, Any]:
    """(baseline handler, handler with a loaded shadow challenger)."""
    from mangum import Mangum

    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.model import load_bundle
    from scoring.shadow import Challenger

    challenger_dir = workdir / "challenger"
    shutil.copytree(bundle, challenger_dir)
    card = json.loads((challenger_dir / CARD_FILE).read_text())
    card.update(model_version="2", threshold=card["threshold"] * 0.8)
    (challenger_dir / CARD_FILE).write_text(json.dumps(card))
    baseline = Mangum(create_app(Settings(model_dir=bundle)), lifespan="off")
    shadow_app = create_app(Settings(model_dir=bundle))
    shadow_app.state.service.challenger = Challenger(
        "local", lambda: load_bundle(challenger_dir))
    assert shadow_app.state.service.challenger.bundle() is not None
    return baseline, Mangum(shadow_app, lifespan="off")


def _timed(handler: Any, event: dict[str, Any], context: Any) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    response = handler(event, context)
    if response["statusCode"] != 200:
        raise RuntimeError(response["body"][:300])
    return (time.perf_counter() - started) * 1e3, (time.process_time() - cpu) * 1e3


def interleaved(pair: tuple[Any, Any], events: list[dict[str, Any]], runs: int,
                warmup: int) -> dict[str, dict[str, float]]:
    """Wall and CPU percentiles of each handler, requests alternating between the two."""
    from infra.lambda_events import FakeLambdaContext

    context = FakeLambdaContext()
    for i in range(warmup):
        for handler in pair:
            handler(events[i % len(events)], context)
    samples: dict[str, list[tuple[float, float]]] = {"baseline": [], "shadow": []}
    for i in range(runs):
        order = ("baseline", "shadow") if i % 2 == 0 else ("shadow", "baseline")
        for name in order:
            handler = pair[0] if name == "baseline" else pair[1]
            samples[name].append(_timed(handler, events[i % len(events)], context))
    out = {}
    for name, values in samples.items():
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        out[name] = {"p50_ms": _pct(wall, 50), "p99_ms": _pct(wall, 99),
                     "cpu_p50_ms": _pct(cpu, 50), "cpu_p99_ms": _pct(cpu, 99)}
    out["added"] = {k: out["shadow"][k] - out["baseline"][k] for k in out["baseline"]}
    return out


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
    base, shadow, added = figures["baseline"], figures["shadow"], figures["added"]
    return (f"{label:<28} baseline p50 {base['p50_ms']:8.2f} p99 {base['p99_ms']:8.2f} | "
            f"shadow p50 {shadow['p50_ms']:8.2f} p99 {shadow['p99_ms']:8.2f} | "
            f"added p50 {added['p50_ms']:+7.2f} ms ({shadow['p50_ms'] / base['p50_ms']:.2f}x) "
            f"p99 {added['p99_ms']:+7.2f} ms | added CPU p50 {added['cpu_p50_ms']:+6.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="a bundle with a golden set")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--batch-runs", type=int, default=30)
    parser.add_argument("--hook-runs", type=int, default=20)
    args = parser.parse_args(argv)
    from infra.lambda_events import http_api_event, reference_applications
    from scoring import logs

    logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115  (the request log lines)

    with tempfile.TemporaryDirectory(prefix="bench-rollout-") as tmp:
        work = Path(tmp)
        bundle = args.bundle or synthetic_bundle(work)
        pair = handlers(bundle, work)
        apps = reference_applications(bundle, 1_000)
        single = [http_api_event("POST", "/predict", body=a, query="reasons=4")
                  for a in apps[:200]]
        batch = [http_api_event("POST", "/predict/batch", body={"applications": apps},
                                query="reasons=0")]
        warm = interleaved(pair, single, args.requests, warmup=200)
        batched = interleaved(pair, batch, args.batch_runs, warmup=3)
        hook = hook_timing(pair[0], bundle, work, args.hook_runs)
    print(_line(f"/predict x{args.requests}", warm))
    print(_line(f"/predict/batch 1,000 x{args.batch_runs}", batched))
    print(f"PreTraffic hook checks, {hook['rows']} golden applications x{args.hook_runs}: "
          f"median {hook['median_ms']:.1f} ms, p90 {hook['p90_ms']:.1f} ms, "
          f"min {hook['min_ms']:.1f} ms (in process; Lambda adds two Invoke round trips)")
    print(json.dumps({"single": warm, "batch": batched, "hook": hook}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
