"""drift.config: the drift job's settings from the environment, with defaults and one clear
error per bad value."""

from __future__ import annotations

import pytest

from drift.config import DriftConfig


def test_config_from_env_defaults_and_validation() -> None:
    config = DriftConfig.from_env(
        {"REPORT_BUCKET": "r", "CAPTURE_BUCKET": "c", "REFERENCE_KEY": "model/reference.csv.gz"}
    )
    assert (config.capture_prefix, config.report_prefix) == ("captures/", "reports/drift/")
    assert (config.window_days, config.min_rows, config.max_rows) == (7, 200, 20_000)
    assert config.reference_bucket == "r"
    with pytest.raises(ValueError, match="REFERENCE_KEY"):
        DriftConfig.from_env({"REPORT_BUCKET": "r", "CAPTURE_BUCKET": "c"})
    with pytest.raises(ValueError, match="MIN_ROWS"):
        DriftConfig.from_env(
            {
                "REPORT_BUCKET": "r",
                "CAPTURE_BUCKET": "c",
                "REFERENCE_KEY": "k",
                "MIN_ROWS": "500",
                "MAX_ROWS": "100",
            }
        )
    with pytest.raises(ValueError, match="WINDOW_DAYS"):
        DriftConfig.from_env(
            {"REPORT_BUCKET": "r", "CAPTURE_BUCKET": "c", "REFERENCE_KEY": "k", "WINDOW_DAYS": "x"}
        )
