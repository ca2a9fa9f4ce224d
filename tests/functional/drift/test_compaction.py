"""The decisions table (drift.compaction) and the bounded join, on DuckDB over real files:
a month of Firehose-layout captures compacted into Parquet holds exactly that month's
records, a rerun replaces it, and the join reading the table for compacted months (and the
captures for the open month) gives the rows of the join over every capture."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from contract.capture_format import encode_capture, firehose_key
from drift import compaction
from drift.outcomes_join import (
    Window,
    capture_files,
    connect,
    counts_sql,
    decision_files,
    join_sql,
    outcome_files,
    run_join,
)
from tests.functional.drift.test_outcomes_join import CAPTURES, OUTCOMES, _capture, _layouts


def _write(root: Path, records: list[dict], arrived: datetime, serial: int) -> None:
    """One Firehose object of ``records`` under the dt/hour of its arrival."""
    path = root / firehose_key(arrived, "stream", serial, prefix="")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(encode_capture(records)))


def _firehose_layouts(root: Path, captures: list[dict] = CAPTURES,
                      outcomes: list[dict] = OUTCOMES) -> tuple[Path, Path]:
    """The test join's outcomes, and each capture in an object of its own hour (Firehose's
    layout at any real rate: an object's dt/hour is within its buffer of its records)."""
    from datetime import UTC

    capture_root, outcome_root = _layouts(root, [], outcomes)
    for serial, record in enumerate(captures):
        _write(capture_root, [record],
               datetime.fromisoformat(record["captured_at"]).astimezone(UTC), serial)
    return capture_root, outcome_root


def _rows(path: Path) -> pd.DataFrame:
    return duckdb.sql("SELECT request_id, captured_at FROM "
                      f"read_parquet('{path}', hive_partitioning=false) ORDER BY request_id").df()


def test_a_month_holds_its_records_whichever_day_firehose_filed_them_under(tmp_path):
    """An object's dt is the arrival of its oldest record: a record can sit one day off."""
    from datetime import UTC

    captures = tmp_path / "captures"
    # decided in December's last second, filed under January 1st
    _write(captures, [_capture("2025-12-31T23:59:59.500000+00:00", "dec-last", 2, 0.2),
                      _capture("2026-01-01T00:00:10+00:00", "jan-first", 5, 0.5)],
           datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), 0)
    _write(captures, [_capture("2026-01-15T12:00:00+00:00", "jan-mid", 3, 0.3)],
           datetime(2026, 1, 15, 12, tzinfo=UTC), 1)
    # January's last second filed under February 1st; a February record filed under
    # January 31st (its object's oldest record arrived before midnight)
    _write(captures, [_capture("2026-01-31T23:59:59.900000+00:00", "jan-last", 1, 0.1),
                      _capture("2026-02-01T00:00:30+00:00", "feb-first", 4, 0.4)],
           datetime(2026, 2, 1, 0, 0, 2, tzinfo=UTC), 2)
    _write(captures, [_capture("2026-01-31T23:58:00+00:00", "jan-late", 6, 0.6),
                      _capture("2026-02-01T00:05:00+00:00", "feb-early", 7, 0.7)],
           datetime(2026, 1, 31, 23, 58, tzinfo=UTC), 3)
    written = compaction.compact_local(captures, tmp_path / "decisions", "2026-01")
    assert written == tmp_path / "decisions" / "month=2026-01" / "decisions.parquet"
    assert _rows(written)["request_id"].tolist() == [
        "jan-first", "jan-last", "jan-late", "jan-mid"]
    february = compaction.compact_local(captures, tmp_path / "decisions", "2026-02")
    assert february is not None
    assert _rows(february)["request_id"].tolist() == ["feb-early", "feb-first"]
    columns = duckdb.sql(
        f"DESCRIBE SELECT * FROM read_parquet('{written}', hive_partitioning=false)").df()
    assert columns["column_name"].tolist() == [
        "captured_at", "request_id", "model_version", "client_id_hash", "hash_key_id",
        "probability", "decision", "features"]
    assert columns["column_type"].iloc[-1].startswith("STRUCT(NAME_CONTRACT_TYPE VARCHAR")
    # December's record is December's, in its own partition
    december = compaction.compact_local(captures, tmp_path / "decisions", "2025-12")
    assert december is not None and _rows(december)["request_id"].tolist() == ["dec-last"]
    assert compaction.compact_local(captures, tmp_path / "decisions", "2025-11") is None


def test_a_rerun_replaces_the_month_and_never_duplicates(tmp_path):
    captures, _ = _firehose_layouts(tmp_path)
    table = tmp_path / "decisions"
    first = _rows(compaction.compact_local(captures, table, "2026-02"))
    (table / "month=2026-02" / "stale-part-0000.parquet").write_bytes(b"left by a run")
    again = compaction.compact_local(captures, table, "2026-02")
    assert [p.name for p in again.parent.iterdir()] == ["decisions.parquet"]
    pd.testing.assert_frame_equal(_rows(again), first)
    assert len(first) == sum(c["captured_at"].startswith("2026-02") for c in CAPTURES)


