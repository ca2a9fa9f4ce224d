"""The candidate models' helpers (training/models.py): trial selection, the fold cost's
standard error, the champion's search space."""

from __future__ import annotations

import numpy as np
import pytest

from training.costs import Costs
from training.models import MAX_DEPTH_CAP, fold_cost_se, sample_champion_params, select_trial


def test_trial_selection_rules() -> None:
    rows = [
        {"cv_cost_per_applicant": 0.50, "cv_auc": 0.74, "fold_cost_se": 0.02},
        {"cv_cost_per_applicant": 0.51, "cv_auc": 0.76, "fold_cost_se": 0.02},  # within 1 SE
        {"cv_cost_per_applicant": 0.53, "cv_auc": 0.78, "fold_cost_se": 0.02},  # beyond
    ]
    assert select_trial(rows, "min_cost") == 0
    assert select_trial(rows, "one_se") == 1
    with pytest.raises(ValueError):
        select_trial(rows, "best_auc")


def test_fold_cost_se_by_hand() -> None:
    y = np.array([1, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.1, 0.8, 0.2, 0.1, 0.1])
    folds = [(np.array([3, 4, 5]), np.array([0, 1, 2])), (np.array([0, 1, 2]), np.array([3, 4, 5]))]
    # threshold 0.5: fold 1 has one FP (cost 1/3), fold 2 one FN (cost 10/3).
    se = fold_cost_se(y, p, folds, 0.5, Costs())
    assert se == pytest.approx(np.std([1 / 3, 10 / 3], ddof=1) / np.sqrt(2))


def test_search_space_draws_are_reproducible_and_bounded() -> None:
    draws = [sample_champion_params(np.random.default_rng(11)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(0)
    for params in (sample_champion_params(rng) for _ in range(200)):
        assert 4 <= params["num_leaves"] <= 16
        assert 2 <= params["max_depth"] <= 4 <= MAX_DEPTH_CAP  # cheap per-request TreeSHAP
        assert 0.01 <= params["learning_rate"] <= 0.05
        assert params["class_weight"] in (None, "balanced")
