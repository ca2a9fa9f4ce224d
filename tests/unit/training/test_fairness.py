"""The fairness table's arithmetic: rates, four-fifths ratio, FPR/TPR, calibration, CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training import fairness


def test_group_table_rates_and_four_fifths_ratio():
    # Group a: 4 applicants, 1 declined; group b: 4 applicants, 3 declined.
    y = np.array([0, 0, 1, 0, 0, 1, 1, 0])
    p = np.array([0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.9, 0.1])
    labels = np.array(["a"] * 4 + ["b"] * 4, dtype=object)
    table = fairness.group_table(y, p, 0.5, labels, resamples=200, seed=0)
    a, b = table["a"], table["b"]
    assert a["applicants"]["value"] == 4 and b["applicants"]["value"] == 4
    assert a["decline_rate"]["value"] == 0.25 and b["decline_rate"]["value"] == 0.75
    assert a["approval_ratio"]["value"] == 1.0
    assert b["approval_ratio"]["value"] == pytest.approx(0.25 / 0.75, abs=1e-6)
    assert b["below_four_fifths"] and not a["below_four_fifths"]
    assert a["fpr"]["value"] == 0.0 and b["fpr"]["value"] == 0.5   # good clients declined
    assert a["tpr"]["value"] == 1.0 and b["tpr"]["value"] == 1.0
    assert a["mean_probability"]["value"] == pytest.approx(0.3)
    assert a["default_rate"]["value"] == 0.25
    for row in (a, b):
        for metric in ("decline_rate", "fpr", "mean_probability"):
            assert row[metric]["ci_low"] <= row[metric]["value"] <= row[metric]["ci_high"]
    report = {"oof": {"gender": table}}
    assert fairness.below_four_fifths(report) == ["oof/gender/b (0.33)"]
    assert "oof/gender/b" in fairness.summary_line(report)


def test_report_has_both_sets_and_reference_rates(tmp_path):
    frame = pd.DataFrame({"CODE_GENDER": ["F", "M", "F", "M"] * 50,
                          "DAYS_BIRTH": [-9000, -12000, -20000, -24000] * 50,
                          "NAME_FAMILY_STATUS": ["Married", "Single / not married",
                                                 "Married", "Married"] * 49
                          + ["Married", "Single / not married", "Unknown", None]})
    y = np.tile([0, 1, 0, 0], 50)
    p = np.tile([0.2, 0.8, 0.1, 0.6], 50)
    report = fairness.fairness_report({"oof": (frame, y, p), "test": (frame, y, p)}, 0.5,
                                      resamples=100, seed=0)
    assert set(report["oof"]) == {"gender", "age", "marital_status"}
    assert report["reference_decline_rates"]["gender"] == {"F": 0.0, "M": 1.0}
    assert report["reference_decline_rates"]["age"]["<30"] == 0.0
    assert report["reference_decline_rates"]["source"] == "oof"
    # Marital status: every value sent is a group, the rare one and the missing one too.
    marital = report["oof"]["marital_status"]
    assert list(marital) == ["Married", "Single / not married", "Unknown", "missing"]
    assert [row["applicants"]["value"] for row in marital.values()] == [148, 50, 1, 1]
    assert marital["Single / not married"]["decline_rate"]["value"] == 1.0
    assert marital["Married"]["decline_rate"]["value"] == pytest.approx(49 / 148, abs=1e-6)
    assert marital["Unknown"]["decline_rate"]["value"] == 0.0
    assert marital["missing"]["decline_rate"]["value"] == 1.0
    assert report["reference_decline_rates"]["marital_status"]["Unknown"] == 0.0
    line = fairness.summary_line(report)
    assert "oof/gender/M (0.00)" in line
    assert "oof/marital_status/Single / not married (0.00)" in line
    assert "oof/marital_status/Married" in line  # approval 99/148 over Unknown's 1.0
    metrics = fairness.flat_metrics(report)
    assert metrics["fair_test_age_under30_decline_rate"] == 0.0
    assert metrics["fair_oof_marital_status_Single_not_married_decline_rate"] == 1.0
    assert metrics["fair_oof_age_62plus_decline_rate"] == 1.0
    # One plot panel per attribute, the marital status one included.
    path = fairness.plot(report, "oof", tmp_path / "fairness_oof.png")
    assert path.stat().st_size > 0