def test_which_months_are_compacted():
    window = Window.for_run(date(2026, 7, 1), 25)
    assert (window.first_month, window.open_month, window.last_day) == (
        "2024-06", "2026-07", "2026-07-01")
    # the previous month always; earlier months only when captures exist and no partition
    assert compaction.to_compact(window, {"2026-06", "2026-05", "2026-04", "2024-05"},
                                 {"2026-06", "2026-05"}) == ["2026-04", "2026-06"]
    assert compaction.to_compact(window, set(), set()) == []
    assert compaction.months("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01"]
    assert compaction.previous_month("2026-01") == "2025-12"
    with pytest.raises(ValueError):
        compaction.compact_sql("2026-13")


@pytest.mark.parametrize("as_of", [date(2026, 3, 20), date(2027, 6, 30)])
def test_the_join_over_the_decisions_table_gives_the_rows_of_the_join_over_captures(
        tmp_path, as_of):
    """Request-id and client-hash matches, a batch, rescored clients, a decline with an
    outcome, an unmatched outcome, a rotated key: the same rows and counts, whether the
    months come from the Parquet table (all of them as of 2027-06-30; January and February
    as of 2026-03-20, March from the captures) or from the captures alone."""
    captures, outcomes = _firehose_layouts(tmp_path)
    window = Window.for_run(as_of, 25)
    table = tmp_path / "decisions"
    compacted = compaction.compact_window(captures, table, window, threads=1)
    assert compacted == (["2026-01", "2026-02", "2026-03"] if as_of.year == 2027
                         else ["2026-01", "2026-02"])
    before = run_join(captures, outcomes, threads=1)
    after = run_join(captures, outcomes, threads=1, decisions=table, window=window)
    pd.testing.assert_frame_equal(after.loans, before.loans)
    pd.testing.assert_frame_equal(after.counts, before.counts)
    counts = after.loans["status"].value_counts().to_dict()
    assert counts == {"matched": 5, "unmatched": 1, "ambiguous": 1}


def test_the_windows_bounds_are_in_the_sql_not_only_in_the_files_read(tmp_path):
    """With every file handed to DuckDB, the SQL's partition predicates alone drop what the
    window excludes (what Athena then does not scan): a capture older than the lookback, a
    capture after as_of, and an outcome observed before the window."""
    old = _capture("2023-06-01T10:00:00+00:00", "old", 9, 0.5)
    later = _capture("2026-03-25T10:00:00+00:00", "later", 10, 0.5)
    before_window = {"SK_ID_CURR": "9", "outcome": "1", "observed_at": "2023-07-01"}
    captures, outcomes = _firehose_layouts(tmp_path, [*CAPTURES, old, later],
                                           [*OUTCOMES, before_window])
    window = Window.for_run(date(2026, 3, 20), 25)
    table = tmp_path / "decisions"
    compaction.compact_window(captures, table, window)
    for month in ("2023-06",):  # a partition outside the window, written anyway
        compaction.compact_local(captures, table, month)
    everything = connect(capture_files(captures), outcome_files(outcomes), threads=1,
                         decision_paths=decision_files(table))
    bounded = connect(capture_files(captures, window), outcome_files(outcomes, window),
                      threads=1, decision_paths=decision_files(table, window))
    assert len(capture_files(captures, window)) < len(capture_files(captures))
    assert len(decision_files(table, window)) < len(decision_files(table))
    for sql in (join_sql(window), counts_sql(window)):
        pd.testing.assert_frame_equal(everything.execute(sql).df(), bounded.execute(sql).df())
    counted = everything.execute(counts_sql(window)).df()
    assert set(counted["cohort"]) == {"2026-01", "2026-02", "2026-03"}
    assert counted["scored"].sum() == len(CAPTURES)  # neither "old" nor "later"
    loans = everything.execute(join_sql(window)).df()
    assert len(loans) == len(OUTCOMES)  # the outcome observed in 2023 is not read
    unbounded = everything.execute(join_sql()).df().set_index("request_id")
    assert unbounded.loc["old", "status"] == "matched"  # which it would match otherwise


def test_the_texts_read_as_athena_sql_give_the_same_rows(tmp_path):
    """The compaction's SELECT and the bounded join and counts, parsed in Athena's (Trino)
    dialect and run back on DuckDB, return the rows of the texts run directly. (The UNLOAD
    wrapper around the SELECT is not checked: sqlglot keeps it as an opaque command.)"""
    import sqlglot

    captures, outcomes = _firehose_layouts(tmp_path)
    window = Window.for_run(date(2026, 3, 20), 25)
    table = tmp_path / "decisions"
    compaction.compact_window(captures, table, window)
    con = connect(capture_files(captures), outcome_files(outcomes), threads=1,
                  decision_paths=decision_files(table))
    for sql in (compaction.compact_sql("2026-02"), join_sql(window), counts_sql(window)):
        direct = con.execute(sql).df()
        through = con.execute(sqlglot.transpile(sql, read="athena", write="duckdb")[0]).df()
        assert len(direct) > 0
        pd.testing.assert_frame_equal(direct, through)
