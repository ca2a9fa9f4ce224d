"""Fairness evidence: decisions and errors by gender, age band and marital status, with
bootstrap CIs.

For each group of each attribute (``gender``: CODE_GENDER; ``age``: <30, 30-44, 45-61,
62+ years from DAYS_BIRTH; ``marital_status``: NAME_FAMILY_STATUS), on a set of
predictions (out-of-fold, test):

* ``applicants`` (its bootstrap CI is the spread of the group's count over resamples);
* ``decline_rate``, and ``approval_ratio``: the group's approval rate over the
  most-approved group's (the four-fifths rule flags a ratio under 0.8);
* ``fpr`` (good clients declined) and ``tpr`` (defaulters declined);
* ``mean_probability`` against ``default_rate`` (calibration).

A categorical attribute's groups are its values as sent (a missing value is the group
"missing"); a small group, such as "Unknown" or "XNA", is a group of its own like any
other, and its wide CI shows how little it says. Each value has a percentile bootstrap 95%
CI (resampling applicants, the ratio recomputed within each resample). The drift job
reads ``reference_decline_rates`` from the card.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contract.explain import AGE_BANDS, AGE_FIELD, fairness_groups

FOUR_FIFTHS = 0.8
_METRICS = ("applicants", "decline_rate", "approval_ratio", "fpr", "tpr",
            "mean_probability", "default_rate")


def groups(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """attribute -> group label per row (contract.explain.fairness_groups)."""

    def category(field: str) -> np.ndarray:
        values = frame[field].to_numpy(dtype=object)
        values[pd.isna(values)] = None
        return values

    return fairness_groups(category, frame[AGE_FIELD].to_numpy())


def _group_stats(y: np.ndarray, p: np.ndarray, declined: np.ndarray, member: np.ndarray,
                 weights: np.ndarray) -> np.ndarray:
    """[B, G, 7] statistics of each resample (weights [B, N]) for each group mask."""
    out = np.full((weights.shape[0], member.shape[0], len(_METRICS)), np.nan)
    for g, mask in enumerate(member):
        w = weights[:, mask]
        n = w.sum(axis=1)
        pos = w @ y[mask]
        neg = n - pos
        dec = w @ declined[mask]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, g, 0] = n
            out[:, g, 1] = dec / n
            out[:, g, 3] = (w @ (declined[mask] * (1 - y[mask]))) / neg
            out[:, g, 4] = (w @ (declined[mask] * y[mask])) / pos
            out[:, g, 5] = (w @ p[mask]) / n
            out[:, g, 6] = pos / n
    approval = 1 - out[:, :, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, :, 2] = approval / np.nanmax(approval, axis=1, keepdims=True)
    return out


def group_table(y: np.ndarray, p: np.ndarray, threshold: float, labels: np.ndarray,
                resamples: int, seed: int) -> dict[str, dict[str, Any]]:
    """Per group: each metric with its value and bootstrap 95% CI."""
    names = [str(v) for v in pd.unique(labels)]
    order = [label for _, label in AGE_BANDS if label in names] or sorted(names)
    order += sorted(n for n in names if n not in order)
    member = np.array([labels == name for name in order])
    declined = (p >= threshold).astype(np.float64)
    y = y.astype(np.float64)
    point = _group_stats(y, p, declined, member, np.ones((1, len(y))))[0]
    rng = np.random.default_rng(seed)
    boot = np.concatenate([
        _group_stats(y, p, declined, member,
                     rng.multinomial(len(y), np.full(len(y), 1 / len(y)),
                                     size=min(200, resamples - done)).astype(np.float64))
        for done in range(0, resamples, 200)])
    low, high = np.nanpercentile(boot, [2.5, 97.5], axis=0)
    table: dict[str, dict[str, Any]] = {}
    for g, name in enumerate(order):
        table[name] = {metric: {"value": _num(point[g, m]), "ci_low": _num(low[g, m]),
                                "ci_high": _num(high[g, m])}
                       for m, metric in enumerate(_METRICS)}
        table[name]["applicants"]["value"] = int(point[g, 0])
        table[name]["below_four_fifths"] = bool(point[g, 2] < FOUR_FIFTHS)
    return table


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 6)


def fairness_report(sets: Mapping[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]],
                    threshold: float, resamples: int, seed: int) -> dict[str, Any]:
    """The card's ``fairness`` key: ``sets`` maps a name (``oof``, ``test``) to
    (frame with CODE_GENDER, DAYS_BIRTH and NAME_FAMILY_STATUS, y, predicted probability)."""
    report: dict[str, Any] = {
        "threshold": float(threshold), "four_fifths": FOUR_FIFTHS,
        "age_bands": [label for _, label in AGE_BANDS], "bootstrap_resamples": resamples,
        "ci": "percentile bootstrap 95% (applicants resampled)",
    }
    for set_name, (frame, y, p) in sets.items():
        report[set_name] = {attribute: group_table(y, p, threshold, labels, resamples, seed)
                            for attribute, labels in groups(frame).items()}
    oof_like = next(iter(sets))
    report["reference_decline_rates"] = {
        attribute: {g: row["decline_rate"]["value"] for g, row in table.items()}
        for attribute, table in report[oof_like].items()}
    report["reference_decline_rates"]["source"] = oof_like
    return report


def below_four_fifths(report: Mapping[str, Any]) -> list[str]:
    """'set/attribute/group (ratio)' for each group under the four-fifths ratio."""
    flagged = []
    for set_name in ("oof", "test"):
        for attribute, table in report.get(set_name, {}).items():
            for group, row in table.items():
                if row["below_four_fifths"]:
                    flagged.append(f"{set_name}/{attribute}/{group} "
                                   f"({row['approval_ratio']['value']:.2f})")
    return flagged


def summary_line(report: Mapping[str, Any]) -> str:
    """One line for the training log: the groups under the four-fifths ratio, if any."""
    flagged = below_four_fifths(report)
    if not flagged:
        return "fairness: every group's approval ratio is at least 0.8 (four-fifths rule)"
    return "fairness: approval ratio under 0.8 for " + ", ".join(flagged)


def flat_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """MLflow metrics: fair_<set>_<attribute>_<group>_<metric>."""
    out: dict[str, float] = {}
    for set_name in ("oof", "test"):
        for attribute, table in report.get(set_name, {}).items():
            for group, row in table.items():
                slug = re.sub(r"[^A-Za-z0-9_]+", "_", group.replace("+", "plus")
                              .replace("<", "under").replace("-", "_")).strip("_")
                for metric in ("decline_rate", "approval_ratio", "fpr", "tpr"):
                    value = row[metric]["value"]
                    if value is not None:
                        out[f"fair_{set_name}_{attribute}_{slug}_{metric}"] = value
    return out


def plot(report: Mapping[str, Any], set_name: str, path: Path) -> Path:
    """Decline rate, FPR and TPR by group with 95% CIs (one panel per attribute)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = report[set_name]
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 4.0), squeeze=False)
    for ax, (attribute, table) in zip(axes[0], tables.items(), strict=True):
        names = list(table)
        x = np.arange(len(names))
        for k, metric in enumerate(("decline_rate", "fpr", "tpr")):
            values = np.array([table[n][metric]["value"] or np.nan for n in names])
            low = np.array([table[n][metric]["ci_low"] or np.nan for n in names])
            high = np.array([table[n][metric]["ci_high"] or np.nan for n in names])
            ax.bar(x + (k - 1) * 0.27, values, 0.27, label=metric,
                   yerr=np.nan_to_num([values - low, high - values]), capsize=3)
        ax.set_xticks(x, names, rotation=20 if max(map(len, names)) > 6 else 0,
                      ha="right" if max(map(len, names)) > 6 else "center", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{attribute} ({set_name}, threshold {report['threshold']:.3f})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
