"""drift.athena: the join's one SQL text is what runs in the workgroup, and the text rows
Athena returns become the typed frame the cohorts read.

moto 5.2.5 answers every Athena call of this botocore with "Not yet implemented" (404), so
the client here is a stand-in that records the calls and answers in GetQueryResults' shape
(the header row first, every value text), across two pages."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from drift import athena
from drift.cohorts import join_counts
from drift.outcomes import summarise
from drift.outcomes_join import features, join_sql

HEADER = [*athena.JOIN_COLUMNS, "features"]


def _row(values: list[str | None]) -> dict[str, Any]:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


class FakeAthena:
    """Answers each started query with the next queued result, in pages of two rows."""

    def __init__(self, results: list[tuple[list[str], list[list[str | None]]]],
                 state: str = "SUCCEEDED") -> None:
        self.results, self.state, self.started = list(results), state, []
        self.pages: dict[str, list[dict[str, Any]]] = {}

    def start_query_execution(self, **kw: Any) -> dict[str, Any]:
        query_id = f"q{len(self.started)}"
        self.started.append(kw)
        names, rows = self.results.pop(0) if self.results else ([], [])
        meta = {"ColumnInfo": [{"Name": n, "Type": "varchar"} for n in names]}
        all_rows = [_row(list(names))] + [_row(r) for r in rows]
        self.pages[query_id] = [{"ResultSet": {"ResultSetMetadata": meta,
                                               "Rows": all_rows[i:i + 2]}}
                                for i in range(0, len(all_rows), 2)]
        return {"QueryExecutionId": query_id}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        return {"QueryExecution": {"Status": {"State": self.state,
                                              "StateChangeReason": "Bytes scanned limit"}}}

    def get_paginator(self, name: str) -> Any:
        assert name == "get_query_results"
        pages = self.pages

        class Paginator:
            def paginate(self, QueryExecutionId: str) -> list[dict[str, Any]]:
                return pages[QueryExecutionId]

        return Paginator()


def test_the_join_runs_on_athena_and_its_rows_are_typed():
    features_json = json.dumps({"amt_credit": 1.5, "name_contract_type": "Cash loans"})
    loans = [
        ["a", "1", "2027-01-31", "2027-01-31", "matched", "client_hash", "2",
         "2026-01-05T10:00:00+00:00", "2026-01", "r1", "3", "0.11", "approve", features_json],
        ["b", "0", "2027-01-31", "2027-01-31", "unmatched", None, "0", None, None, None, None,
         None, None, None],
    ]
    counts = [["2026-01", "3", "10", "7"]]
    client = FakeAthena([(HEADER, loans),
                         (["cohort", "model_version", "scored", "approved"], counts)])
    result = athena.run_join(client, "stack-outcomes", "credit_scoring_monitoring")

    assert join_sql() in client.started[0]["QueryString"]  # the one SQL text, wrapped
    assert {c["WorkGroup"] for c in client.started} == {"stack-outcomes"}
    assert {c["QueryExecutionContext"]["Database"] for c in client.started} == {
        "credit_scoring_monitoring"}
    loans_frame = result.loans
    assert list(loans_frame.columns) == HEADER
    assert loans_frame["outcome"].tolist() == [1, 0] and loans_frame["scorings"].tolist() == [2, 0]
    assert loans_frame["probability"].iloc[0] == pytest.approx(0.11)
    assert features(loans_frame.iloc[:1]) == [{"AMT_CREDIT": 1.5,
                                               "NAME_CONTRACT_TYPE": "Cash loans"}]
    assert join_counts(loans_frame)["unmatched"] == 1
    assert result.counts.to_dict("records") == [
        {"cohort": "2026-01", "model_version": "3", "scored": 10, "approved": 7}]
    summary = summarise(result, date(2027, 2, 1), 12, None)
    assert summary["cohorts"][0]["with_outcome"] == 1


def test_a_failed_query_says_why():
    client = FakeAthena([], state="FAILED")
    with pytest.raises(RuntimeError, match="failed: Bytes scanned limit"):
        athena.run_query(client, "SELECT 1", "wg", "db")


def test_the_join_on_athena_reads_the_window_only():
    from drift.outcomes_join import Window

    window = Window.for_run(date(2026, 7, 1), 25)
    client = FakeAthena([(HEADER, []), (["cohort", "model_version", "scored", "approved"], [])])
    athena.run_join(client, "wg", "db", window)
    join, counts = (c["QueryString"] for c in client.started)
    for text in (join, counts):
        assert "month >= '2024-06' AND month < '2026-07'" in text
        assert "dt >= '2026-06-30' AND dt <= '2026-07-01'" in text
    assert "FROM outcomes\n    WHERE dt >= '2024-06-01'" in join
    # each table is read once by each query (Athena bills every scan)
    for table in ("FROM decisions", "FROM captures", "FROM outcomes"):
        assert join.count(table) == 1 and counts.count(table) == (table != "FROM outcomes")


def test_a_month_is_compacted_on_athena_into_an_emptied_partition(moto_s3):
    """The month's partition is emptied (UNLOAD writes only into an empty location), then
    one UNLOAD of the compaction's SELECT writes Parquet there; months that have captures
    but no partition are compacted too, the previous month always."""
    from drift import compaction
    from drift.outcomes_join import Window

    moto_s3.create_bucket(Bucket="captures")
    for key in ("captures/dt=2026-06-03/hour=01/a.gz", "captures/dt=2026-04-30/hour=23/b.gz",
                "decisions/month=2026-06/old-part.parquet",
                "decisions/month=2026-05/part.parquet"):
        moto_s3.put_object(Bucket="captures", Key=key, Body=b"x")
    client = FakeAthena([])
    done = compaction.compact_s3(moto_s3, "captures", "captures/", "decisions/",
                                 Window.for_run(date(2026, 7, 1), 25), (client, "wg", "db"))
    assert done == ["2026-04", "2026-06"]
    april, june = (c["QueryString"] for c in client.started)
    assert june == compaction.unload_sql("2026-06", "s3://captures/decisions/month=2026-06/")
    assert june.startswith("UNLOAD (" + compaction.compact_sql("2026-06") + ") TO ")
    assert "format = 'PARQUET'" in june and "'2026-04'" in april
    left = [o["Key"] for o in moto_s3.list_objects_v2(Bucket="captures",
                                                     Prefix="decisions/")["Contents"]]
    assert left == ["decisions/month=2026-05/part.parquet"]  # June emptied for the UNLOAD
