"""Read one window of inference captures from S3, bounded and deterministic.

Captures are JSON Lines objects under ``<prefix>dt=YYYY-MM-DD/`` (contract.capture_format).
Reading a window:

1. list the window's day prefixes (paginated ListObjectsV2, one listing per day);
2. order the objects by a keyed hash of their key (a deterministic shuffle: the same window
   always gives the same order, whatever order S3 lists them in);
3. read them in that order, in fixed-size rounds on a thread pool, until ``max_rows``
   records are in hand (or the objects run out);
4. if more than ``max_rows`` records were read, keep the ``max_rows`` with the smallest keyed
   hash of (object key, line number): a uniform, order-independent sample.

So the bytes read and the memory held are bounded by about ``max_rows`` records plus one
round of objects, however busy the window was, and a rerun of the same window reads and keeps
exactly the same records. Each object's records are turned into the model-input matrices
(schema.encode_records) as soon as they are decoded: ~0.9 KB per record instead of ~15 KB
of Python dicts.

An object that is not a well-formed capture (decode_capture raises, a field has the wrong
type, the object is larger than MAX_OBJECT_BYTES, or it vanished between listing and
reading) is skipped and counted. Any other S3 error (after botocore's retries) propagates:
an outage must fail the run, not pass for a quiet week.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from contract.capture_format import DEFAULT_PREFIX, day_prefix, decode_capture
from contract.schema import (
    CATEGORICAL_FIELDS,
    CATEGORICAL_INPUT,
    NUMERIC_FIELDS,
    NUMERIC_INPUT,
    encode_records,
)

log = logging.getLogger(__name__)

#: A capture holds at most one API batch (1,000 applications, ~4 MB); anything far larger is
#: not a capture and is skipped rather than loaded into memory.
MAX_OBJECT_BYTES = 64 * 1024 * 1024
#: Concurrent GETs. Each in-flight object holds its decoded records (~15 KB each) briefly.
DEFAULT_WORKERS = 8
#: Keys of skipped objects kept for the summary (the count is always exact).
MAX_SKIPPED_KEYS = 20


@dataclass(frozen=True)
class CaptureObject:
    key: str
    size: int


@dataclass
class CaptureSample:
    """The records kept from one window, as model-input matrices, with the read counts."""

    numeric: np.ndarray  # float64 [rows, 104], schema.NUMERIC_FIELDS order, NaN = missing
    categorical: np.ndarray  # object [rows, 16], schema.CATEGORICAL_FIELDS order, "" = missing
    objects_listed: int = 0
    objects_read: int = 0
    objects_skipped: int = 0
    skipped_keys: list[str] = field(default_factory=list)
    rows_read: int = 0
    model_versions: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.numeric.shape[0])

    @property
    def sampled(self) -> bool:
        """True if some captured records of the window were not used."""
        unread = self.objects_listed - self.objects_read - self.objects_skipped
        return unread > 0 or self.rows < self.rows_read

    def encoded(self) -> dict[str, np.ndarray]:
        return {NUMERIC_INPUT: self.numeric, CATEGORICAL_INPUT: self.categorical}

    def counts(self) -> dict[str, Any]:
        """The capture part of the drift summary."""
        return {
            "objects_listed": self.objects_listed,
            "objects_read": self.objects_read,
            "objects_skipped_corrupt": self.objects_skipped,
            "skipped_keys": self.skipped_keys,
            "rows_read": self.rows_read,
            "rows_used": self.rows,
            "sampled": self.sampled,
            "model_versions": dict(sorted(self.model_versions.items())),
        }


def window_days(start: date, end: date) -> list[date]:
    """The days from start to end, both included."""
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def list_window(
    s3: Any, bucket: str, start: date, end: date, prefix: str = DEFAULT_PREFIX
) -> list[CaptureObject]:
    """Every object under the window's day prefixes (only the days of the window are listed)."""
    found = []
    paginator = s3.get_paginator("list_objects_v2")
    for day in window_days(start, end):
        for page in paginator.paginate(Bucket=bucket, Prefix=day_prefix(day, prefix)):
            found.extend(CaptureObject(o["Key"], int(o["Size"])) for o in page.get("Contents", []))
    return found


