"""The card's ``outcome_reference``: what realised outcomes should look like.

Outcomes exist only for approved applicants, so the monitor's realised AUC is computed on a
truncated population. The reference is computed on the same truncation: the out-of-fold
predictions of the training part (the evaluation folds, the same ones that chose the
threshold), restricted to the applicants the model approves (probability below the
threshold). It holds the AUC with its DeLong standard error and 95% CI, the default rate
with its Jeffreys 95% interval, the mean predicted PD, and calibration by decile. The
statistics are contract.outcome_stats, the monitor's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from contract import outcome_stats as st

POPULATION = ("out-of-fold predictions on the training part (evaluation folds), applicants "
              "the model approves (probability < threshold)")


def outcome_reference(y: np.ndarray, oof: np.ndarray, threshold: float) -> dict[str, Any]:
    """The reference among OOF-approved applicants (see the module doc)."""
    approved = np.asarray(oof, dtype=np.float64) < threshold
    labels = np.asarray(y, dtype=np.int64)[approved]
    p = np.asarray(oof, dtype=np.float64)[approved]
    n, defaults = len(labels), int(labels.sum())
    if n == 0:
        return {"population": POPULATION, "approved": 0, "skipped": "no approved applicant"}
    low, high = st.jeffreys_interval(defaults, n)
    reference: dict[str, Any] = {
        "population": POPULATION, "threshold": float(threshold),
        "applicants": len(approved), "approved": n, "defaults": defaults,
        "default_rate": {"value": defaults / n, "ci_low": float(low), "ci_high": float(high)},
        "mean_predicted_pd": float(p.mean()),
        "calibration": st.calibration_bands(labels, p),
        "auc": None,
    }
    if 0 < defaults < n:
        ci = st.auc_ci(labels, p)
        reference["auc"] = {"value": ci["auc"], "se": ci["se"], "ci_low": ci["ci_low"],
                            "ci_high": ci["ci_high"]}
        reference["gini"] = {"value": ci["gini"], "ci_low": ci["gini_ci_low"],
                             "ci_high": ci["gini_ci_high"]}
    return reference
