"""Stratified k-fold out-of-fold predictions, metrics at a threshold, bootstrap CIs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from tqdm import tqdm

from training.costs import Costs, accept_all_cost, confusion_at

Fold = tuple[np.ndarray, np.ndarray]
#: The metrics reported at a threshold (and bootstrapped on the test set).
METRICS = ("auc", "cost_per_applicant", "cost_vs_accept_all", "recall", "precision",
           "decline_rate")


def split_holdout(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, test) row indices, each sorted."""
    rows = np.arange(len(y))
    train, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    return np.sort(train), np.sort(test)


def make_folds(y: np.ndarray, k: int, seed: int) -> list[Fold]:
    """Stratified, shuffled k folds over positions 0..len(y)-1."""
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y)), y))


def oof_predict(
    fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    folds: Sequence[Fold],
    n: int,
    desc: str | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Out-of-fold scores: ``fit_predict(train_idx, val_idx)`` returns scores of val rows."""
    oof = np.full(n, np.nan)
    bar = tqdm(folds, desc=desc, unit="fold", file=sys.stderr, leave=False,
               disable=not progress)
    for train_idx, val_idx in bar:
        oof[val_idx] = fit_predict(train_idx, val_idx)
    if np.isnan(oof).any():
        raise RuntimeError("folds do not cover every row")
    return oof


def auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def metrics_at(y: np.ndarray, p: np.ndarray, threshold: float, costs: Costs) -> dict[str, float]:
    """AUC, cost per applicant, cost relative to accepting everyone, recall, precision."""
    confusion = confusion_at(y, p, threshold)
    cost = confusion.cost(costs)
    baseline = accept_all_cost(y, costs)
    return {
        "auc": auc(y, p),
        "cost_per_applicant": cost / confusion.n,
        "cost_vs_accept_all": cost / baseline if baseline else float("nan"),
        "recall": confusion.recall(),
        "precision": confusion.precision(),
        "decline_rate": (confusion.tp + confusion.fp) / confusion.n,
        "cost_total": cost,
        "tn": confusion.tn, "fp": confusion.fp, "fn": confusion.fn, "tp": confusion.tp,
    }


class WeightedMetrics:
    """:data:`METRICS` of (y, p) with per-row weights (bootstrap counts), exactly.

    AUC counts ties one half: sum over positives of (weight of negatives scored lower +
    half the weight of negatives scored equal), over W_pos * W_neg.
    """

    def __init__(self, y: np.ndarray, p: np.ndarray, threshold: float, costs: Costs) -> None:
        self.y = np.asarray(y).astype(bool)
        p = np.asarray(p, dtype=np.float64)
        _, self.group = np.unique(p, return_inverse=True)
        self.n_groups = int(self.group.max()) + 1 if p.size else 0
        self.declined = p >= threshold
        self.costs = costs

    def __call__(self, weights: np.ndarray) -> dict[str, float]:
        w = np.asarray(weights, dtype=np.float64)
        y, costs = self.y, self.costs
        n = w.sum()
        wp = np.bincount(self.group, weights=w * y, minlength=self.n_groups)
        wn = np.bincount(self.group, weights=w * ~y, minlength=self.n_groups)
        total_p, total_n = wp.sum(), wn.sum()
        below = np.cumsum(wn) - wn  # negatives with a strictly lower score
        tp = w[self.declined & y].sum()
        fp = w[self.declined & ~y].sum()
        cost = costs.fn * (total_p - tp) + costs.fp * fp
        return {
            "auc": float((wp * (below + 0.5 * wn)).sum() / (total_p * total_n))
            if total_p and total_n else float("nan"),
            "cost_per_applicant": cost / n,
            "cost_vs_accept_all": cost / (costs.fn * total_p) if total_p else float("nan"),
            "recall": tp / total_p if total_p else 0.0,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "decline_rate": (tp + fp) / n,
        }


def bootstrap_metrics(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    costs: Costs,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, float]]:
    """Point estimates and percentile bootstrap CIs of :data:`METRICS`.

    Each resample draws n rows with replacement; it is represented by per-row counts, so
    AUC (with ties counted one half) and the confusion counts are exact weighted sums.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    n = y.size
    point = metrics_at(y.astype(int), p, threshold, costs)
    weighted = WeightedMetrics(y, p, threshold, costs)
    rng = np.random.default_rng(seed)
    samples = {m: np.empty(n_boot) for m in METRICS}
    for b in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        for m, value in weighted(counts).items():
            samples[m][b] = value
    tail = (1 - level) / 2 * 100
    out: dict[str, dict[str, float]] = {}
    for m in METRICS:
        lo, hi = np.nanpercentile(samples[m], [tail, 100 - tail])
        out[m] = {"value": float(point[m]), "ci_low": float(lo), "ci_high": float(hi)}
    return out
