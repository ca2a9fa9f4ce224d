"""drift.outcomes_classification: Evidently's ClassificationPreset on each matured cohort's
booked loans (Evidently runs for real), its figures equal to the cohort's own and to an
independent computation, and no report before a cohort has matured."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from drift.outcomes import report_pages, summarise
from drift.outcomes_join import JoinResult

AS_OF = date(2026, 7, 1)


def _cohort(rng: np.random.Generator, cohort: str, version: str, n: int) -> pd.DataFrame:
    """n scored applicants of one cohort: the synthetic generator's shape of PD, outcomes
    drawn from it; those at or above the 0.3 threshold were declined (and a few of them
    still got an outcome: loans that should not exist)."""
    p = rng.beta(1, 12, n)
    decision = np.where(p < 0.3, "approve", "decline")
    return pd.DataFrame({"status": "matched", "matched_on": "request_id", "scorings": 1,
                         "decision": decision, "cohort": cohort, "model_version": version,
                         "outcome": (rng.random(n) < p).astype(np.int64), "probability": p})


def _joined() -> JoinResult:
    rng = np.random.default_rng(18)
    loans = pd.concat([_cohort(rng, "2025-03", "7", 1500), _cohort(rng, "2025-04", "8", 900),
                       _cohort(rng, "2026-05", "8", 400)], ignore_index=True)
    counts = (loans.assign(approved=loans["decision"] == "approve")
              .groupby(["cohort", "model_version"], as_index=False)
              .agg(scored=("outcome", "size"), approved=("approved", "sum")))
    return JoinResult(loans=loans, counts=counts)


@pytest.mark.slow
def test_each_matured_cohort_gets_a_report_whose_figures_are_the_cohorts():
    joined = _joined()
    summary = summarise(joined, AS_OF, 12, {"model_version": "8", "threshold": 0.3})
    pages = report_pages(joined, summary)
    assert set(pages) == {"report.html", "classification-2025-03-v7.html",
                          "classification-2025-04-v8.html"}
    loans = joined.loans
    for entry in summary["cohorts"]:
        report = entry.get("classification_report")
        if not entry["matured"]:
            assert report is None  # 2026-05 has not matured: counts only, no report
            continue
        mine = loans[(loans["cohort"] == entry["cohort"]) & (loans["decision"] == "approve")
                     & (loans["model_version"] == entry["model_version"])]
        y, p = mine["outcome"].to_numpy(), mine["probability"].to_numpy()
        assert report["loans"] == entry["with_outcome"] == len(mine)
        assert report["roc_auc"] == pytest.approx(entry["auc"], abs=1e-9)
        assert report["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
        assert report["log_loss"] == pytest.approx(log_loss(y, p), abs=1e-9)
        # At the threshold every booked loan is predicted "repaid": the confusion counts are
        # tn = repaid loans, fn = the missed defaulters, tp = fp = 0.
        assert report["accuracy"] == pytest.approx(1 - entry["observed_default_rate"],
                                                   abs=1e-12)
        assert (report["recall"], report["tpr"], report["fnr"], report["tnr"],
                report["fpr"]) == (0.0, 0.0, 1.0, 1.0, 0.0)
        html = pages[report["file"]]
        assert "</html>" in html and "<script" in html and len(html) > 100_000  # standalone
        assert f'href="{report["file"]}"' in pages["report.html"]
    assert "precision is undefined by construction" in pages["report.html"]


def test_no_report_before_any_cohort_has_matured():
    joined = _joined()
    summary = summarise(joined, date(2026, 1, 1), 12, None)
    assert not any(c["matured"] for c in summary["cohorts"])
    pages = report_pages(joined, summary)
    assert list(pages) == ["report.html"]
    assert all("classification_report" not in c for c in summary["cohorts"])
    assert "no classification report" in pages["report.html"]
