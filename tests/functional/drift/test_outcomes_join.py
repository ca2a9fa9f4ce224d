"""The outcomes join (drift/sql/outcomes_join.sql) on DuckDB, over real Firehose-layout
capture objects and loader-written outcome objects: every matching rule and every count."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from contract.capture_format import client_hash, encode_capture, firehose_key, hash_key_id
from contract.schema import FEATURE_FIELDS
from drift.outcomes_join import connect, join_sql, outcome_files, run_join
from drift.outcomes_load import HashKeys, build_records, encode_objects, write_objects

KEY, OLD = b"current-key", b"old-key"
FEATURES = {f.name: (None if f.kind != "category" else f.categories[0]) for f in FEATURE_FIELDS}


def _capture(when: str, request: str, client: int, p: float, decision: str = "approve",
             key: bytes = KEY, with_key_id: bool = True) -> dict[str, Any]:
    record = {"captured_at": when, "request_id": request, "model_version": "3",
              "client_id_hash": client_hash(key, client), "probability": p,
              "decision": decision, "features": {**FEATURES, "AMT_CREDIT": client * 1.0}}
    if with_key_id:
        record["hash_key_id"] = hash_key_id(key)
    return record


CAPTURES = [
    # client 1: scored twice, the loan decided after the first scoring only
    _capture("2026-01-05T10:00:00+00:00", "r1", 1, 0.11),
    _capture("2026-03-05T10:00:00+00:00", "r2", 1, 0.12),
    # client 2: a batch request r3 with client 3; the loan names the request id only
    _capture("2026-01-06T09:00:00+00:00", "r3", 2, 0.21),
    _capture("2026-01-06T09:00:00+00:00", "r3", 3, 0.31, "decline"),
    # client 4: a single request, the loan names it; a later rescoring must not win
    _capture("2026-01-07T09:00:00+00:00", "r4", 4, 0.41),
    _capture("2026-02-07T09:00:00+00:00", "r5", 4, 0.42),
    # client 5: declined, yet an outcome arrives
    _capture("2026-02-01T00:00:00+00:00", "r6", 5, 0.95, "decline"),
    # client 6: captured under the old key, before hash_key_id existed
    _capture("2026-02-02T00:00:00+00:00", "r7", 6, 0.06, key=OLD, with_key_id=False),
    # client 7: scored twice before the decision: the latest counts, both are counted
    _capture("2026-02-03T00:00:00+00:00", "r8", 7, 0.71),
    _capture("2026-02-04T00:00:00+00:00", "r9", 7, 0.72),
]
OUTCOMES = [
    {"SK_ID_CURR": "1", "outcome": "1", "observed_at": "2027-01-31", "decided_at": "2026-02-01"},
    {"request_id": "r3", "outcome": "0", "observed_at": "2027-01-31"},
    {"request_id": "r4", "outcome": "1", "observed_at": "2027-01-31"},
    {"SK_ID_CURR": "5", "outcome": "0", "observed_at": "2027-02-28"},
    {"SK_ID_CURR": "6", "outcome": "0", "observed_at": "2027-02-28"},
    {"SK_ID_CURR": "7", "outcome": "1", "observed_at": "2027-02-28"},
    {"SK_ID_CURR": "8", "outcome": "0", "observed_at": "2027-02-28"},
]


def _layouts(root: Path, captures: list[dict[str, Any]] = CAPTURES,
             outcomes: list[dict[str, Any]] = OUTCOMES) -> tuple[Path, Path]:
    """Captures in two Firehose objects (two hours), outcomes through the loader."""
    for serial, part in enumerate(p for p in (captures[:5], captures[5:]) if p):
        when = datetime.fromisoformat(part[0]["captured_at"]).astimezone(UTC)
        path = root / "captures" / firehose_key(when, "stream", serial, prefix="")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(encode_capture(part)))
    frame = pd.DataFrame(outcomes).astype("string")
    records = build_records(frame, HashKeys(KEY, (OLD,)), date(2027, 6, 30))
    write_objects(encode_objects(records), root / "layout")
    return root / "captures", root / "layout"


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    captures, outcomes = _layouts(tmp_path_factory.mktemp("join"))
    result = run_join(captures, outcomes, threads=1)
    return result, result.loans.set_index("loan_id")


def _loan(loans: pd.DataFrame, *, client: int | None = None, request: str | None = None
          ) -> pd.Series:
    return loans.loc[client_hash(KEY, client) if client is not None else f"request:{request}"]


def test_one_row_per_loan_even_with_two_hash_keys(joined):
    result, loans = joined
    assert len(result.loans) == len(OUTCOMES) and loans.index.is_unique


def test_a_client_match_takes_the_latest_capture_at_or_before_the_decision(joined):
    _, loans = joined
    loan = _loan(loans, client=1)
    assert (loan.status, loan.matched_on, loan.request_id, loan.probability,
            loan.cohort) == ("matched", "client_hash", "r1", 0.11, "2026-01")
    assert json.loads(loan.features)["AMT_CREDIT"] == 1.0  # the applicant's fields come back


def test_a_request_id_match_wins_over_a_later_rescoring(joined):
    _, loans = joined
    loan = _loan(loans, request="r4")
    assert (loan.status, loan.matched_on, loan.request_id, loan.probability) == (
        "matched", "request_id", "r4", 0.41)


def test_a_request_id_naming_a_batch_is_ambiguous(joined):
    _, loans = joined
    loan = _loan(loans, request="r3")
    assert (loan.status, loan.scorings) == ("ambiguous", 2)


def test_rescored_clients_declines_and_unmatched_are_counted(joined):
    from drift.cohorts import join_counts

    _, loans = joined
    rescored = _loan(loans, client=7)
    assert (rescored.status, rescored.request_id, rescored.scorings) == ("matched", "r9", 2)
    assert _loan(loans, client=5).decision == "decline"
    assert _loan(loans, client=8).status == "unmatched"
    assert join_counts(joined[0].loans) == {
        "outcomes": 7, "matched": 5, "unmatched": 1, "ambiguous": 1,
        "matched_to_decline": 1, "rescored_clients": 1}


def test_a_rotated_key_and_a_capture_without_key_id_still_match(joined):
    _, loans = joined
    loan = _loan(loans, client=6)
    assert (loan.status, loan.request_id) == ("matched", "r7")


def test_the_cohort_counts_come_from_every_capture(joined):
    counts = joined[0].counts
    assert counts.to_dict("records") == [
        {"cohort": "2026-01", "model_version": "3", "scored": 4, "approved": 3},
        {"cohort": "2026-02", "model_version": "3", "scored": 5, "approved": 4},
        {"cohort": "2026-03", "model_version": "3", "scored": 1, "approved": 1}]


def test_without_decided_at_the_observation_date_bounds_the_match(tmp_path):
    captures = [_capture("2026-01-05T10:00:00+00:00", "a", 1, 0.1),
                _capture("2027-02-01T10:00:00+00:00", "b", 1, 0.2)]  # after observed_at
    outcome = [{"SK_ID_CURR": "1", "outcome": "0", "observed_at": "2027-01-31"}]
    capture_root, outcome_root = _layouts(tmp_path, captures, outcome)
    (loan,) = run_join(capture_root, outcome_root).loans.to_dict("records")
    assert loan["request_id"] == "a"


def test_empty_layouts_give_empty_results(tmp_path):
    result = run_join(tmp_path, tmp_path)
    assert result.loans.empty and result.counts.empty


def test_the_same_text_read_as_athena_sql_gives_the_same_rows(tmp_path):
    """The one SQL text parsed in Athena's (Trino) dialect and run back on DuckDB returns
    exactly the rows of the text run directly: nothing in it is read differently."""
    import sqlglot

    captures, outcomes = _layouts(tmp_path)
    from drift.outcomes_join import capture_files

    con = connect(capture_files(captures), outcome_files(outcomes), threads=1)
    direct = con.execute(join_sql()).df().drop(columns=["features"])
    as_athena = sqlglot.transpile(join_sql(), read="athena", write="duckdb")[0]
    through = con.execute(as_athena).df().drop(columns=["features"])
    pd.testing.assert_frame_equal(direct, through)
