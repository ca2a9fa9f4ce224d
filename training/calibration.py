"""Calibration of the served probability of default.

The search may pick class weights (``class_weight="balanced"`` multiplies the odds of
default by about the good-to-bad ratio), so the booster's own probability need not be a
probability. A Platt map, an affine map of the log-odds ``a * margin + b`` fitted on the
chosen candidate's out-of-fold predictions, turns it into one. Because the map is affine in
the log-odds, it is folded into the booster itself (:func:`calibrated_booster`): every leaf
value is multiplied by ``a`` and ``b`` is added to the first tree. The exported graph, its
``margin`` output, the TreeSHAP paths, the golden set and the hook then all compute with
the calibrated model, and every reason's contribution is ``a`` times its raw contribution
(the base value absorbs ``b``). The map is strictly increasing (``a > 0``), so AUC and the
decisions at the mapped threshold are those of the raw model.

Checks: expected calibration error (ECE, 10 equal-width bins of predicted PD), Brier score,
both with bootstrap 95% CIs, and a reliability table over deciles of predicted PD with
Jeffreys 95% intervals of the observed default rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import lightgbm

#: Training refuses to export a bundle whose out-of-fold ECE is above this (``--max-ece``).
DEFAULT_MAX_ECE = 0.02
#: Equal-width bins of predicted PD for the ECE.
ECE_BINS = 10
#: Bins (deciles of predicted PD) of the reliability table.
RELIABILITY_BINS = 10
METHOD = "platt"
DESCRIPTION = ("estimated probability of default (calibrated on training data): Platt "
               "scaling, sigmoid(a * log-odds + b), fitted on the champion's out-of-fold "
               "predictions and folded into the model")


class CalibrationError(Exception):
    """The calibrated model is not calibrated enough to serve; the message names the figure."""


@dataclass(frozen=True)
class Platt:
    """The map ``log-odds -> a * log-odds + b`` (log-odds as LightGBM's sigmoid computes them)."""

    a: float
    b: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.a) and math.isfinite(self.b)) or self.a <= 0:
            raise CalibrationError(f"Platt map a={self.a}, b={self.b} is not strictly "
                                   "increasing and finite")

    def log_odds(self, margin: np.ndarray) -> np.ndarray:
        return self.a * np.asarray(margin, dtype=np.float64) + self.b

    def probability(self, p: np.ndarray | float) -> np.ndarray:
        """The calibrated probability of raw probabilities ``p``."""
        return sigmoid(self.log_odds(logit(np.asarray(p, dtype=np.float64))))

    def to_dict(self) -> dict[str, Any]:
        return {"method": METHOD, "a": self.a, "b": self.b}


IDENTITY = Platt(1.0, 0.0)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out: np.ndarray = np.log(p) - np.log1p(-p)
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
    return out


def fit_platt(p: np.ndarray, y: np.ndarray, iterations: int = 100) -> Platt:
    """Maximum-likelihood ``(a, b)`` of ``y ~ Bernoulli(sigmoid(a * logit(p) + b))``
    (unpenalised logistic regression on one feature, by Newton's method)."""
    z = logit(np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15))
    y = np.asarray(y, dtype=np.float64)
    if len(y) == 0 or y.min() == y.max():
        raise CalibrationError("calibration needs both outcomes among the predictions")
    rate = float(y.mean())
    if np.ptp(z) == 0:  # a constant prediction: only the level can be calibrated
        return Platt(1.0, float(math.log(rate / (1 - rate)) - z[0]))
    X = np.column_stack([z, np.ones_like(z)])

    def log_likelihood(w: np.ndarray) -> float:
        eta = X @ w
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    w = np.array([1.0, 0.0])
    for _ in range(iterations):
        q = sigmoid(X @ w)
        gradient = X.T @ (y - q)
        hessian = (X * (q * (1 - q))[:, None]).T @ X
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            raise CalibrationError("the Platt fit did not converge (separable scores)") from None
        scale, current = 1.0, log_likelihood(w)
        while log_likelihood(w + scale * step) < current and scale > 1e-10:
            scale /= 2  # damped Newton: never a step that lowers the likelihood
        w = w + scale * step
        if np.max(np.abs(scale * step)) < 1e-12:
            break
    else:
        raise CalibrationError(f"the Platt fit did not converge in {iterations} Newton steps "
                               "(scores that separate the outcomes have no finite map)")
    return Platt(float(w[0]), float(w[1]))