def _rank(seed: str, *parts: object) -> int:
    text = "\0".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass
class _Read:
    key: str
    numeric: np.ndarray | None = None
    categorical: np.ndarray | None = None
    versions: Counter[str] | None = None
    error: str | None = None


def _read_one(s3: Any, bucket: str, obj: CaptureObject) -> _Read:
    if obj.size > MAX_OBJECT_BYTES:
        return _Read(obj.key, error=f"object of {obj.size} bytes is over {MAX_OBJECT_BYTES}")
    try:
        body = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return _Read(obj.key, error="vanished between listing and reading")
    try:
        records = decode_capture(body)
        encoded = encode_records([r["features"] for r in records])
    except (ValueError, TypeError) as exc:
        return _Read(obj.key, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    versions = Counter(str(r["model_version"]) for r in records)
    return _Read(obj.key, encoded[NUMERIC_INPUT], encoded[CATEGORICAL_INPUT], versions)


def _empty() -> dict[str, np.ndarray]:
    return {
        NUMERIC_INPUT: np.empty((0, len(NUMERIC_FIELDS)), dtype=np.float64),
        CATEGORICAL_INPUT: np.empty((0, len(CATEGORICAL_FIELDS)), dtype=object),
    }


def _rounds(items: list[CaptureObject], size: int) -> Iterator[list[CaptureObject]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_window(
    s3: Any,
    bucket: str,
    start: date,
    end: date,
    *,
    max_rows: int,
    prefix: str = DEFAULT_PREFIX,
    workers: int = DEFAULT_WORKERS,
    seed: str | None = None,
) -> CaptureSample:
    """Read at most about ``max_rows`` captured records of the window [start, end] (see module doc).

    ``seed`` keys the deterministic shuffle; by default the window itself, so reruns agree.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be positive")
    seed = seed if seed is not None else f"{start.isoformat()}/{end.isoformat()}"
    objects = sorted(
        list_window(s3, bucket, start, end, prefix), key=lambda o: (_rank(seed, o.key), o.key)
    )
    sample = CaptureSample(**_empty_matrices(), objects_listed=len(objects))
    numeric: list[np.ndarray] = []
    categorical: list[np.ndarray] = []
    row_keys: list[tuple[str, int]] = []  # (object key, rows) per kept chunk, for the ranks
    versions: Counter[str] = Counter()
    round_size = max(4 * workers, 32)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture-read") as pool:
        for batch in _rounds(objects, round_size):
            if sample.rows_read >= max_rows:
                break
            # map() keeps the listing order, so what is kept never depends on thread timing.
            for read in pool.map(lambda o: _read_one(s3, bucket, o), batch):
                if read.error is not None:
                    sample.objects_skipped += 1
                    if len(sample.skipped_keys) < MAX_SKIPPED_KEYS:
                        sample.skipped_keys.append(read.key)
                    log.warning("skipped capture %s: %s", read.key, read.error)
                    continue
                assert read.numeric is not None and read.categorical is not None
                sample.objects_read += 1
                sample.rows_read += read.numeric.shape[0]
                numeric.append(read.numeric)
                categorical.append(read.categorical)
                row_keys.append((read.key, read.numeric.shape[0]))
                versions.update(read.versions or {})
    if numeric:
        sample.numeric = np.concatenate(numeric)
        sample.categorical = np.concatenate(categorical)
    sample.model_versions = dict(versions)
    if sample.rows_read > max_rows:
        ranks = np.fromiter(
            (_rank(seed, key, line) for key, rows in row_keys for line in range(rows)),
            dtype=np.uint64,
            count=sample.rows_read,
        )
        keep = np.sort(np.argsort(ranks, kind="stable")[:max_rows])
        sample.numeric = sample.numeric[keep]
        sample.categorical = sample.categorical[keep]
    return sample


def _empty_matrices() -> dict[str, np.ndarray]:
    empty = _empty()
    return {"numeric": empty[NUMERIC_INPUT], "categorical": empty[CATEGORICAL_INPUT]}
