"""Scoring a whole book on one machine: chunks streamed from the file, scored by a process
pool, written under deterministic names, then a manifest and a summary.

Output directory::

    _run.json               what this output is for (input, its size, chunk size, reasons,
                            format, model); a re-run with the same keeps finished chunks
    part-00000.parquet      the scored rows of chunk 0 (rows 0 .. chunk_rows-1), ...
    part-00000.rejects.jsonl  its rejected rows (only when there are any)
    part-00000.json         its counts; written last, so its presence means "chunk done"
    rejects.jsonl           every rejected row, in file order
    summary.json            counts, declines, decline rate by fairness group, model, speed
    _SUCCESS                the manifest: every part and its row counts (written last)

A crash leaves finished chunks in place: the same command redoes only the missing ones. A
book that cannot be read (or lacks required columns) fails before anything is written; one
that turns out unreadable part-way removes what this run wrote.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from contract.bundle import CARD_FILE
from portfolio.chunk import ChunkStats, score_chunk
from portfolio.read import DEFAULT_CHUNK_ROWS, Book, BookError, open_book
from scoring.model import Bundle, BundleError, load_bundle

RUN_FILE = "_run.json"
SUCCESS_FILE = "_SUCCESS"
SUMMARY_FILE = "summary.json"
REJECTS_FILE = "rejects.jsonl"
FORMATS = ("parquet", "csv")


class RunError(Exception):
    """The run cannot go on; ``str(exc)`` says why (printed without a traceback)."""


@dataclass(frozen=True)
class Job:
    """What to score and how."""

    input: str
    output: Path
    reasons: int = 0
    workers: int = 1
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    format: str = "parquet"
    progress: bool = True


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def write_part(directory: Path, index: int, result: Any, fmt: str) -> None:
    """Write one chunk's files; the counts file last, each through a rename."""
    stem = directory / part_name(index)
    data = directory / f"{part_name(index)}.{fmt}"
    tmp = data.with_name(data.name + ".tmp")
    if fmt == "parquet":
        pq.write_table(result.table, tmp)
    else:
        pa_csv.write_csv(_exact_floats(result.table), tmp)
    tmp.replace(data)
    rejects = directory / f"{part_name(index)}.rejects.jsonl"
    if result.rejects:
        _atomic_text(rejects, "".join(json.dumps(r) + "\n" for r in result.rejects))
    else:
        rejects.unlink(missing_ok=True)
    _atomic_text(stem.with_suffix(".json"), json.dumps(result.stats.to_dict()))


def _exact_floats(table: pa.Table) -> pa.Table:
    """Floats as their shortest round-trip text (the CSV writer's own rounding is not)."""
    for i, column in enumerate(table.schema):
        if pa.types.is_floating(column.type):
            table = table.set_column(i, column.name, pc.cast(table.column(i), pa.string()))
    return table


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


class _NoPandas:
    """A meta-path finder that makes ``import pandas`` fail."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is kept out of this process", name=name)


def keep_pandas_out() -> None:
    """Stop pyarrow importing pandas into this process: it does so on its first array
    conversion whenever pandas is installed, and the command never gives it pandas objects
    (see docs/decisions.md, "Book re-scoring speed and memory"). Only for processes the
    command owns (its own ``__main__`` and its workers), never a caller's."""
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())


