"""Training benchmark: wall time, CPU time and peak memory of ``python -m training train``.

    python -m benchmarks.bench_training [--scenario small|big|all] [--big-rows 307511]
                                         [--trials 20] [--real-data DIR] [--keep DIR]

Scenarios (each ``train`` runs in a fresh subprocess against a throw-away MLflow store):

* ``small``: the real 5,000-row sample (``../shared/data/home-credit``), budget 3 min;
  without the real file, 5,000 synthetic rows.
* ``big``: ``--big-rows`` synthetic rows (default 307,511, the size of the full Kaggle
  application_train.csv) written to Parquet first (not timed), budget 10 min and 8 GB.

Reported per scenario: wall seconds, CPU seconds (user + sys of the child; steadier than
wall time on a shared machine), peak RSS (the child's ru_maxrss), the ratio to the budget,
the 1-minute load average before the run, and from the model card the time the champion
search took against the one-hot grid recipe's grid in the same run (the in-process
baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "home-credit" / "application_train_sample.csv"
BUDGETS = {"small": (180.0, None), "big": (600.0, 8 * 1024.0)}  # seconds, MB


def _run_train(data: Path, work: Path, name: str, trials: int) -> dict[str, Any]:
    """One ``train`` in a subprocess; figures from getrusage of that child alone."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / name / 'mlflow.db'}",
           "PYTHONUNBUFFERED": "1"}
    output = work / name / "bundle"
    command = [sys.executable, "-m", "training", "train", "--data", str(data), "--output",
               str(output), "--trials", str(trials)]
    load = os.getloadavg()[0]
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run each scenario in its
    # own grandchild-free wrapper process so the figure is this run's alone.
    wrapper = (
        "import resource, subprocess, sys, json, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.call(sys.argv[1:], stdout=sys.stderr)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'code': code, 'wall': time.perf_counter() - t,"
        " 'cpu': u.ru_utime + u.ru_stime, 'rss_mb': u.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=REPO_ROOT, env=env,
                          stdout=subprocess.PIPE, text=True, check=False)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["code"] != 0:
        raise SystemExit(f"train failed for {name} (exit {figures['code']})")
    card = json.loads((output / "model_card.json").read_text())
    candidates = card["candidates"]
    return {
        "scenario": name, "rows": card["data_fingerprint"]["rows"],
        "wall_s": round(figures["wall"], 1), "cpu_s": round(figures["cpu"], 1),
        "peak_rss_mb": round(figures["rss_mb"]), "load_before": round(load, 2),
        "search_s": candidates["champion"]["seconds"],
        "onehot_grid_s": candidates["onehot_grid"]["seconds"],
        "comparison_rows": card["training"]["comparison_rows"],
        "cv_auc": round(card["metrics"]["cv"]["auc"], 4),
        "onehot_grid_cv_auc": round(card["metrics"]["onehot_grid"]["cv"]["auc"], 4),
        "cv_cost": round(card["metrics"]["cv"]["cost_per_applicant"], 4),
        "onehot_grid_cv_cost": round(
            card["metrics"]["onehot_grid"]["cv"]["cost_per_applicant"], 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("small", "big", "all"), default="all")
    parser.add_argument("--big-rows", type=int, default=307_511)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--real-data", type=Path, default=REAL_SAMPLE.parent)
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: temp)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-training-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    if args.scenario in ("small", "all"):
        data = args.real_data / "application_train_sample.csv"
        if not data.is_file():
            print(f"{data} not found: using 5,000 synthetic rows", file=sys.stderr)
            data = work / "small.parquet"
            subprocess.run([sys.executable, "-m", "training", "sample", "--rows", "5000",
                            "--output", str(data)], cwd=REPO_ROOT, check=True)
        results.append(_run_train(data, work, "small", args.trials))
    if args.scenario in ("big", "all"):
        data = work / "big.parquet"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "training", "sample", "--rows",
                        str(args.big_rows), "--output", str(data)], cwd=REPO_ROOT, check=True)
        print(f"generated {args.big_rows:,} rows in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        results.append(_run_train(data, work, "big", args.trials))

    print(f"\n{'scenario':<8} {'rows':>8} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} "
          f"{'wall/budget':>11} {'load':>5} {'search s':>8} {'grid s':>7}")
    for r in results:
        budget_s, budget_mb = BUDGETS[r["scenario"]]
        mem = f" (budget {budget_mb:.0f} MB)" if budget_mb else ""
        print(f"{r['scenario']:<8} {r['rows']:>8,} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} "
              f"{r['peak_rss_mb']:>8,} {r['wall_s'] / budget_s:>11.2f} {r['load_before']:>5.1f} "
              f"{r['search_s']:>8.1f} {r['onehot_grid_s']:>7.1f}{mem}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
