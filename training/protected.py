"""Protected attributes: what leaves the model, and what leaving them out costs.

The model's features are ``training.features.model_features(protected)``: the feature graph's
columns without the protected fields and without every engineered feature computed from one.
The API still accepts those fields (the input schema is the Home Credit schema): they are
captured for fairness monitoring and never reach the model.

``compliance_cost`` runs the champion's very search (same folds, trials and seed) on all
the feature graph's columns, protected ones included, and reports CV AUC and cost per
applicant for both and the difference. The unprotected model is evidence only: the
champion is always the compliant one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from training.costs import Costs
from training.evaluate import Fold
from training.features import FEATURE_NAMES, model_features
from training.models import CandidateResult, search_champion


def feature_selection(protected: Sequence[str]) -> tuple[tuple[str, ...], list[int]]:
    """(model feature names, their column indices in the full feature matrix)."""
    names = model_features(protected)
    position = {name: i for i, name in enumerate(FEATURE_NAMES)}
    return names, [position[n] for n in names]


def compliance_cost(
    X_full: np.ndarray, y: np.ndarray, folds: Sequence[Fold], costs: Costs, trials: int,
    seed: int, n_jobs: int, compliant: CandidateResult, protected: Sequence[str],
    progress: bool = False,
) -> tuple[dict[str, Any], CandidateResult]:
    """Search on every feature (protected included) and compare with the compliant search
    run on the same folds. Returns (the card's ``compliance`` entry, the unprotected
    result)."""
    unprotected = search_champion(X_full, y, folds, costs, trials, seed, n_jobs,
                                  progress=progress)
    unprotected.name = "unprotected"
    entry = {
        "protected_attributes": list(protected),
        "excluded_features": [n for n in FEATURE_NAMES if n not in model_features(protected)],
        "rows": len(y), "folds": len(folds), "trials": trials,
        "compliant": {"cv_auc": compliant.auc,
                      "cv_cost_per_applicant": compliant.cost_per_applicant,
                      "threshold": compliant.threshold},
        "with_protected": {"cv_auc": unprotected.auc,
                           "cv_cost_per_applicant": unprotected.cost_per_applicant,
                           "threshold": unprotected.threshold},
        "difference": {
            "cv_auc": compliant.auc - unprotected.auc,
            "cv_cost_per_applicant": (compliant.cost_per_applicant
                                      - unprotected.cost_per_applicant),
        },
        "champion": "compliant (always: the model with protected attributes is never served)",
    }
    return entry, unprotected


def summary_line(entry: dict[str, Any]) -> str:
    d = entry["difference"]
    return (f"compliance cost: without {', '.join(entry['protected_attributes'])} CV AUC "
            f"{entry['compliant']['cv_auc']:.4f} vs {entry['with_protected']['cv_auc']:.4f} "
            f"with ({d['cv_auc']:+.4f}); cost/applicant "
            f"{entry['compliant']['cv_cost_per_applicant']:.4f} vs "
            f"{entry['with_protected']['cv_cost_per_applicant']:.4f} "
            f"({d['cv_cost_per_applicant']:+.4f})")