def _return_large_blocks() -> None:
    """glibc only: serve blocks of 1 MB and more from their own mappings, unmapped when
    freed. Otherwise glibc raises that threshold to the largest block freed so far, and the
    reader's chunk buffers and pickled tables come from heaps that keep growing (see
    docs/decisions.md, "Book re-scoring speed and memory"). Elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    with suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20)


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


# ------------------------------------------------------------------------------- workers
_WORKER: dict[str, Any] = {}


def _init_worker(model_dir: str, reasons: int, fmt: str, output: str, csv_input: bool
                 ) -> None:
    keep_pandas_out()
    _return_large_blocks()
    _WORKER.update(reasons=reasons, fmt=fmt, output=Path(output), csv_input=csv_input)
    try:
        _WORKER["bundle"] = load_bundle(model_dir)
    except BundleError as exc:  # reported by the first task, as a sentence (no traceback)
        _WORKER["error"] = str(exc)


def _work(index: int, first_row: int, table: pa.Table) -> tuple[int, dict[str, Any]]:
    if "error" in _WORKER:
        raise BundleError(_WORKER["error"])
    result = score_chunk(_WORKER["bundle"], table, _WORKER["reasons"], first_row,
                         _WORKER["csv_input"])
    write_part(_WORKER["output"], index, result, _WORKER["fmt"])
    return index, result.stats.to_dict()


# ---------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Model:
    """The bundle's facts a run records; the loaded bundle itself only when this process
    scores (one worker): with a pool, only the workers hold a session and an explainer."""

    version: str
    threshold: float
    onnx_sha256: str
    bundle: Bundle | None


def _model(model_dir: Path, workers: int) -> Model:
    if workers == 1:
        bundle = load_bundle(model_dir)
        return Model(bundle.version, bundle.threshold, str(bundle.card.get("onnx_sha256")),
                     bundle)
    try:
        card = json.loads((model_dir / CARD_FILE).read_text())
        return Model(str(card["model_version"]), float(card["threshold"]),
                     str(card["onnx_sha256"]), None)
    except (OSError, ValueError, KeyError, TypeError):
        load_bundle(model_dir)  # raises BundleError with the reason
        raise


def _identity(book: Book, job: Job, model: Model) -> dict[str, Any]:
    stat = book.path.stat()
    return {"input": book.name, "input_bytes": stat.st_size, "input_mtime_ns": stat.st_mtime_ns,
            "chunk_rows": job.chunk_rows, "reasons": job.reasons, "format": job.format,
            "model_version": model.version, "onnx_sha256": model.onnx_sha256}


def _prepare_output(output: Path, identity: dict[str, Any]) -> bool:
    """Create or reuse the output directory; True when it is a fresh run."""
    run_file = output / RUN_FILE
    if run_file.is_file():
        previous = json.loads(run_file.read_text())
        if previous != identity:
            changed = sorted(k for k in identity if previous.get(k) != identity[k])
            raise RunError(f"{output} holds the output of another run (different "
                           f"{', '.join(changed)}): choose a new OUTPUT or remove it")
        return False
    if output.exists() and any(output.iterdir()):
        raise RunError(f"{output} is not empty and holds no {RUN_FILE}: choose a new OUTPUT")
    output.mkdir(parents=True, exist_ok=True)
    _atomic_text(run_file, json.dumps(identity, indent=2))
    return True


def _done(output: Path) -> dict[int, ChunkStats]:
    done = {}
    for path in output.glob("part-*.json"):
        index = int(path.stem.split("-")[1])
        done[index] = ChunkStats.from_dict(json.loads(path.read_text()))
    return done


def _progress(job: Job, total: int | None) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, disable=not job.progress,
                desc="scoring", file=sys.stderr, smoothing=0.1)


def score_book(job: Job, model_dir: Path, log: Callable[[str], None] = print
               ) -> dict[str, Any]:
    """Score ``job.input`` into ``job.output``; returns the summary (also summary.json)."""
    if job.format not in FORMATS:
        raise RunError(f"unknown output format {job.format!r} (expected parquet or csv)")
    if job.chunk_rows < 1 or job.workers < 1 or job.reasons < 0:
        raise RunError("chunk rows and workers must be at least 1, reasons at least 0")
    started = time.perf_counter()
    model = _model(model_dir, job.workers)
    book = open_book(job.input)
    fresh = _prepare_output(job.output, _identity(book, job, model))
    done = _done(job.output)
    if done:
        log(f"resuming: {len(done)} chunk(s) already scored in {job.output}")
    try:
        stats, chunks, new_rows = _run(job, book, model, model_dir, done)
    except (BookError, BundleError):  # nothing of this run is worth keeping
        if fresh:
            shutil.rmtree(job.output, ignore_errors=True)
        raise
    duration = time.perf_counter() - started
    summary = _finish(job, book, model, stats, chunks, duration, new_rows)
    return summary


def _run(job: Job, book: Book, model: Model, model_dir: Path, done: dict[int, ChunkStats]
         ) -> tuple[ChunkStats, int, int]:
    """Score the chunks not yet done; returns (totals, number of chunks, rows scored now)."""
    totals = ChunkStats()
    for stats in done.values():
        totals.add(stats)
    chunks = 0
    new_rows = 0
    bar = _progress(job, book.rows)
    bar.update(totals.rows)

    def todo() -> Iterator[tuple[int, int, pa.Table]]:
        nonlocal chunks
        first = 0
        for index, table in enumerate(book.chunks(job.chunk_rows)):
            chunks = index + 1
            if index not in done:
                yield index, first, table
            first += table.num_rows

    try:
        if model.bundle is not None:
            for index, first, table in todo():
                result = score_chunk(model.bundle, table, job.reasons, first, book.format == "csv")
                write_part(job.output, index, result, job.format)
                totals.add(result.stats)
                new_rows += result.stats.rows
                bar.update(result.stats.rows)
        else:
            _return_large_blocks()  # this process reads and pickles the chunks
            context = get_context("spawn")
            with ProcessPoolExecutor(job.workers, mp_context=context, initializer=_init_worker,
                                     initargs=(str(model_dir), job.reasons, job.format,
                                               str(job.output), book.format == "csv")) as pool:
                pending: set[Future[tuple[int, dict[str, Any]]]] = set()

                def collect(block: bool) -> None:
                    nonlocal new_rows
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED) if block \
                        else (set(f for f in pending if f.done()), None)
                    for future in finished:
                        pending.discard(future)
                        stats = ChunkStats.from_dict(future.result()[1])
                        totals.add(stats)
                        new_rows += stats.rows
                        bar.update(stats.rows)

                for index, first, table in todo():
                    while len(pending) > job.workers:  # one chunk waiting per pool
                        collect(block=True)
                    pending.add(pool.submit(_work, index, first, table))
                    collect(block=False)
                while pending:
                    collect(block=True)
    except BrokenProcessPool:
        load_bundle(model_dir)  # a worker that could not load the bundle: say why
        raise RunError("a scoring process stopped unexpectedly (out of memory?)") from None
    finally:
        bar.close()
    return totals, chunks, new_rows


def _finish(job: Job, book: Book, model: Model, stats: ChunkStats, chunks: int,
            duration: float, new_rows: int) -> dict[str, Any]:
    """Merge the rejects, write summary.json and the _SUCCESS manifest (last)."""
    output = job.output
    parts = []
    with open(output / (REJECTS_FILE + ".tmp"), "w") as merged:
        for index in range(chunks):
            name = part_name(index)
            rejects = output / f"{name}.rejects.jsonl"
            if rejects.is_file():
                merged.write(rejects.read_text())
            part = json.loads((output / f"{name}.json").read_text())
            parts.append({"file": f"{name}.{job.format}", "rows": part["rows"],
                          "scored": part["scored"], "rejected": part["rejected"]})
    (output / (REJECTS_FILE + ".tmp")).replace(output / REJECTS_FILE)
    rates = {attribute: {group: (d / n if n else None) for group, (n, d) in groups.items()}
             for attribute, groups in stats.groups.items()}
    summary = {
        "input": book.name, "output": str(output), "model_version": model.version,
        "threshold": model.threshold, "reasons": job.reasons,
        "rows_read": stats.rows, "rows_scored": stats.scored, "rows_rejected": stats.rejected,
        "declines": stats.declines,
        "decline_rate": stats.declines / stats.scored if stats.scored else None,
        "decline_rate_by_group": rates,
        "applicants_by_group": {a: {g: c[0] for g, c in gs.items()}
                                for a, gs in stats.groups.items()},
        "ignored_columns": book.ignored, "chunks": chunks, "chunk_rows": job.chunk_rows,
        "workers": job.workers, "rows_this_run": new_rows,
        "duration_s": round(duration, 3),
        "rows_per_s": round(new_rows / duration, 1) if duration > 0 else None,
    }
    _atomic_text(output / SUMMARY_FILE, json.dumps(summary, indent=2))
    _atomic_text(output / SUCCESS_FILE, json.dumps({"parts": parts, "rejects": REJECTS_FILE,
                                                    "summary": SUMMARY_FILE}, indent=2))
    return summary
