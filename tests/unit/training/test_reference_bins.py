"""training.reference_bins: quantile and category bins of the reference rows, each with at
least MIN_BIN_ROWS rows and its default rate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contract import schema
from contract.bundle import MIN_BIN_ROWS
from training.reference_bins import numeric_bins, reference_bins


def test_reference_default_rates_are_the_rows_default_rates() -> None:
    values = np.arange(100, dtype=np.float64)
    target = (values >= 50).astype(np.float64)
    out = numeric_bins(values, target)
    # Deciles cut at 9.9, 19.8, ...: 10 rows each, merged in pairs to reach 20 rows.
    assert [(b["low"], b["high"], b["rows"]) for b in out["bins"]] == [
        (None, 19.8, 20), (19.8, 39.6, 20), (39.6, 59.4, 20), (59.4, 79.2, 20), (79.2, None, 20)]
    for b in out["bins"]:
        inside = (values >= (b["low"] if b["low"] is not None else -np.inf)) & (
            values < (b["high"] if b["high"] is not None else np.inf))
        assert b["rows"] == inside.sum() and b["default_rate"] == round(target[inside].mean(), 6)
    frame = pd.DataFrame({"NAME_CONTRACT_TYPE": ["Cash loans"] * 30 + ["Revolving loans"] * 5,
                          schema.TARGET_FIELD: [0] * 29 + [1] * 6})
    cats = reference_bins(frame, np.empty((35, 0)), ("NAME_CONTRACT_TYPE",))
    entry = cats["features"]["NAME_CONTRACT_TYPE"]
    assert entry["bins"] == [{"category": "Cash loans", "rows": 30, "default_rate": 0.033333}]
    assert entry["suppressed_rows"] == 5  # 5 rows are too few for a bin, even pooled


def test_merged_bins_never_hold_fewer_than_the_minimum() -> None:
    rng = np.random.default_rng(3)
    for size in (20, 21, 39, 45, 100, 1000):
        values = np.round(rng.normal(size=size), 1)
        values[rng.random(size) < 0.1] = np.nan
        out = numeric_bins(values, (rng.random(size) < 0.1).astype(np.float64))
        rows = [b["rows"] for b in out["bins"]]
        assert all(r >= MIN_BIN_ROWS for r in rows), (size, rows)
        missing = out["missing"]["rows"] if out["missing"] else 0
        assert sum(rows) + missing + out["suppressed_rows"] == size
