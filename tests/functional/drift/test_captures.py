"""Reading one window of captures (drift/captures.py) from moto S3: only the window's hours
are listed, each hour gets a share of max_rows proportional to its bytes, objects are read in
keyed-hash order, stream-decompressed and capped at rows_per_object; GETs and bytes read are
bounded by the sample, not by the traffic; reruns keep the same records; objects that are not
captures are skipped and counted, never fatal."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from drift.captures import quotas, read_window, window_hours
from infra.synthetic_traffic import applications, capture_key, put_captures

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
    assert sample.objects_listed == 100 and sample.hours_listed == 24
    assert sample.gets == sample.objects_read == 24  # one object per hour, not the whole day
    np.testing.assert_array_equal(sample.numeric, again.numeric)
    np.testing.assert_array_equal(sample.categorical, again.categorical)
    np.testing.assert_array_equal(sample.probability, again.probability)
    everything = read_window(s3, BUCKET, DAY, DAY, max_rows=10_000)
    assert everything.rows == 2000 and not everything.sampled
    assert everything.objects_read == 100


def test_reads_do_not_grow_with_the_traffic(s3) -> None:
    """Ten times the objects in an hour: the same GETs and about the same bytes read."""
    quiet, busy = DAY, date(2026, 11, 22)
    for i in range(10):
        put_captures(s3, BUCKET, applications(40, seed=i), at(quiet, 5))
    for i in range(100):
        put_captures(s3, BUCKET, applications(40, seed=i), at(busy, 5))
    few = read_window(s3, BUCKET, quiet, quiet, max_rows=200, rows_per_object=20)
    many = read_window(s3, BUCKET, busy, busy, max_rows=200, rows_per_object=20)
    assert few.rows == many.rows == 200
    assert few.gets == many.gets == 10
    assert many.objects_listed == 10 * few.objects_listed
    assert many.bytes_read < 1.5 * few.bytes_read


def test_objects_are_stream_decompressed_and_capped(s3) -> None:
    """A 2,000-application object: 10 records taken, a small part of it downloaded."""
    key = put_captures(s3, BUCKET, applications(2000, seed=3), at(DAY, 7))
    size = s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=10, rows_per_object=10)
    assert sample.rows == 10 and sample.objects_capped == 1 and sample.sampled
    assert sample.bytes_read < size / 4
    assert sample.probability.shape == (10,) and sample.declined.dtype == bool


def test_quotas_follow_the_traffic_and_sum_to_max_rows() -> None:
    assert quotas([0, 300, 100, 0], 100) == [0, 75, 25, 0]
    assert quotas([1, 1, 1], 100) == [34, 33, 33]
    assert quotas([0, 0], 100) == [0, 0]
    assert quotas([1, 10_000], 100) == [1, 100]  # every hour with data is looked at


def test_read_window_lists_only_the_window_hours(s3) -> None:
    for d in (20, 21, 22, 23):
        put_captures(s3, BUCKET, applications(5, seed=d), at(date(2026, 11, d)))
    sample = read_window(s3, BUCKET, date(2026, 11, 21), date(2026, 11, 22), max_rows=100)
    assert sample.objects_listed == 2 and sample.rows == 10 and sample.hours_listed == 48


def test_objects_that_are_not_captures_are_skipped_and_counted(s3) -> None:
    good = put_captures(s3, BUCKET, applications(4, seed=1), at(DAY, 9), prefix="live/")
    bad = capture_key(at(DAY, 10), "live/")
    s3.put_object(Bucket=BUCKET, Key=bad, Body=b'{"hello": "world"}\n')
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=100, prefix="live/")
    assert (sample.rows, sample.objects_read, sample.objects_skipped) == (4, 1, 1)
    counts = sample.counts()
    assert counts["skipped_keys"] == [bad] and counts["objects_skipped_corrupt"] == 1
    assert counts["model_versions"] == {"1": 4}
    assert good.startswith("live/dt=2026-11-21/hour=09/")


def test_an_empty_window_is_an_empty_sample(s3) -> None:
    sample = read_window(s3, BUCKET, DAY, DAY, max_rows=10)
    assert sample.rows == 0 and sample.numeric.shape == (0, 104)
    assert sample.categorical.shape == (0, 16) and not sample.sampled
    assert sample.gets == 0


def test_window_hours_and_bad_arguments(s3) -> None:
    hours = window_hours(date(2026, 2, 28), date(2026, 3, 1))
    assert len(hours) == 48 and hours[0] == (date(2026, 2, 28), 0)
    assert hours[-1] == (date(2026, 3, 1), 23)
    with pytest.raises(ValueError, match="before its start"):
        window_hours(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="must be positive"):
        read_window(s3, BUCKET, DAY, DAY, max_rows=0)
