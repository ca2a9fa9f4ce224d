"""Run the outcomes join on Amazon Athena: the same SQL texts as DuckDB, over the Glue tables
``decisions``, ``captures`` and ``outcomes`` of template.yaml, in the outcomes workgroup.

Opt-in: the outcomes job uses it when ATHENA_WORKGROUP and ATHENA_DATABASE are set (docs/
outcomes.md); otherwise it downloads the objects and runs DuckDB. The join's text is wrapped
only to turn the applicant-fields struct into JSON text, as the DuckDB runner does (Hive
struct fields are lower-case: :func:`drift.outcomes_join.features` maps them back).
GetQueryResults returns text: the columns are typed here.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from drift.outcomes_join import JoinResult, Window, counts_sql, join_sql

#: The join's columns, in its SELECT order.
JOIN_COLUMNS = ("loan_id", "outcome", "observed_at", "decided_by", "status", "matched_on",
                "scorings", "captured_at", "cohort", "request_id", "model_version",
                "probability", "decision")
_TYPES = {"outcome": "int64", "scorings": "int64", "probability": "float64",
          "scored": "int64", "approved": "int64"}


def athena_join_sql(window: Window | None = None) -> str:
    columns = ", ".join(JOIN_COLUMNS)
    return (f"SELECT {columns}, json_format(CAST(features AS JSON)) AS features "
            f"FROM ({join_sql(window)}) AS joined")


def run_query(client: Any, sql: str, workgroup: str, database: str, poll_s: float = 1.0,
              timeout_s: float = 840.0) -> pd.DataFrame:
    """Run ``sql`` in ``workgroup``; its rows (text, typed where known) as a frame."""
    execution = client.start_query_execution(
        QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": database})
    query_id = execution["QueryExecutionId"]
    deadline = time.monotonic() + timeout_s
    while True:
        status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            break
        if status["State"] in ("FAILED", "CANCELLED"):
            raise RuntimeError(f"Athena query {query_id} {status['State'].lower()}: "
                               f"{status.get('StateChangeReason', 'no reason given')}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=query_id)
            raise TimeoutError(f"Athena query {query_id} still running after {timeout_s:.0f} s")
        time.sleep(poll_s)
    header: list[str] | None = None
    rows: list[list[str | None]] = []
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        names = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row["Data"]]
            if header is None:  # the first row of the first page repeats the column names
                header = names
                if values == names:
                    continue
            rows.append(values)
    frame = pd.DataFrame(rows, columns=header or [])
    for column, dtype in _TYPES.items():
        if column in frame:
            frame[column] = pd.to_numeric(frame[column]).astype(
                "float64" if frame[column].isna().any() else dtype)
    return frame


def run_join(client: Any, workgroup: str, database: str, window: Window | None = None
             ) -> JoinResult:
    """The join and the cohort counts on Athena, bounded by ``window`` (default:
    everything)."""
    return JoinResult(loans=run_query(client, athena_join_sql(window), workgroup, database),
                      counts=run_query(client, counts_sql(window), workgroup, database))