def calibrated_booster(booster: lightgbm.Booster, platt: Platt) -> lightgbm.Booster:
    """A copy of ``booster`` whose log-odds are ``platt``'s map of the original's.

    LightGBM's probability is ``sigmoid(s * raw)`` (``s`` its sigmoid coefficient, 1 by
    default), so every leaf becomes ``a * leaf`` and the first tree's leaves also get
    ``b / s``: then ``s * raw' = a * s * raw + b``.
    """
    import lightgbm

    from training.export import sigmoid_coefficient

    copy = lightgbm.Booster(model_str=booster.model_to_string())
    if platt == IDENTITY:
        return copy
    s = sigmoid_coefficient(booster)
    for t, tree in enumerate(copy.dump_model()["tree_info"]):
        for leaf in range(int(tree["num_leaves"])):
            value = copy.get_leaf_output(t, leaf)
            copy.set_leaf_output(t, leaf, platt.a * value + (platt.b / s if t == 0 else 0.0))
    return copy


# --------------------------------------------------------------------------- checks


def ece(p: np.ndarray, y: np.ndarray, bins: int = ECE_BINS,
        weights: np.ndarray | None = None) -> float:
    """Expected calibration error: sum over equal-width bins of predicted PD of the bin's
    share times |mean predicted - observed rate| (``weights``: bootstrap counts)."""
    p = np.asarray(p, dtype=np.float64)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(index, weights=w, minlength=bins)
    predicted = np.bincount(index, weights=w * p, minlength=bins)
    observed = np.bincount(index, weights=w * np.asarray(y, dtype=np.float64), minlength=bins)
    return float(np.abs(predicted - observed).sum() / n.sum())


def brier(p: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    p = np.asarray(p, dtype=np.float64)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * (p - np.asarray(y, dtype=np.float64)) ** 2) / w.sum())


def jeffreys(defaults: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Jeffreys interval of a default rate: Beta(k + 1/2, n - k + 1/2) quantiles (the
    bounds are 0 and 1 when k is 0 or n). One implementation, shared with the monitor's
    outcomes analysis: contract.outcome_stats.jeffreys_interval."""
    from contract.outcome_stats import jeffreys_interval

    low, high = jeffreys_interval(defaults, n, level)
    return (float(low), float(high))


def reliability_table(p: np.ndarray, y: np.ndarray,
                      bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Deciles of predicted PD: rows, mean predicted, observed rate, Jeffreys 95% interval
    and whether the mean predicted lies inside it."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    order = np.argsort(p, kind="stable")
    rows = []
    for part in np.array_split(order, bins):
        if not len(part):
            continue
        k, n, mean = int(y[part].sum()), len(part), float(p[part].mean())
        low, high = jeffreys(k, n)
        rows.append({"p_low": float(p[part].min()), "p_high": float(p[part].max()), "n": n,
                     "mean_predicted": mean, "observed_rate": k / n,
                     "jeffreys_low": low, "jeffreys_high": high,
                     "within": bool(low <= mean <= high)})
    return rows


def _bootstrap(p: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {"ece": [], "brier": []}
    for _ in range(resamples):
        w = np.bincount(rng.integers(0, len(p), len(p)), minlength=len(p)).astype(np.float64)
        values["ece"].append(ece(p, y, weights=w))
        values["brier"].append(brier(p, y, weights=w))
    point = {"ece": ece(p, y), "brier": brier(p, y)}
    return {name: {"value": point[name],
                   "ci_low": float(np.percentile(v, 2.5)) if v else point[name],
                   "ci_high": float(np.percentile(v, 97.5)) if v else point[name]}
            for name, v in values.items()}


def assess(p: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    """ECE and Brier with bootstrap 95% CIs, the overall mean predicted PD against the
    observed default rate's Jeffreys interval, and the reliability table."""
    y = np.asarray(y, dtype=np.int64)
    k, n = int(y.sum()), len(y)
    low, high = jeffreys(k, n)
    mean = float(np.mean(p))
    return {
        **_bootstrap(np.asarray(p, dtype=np.float64), y, resamples, seed),
        "rows": n, "mean_predicted": mean, "observed_rate": k / n if n else float("nan"),
        "observed_jeffreys_95": [low, high],
        "mean_within_jeffreys": bool(low <= mean <= high),
        "reliability": reliability_table(p, y),
    }


def check_limit(oof_ece: float, limit: float) -> None:
    """Refuse a model whose out-of-fold ECE is above ``limit``."""
    if not oof_ece <= limit:
        raise CalibrationError(
            f"out-of-fold expected calibration error {oof_ece:.4f} is above the limit "
            f"{limit:.4f} (--max-ece): the served probability of default would not be a "
            "probability; the bundle was not exported")
