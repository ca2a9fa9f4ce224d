"""Evaluation plots (matplotlib, Agg backend): PNG files for MLflow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from training.costs import Costs, confusion_at, cost_curve

_DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def cost_vs_threshold(y: np.ndarray, p: np.ndarray, threshold: float, costs: Costs,
                      path: Path, title: str = "Out-of-fold cost vs threshold") -> Path:
    """Cost per applicant over thresholds 0..1 on OOF predictions, chosen one marked."""
    grid = np.unique(np.concatenate([np.linspace(0, 1, 501), [threshold]]))
    cost, _, _ = cost_curve(y, p, grid, costs)
    per_applicant = cost / len(y)
    accept_all = costs.fn * np.sum(y) / len(y)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(grid, per_applicant, label="cost per applicant")
    ax.axhline(accept_all, color="grey", ls=":", label=f"accept everyone ({accept_all:.3f})")
    chosen = per_applicant[np.searchsorted(grid, threshold)]
    ax.axvline(threshold, color="C3", ls="--", label=f"threshold {threshold:.4f} ({chosen:.3f})")
    ax.set_xlabel("threshold (decline if P(default) ≥ threshold)")
    ax.set_ylabel(f"cost per applicant (FN={costs.fn:g}, FP={costs.fp:g})")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path,
        title: str = "ROC on the held-out test rows") -> Path:
    """ROC curves of several models: name -> (y, p)."""
    from training.evaluate import auc

    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    for name, (y, p) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc(y, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def confusion(y: np.ndarray, p: np.ndarray, threshold: float, path: Path,
              title: str = "Confusion matrix at the threshold (test rows)") -> Path:
    c = confusion_at(y, p, threshold)
    matrix = np.array([[c.tn, c.fp], [c.fn, c.tp]])
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:,}", ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    ax.set_xticks([0, 1], ["accept", "decline"])
    ax.set_yticks([0, 1], ["repaid (0)", "default (1)"])
    ax.set_xlabel("decision")
    ax.set_ylabel("actual")
    ax.set_title(f"{title}\nthreshold {threshold:.4f}", fontsize=10)
    return _save(fig, path)


def shap_importance(names: Sequence[str], mean_abs: np.ndarray, path: Path, top: int = 20,
                    title: str = "Global SHAP importance (mean |contribution|)") -> Path:
    order = np.argsort(mean_abs)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(order) + 1.2))
    ax.barh([names[i] for i in order], mean_abs[order], color="C0")
    ax.set_xlabel("mean |SHAP value| (log-odds)")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=8)
    return _save(fig, path)


def reliability(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path,
                title: str = "Reliability: predicted PD vs observed default rate") -> Path:
    """Deciles of predicted PD: mean predicted vs observed rate with Jeffreys 95% intervals,
    one series per set (name -> (y, p)); the diagonal is perfect calibration."""
    from training.calibration import reliability_table

    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    top = 0.0
    for i, (name, (y, p)) in enumerate(curves.items()):
        rows = reliability_table(p, y)
        x = np.array([r["mean_predicted"] for r in rows])
        rate = np.array([r["observed_rate"] for r in rows])
        err = np.array([[r["observed_rate"] - r["jeffreys_low"] for r in rows],
                        [r["jeffreys_high"] - r["observed_rate"] for r in rows]])
        ax.errorbar(x, rate, yerr=err, fmt="o-", color=f"C{i}", capsize=3, ms=4,
                    label=f"{name} (mean PD {np.mean(p):.3f}, observed {np.mean(y):.3f})")
        top = max(top, float(x.max()), float(rate.max()))
    top = min(1.0, top * 1.1 + 0.01)
    ax.plot([0, top], [0, top], color="grey", ls=":", label="perfect calibration")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted probability of default (decile of predicted PD)")
    ax.set_ylabel("observed default rate (Jeffreys 95% interval)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
