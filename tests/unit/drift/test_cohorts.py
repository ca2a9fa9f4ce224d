"""drift.cohorts: maturity, join counts, and the verdicts' statistical behaviour simulated
from the synthetic generator's true default probabilities (200 cohorts of 3,000 approved
loans per scenario)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from contract import outcome_stats as st
from drift import cohorts

SEEDS, LOANS = 200, 3_000


def test_a_cohort_matures_outcome_months_after_its_last_day():
    assert cohorts.matured("2025-11", date(2026, 11, 30), 12)
    assert not cohorts.matured("2025-11", date(2026, 11, 29), 12)
    assert cohorts.matured("2026-01", date(2026, 4, 30), 3)
    assert not cohorts.matured("2026-02", date(2026, 5, 27), 3)
    assert cohorts.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def _loans() -> pd.DataFrame:
    rows = [
        # status, matched_on, scorings, decision, cohort, version, outcome, probability
        ("matched", "request_id", 1, "approve", "2025-01", "3", 1, 0.3),
        ("matched", "client_hash", 2, "approve", "2025-01", "3", 0, 0.1),
        ("matched", "client_hash", 1, "approve", "2025-01", "3", 0, 0.2),
        ("matched", "client_hash", 1, "decline", "2025-01", "3", 0, 0.6),
        ("unmatched", None, 0, None, None, None, 1, np.nan),
        ("ambiguous", "request_id", 3, "approve", "2025-02", "3", 0, 0.1),
        ("matched", "client_hash", 1, "approve", "2026-06", "3", 1, 0.2),
    ]
    return pd.DataFrame(rows, columns=["status", "matched_on", "scorings", "decision", "cohort",
                                       "model_version", "outcome", "probability"])


def test_join_counts_and_cohorts_say_what_happened_to_every_outcome():
    loans = _loans()
    assert cohorts.join_counts(loans) == {
        "outcomes": 7, "matched": 5, "unmatched": 1, "ambiguous": 1,
        "matched_to_decline": 1, "rescored_clients": 1}
    counts = pd.DataFrame({"cohort": ["2025-01", "2026-06"], "model_version": ["3", "3"],
                           "scored": [10, 4], "approved": [6, 3]})
    card = {"model_version": "3", "threshold": 0.5, "costs": {"fn": 10.0, "fp": 1.0}}
    entries = cohorts.cohorts(loans, counts, date(2026, 7, 1), 12,
                              cohorts.Reference.from_card(card))
    old, young = entries
    assert (old["cohort"], old["matured"], old["scored"], old["approved"],
            old["with_outcome"], old["declined_with_outcome"]) == ("2025-01", True, 10, 6, 3, 1)
    assert old["coverage"] == pytest.approx(3 / 6)
    assert old["observed_default_rate"] == pytest.approx(1 / 3)
    assert old["mean_predicted_pd"] == pytest.approx(0.2)
    assert old["auc"] == pytest.approx(1.0)
    assert old["observed_cost"]["cost"] == 10.0 and "cannot be counted" in old["observed_cost"][
        "note"]
    assert old["auc_vs_reference"] is None  # the card has no outcome_reference
    assert (young["matured"], young["with_outcome"]) == (False, 1)
    assert all(young[k] is None for k in ("observed_default_rate", "mean_predicted_pd", "auc",
                                          "auc_ci95"))


@pytest.fixture(scope="module")
def approved_pds() -> np.ndarray:
    """True PDs of the applicants a calibrated model (the true PD itself) approves."""
    from training.synthetic import generate_with_true_pd

    _, pd_true = generate_with_true_pd(20_000, seed=11)
    return np.asarray(pd_true[pd_true < 0.2])


def _cohorts(approved_pds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SEEDS cohorts of LOANS approved applicants: their true PDs and drawn outcomes."""
    rng = np.random.default_rng(2026)
    pds = approved_pds[rng.integers(0, len(approved_pds), size=(SEEDS, LOANS))]
    return pds, (rng.random((SEEDS, LOANS)) < pds).astype(np.int64)


def _failures(pds: np.ndarray, y: np.ndarray, predicted: np.ndarray) -> int:
    p_values = st.jeffreys_p_value(y.sum(axis=1), LOANS, predicted.mean(axis=1))
    return int((cohorts.calibration_verdict(p_values) == "fail").sum())


def test_calibration_fails_rarely_when_calibrated_and_always_when_pds_are_halved(approved_pds):
    pds, y = _cohorts(approved_pds)
    assert _failures(pds, y, pds) <= 0.05 * SEEDS
    assert _failures(pds, y, pds / 2) >= 0.95 * SEEDS


def test_auc_is_flagged_when_half_the_scores_are_shuffled(approved_pds):
    rng = np.random.default_rng(7)
    pool_y = (rng.random(len(approved_pds)) < approved_pds).astype(np.int64)
    ref = st.auc_ci(pool_y, approved_pds)  # the reference: the same truncation, its own CI
    pds, y = _cohorts(approved_pds)
    flagged = {"intact": 0, "shuffled": 0}
    for seed in range(SEEDS):
        scores = pds[seed].copy()
        half = rng.choice(LOANS, LOANS // 2, replace=False)
        shuffled = scores.copy()
        shuffled[half] = rng.permutation(scores[half])
        for name, s in (("intact", scores), ("shuffled", shuffled)):
            ci = st.auc_ci(y[seed], s)
            test = st.auc_below_reference(ci["auc"], ci["se"], ref["auc"], ref["se"])
            flagged[name] += test["p_value"] < cohorts.AUC_ALPHA
    assert flagged["shuffled"] >= 0.95 * SEEDS
    assert flagged["intact"] <= 0.15 * SEEDS
