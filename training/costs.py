"""Business cost of decisions and the cost-minimising threshold.

An applicant is declined iff ``probability >= threshold``. A false negative (an accepted
applicant who defaults) costs ``c_fn``; a false positive (a declined applicant who would
have repaid) costs ``c_fp``. The cost of a set of decisions is ``c_fn*FN + c_fp*FP``.

The threshold is chosen on out-of-fold predictions, exactly: the cost is a step function
of the threshold that only changes at the distinct predicted scores, so every
constant-cost interval is tried and the midpoint of the best one returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_COST_FN: float = 10.0
DEFAULT_COST_FP: float = 1.0
#: The one-hot grid recipe's threshold grid: 100 steps from 0.01 to 0.99.
ONEHOT_GRID_THRESHOLDS: np.ndarray = np.linspace(0.01, 0.99, 100)


@dataclass(frozen=True)
class Costs:
    """Cost of one false negative and one false positive."""

    fn: float = DEFAULT_COST_FN
    fp: float = DEFAULT_COST_FP

    def __post_init__(self) -> None:
        for attr, name in (("fn", "cost of a false negative"), ("fp", "cost of a false positive")):
            value = float(getattr(self, attr))
            object.__setattr__(self, attr, value)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.fn == 0 and self.fp == 0:
            raise ValueError("at least one of the two costs must be > 0")

    def to_dict(self) -> dict[str, float]:
        return {"fn": float(self.fn), "fp": float(self.fp)}


@dataclass(frozen=True)
class Confusion:
    """Counts at one threshold; positives are defaults (TARGET = 1)."""

    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def n(self) -> int:
        return self.tn + self.fp + self.fn + self.tp

    def cost(self, costs: Costs) -> float:
        return costs.fn * self.fn + costs.fp * self.fp

    def recall(self) -> float:
        """Share of defaulters declined (0 when there are none)."""
        positives = self.tp + self.fn
        return self.tp / positives if positives else 0.0

    def precision(self) -> float:
        """Share of declined applicants who default (0 when nobody is declined)."""
        declined = self.tp + self.fp
        return self.tp / declined if declined else 0.0


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    cost: float  # total cost at the threshold, c_fn*FN + c_fp*FP
    confusion: Confusion

    @property
    def cost_per_applicant(self) -> float:
        return self.cost / self.confusion.n


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, same length: {y.shape} vs {p.shape}")
    if y.size == 0:
        raise ValueError("no rows")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if np.isnan(p).any():
        raise ValueError("scores contain NaN")
    return y.astype(bool), p


def confusion_at(y: np.ndarray, p: np.ndarray, threshold: float) -> Confusion:
    """Confusion counts when declining every row with ``p >= threshold``."""
    yb, p = _check(y, p)
    declined = p >= threshold
    return Confusion(
        tn=int((~declined & ~yb).sum()), fp=int((declined & ~yb).sum()),
        fn=int((~declined & yb).sum()), tp=int((declined & yb).sum()),
    )


def business_cost(y: np.ndarray, p: np.ndarray, threshold: float, costs: Costs = Costs()) -> float:
    """Total cost c_fn*FN + c_fp*FP of declining ``p >= threshold``."""
    return confusion_at(y, p, threshold).cost(costs)


def accept_all_cost(y: np.ndarray, costs: Costs = Costs()) -> float:
    """Cost of accepting everyone: every defaulter is a false negative."""
    return float(costs.fn * np.asarray(y).sum())


def cost_curve(
    y: np.ndarray, p: np.ndarray, thresholds: np.ndarray, costs: Costs = Costs()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact (cost, FN, FP) at every threshold, in O((n + t) log n)."""
    yb, p = _check(y, p)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    pos = np.sort(p[yb])
    neg = np.sort(p[~yb])
    fn = np.searchsorted(pos, thresholds, side="left")  # positives with p < t: accepted
    fp = neg.size - np.searchsorted(neg, thresholds, side="left")  # negatives with p >= t
    return costs.fn * fn + costs.fp * fp, fn, fp


def candidate_thresholds(p: np.ndarray) -> np.ndarray:
    """One threshold inside every interval on which the decisions are constant.

    With distinct scores u_1 < ... < u_m, the intervals are [0, u_1] (decline all),
    (u_k, u_{k+1}] and (u_m, ...) (accept all); each is represented by its midpoint
    (0 and 1 bound the first and the last), which keeps the chosen threshold as far as
    possible from the scores it separates.
    """
    u = np.unique(np.asarray(p, dtype=np.float64))
    lower = np.concatenate(([min(0.0, u[0])], u))
    upper = np.concatenate((u, [max(1.0, u[-1])]))
    mid: np.ndarray = lower + (upper - lower) / 2
    # The last interval is open at u_m: its threshold must lie strictly above it.
    if mid[-1] <= u[-1]:
        mid[-1] = np.nextafter(u[-1], np.inf)
    # A midpoint that rounds onto the lower score would decline it: use the upper one.
    inner = slice(1, -1)
    mid[inner] = np.where(mid[inner] <= lower[inner], upper[inner], mid[inner])
    return mid


def best_threshold(
    y: np.ndarray,
    p: np.ndarray,
    costs: Costs = Costs(),
    candidates: np.ndarray | None = None,
) -> ThresholdChoice:
    """The threshold minimising c_fn*FN + c_fp*FP on (y, p).

    ``candidates=None`` searches exactly over every distinct decision set
    (:func:`candidate_thresholds`); otherwise over the given grid (e.g.
    :data:`ONEHOT_GRID_THRESHOLDS`). Ties go to the highest threshold: at equal cost,
    decline fewer applicants.
    """
    yb, p = _check(y, p)
    grid = candidate_thresholds(p) if candidates is None else np.asarray(candidates, np.float64)
    if grid.size == 0:
        raise ValueError("no candidate thresholds")
    cost, fn, fp = cost_curve(yb, p, grid, costs)
    best = cost.min()
    ties = np.flatnonzero(cost == best)
    i = int(ties[np.argmax(grid[ties])])
    n_pos = int(yb.sum())
    n_neg = yb.size - n_pos
    confusion = Confusion(
        tn=int(n_neg - fp[i]), fp=int(fp[i]), fn=int(fn[i]), tp=int(n_pos - fn[i])
    )
    return ThresholdChoice(threshold=float(grid[i]), cost=float(cost[i]), confusion=confusion)
