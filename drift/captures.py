"""Read a deterministic, bounded sample of one window of inference captures.

Firehose writes the captures as gzip JSON Lines objects under hourly prefixes
(``<prefix>dt=YYYY-MM-DD/hour=HH/``, contract.capture_format). Reading a window:

1. list each hour of the window (one paginated ListObjectsV2 per hour);
2. give each hour a row quota proportional to the bytes it holds (its share of the traffic),
   ``max_rows`` in all;
3. within an hour, order the objects by a keyed hash of their key (a deterministic shuffle:
   the same window always gives the same order, whatever order S3 lists them in) and read
   them in that order until the hour's quota is met;
4. from each object take at most ``rows_per_object`` records, from the start of the object,
   stream-decompressed: the rest of the object is never downloaded or decompressed, and one
   1,000-application batch cannot dominate the sample.

The GETs, the bytes read and the memory held therefore depend on ``max_rows`` and
``rows_per_object``, not on the traffic: about ``max_rows / rows_per_object`` GETs (more
only when objects hold fewer records than the cap), and a rerun of the same window reads
exactly the same records. Records are turned into model-input matrices as they are decoded.

An object that is not a well-formed capture (bad gzip, a line that is not a capture record,
a field of the wrong type, or it vanished between listing and reading) is skipped and
counted. Any other S3 error (after botocore's retries) propagates: an outage must fail the
run, not pass for a quiet week.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from contract.capture_format import DEFAULT_PREFIX, hour_prefix, iter_records, open_lines
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from contract.schema import CATEGORICAL_FIELDS, NUMERIC_FIELDS, encode_records
from drift.shadow import ShadowTally

if TYPE_CHECKING:
    from contract.aws import S3Client

log = logging.getLogger(__name__)

#: Concurrent GETs.
DEFAULT_WORKERS = 8
#: Records taken from any one object.
DEFAULT_ROWS_PER_OBJECT = 50
#: Keys of skipped objects kept for the summary (the count is always exact).
MAX_SKIPPED_KEYS = 20


class ReadCounts(TypedDict):
    """What was read from a window: the ``captures`` part of the drift summary."""

    hours_listed: int
    objects_listed: int
    bytes_listed: int
    objects_read: int
    objects_skipped_corrupt: int
    objects_capped: int
    skipped_keys: list[str]
    gets: int
    bytes_read: int
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
    probability: np.ndarray  # float64 [rows], the served P(default)
    declined: np.ndarray  # bool [rows], the served decision (prediction, drift.fairness)
    hours_listed: int = 0
    objects_listed: int = 0
    bytes_listed: int = 0
    objects_read: int = 0
    objects_skipped: int = 0
    objects_capped: int = 0
    skipped_keys: list[str] = field(default_factory=list)
    gets: int = 0
    bytes_read: int = 0
    model_versions: dict[str, int] = field(default_factory=dict)
    #: Shadow-challenger agreement over every record read (drift.shadow).
    shadow: ShadowTally = field(default_factory=ShadowTally)

    @property
    def rows(self) -> int:
        return int(self.numeric.shape[0])

    @property
    def sampled(self) -> bool:
        """True if some captured records of the window may not have been used."""
        unread = self.objects_listed - self.objects_read - self.objects_skipped
        return unread > 0 or self.objects_capped > 0

    def encoded(self) -> dict[str, np.ndarray]:
        return {NUMERIC_INPUT: self.numeric, CATEGORICAL_INPUT: self.categorical}

    def counts(self) -> ReadCounts:
        """The capture part of the drift summary."""
        return {
            "hours_listed": self.hours_listed,
            "objects_listed": self.objects_listed,
            "bytes_listed": self.bytes_listed,
            "objects_read": self.objects_read,
            "objects_skipped_corrupt": self.objects_skipped,
            "objects_capped": self.objects_capped,
            "skipped_keys": self.skipped_keys,
            "gets": self.gets,
            "bytes_read": self.bytes_read,
            "rows_used": self.rows,
            "sampled": self.sampled,
            "model_versions": dict(sorted(self.model_versions.items())),
        }


def window_hours(start: date, end: date) -> list[tuple[date, int]]:
    """Every (day, hour) from start 00:00 to end 23:00, both days included."""
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [(day, hour) for day in days for hour in range(24)]


def list_hours(
    s3: S3Client, bucket: str, start: date, end: date, prefix: str = DEFAULT_PREFIX
) -> list[list[CaptureObject]]:
    """The objects of each hour of the window (only the window's hour prefixes are listed)."""
    paginator = s3.get_paginator("list_objects_v2")
    hours = []
    for day, hour in window_hours(start, end):
        found: list[CaptureObject] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=hour_prefix(day, hour, prefix)):
            found.extend(CaptureObject(o["Key"], int(o["Size"])) for o in page.get("Contents", []))
        hours.append(found)
    return hours


