"""The statistics of outcomes analysis, shared by training (the card's ``outcome_reference``)
and the monitor (each cohort's realised quality): one implementation of each, numpy only.

* :func:`jeffreys_interval` / :func:`jeffreys_p_value`: the Jeffreys interval of a default
  rate, Beta(d + 1/2, n - d + 1/2) quantiles, and the one-sided test of the ECB's IRB
  validation (H0: the predicted PD is not below the true default rate);
* :func:`delong`: AUC and its DeLong covariance for one or more score vectors on the same
  loans (the fast midrank algorithm of Sun & Xu, 2014), :func:`auc_ci`, and the one-sided
  :func:`auc_below_reference` test;
* :func:`min_detectable_drop`: the AUC drop a one-sided test at ``alpha`` detects with the
  given power, from the Hanley-McNeil standard error at the reference AUC;
* :func:`ks` and :func:`brier`.

The regularized incomplete beta function is evaluated by its continued fraction (modified
Lentz), its quantile by bisection; the normal distribution is the standard library's.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

_NORMAL = NormalDist()
_LGAMMA = np.frompyfunc(math.lgamma, 1, 1)
_TINY = 1e-300


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.asarray(_LGAMMA(x), dtype=np.float64)


def _betacf(a: np.ndarray, b: np.ndarray, x: np.ndarray, iterations: int = 10_000
            ) -> np.ndarray:
    """The incomplete beta continued fraction (modified Lentz), elementwise."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    for m in range(1, iterations + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return h


def beta_cdf(x: Any, a: Any, b: Any) -> np.ndarray:
    """The regularized incomplete beta function I_x(a, b), elementwise (a, b > 0)."""
    x, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, a, b)))
    out = np.where(x <= 0.0, 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    if inside.any():
        xi, ai, bi = x[inside], a[inside], b[inside]
        log_front = (_lgamma(ai + bi) - _lgamma(ai) - _lgamma(bi)
                     + ai * np.log(xi) + bi * np.log1p(-xi))
        front = np.exp(log_front)
        direct = xi < (ai + 1.0) / (ai + bi + 2.0)
        safe_x = np.where(direct, xi, 1.0 - xi)
        first = np.where(direct, ai, bi)
        second = np.where(direct, bi, ai)
        fraction = front * _betacf(first, second, safe_x) / first
        out = out.astype(np.float64)
        out[inside] = np.where(direct, fraction, 1.0 - fraction)
    clipped: np.ndarray = np.clip(out, 0.0, 1.0)
    return clipped


def _beta_log_pdf(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    log_pdf: np.ndarray = (_lgamma(a + b) - _lgamma(a) - _lgamma(b) + (a - 1.0) * np.log(x)
                           + (b - 1.0) * np.log1p(-x))
    return log_pdf


def beta_ppf(q: Any, a: Any, b: Any) -> np.ndarray:
    """The quantile of Beta(a, b), elementwise: Newton steps kept inside a bisection
    bracket, from the mean, to a relative 1e-12."""
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (q, a, b)))
    low, high = np.zeros(q.shape), np.ones(q.shape)
    x = a / (a + b)
    for _ in range(100):
        gap = beta_cdf(x, a, b) - q
        below = gap < 0
        low, high = np.where(below, x, low), np.where(below, high, x)
        step = gap / np.maximum(np.exp(_beta_log_pdf(x, a, b)), _TINY)
        proposal = x - step
        inside = (proposal > low) & (proposal < high)
        new = np.where(inside, proposal, 0.5 * (low + high))
        if np.all(np.abs(new - x) <= 1e-12 * new):
            return np.asarray(new, dtype=np.float64)
        x = new
    return np.asarray(x, dtype=np.float64)


def jeffreys_interval(defaults: Any, n: Any, level: float = 0.95
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The Jeffreys interval of a default rate (lower bound 0 when d = 0, upper 1 when
    d = n, as Brown, Cai & DasGupta 2001)."""
    d, n = np.asarray(defaults, dtype=np.float64), np.asarray(n, dtype=np.float64)
    tail = (1.0 - level) / 2.0
    a, b = d + 0.5, n - d + 0.5
    low = np.where(d > 0, beta_ppf(tail, a, b), 0.0)
    high = np.where(d < n, beta_ppf(1.0 - tail, a, b), 1.0)
    return low, high


def jeffreys_p_value(defaults: Any, n: Any, predicted: Any) -> np.ndarray:
    """One-sided Jeffreys test p-value: P(true default rate <= predicted PD) under the
    Beta(d + 1/2, n - d + 1/2) posterior. Small: the PD underestimates the risk."""
    d, n = np.asarray(defaults, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return beta_cdf(predicted, d + 0.5, n - d + 0.5)


def midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their mean rank."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse].astype(np.float64)


def delong(y: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of ``scores`` (k x n, or n) for labels ``y`` (1 = default, scored high) and
    their DeLong covariance matrix (k x k)."""
    labels = np.asarray(y).astype(bool)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    m, n = int(labels.sum()), int((~labels).sum())
    if m == 0 or n == 0:
        raise ValueError("an AUC needs defaults and non-defaults")
    pos, neg = s[:, labels], s[:, ~labels]
    tx = np.array([midranks(row) for row in pos])
    ty = np.array([midranks(row) for row in neg])
    tz = np.array([midranks(row) for row in np.hstack([pos, neg])])
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2.0) / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    sx = np.atleast_2d(np.cov(v01)) if m > 1 else np.zeros((len(s), len(s)))
    sy = np.atleast_2d(np.cov(v10)) if n > 1 else np.zeros((len(s), len(s)))
    return aucs, sx / m + sy / n


