"""Cost and threshold maths against small cases checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.costs import (
    DEFAULT_COST_FN,
    DEFAULT_COST_FP,
    ONEHOT_GRID_THRESHOLDS,
    Confusion,
    Costs,
    accept_all_cost,
    best_threshold,
    business_cost,
    candidate_thresholds,
    confusion_at,
    cost_curve,
)

# Six applicants. Sorted by score: .10(0) .20(1) .35(1) .40(0) .70(1) .80(0).
Y6 = np.array([0, 0, 1, 0, 1, 1])
P6 = np.array([0.10, 0.40, 0.35, 0.80, 0.70, 0.20])


def test_defaults() -> None:
    assert (DEFAULT_COST_FN, DEFAULT_COST_FP) == (10, 1)
    assert Costs().to_dict() == {"fn": 10.0, "fp": 1.0}


@pytest.mark.parametrize(("fn", "fp"), [(-1, 1), (1, float("nan")), (0, 0), (float("inf"), 1)])
def test_costs_reject_nonsense(fn: float, fp: float) -> None:
    with pytest.raises(ValueError):
        Costs(fn, fp)


@pytest.mark.parametrize(
    ("threshold", "tn", "fp", "fn", "tp", "cost"),
    [
        (0.0, 0, 3, 0, 3, 3),     # decline everybody: 3 good applicants lost
        (0.2, 1, 2, 0, 3, 2),     # p >= 0.2 declined: FP .40 .80
        (0.35, 1, 2, 1, 2, 12),   # the 0.20 defaulter is now accepted
        (0.40, 1, 2, 2, 1, 22),   # a score equal to the threshold is declined
        (0.5, 2, 1, 2, 1, 21),
        (0.75, 2, 1, 3, 0, 31),
        (0.9, 3, 0, 3, 0, 30),    # accept everybody: 3 defaulters x 10
    ],
)
def test_confusion_and_cost_by_hand(threshold: float, tn: int, fp: int, fn: int, tp: int,
                                    cost: float) -> None:
    c = confusion_at(Y6, P6, threshold)
    assert c == Confusion(tn=tn, fp=fp, fn=fn, tp=tp)
    assert business_cost(Y6, P6, threshold) == cost
    assert c.cost(Costs()) == cost == 10 * fn + 1 * fp


def test_candidates_are_midpoints_of_constant_cost_intervals() -> None:
    np.testing.assert_allclose(candidate_thresholds(P6),
                               [0.05, 0.15, 0.275, 0.375, 0.55, 0.75, 0.90])
    # Duplicated scores give one interval each; no candidate equals a score.
    c = candidate_thresholds(np.array([0.3, 0.3, 0.6]))
    np.testing.assert_allclose(c, [0.15, 0.45, 0.8])


def test_best_threshold_default_costs() -> None:
    choice = best_threshold(Y6, P6)
    assert choice.threshold == pytest.approx(0.15)
    assert choice.cost == 2
    assert choice.confusion == Confusion(tn=1, fp=2, fn=0, tp=3)
    assert choice.cost_per_applicant == pytest.approx(2 / 6)


def test_best_threshold_when_false_positives_are_expensive() -> None:
    # c_fn=1, c_fp=10: costs per interval 30, 20, 21, 22, 12, 13, 3 -> accept everybody.
    choice = best_threshold(Y6, P6, Costs(fn=1, fp=10))
    assert choice.cost == 3
    assert choice.threshold == pytest.approx(0.9)
    assert choice.threshold > P6.max()


def test_ties_go_to_the_highest_threshold() -> None:
    # Equal costs: decline both (FP=1) or accept both (FN=1); fewer declines wins.
    choice = best_threshold(np.array([1, 0]), np.array([0.5, 0.5]), Costs(fn=1, fp=1))
    assert choice.cost == 1
    assert choice.threshold == pytest.approx(0.75)
    assert choice.confusion.fn == 1 and choice.confusion.fp == 0


def test_all_positive_declines_everybody() -> None:
    choice = best_threshold(np.array([1, 1, 1]), np.array([0.2, 0.5, 0.9]))
    assert choice.cost == 0
    assert choice.threshold == pytest.approx(0.1)
    assert choice.confusion.tp == 3


def test_all_negative_accepts_everybody() -> None:
    choice = best_threshold(np.array([0, 0]), np.array([0.3, 1.0]))
    assert choice.cost == 0
    assert choice.threshold > 1.0  # strictly above the highest score, even a score of 1
    assert choice.confusion.tn == 2


def test_onehot_grid_thresholds() -> None:
    assert ONEHOT_GRID_THRESHOLDS.size == 100
    assert ONEHOT_GRID_THRESHOLDS[0] == pytest.approx(0.01)
    assert ONEHOT_GRID_THRESHOLDS[-1] == pytest.approx(0.99)
    np.testing.assert_allclose(np.diff(ONEHOT_GRID_THRESHOLDS), 0.98 / 99)
    # On the grid, every point in (0.10, 0.20] declines {.2 .35 .4 .7 .8} at cost 2; the
    # highest such grid point is 0.01 + 19 * 0.98/99.
    choice = best_threshold(Y6, P6, candidates=ONEHOT_GRID_THRESHOLDS)
    assert choice.cost == 2
    assert choice.threshold == pytest.approx(0.01 + 19 * 0.98 / 99)


def test_exact_search_never_loses_to_a_grid() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.1).astype(int)
    p = np.clip(rng.normal(0.1 + 0.15 * y, 0.08), 0, 1)
    exact = best_threshold(y, p)
    grid = best_threshold(y, p, candidates=ONEHOT_GRID_THRESHOLDS)
    assert exact.cost <= grid.cost
    brute = min(business_cost(y, p, t) for t in np.concatenate([p, [2.0]]))
    assert exact.cost == brute


def test_cost_curve_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    p = rng.random(300).round(2)  # many ties
    grid = np.linspace(-0.1, 1.1, 57)
    cost, fn, fp = cost_curve(y, p, grid, Costs(fn=7, fp=2))
    for t, c, n_fn, n_fp in zip(grid, cost, fn, fp, strict=True):
        confusion = confusion_at(y, p, t)
        assert (n_fn, n_fp) == (confusion.fn, confusion.fp)
        assert c == 7 * confusion.fn + 2 * confusion.fp


def test_accept_all_cost() -> None:
    assert accept_all_cost(Y6) == 30
    assert accept_all_cost(Y6, Costs(fn=2, fp=5)) == 6


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        best_threshold(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        best_threshold(np.array([0, 1]), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="same length"):
        best_threshold(np.array([0, 1]), np.array([0.1]))
