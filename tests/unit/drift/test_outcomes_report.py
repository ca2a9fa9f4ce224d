"""drift.outcomes_report: the page shows every cohort, a reliability plot per matured one,
and the notes on what the figures cannot say."""

from __future__ import annotations

from drift.cohorts import FP_NOTE, SELECTION_NOTE
from drift.outcomes_report import render


def _summary() -> dict:
    bands = [{"band": i + 1, "loans": 300, "defaults": 3 * i, "predicted": 0.01 * i,
              "observed": 0.01 * i, "ci95": [0.005 * i, 0.02 * i + 0.01],
              "passed": i != 4} for i in range(10)]
    matured = {"cohort": "2025-01", "model_version": "3", "matured": True, "scored": 4000,
               "approved": 3000, "with_outcome": 2990, "coverage": 0.9967,
               "observed_default_rate": 0.045, "mean_predicted_pd": 0.05, "auc": 0.71,
               "auc_ci95": [0.67, 0.75], "calibration": {"verdict": "pass"},
               "auc_vs_reference": {"p_value": 0.3}, "bands": bands}
    young = {"cohort": "2026-05", "model_version": "3", "matured": False, "scored": 10,
             "approved": 7, "with_outcome": 0, "coverage": 0.0, "observed_default_rate": None,
             "mean_predicted_pd": None, "auc": None, "auc_ci95": None}
    return {"as_of": "2026-06-30", "outcome_months": 12, "join": {"outcomes": 2990},
            "cohorts": [matured, young],
            "notes": {"selection": SELECTION_NOTE, "false_positives": FP_NOTE}}


def test_the_page_has_the_table_the_plot_and_the_notes():
    html = render(_summary())
    assert html.count("<svg") == 1 and html.count("<circle") == 10
    assert html.count('fill="#b00020"') == 1  # the one failing band
    assert "2025-01" in html and "2026-05" in html and "0.7100" in html
    assert "cannot be counted" in html and "truncated population" in html
    assert '<html lang="en">' in html and "<title>" in html and "<desc" in html
