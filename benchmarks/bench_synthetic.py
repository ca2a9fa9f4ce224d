"""Synthetic data generator benchmark: wall and CPU time of ``training.synthetic.generate``.

    python -m benchmarks.bench_synthetic [--rows 307511] [--repeat 3] [--write]

Baseline, in the same process: drawing the same number of standard normals as the frame has
cells (rows x 122) with numpy, the floor for any vectorised generator of that size; the
generate/baseline ratio is what the calibrated structure costs on top. The machine's load
affects wall time; CPU time is the steadier figure. ``--write`` also times write_sample to a
gzipped CSV and to Parquet.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from contract import schema
from training import synthetic


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=synthetic.FULL_ROWS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="also time CSV.gz / Parquet output")
    args = parser.parse_args(argv)
    rows, cells = args.rows, args.rows * len(schema.TRAINING_COLUMNS)

    rng = np.random.default_rng(0)
    base_wall, base_cpu = _best(lambda: rng.standard_normal(cells), args.repeat)
    gen_wall, gen_cpu = _best(lambda: synthetic.generate(rows, seed=0), args.repeat)
    print(f"rows: {rows:,} ({cells:,} cells), best of {args.repeat}")
    print(f"baseline (numpy normals): wall {base_wall:6.2f} s  cpu {base_cpu:6.2f} s")
    print(f"generate:                 wall {gen_wall:6.2f} s  cpu {gen_cpu:6.2f} s  "
          f"({rows / gen_wall:,.0f} rows/s)")
    print(f"ratio generate/baseline:  wall {gen_wall / base_wall:6.1f}x  "
          f"cpu {gen_cpu / base_cpu:6.1f}x")
    if args.write:
        with tempfile.TemporaryDirectory() as tmp:
            for suffix in (".csv.gz", ".parquet"):
                path = Path(tmp) / f"applications{suffix}"
                wall, cpu = _best(functools.partial(synthetic.write_sample, path, rows), 1)
                size = path.stat().st_size / 1e6
                print(f"write_sample {suffix:8s}:    wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                      f"{size:,.1f} MB (includes generate)")


if __name__ == "__main__":
    main()