def auc_ci(y: Any, score: Any, level: float = 0.95) -> dict[str, float]:
    """AUC, its DeLong standard error and normal CI (clipped to [0, 1]); Gini and its CI."""
    aucs, cov = delong(y, score)
    value, se = float(aucs[0]), float(math.sqrt(max(cov[0, 0], 0.0)))
    z = _NORMAL.inv_cdf(0.5 + level / 2.0)
    low, high = max(0.0, value - z * se), min(1.0, value + z * se)
    return {"auc": value, "se": se, "ci_low": low, "ci_high": high,
            "gini": 2 * value - 1, "gini_ci_low": 2 * low - 1, "gini_ci_high": 2 * high - 1}


def auc_below_reference(auc: float, se: float, reference: float, reference_se: float = 0.0
                        ) -> dict[str, float]:
    """One-sided test H0: AUC >= reference (the reference's own uncertainty included):
    z and p-value; small p means significantly below."""
    spread = math.sqrt(se * se + reference_se * reference_se)
    z = (auc - reference) / spread if spread > 0 else (0.0 if auc >= reference else -math.inf)
    return {"z": z, "p_value": _NORMAL.cdf(z) if math.isfinite(z) else 0.0}


def paired_delong(y: Any, first: Any, second: Any) -> dict[str, float]:
    """Two models on the same loans: both AUCs, the difference (first - second), its
    standard error and the two-sided p-value."""
    aucs, cov = delong(y, np.vstack([first, second]))
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    difference = float(aucs[0] - aucs[1])
    se = math.sqrt(max(variance, 0.0))
    p = 2 * (1 - _NORMAL.cdf(abs(difference) / se)) if se > 0 else float(difference == 0.0)
    return {"auc_first": float(aucs[0]), "auc_second": float(aucs[1]),
            "difference": difference, "se": se, "p_value": p}


def hanley_mcneil_se(auc: float, defaults: int, non_defaults: int) -> float:
    """The Hanley-McNeil (1982) standard error of an AUC for given class sizes."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (defaults - 1) * (q1 - auc * auc)
                + (non_defaults - 1) * (q2 - auc * auc)) / (defaults * non_defaults)
    return math.sqrt(max(variance, 0.0))


def min_detectable_drop(reference: float, defaults: int, non_defaults: int,
                        reference_se: float = 0.0, alpha: float = 0.05,
                        power: float = 0.8) -> float:
    """The smallest AUC drop below ``reference`` that the one-sided test at ``alpha``
    detects with probability ``power`` in a cohort of these class sizes."""
    se = math.sqrt(hanley_mcneil_se(reference, defaults, non_defaults) ** 2
                   + reference_se ** 2)
    return (_NORMAL.inv_cdf(1 - alpha) + _NORMAL.inv_cdf(power)) * se


def ks(y: Any, score: Any) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score CDFs of defaults and others."""
    labels = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    grid = np.unique(s)
    pos = np.searchsorted(np.sort(s[labels]), grid, side="right") / max(labels.sum(), 1)
    neg = np.searchsorted(np.sort(s[~labels]), grid, side="right") / max((~labels).sum(), 1)
    return float(np.max(np.abs(pos - neg))) if len(grid) else 0.0


def brier(y: Any, probability: Any) -> float:
    """Mean squared error of the probabilities."""
    diff = np.asarray(probability, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return float(np.mean(diff * diff))


def score_bands(probability: Any, bands: int = 10) -> np.ndarray:
    """Each loan's band 0..bands-1 by quantiles of predicted PD (deciles by default);
    ties stay in one band."""
    p = np.asarray(probability, dtype=np.float64)
    ranks = midranks(p)
    return np.minimum(((ranks - 0.5) * bands / len(p)).astype(np.int64), bands - 1)


def calibration_bands(y: Any, probability: Any, bands: int = 10, level: float = 0.95
                      ) -> list[dict[str, Any]]:
    """Per band of predicted PD: loans, defaults, predicted (mean PD), observed, the
    Jeffreys interval and ``passed`` (the mean PD inside it)."""
    labels = np.asarray(y, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    band = score_bands(p, bands)
    count = np.bincount(band, minlength=bands)
    keep = np.flatnonzero(count)
    defaults = np.bincount(band, weights=labels, minlength=bands)[keep]
    predicted = np.bincount(band, weights=p, minlength=bands)[keep] / count[keep]
    low, high = jeffreys_interval(defaults, count[keep], level)
    return [{"band": int(b) + 1, "loans": int(count[b]), "defaults": int(d),
             "predicted": float(pr), "observed": float(d / count[b]),
             "ci95": [float(lo), float(hi)], "passed": bool(lo <= pr <= hi)}
            for b, d, pr, lo, hi in zip(keep, defaults, predicted, low, high, strict=True)]
