"""Aggregates of the reference rows for the officer page (``reference_bins.json``).

For every model feature, the reference rows are cut into bins and each bin reports how many
rows it holds and their default rate. Nothing row-level is kept:

* numeric features: quantile cut points (interpolated, so not row values) or, for a feature
  with few distinct values, one bin per value; bins are half-open ``[low, high)``, the first
  open below (``low`` null) and the last open above (``high`` null), so no bin edge is a
  row's extreme value; adjacent bins are merged until each holds at least ``MIN_BIN_ROWS``;
  missing values form their own bin when there are enough of them;
* categorical features: one bin per category with enough rows; rarer categories are pooled
  into one "other" bin, left out (with their count) if even the pool is too small.

Values are those the reasons show: the request's raw value for a feature that is a request
field, the engineered value otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from contract import schema
from contract.bundle import MIN_BIN_ROWS, REFERENCE_QUANTILE_BINS

#: Format version of reference_bins.json.
FORMAT_VERSION = 1


#: Significant digits of quantile cut points (rounded before rows are assigned to bins).
CUT_DIGITS = 6


def _rate(target: np.ndarray) -> float:
    return round(float(target.mean()), 6)


def _round_significant(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{v:.{CUT_DIGITS}g}") for v in values.tolist()])


def _merge_small(counts: list[int]) -> list[int]:
    """Group boundaries (start indices) so each group of adjacent counts sums to at least
    MIN_BIN_ROWS; a short tail joins the group before it."""
    starts: list[int] = []
    total, open_group = 0, False
    for i, count in enumerate(counts):
        if not open_group:
            starts.append(i)
            open_group = True
        total += count
        if total >= MIN_BIN_ROWS:
            total, open_group = 0, False
    if open_group and len(starts) > 1:
        starts.pop()
    return starts


def numeric_bins(values: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """Bins of one numeric feature (NaN = missing)."""
    missing = np.isnan(values)
    present, y = values[~missing], target[~missing]
    out: dict[str, Any] = {"kind": "numeric", "bins": [], "missing": None, "suppressed_rows": 0}
    if int(missing.sum()) >= MIN_BIN_ROWS:
        out["missing"] = {"rows": int(missing.sum()), "default_rate": _rate(target[missing])}
    else:
        out["suppressed_rows"] += int(missing.sum())
    if len(present) < MIN_BIN_ROWS:
        out["suppressed_rows"] += len(present)
        return out
    distinct = np.unique(present)
    if len(distinct) <= REFERENCE_QUANTILE_BINS:
        cuts = distinct[1:]
    else:
        quantiles = np.linspace(0, 1, REFERENCE_QUANTILE_BINS + 1)[1:-1]
        cuts = np.unique(_round_significant(np.quantile(present, quantiles)))
        cuts = cuts[cuts > distinct[0]]  # the first bin is never empty
    index = np.searchsorted(cuts, present, side="right")
    counts = np.bincount(index, minlength=len(cuts) + 1).tolist()
    starts = _merge_small(counts)
    edges = [None, *(float(cuts[s - 1]) for s in starts[1:]), None]
    group = np.searchsorted(np.asarray(starts), index, side="right") - 1
    for g in range(len(starts)):
        members = group == g
        out["bins"].append({"low": edges[g], "high": edges[g + 1], "rows": int(members.sum()),
                            "default_rate": _rate(y[members])})
    return out


def category_bins(values: pd.Series, target: np.ndarray) -> dict[str, Any]:
    """Bins of one categorical feature (None/NaN = missing)."""
    labels = values.astype(object).where(values.notna(), None)
    counts = labels.value_counts(dropna=False)
    out: dict[str, Any] = {"kind": "category", "bins": [], "missing": None, "suppressed_rows": 0}
    pooled: list[str] = []
    for label, rows in counts.items():
        members = (labels.isna() if label is None else labels == label).to_numpy()
        if rows < MIN_BIN_ROWS:
            if label is None:
                out["suppressed_rows"] += int(rows)
            else:
                pooled.append(str(label))
        elif label is None:
            out["missing"] = {"rows": int(rows), "default_rate": _rate(target[members])}
        else:
            out["bins"].append({"category": str(label), "rows": int(rows),
                                "default_rate": _rate(target[members])})
    if pooled:
        members = labels.isin(pooled).to_numpy()
        if int(members.sum()) >= MIN_BIN_ROWS:
            out["bins"].append({"category": None, "categories": sorted(pooled),
                                "rows": int(members.sum()),
                                "default_rate": _rate(target[members])})
        else:
            out["suppressed_rows"] += int(members.sum())
    return out


def reference_bins(reference: pd.DataFrame, features: np.ndarray,
                   feature_names: tuple[str, ...]) -> dict[str, Any]:
    """reference_bins.json for reference rows (with TARGET) and their feature matrix."""
    if schema.TARGET_FIELD not in reference.columns:
        raise ValueError(f"reference rows lack {schema.TARGET_FIELD}: no default rates")
    target = reference[schema.TARGET_FIELD].to_numpy(dtype=np.float64)
    out: dict[str, Any] = {}
    for j, name in enumerate(feature_names):
        field = schema.FIELDS_BY_NAME.get(name)
        if field is not None and field.kind == "category":
            out[name] = category_bins(reference[name], target)
        elif field is not None:
            out[name] = numeric_bins(reference[name].to_numpy(dtype=np.float64), target)
        else:
            out[name] = numeric_bins(np.asarray(features[:, j], dtype=np.float64), target)
    return {"format_version": FORMAT_VERSION, "rows": len(reference),
            "min_bin_rows": MIN_BIN_ROWS, "default_rate": _rate(target), "features": out}
