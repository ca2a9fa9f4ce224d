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
(schema.encode_records) as soon as they are decoded: one float64 row and one row of strings
per record instead of a dict of 120 Python objects (sizes in docs/decisions.md, "Drift").

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
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from contract.capture_format import DEFAULT_PREFIX, day_prefix, decode_capture
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from contract.schema import CATEGORICAL_FIELDS, NUMERIC_FIELDS, encode_records
from drift.shadow import ShadowTally

if TYPE_CHECKING:
    from contract.aws import S3Client

log = logging.getLogger(__name__)

#: A capture holds at most one API batch; anything far larger is not a capture and is
#: skipped rather than loaded into memory.
MAX_OBJECT_BYTES = 64 * 1024 * 1024
#: Concurrent GETs. Each in-flight object holds its decoded records briefly.
DEFAULT_WORKERS = 8
#: Keys of skipped objects kept for the summary (the count is always exact).
MAX_SKIPPED_KEYS = 20


class ReadCounts(TypedDict):
    """What was read from a window: the ``captures`` part of the drift summary."""

    objects_listed: int
    objects_read: int
    objects_skipped_corrupt: int
    skipped_keys: list[str]
    rows_read: int
    rows_used: int
    sampled: bool
    model_versions: dict[str, int]


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
    #: Shadow-challenger agreement over every record read (drift.shadow).
    shadow: ShadowTally = field(default_factory=ShadowTally)
    #: bool [rows]: the served decision was "decline" (fairness monitoring, drift.fairness).
    declined: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

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

    @classmethod
    def empty(cls, objects_listed: int = 0) -> CaptureSample:
        """A sample without records."""
        return cls(
            numeric=np.empty((0, len(NUMERIC_FIELDS)), dtype=np.float64),
            categorical=np.empty((0, len(CATEGORICAL_FIELDS)), dtype=object),
            objects_listed=objects_listed,
        )

    def counts(self) -> ReadCounts:
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
    s3: S3Client, bucket: str, start: date, end: date, prefix: str = DEFAULT_PREFIX
) -> list[CaptureObject]:
    """Every object under the window's day prefixes (only the days of the window are listed)."""
    found: list[CaptureObject] = []
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
    shadow: ShadowTally | None = None
    declined: np.ndarray | None = None


def _read_one(s3: S3Client, bucket: str, obj: CaptureObject) -> _Read:
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
    return _Read(obj.key, encoded[NUMERIC_INPUT], encoded[CATEGORICAL_INPUT], versions,
                 shadow=ShadowTally().add(records),
                 declined=np.array([r["decision"] == "decline" for r in records], dtype=bool))


def _rounds(items: list[CaptureObject], size: int) -> Iterator[list[CaptureObject]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_window(
    s3: S3Client,
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
    sample = CaptureSample.empty(objects_listed=len(objects))
    reads = _read_rounds(s3, bucket, objects, sample, max_rows=max_rows, workers=workers)
    if reads:
        sample.numeric = np.concatenate([r.numeric for r in reads if r.numeric is not None])
        sample.categorical = np.concatenate(
            [r.categorical for r in reads if r.categorical is not None]
        )
        sample.declined = np.concatenate([r.declined for r in reads if r.declined is not None])
    versions: Counter[str] = Counter()
    for read in reads:
        versions.update(read.versions or {})
        if read.shadow is not None:
            sample.shadow.merge(read.shadow)
    sample.model_versions = dict(versions)
    if sample.rows_read > max_rows:
        _keep_smallest_ranks(sample, reads, seed, max_rows)
    return sample


def _read_rounds(
    s3: S3Client,
    bucket: str,
    objects: list[CaptureObject],
    sample: CaptureSample,
    *,
    max_rows: int,
    workers: int,
) -> list[_Read]:
    """Read ``objects`` in order, a round at a time, until ``max_rows`` records are in hand.

    Returns the successful reads in order; counts reads and skips in ``sample``.
    """
    kept: list[_Read] = []
    round_size = max(4 * workers, 32)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture-read") as pool:
        for batch in _rounds(objects, round_size):
            if sample.rows_read >= max_rows:
                break
            # map() keeps the listing order, so what is kept never depends on thread timing.
            for read in pool.map(lambda o: _read_one(s3, bucket, o), batch):
                if read.error is not None or read.numeric is None:
                    sample.objects_skipped += 1
                    if len(sample.skipped_keys) < MAX_SKIPPED_KEYS:
                        sample.skipped_keys.append(read.key)
                    log.warning("skipped capture %s: %s", read.key, read.error)
                    continue
                sample.objects_read += 1
                sample.rows_read += read.numeric.shape[0]
                kept.append(read)
    return kept


def _keep_smallest_ranks(
    sample: CaptureSample, reads: list[_Read], seed: str, max_rows: int
) -> None:
    """Keep the ``max_rows`` records with the smallest keyed hash of (object key, line)."""
    ranks = np.fromiter(
        (
            _rank(seed, read.key, line)
            for read in reads
            for line in range(read.numeric.shape[0] if read.numeric is not None else 0)
        ),
        dtype=np.uint64,
        count=sample.rows_read,
    )
    keep = np.sort(np.argsort(ranks, kind="stable")[:max_rows])
    sample.numeric = sample.numeric[keep]
    sample.categorical = sample.categorical[keep]
    sample.declined = sample.declined[keep]
