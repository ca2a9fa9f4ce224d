"""The drift report: Evidently 0.7.x ``Report([DataDriftPreset()])`` over the 120 applicant fields.

Column types come from contract.schema (numeric fields -> numerical, category fields ->
categorical), never from Evidently's guessing. Both frames go through the same encoder the
model uses (contract.schema.encode_columns), so a reference CSV, a CSV of raw applications
and decoded captures are typed identically: numeric float64 with NaN for missing, categorical
strings with NaN for missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd

# drift/__init__.py (run before this module) has switched Evidently's telemetry off.
from evidently import DataDefinition, Dataset, Report
from evidently import __version__ as EVIDENTLY_VERSION
from evidently.presets import DataDriftPreset

from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from contract.schema import (
    CATEGORICAL_FIELDS,
    FEATURE_FIELDS,
    MISSING_CATEGORY,
    NUMERIC_FIELDS,
    encode_columns,
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURE_FIELDS)
#: Dataset drift is declared when at least this share of the tested columns drifted.
DRIFT_SHARE_THRESHOLD = 0.5


class DriftedColumn(TypedDict):
    column: str
    type: Literal["numerical", "categorical"]
    #: Evidently's statistical test for the column, its score and its drift threshold.
    stattest: str
    score: float
    threshold: float


class UntestableColumn(TypedDict):
    column: str
    reason: str


class DriftVerdict(TypedDict):
    """Evidently's verdict, compacted (see summarize)."""

    columns_tested: int
    drifted_count: int
    drift_share: float
    drift_share_threshold: float
    dataset_drift: bool
    drifted_columns: list[DriftedColumn]
    evidently_version: str


class ReportSummary(DriftVerdict):
    """A report's summary: the verdict, the row counts and the columns left out."""

    rows: dict[str, int]
    untestable_columns: list[UntestableColumn]


@dataclass(frozen=True)
class DriftReport:
    html: str  #: Evidently's standalone HTML report
    json: dict[str, Any]  #: Evidently's snapshot dict (metrics and tests), JSON-safe
    summary: ReportSummary


def data_definition() -> DataDefinition:
    """Evidently's column typing, straight from the shared schema."""
    return DataDefinition(
        numerical_columns=list(NUMERIC_FIELDS), categorical_columns=list(CATEGORICAL_FIELDS)
    )


def frame_from_encoded(encoded: dict[str, np.ndarray]) -> pd.DataFrame:
    """The model-input matrices (schema.encode_columns/encode_records) as a typed frame."""
    numeric = np.asarray(encoded[NUMERIC_INPUT], dtype=np.float64)
    categorical = np.array(encoded[CATEGORICAL_INPUT], dtype=object)
    categorical[categorical == MISSING_CATEGORY] = np.nan
    frame = pd.concat(
        [
            pd.DataFrame(numeric, columns=list(NUMERIC_FIELDS)),
            pd.DataFrame(categorical, columns=list(CATEGORICAL_FIELDS), dtype=object),
        ],
        axis=1,
    )
    return frame[list(FEATURE_NAMES)]


def prepare_frame(data: pd.DataFrame) -> pd.DataFrame:
    """The 120 feature columns of ``data`` in schema order, typed from the schema.

    Other columns (TARGET, SK_ID_CURR, anything else) are dropped.
    """
    missing = [name for name in FEATURE_NAMES if name not in data.columns]
    if missing:
        raise ValueError(
            f"{len(missing)} schema field(s) missing from the data: {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
        )
    try:
        encoded = encode_columns(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a numeric schema field holds non-numeric values: {exc}") from exc
    frame = frame_from_encoded(encoded)
    frame.index = range(len(frame))
    return frame


def build_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    timestamp: datetime | None = None,
    drift_share: float = DRIFT_SHARE_THRESHOLD,
) -> DriftReport:
    """Run DataDriftPreset on ``current`` against ``reference`` (any frames holding the 120
    fields; other columns are dropped) and return the HTML, the JSON and the compact summary."""
    return run_report(
        prepare_frame(reference),
        prepare_frame(current),
        timestamp=timestamp,
        drift_share=drift_share,
    )


