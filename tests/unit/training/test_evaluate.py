"""Evaluation (training/evaluate.py): stratified splits and folds, out-of-fold predictions,
metrics at a threshold checked by hand, and bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from training.costs import Costs
from training.evaluate import (
    METRICS,
    WeightedMetrics,
    bootstrap_metrics,
    make_folds,
    metrics_at,
    oof_predict,
    split_holdout,
)

# Six applicants. Sorted by score: .10(0) .20(1) .35(1) .40(0) .70(1) .80(0).
Y6 = np.array([0, 0, 1, 0, 1, 1])
P6 = np.array([0.10, 0.40, 0.35, 0.80, 0.70, 0.20])


def test_holdout_is_stratified_disjoint_and_reproducible() -> None:
    y = np.array([1] * 100 + [0] * 900)
    train, test = split_holdout(y, 0.2, seed=3)
    assert len(test) == 200 and y[test].sum() == 20  # the default rate kept
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    assert (np.diff(train) > 0).all() and (np.diff(test) > 0).all()
    again = split_holdout(y, 0.2, seed=3)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], test)
    assert not np.array_equal(split_holdout(y, 0.2, seed=4)[1], test)


def test_folds_cover_every_row_once_and_keep_the_rate() -> None:
    y = np.array([1] * 50 + [0] * 450)
    folds = make_folds(y, 5, seed=0)
    assert len(folds) == 5
    validation = np.concatenate([val for _, val in folds])
    assert np.array_equal(np.sort(validation), np.arange(500))
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0
        assert y[val].sum() == 10


def test_oof_predict_fills_each_row_from_the_fold_that_held_it_out() -> None:
    y = np.array([0, 1] * 10)
    folds = make_folds(y, 4, seed=1)
    seen: list[int] = []

    def fit_predict(train: np.ndarray, val: np.ndarray) -> np.ndarray:
        seen.append(len(train))
        return val / 100.0

    oof = oof_predict(fit_predict, folds, len(y))
    assert np.array_equal(oof, np.arange(20) / 100.0)
    assert seen == [15] * 4
    with pytest.raises(RuntimeError, match="do not cover every row"):
        oof_predict(fit_predict, folds[:3], len(y))


def test_metrics_at_by_hand() -> None:
    m = metrics_at(Y6, P6, 0.15, Costs())
    assert m["recall"] == 1.0
    assert m["precision"] == pytest.approx(3 / 5)
    assert m["cost_per_applicant"] == pytest.approx(2 / 6)
    assert m["cost_vs_accept_all"] == pytest.approx(2 / 30)
    assert m["decline_rate"] == pytest.approx(5 / 6)
    # AUC by hand: 9 (positive, negative) pairs; positives .20 .35 .70 beat the negative .10,
    # .70 also beats .40 -> 4 of 9.
    assert m["auc"] == pytest.approx(4 / 9)
    nobody = metrics_at(Y6, P6, 0.95, Costs())
    assert nobody["precision"] == 0.0 and nobody["recall"] == 0.0


def test_weighted_metrics_equal_metrics_of_the_resample() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.15).astype(int)
    p = (rng.random(400) * 0.6 + 0.3 * y).round(2)
    rows = rng.integers(0, 400, 400)
    weighted = WeightedMetrics(y, p, 0.4, Costs())(np.bincount(rows, minlength=400))
    direct = metrics_at(y[rows], p[rows], 0.4, Costs())
    for name, value in weighted.items():
        assert value == pytest.approx(direct[name]), name


def test_bootstrap_intervals() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(1000) < 0.1).astype(int)
    p = np.clip(rng.normal(0.2 + 0.2 * y, 0.1), 0, 1)
    boot = bootstrap_metrics(y, p, 0.3, Costs(), n_boot=200, seed=5)
    assert boot == bootstrap_metrics(y, p, 0.3, Costs(), n_boot=200, seed=5)
    for name, ci in boot.items():
        assert ci["ci_low"] <= ci["value"] <= ci["ci_high"], name
        assert ci["ci_low"] < ci["ci_high"], name
    # Perfect separation: every resample has AUC 1.
    separable = bootstrap_metrics(np.array([0, 0, 1, 1] * 10), np.array([.1, .2, .8, .9] * 10),
                                  0.5, Costs(), n_boot=50)
    assert separable["auc"] == {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0}


def test_metrics_hold_the_reported_set_and_the_confusion_counts() -> None:
    m = metrics_at(Y6, P6, 0.5, Costs())
    assert set(METRICS) <= set(m)
    assert (m["tn"], m["fp"], m["fn"], m["tp"]) == (2, 1, 2, 1)  # declined: .70(1), .80(0)
    assert m["cost_total"] == 10 * 2 + 1
    boot = bootstrap_metrics(Y6, P6, 0.5, Costs(), n_boot=20, seed=0)
    assert set(boot) == set(METRICS)
