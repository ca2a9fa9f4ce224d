"""training.outcome_reference: the card's reference on the monitor's truncation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from training.outcome_reference import outcome_reference


def test_the_reference_is_computed_among_the_approved_only():
    rng = np.random.default_rng(0)
    oof = rng.random(5_000) * 0.6
    y = (rng.random(5_000) < oof).astype(int)
    reference = outcome_reference(y, oof, threshold=0.3)
    approved = oof < 0.3
    assert (reference["applicants"], reference["approved"], reference["defaults"]) == (
        5_000, int(approved.sum()), int(y[approved].sum()))
    assert reference["default_rate"]["value"] == pytest.approx(y[approved].mean())
    low, high = reference["default_rate"]["ci_low"], reference["default_rate"]["ci_high"]
    assert low < y[approved].mean() < high
    assert reference["mean_predicted_pd"] == pytest.approx(oof[approved].mean())
    auc = reference["auc"]
    assert auc["value"] == pytest.approx(roc_auc_score(y[approved], oof[approved]))
    assert auc["value"] < roc_auc_score(y, oof)  # truncation lowers the AUC
    assert auc["ci_low"] < auc["value"] < auc["ci_high"] and auc["se"] > 0
    assert len(reference["calibration"]) == 10
    # y was drawn from the scores themselves: the bands are calibrated
    assert sum(not band["passed"] for band in reference["calibration"]) <= 2


def test_no_approved_applicant_is_said_plainly():
    reference = outcome_reference(np.array([0, 1]), np.array([0.9, 0.8]), threshold=0.5)
    assert reference["approved"] == 0 and "no approved" in reference["skipped"]
