"""Reasons on the request path, against an earlier tree: two Lambda handlers (Mangum, HTTP API
v2 events), the tree at ``--before-ref`` and this one, each in its own worker process
(benchmarks.bench_rollout.Worker), taking turns in alternating order so machine load hits
both alike. Warm /predict with 4 reasons and /predict/batch of 1,000 with 4 reasons: p50/p99
wall and CPU of each, timed inside the worker around the handler call, the p50 ratio and
the p99 difference with a 95% bootstrap CI.

    python -m benchmarks.bench_reasons --bundle function/model [--before-ref REF]

``--before-ref`` defaults to the last tree whose reasons were chosen row by row.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_rollout import Worker, _pct, before_tree, p99_difference

#: The last commit before contract.reasons worked on columns.
BEFORE_REF = "84e8070"
KINDS = {"single": "/predict, 4 reasons", "batch4": "/predict/batch 1,000, 4 reasons"}


def compare(workers: dict[str, Worker], kind: str, runs: int, warmup: int
            ) -> dict[str, dict[str, float]]:
    """Percentiles per arm ("before", "after") and after - before."""
    for i in range(warmup):
        for worker in workers.values():
            worker.time(f"{kind} {i}")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in workers}
    names = list(workers)
    for i in range(runs):
        for name in (names if i % 2 else names[::-1]):
            samples[name].append(workers[name].time(f"{kind} {i}"))
    out: dict[str, dict[str, float]] = {}
    for name, values in samples.items():
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        out[name] = {"p50_ms": _pct(wall, 50), "p99_ms": _pct(wall, 99),
                     "cpu_p50_ms": _pct(cpu, 50), "cpu_p99_ms": _pct(cpu, 99)}
    after, before = np.asarray(samples["after"]), np.asarray(samples["before"])
    out["after - before"] = {**p99_difference(after[:, 0], before[:, 0], "p99_ms"),
                             **p99_difference(after[:, 1], before[:, 1], "cpu_p99_ms"),
                             "p50_ratio": out["after"]["p50_ms"] / out["before"]["p50_ms"]}
    return out


def _line(label: str, figures: dict[str, dict[str, float]]) -> str:
    b, a, d = figures["before"], figures["after"], figures["after - before"]
    return (f"{label:<34} before p50 {b['p50_ms']:8.3f} p99 {b['p99_ms']:8.3f} | after p50 "
            f"{a['p50_ms']:8.3f} p99 {a['p99_ms']:8.3f} ms | p50 x{d['p50_ratio']:.2f}, p99 "
            f"{d['p99_ms']:+.3f} ms [95% CI {d['p99_ms_ci95_low']:+.3f}, "
            f"{d['p99_ms_ci95_high']:+.3f}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("function/model"))
    parser.add_argument("--before-ref", default=BEFORE_REF)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--batch-runs", type=int, default=40)
    args = parser.parse_args(argv)
    from scoring import logs

    logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115  (the request log lines)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-reasons-") as tmp:
        work = Path(tmp)
        bundle = args.bundle.resolve()
        here = Path(__file__).resolve().parents[1]
        workers = {"before": Worker(before_tree(args.before_ref, work / "before"), bundle,
                                    "off", work),
                   "after": Worker(here, bundle, "off", work)}
        try:
            figures["single"] = compare(workers, "single", args.requests, warmup=200)
            figures["batch4"] = compare(workers, "batch4", args.batch_runs, warmup=3)
        finally:
            for worker in workers.values():
                worker.close()
    for kind, label in KINDS.items():
        print(_line(label, figures[kind]))
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