def _rank(seed: str, key: str) -> int:
    text = f"{seed}\0{key}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def quotas(sizes: Sequence[int], max_rows: int) -> list[int]:
    """Rows per hour, proportional to each hour's bytes (largest remainders, ties to the
    earlier hour), summing to ``max_rows``; but every hour with data gets at least one row,
    so that each is looked at."""
    total = sum(sizes)
    if total == 0:
        return [0] * len(sizes)
    exact = [max_rows * size / total for size in sizes]
    base = [math.floor(x) for x in exact]
    order = sorted(range(len(sizes)), key=lambda h: (-(exact[h] - base[h]), h))
    for h in order[: max_rows - sum(base)]:
        base[h] += 1
    return [max(q, 1) if size else 0 for q, size in zip(base, sizes, strict=True)]


class _CountingBody:
    """A GetObject body that counts the bytes pulled from it."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.body.read(size)
        self.bytes += len(data)
        return data


@dataclass
class _Read:
    key: str
    bytes_read: int = 0
    numeric: np.ndarray | None = None
    categorical: np.ndarray | None = None
    probability: np.ndarray | None = None
    declined: np.ndarray | None = None
    versions: Counter[str] | None = None
    error: str | None = None
    shadow: ShadowTally | None = None


def _read_one(s3: S3Client, bucket: str, obj: CaptureObject, limit: int) -> _Read:
    """The first ``limit`` records of one object, stream-decompressed."""
    try:
        response = s3.get_object(Bucket=bucket, Key=obj.key)
    except s3.exceptions.NoSuchKey:
        return _Read(obj.key, error="vanished between listing and reading")
    body = _CountingBody(response["Body"])
    try:
        records = list(iter_records(open_lines(body), limit))
        encoded = encode_records([r["features"] for r in records])
        probability = np.array([float(r["probability"]) for r in records], dtype=np.float64)
        declined = np.array([r["decision"] == "decline" for r in records], dtype=bool)
    except (ValueError, TypeError) as exc:
        # The exception's type only: its message can quote a captured value.
        return _Read(obj.key, body.bytes, error=f"unreadable records ({type(exc).__name__})")
    finally:
        response["Body"].close()  # the rest of the object is never downloaded
    versions = Counter(str(r["model_version"]) for r in records)
    return _Read(obj.key, body.bytes, encoded[NUMERIC_INPUT], encoded[CATEGORICAL_INPUT],
                 probability, declined, versions, shadow=ShadowTally().add(records))


def _plan(hours: list[list[CaptureObject]], wanted: list[int], cursor: list[int],
          cap: int) -> list[tuple[int, CaptureObject, int]]:
    """One round of reads: (hour, object, row limit), enough to fill each hour's quota if
    every object holds ``cap`` records."""
    plan = []
    for h, objects in enumerate(hours):
        for _ in range(math.ceil(wanted[h] / cap) if wanted[h] > 0 else 0):
            if cursor[h] >= len(objects):
                break
            plan.append((h, objects[cursor[h]], min(cap, wanted[h])))
            cursor[h] += 1
    return plan


def read_window(
    s3: S3Client,
    bucket: str,
    start: date,
    end: date,
    *,
    max_rows: int,
    rows_per_object: int = DEFAULT_ROWS_PER_OBJECT,
    prefix: str = DEFAULT_PREFIX,
    workers: int = DEFAULT_WORKERS,
    seed: str | None = None,
) -> CaptureSample:
    """A sample of at most about ``max_rows`` captured records of [start, end] (module doc).

    ``seed`` keys the deterministic shuffle; by default the window itself, so reruns agree.
    """
    if max_rows < 1 or rows_per_object < 1:
        raise ValueError("max_rows and rows_per_object must be positive")
    seed = seed if seed is not None else f"{start.isoformat()}/{end.isoformat()}"
    hours = [sorted(objs, key=lambda o: (_rank(seed, o.key), o.key))
             for objs in list_hours(s3, bucket, start, end, prefix)]
    sizes = [sum(o.size for o in objs) for objs in hours]
    sample = _empty_sample()
    sample.hours_listed = len(hours)
    sample.objects_listed = sum(len(objs) for objs in hours)
    sample.bytes_listed = sum(sizes)
    wanted = quotas(sizes, max_rows)
    cursor = [0] * len(hours)
    kept: list[_Read] = []
    versions: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture-read") as pool:
        while plan := _plan(hours, wanted, cursor, rows_per_object):
            # map() keeps the plan's order, so what is kept never depends on thread timing.
            reads = pool.map(lambda p: (p[0], _read_one(s3, bucket, p[1], p[2])), plan)
            for (h, read), (_, _, limit) in zip(reads, plan, strict=True):
                sample.gets += 1
                sample.bytes_read += read.bytes_read
                if read.error is not None:
                    sample.objects_skipped += 1
                    if len(sample.skipped_keys) < MAX_SKIPPED_KEYS:
                        sample.skipped_keys.append(read.key)
                    log.warning("skipped capture %s: %s", read.key, read.error)
                    continue
                assert read.probability is not None
                if read.shadow is not None:
                    sample.shadow.merge(read.shadow)
                sample.objects_capped += len(read.probability) >= limit  # more may be left
                read = _trim(read, max(wanted[h], 0))
                rows = len(read.probability)  # type: ignore[arg-type]
                wanted[h] -= rows
                sample.objects_read += 1
                if rows:
                    kept.append(read)
                    versions.update(read.versions or {})
    return _assemble(sample, kept, versions)


def _trim(read: _Read, rows: int) -> _Read:
    """Keep the first ``rows`` records of a read (an hour's quota is never overshot)."""
    assert read.probability is not None and read.numeric is not None
    if len(read.probability) <= rows:
        return read
    assert read.categorical is not None and read.declined is not None
    return _Read(read.key, read.bytes_read, read.numeric[:rows], read.categorical[:rows],
                 read.probability[:rows], read.declined[:rows], read.versions)


def _empty_sample() -> CaptureSample:
    return CaptureSample(
        numeric=np.empty((0, len(NUMERIC_FIELDS)), dtype=np.float64),
        categorical=np.empty((0, len(CATEGORICAL_FIELDS)), dtype=object),
        probability=np.empty(0, dtype=np.float64),
        declined=np.empty(0, dtype=bool),
    )


def _assemble(sample: CaptureSample, kept: list[_Read], versions: Counter[str]
              ) -> CaptureSample:
    sample.model_versions = dict(versions)
    if kept:
        sample.numeric = np.concatenate([r.numeric for r in kept])
        sample.categorical = np.concatenate([r.categorical for r in kept])
        sample.probability = np.concatenate([r.probability for r in kept])
        sample.declined = np.concatenate([r.declined for r in kept])
    return sample