def run_report(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    *,
    timestamp: datetime | None = None,
    drift_share: float = DRIFT_SHARE_THRESHOLD,
) -> DriftReport:
    """build_report for frames already typed by prepare_frame / frame_from_encoded.

    A column with no value at all in either frame cannot be tested (Evidently rejects it); it is
    left out of the preset and listed in the summary's ``untestable_columns`` instead.
    """
    if list(ref.columns) != list(FEATURE_NAMES) or list(cur.columns) != list(FEATURE_NAMES):
        raise ValueError("run_report needs frames from prepare_frame or frame_from_encoded")
    if ref.empty or cur.empty:
        raise ValueError("both the reference and the current data need at least one row")
    untestable: list[UntestableColumn] = []
    for name in FEATURE_NAMES:
        sides = (("reference", ref), ("current", cur))
        empty = [side for side, df in sides if df[name].isna().all()]
        if empty:
            untestable.append({"column": name, "reason": f"no values in {' and '.join(empty)}"})
    if len(untestable) == len(FEATURE_NAMES):
        raise ValueError("no column has values in both frames")
    skip = {entry["column"] for entry in untestable}
    columns = [name for name in FEATURE_NAMES if name not in skip] if skip else None

    definition = data_definition()
    report = Report([DataDriftPreset(columns=columns, drift_share=drift_share)], include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
        timestamp=timestamp,
    )
    # Through Evidently's own JSON encoder: numpy scalars become plain JSON values.
    as_json = json.loads(snapshot.json())
    summary: ReportSummary = {
        **summarize(as_json, drift_share=drift_share),
        "rows": {"reference": len(ref), "current": len(cur)},
        "untestable_columns": untestable,
    }
    return DriftReport(html=snapshot.get_html_str(as_iframe=False), json=as_json, summary=summary)


def summarize(
    result: dict[str, Any], *, drift_share: float = DRIFT_SHARE_THRESHOLD
) -> DriftVerdict:
    """The compact summary of an Evidently DataDriftPreset snapshot dict.

    Per-column drift verdicts are Evidently's own (the FAIL/SUCCESS status of each ValueDrift
    "drift" test); the count and share are its DriftedColumnsCount, and the two must agree.
    """
    metrics = {m["id"]: m for m in result["metrics"]}
    count = next(
        m for m in result["metrics"] if m["config"]["type"].endswith(":DriftedColumnsCount")
    )
    value_drifts = {
        m["config"]["column"]: m
        for m in result["metrics"]
        if m["config"]["type"].endswith(":ValueDrift")
    }
    drifted: set[str] = set()
    for test in result["tests"]:
        if test["id"] != "drift":
            continue
        metric = metrics[test["metric_config"]["metric_id"]]
        if test["status"] == "FAIL":
            drifted.add(metric["config"]["column"])
    drifted_count = int(count["value"]["count"])
    if drifted_count != len(drifted):
        raise RuntimeError(
            f"Evidently disagrees with itself: DriftedColumnsCount={drifted_count}, "
            f"failed ValueDrift tests={len(drifted)}"
        )
    share = float(count["value"]["share"])
    categorical = set(CATEGORICAL_FIELDS)
    return {
        "columns_tested": len(value_drifts),
        "drifted_count": drifted_count,
        "drift_share": share,
        "drift_share_threshold": drift_share,
        "dataset_drift": bool(share >= drift_share),
        "drifted_columns": [
            {
                "column": name,
                "type": "categorical" if name in categorical else "numerical",
                "stattest": value_drifts[name]["config"]["method"],
                "score": float(value_drifts[name]["value"]),
                "threshold": float(value_drifts[name]["config"]["threshold"]),
            }
            for name in FEATURE_NAMES
            if name in drifted
        ],
        "evidently_version": EVIDENTLY_VERSION,
    }
