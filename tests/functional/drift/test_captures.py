"""Reading one window of captures (drift/captures.py) from moto S3: only the window's days
are listed, reads are bounded by max_rows and deterministic whatever the thread count, the
kept sample is the same on a rerun, and objects that are not captures are skipped and
counted, never fatal."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from contract.capture_format import capture_key
from drift.captures import read_window, window_days
from infra.synthetic_traffic import applications, put_captures

BUCKET = "captures-test"
DAY = date(2026, 11, 21)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def s3(moto_s3):
    moto_s3.create_bucket(Bucket=BUCKET)
    return moto_s3


def test_read_window_is_bounded_deterministic_and_uniform(s3) -> None:
    for i in range(100):
        put_captures(s3, BUCKET, applications(20, seed=i), at(DAY, i % 24))
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=300, workers=2)
    again = read_window(s3, BUCKET, DAY, DAY, max_rows=300, workers=8)
    assert sample.rows == 300 and sample.sampled
    assert sample.objects_listed == 100
    assert sample.objects_read == 32  # one read round, not the whole day
    assert sample.rows_read == 640
    np.testing.assert_array_equal(sample.numeric, again.numeric)
    np.testing.assert_array_equal(sample.categorical, again.categorical)
    everything = read_window(s3, BUCKET, DAY, DAY, max_rows=10_000)
    assert everything.rows == everything.rows_read == 2000 and not everything.sampled
    assert everything.objects_read == 100


def test_read_window_lists_only_the_window_days(s3) -> None:
    for d in (20, 21, 22, 23):
        put_captures(s3, BUCKET, applications(5, seed=d), at(date(2026, 11, d)))
    sample = read_window(s3, BUCKET, date(2026, 11, 21), date(2026, 11, 22), max_rows=100)
    assert sample.objects_listed == 2 and sample.rows == 10


def test_objects_that_are_not_captures_are_skipped_and_counted(s3) -> None:
    good = put_captures(s3, BUCKET, applications(4, seed=1), at(DAY, 9), prefix="live/")
    bad = capture_key(at(DAY, 10), "live/")
    s3.put_object(Bucket=BUCKET, Key=bad, Body=b'{"hello": "world"}\n')
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=100, prefix="live/")
    assert (sample.rows, sample.objects_read, sample.objects_skipped) == (4, 1, 1)
    counts = sample.counts()
    assert counts["skipped_keys"] == [bad] and counts["objects_skipped_corrupt"] == 1
    assert counts["model_versions"] == {"1": 4}
    assert good.startswith("live/dt=2026-11-21/")


def test_an_empty_window_is_an_empty_sample(s3) -> None:
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=10)
    assert sample.rows == 0 and sample.numeric.shape == (0, 104)
    assert sample.categorical.shape == (0, 16) and not sample.sampled


def test_window_days_and_bad_arguments(s3) -> None:
    assert window_days(date(2026, 2, 27), date(2026, 3, 1)) == [
        date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]
    with pytest.raises(ValueError, match="before its start"):
        window_days(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="max_rows must be positive"):
        read_window(s3, BUCKET, DAY, DAY, max_rows=0)
