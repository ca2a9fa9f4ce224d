"""Less discriminatory alternatives: a small, explicit search for a model about as
predictive as the compliant champion that treats the fairness groups more evenly.

It runs after the compliant search, on the same rows and folds, and scores every candidate
by out-of-fold (OOF) predictions:

* ``search_trial``: the compliant search's own trials (their OOF predictions are kept by
  the search, so they cost no fit);
* ``drop_one`` / ``drop_cumulative``: the champion's parameters refitted without each of the
  strongest proxies for the disadvantaged group, one at a time, then the strongest 2..k
  together. Proxy strength of a feature is how well it alone separates a group from the
  rest: the AUC of the feature's values for "in the group" (direction-free: max(AUC,
  1 - AUC); a missing value ranks lowest);
* ``monotone``: the champion with LightGBM ``monotone_constraints`` on the proxies whose
  relation to default keeps one direction (:func:`monotone_directions`): the model may use
  the legitimate trend, not a bump that singles out a group;
* ``gain_penalty``: the champion with the proxies' split gain scaled down (LightGBM
  ``feature_contri``): a continuous step between keeping and dropping them.

Each candidate reports AUC, cost per applicant at its own OOF-optimal threshold, approval
rate per group of every fairness attribute and the worst group's ratio to the best, with
percentile bootstrap 95% CIs (the same resamples for every candidate, so the ratio gain over
the champion has a paired CI too).

The rule (:func:`choose`): among the candidates whose cost is within ``tolerance`` of the
champion's (relative) and whose AUC is within :data:`AUC_MARGIN` of it, the highest
worst-group ratio on ``attribute``; ties go to the lower cost, then the higher AUC, then the
champion, then the earlier candidate. The champion stays unless the ratio strictly
improves, and a tolerance of 0 keeps it by definition (the search is then evidence only).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr
from tqdm import tqdm

from contract import schema
from training import fairness
from training.costs import Costs, ThresholdChoice, best_threshold
from training.evaluate import Fold, auc
from training.models import CandidateResult, lgbm_oof

#: Default cost tolerance: a candidate may cost up to 1% more per applicant than the
#: champion.
DEFAULT_TOLERANCE = 0.01
#: A candidate's OOF AUC may be at most this much below the champion's.
AUC_MARGIN = 0.005
#: How many of the strongest proxies are dropped / constrained.
DEFAULT_PROXIES = 5
#: The fairness attribute whose worst-group ratio the rule maximises.
DEFAULT_ATTRIBUTE = "age"
#: Groups with fewer applicants than this are reported but left out of the worst/best ratio
#: (a group of a handful of applicants has an approval rate of noise).
MIN_GROUP = 50
#: ``feature_contri`` of the proxies in the gain-penalty family.
GAIN_PENALTIES = (0.5, 0.25)
#: A monotone direction is defensible when the proxy's Spearman correlation with default
#: has |z| >= this on the search rows and the same sign in every fold's training rows.
MONOTONE_Z = 3.0
#: Proxies listed in the card (the strongest first).
PROXIES_LISTED = 15

FAMILIES: dict[str, str] = {
    "search_trial": "a trial of the compliant random search (same folds; no extra fit)",
    "drop_one": "the champion's parameters without one strong proxy",
    "drop_cumulative": "the champion's parameters without the strongest 2..k proxies",
    "monotone": "the champion with monotone constraints on the proxies whose relation to "
                "default keeps one direction",
    "gain_penalty": "the champion with the proxies' split gain scaled down "
                    "(LightGBM feature_contri): between keeping and dropping them",
}


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Spec:
    """What a candidate is: LightGBM parameters, the features it goes without, and the
    monotone directions / gain multipliers it puts on named features."""

    name: str
    family: str
    params: dict[str, Any]
    dropped: tuple[str, ...] = ()
    monotone: Mapping[str, int] = field(default_factory=dict)
    gain: Mapping[str, float] = field(default_factory=dict)

    def names(self, names: Sequence[str]) -> tuple[str, ...]:
        """The candidate's features: ``names`` without the dropped ones."""
        return tuple(n for n in names if n not in self.dropped)

    def fit_params(self, names: Sequence[str]) -> dict[str, Any]:
        """LightGBM parameters for a matrix whose columns are ``self.names(names)``."""
        kept = self.names(names)
        params = dict(self.params)
        if self.monotone:
            params["monotone_constraints"] = [int(self.monotone.get(n, 0)) for n in kept]
        if self.gain:
            params["feature_contri"] = [float(self.gain.get(n, 1.0)) for n in kept]
        return params

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "dropped": list(self.dropped),
                "monotone": dict(self.monotone), "gain": dict(self.gain)}


@dataclass
class Candidate:
    """A spec and its OOF evaluation on the search folds."""

    spec: Spec
    oof: np.ndarray
    auc: float
    choice: ThresholdChoice
    #: Filled by :func:`evaluate`: group approvals, ratios, CIs.
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return self.choice.cost_per_applicant


def columns(X: np.ndarray, names: Sequence[str], kept: Sequence[str]) -> np.ndarray:
    """The columns of X (named ``names``) that are in ``kept``, in ``names`` order."""
    keep = set(kept)
    return X[:, [i for i, n in enumerate(names) if n in keep]]


def fit_candidate(spec: Spec, X: np.ndarray, y: np.ndarray, names: Sequence[str],
                  folds: Sequence[Fold], costs: Costs, seed: int, n_jobs: int,
                  progress: bool = False) -> Candidate:
    """OOF predictions of one spec on the search folds."""
    kept = spec.names(names)
    oof = lgbm_oof(columns(X, names, kept), y, folds, spec.fit_params(names), seed, n_jobs,
                   progress, f"{spec.name} folds")
    return Candidate(spec, oof, auc(y, oof), best_threshold(y, oof, costs))


def trial_candidates(search: CandidateResult, y: np.ndarray, costs: Costs) -> list[Candidate]:
    """The compliant search's trials as candidates (their kept OOF predictions); the
    champion's own trial is the same object's predictions."""
    keys = list(search.params)
    out = []
    for row, oof in zip(search.trials, search.trial_oof, strict=True):
        params = {k: row[k] for k in keys}
        spec = Spec(f"trial_{row['trial']}", "search_trial", params)
        out.append(Candidate(spec, oof, float(row["cv_auc"]), best_threshold(y, oof, costs)))
    return out


def champion_index(search: CandidateResult) -> int:
    """Position of the compliant champion among the search's trials."""
    chosen = [i for i, row in enumerate(search.trials) if row.get("chosen")]
    if len(chosen) != 1:
        raise ValueError("the search's trials do not mark exactly one chosen trial")
    return chosen[0]


def refit_specs(params: dict[str, Any], proxies: Sequence[str],
                monotone: Mapping[str, int]) -> list[Spec]:
    """The champion-based families: drop one, drop cumulative, monotone, gain penalty."""
    specs = [Spec(f"drop_{p}", "drop_one", params, dropped=(p,)) for p in proxies]
    specs += [Spec(f"drop_top{k}", "drop_cumulative", params, dropped=tuple(proxies[:k]))
              for k in range(2, len(proxies) + 1)]
    if monotone:
        specs.append(Spec("monotone_proxies", "monotone", params, monotone=dict(monotone)))
    specs += [Spec(f"gain_penalty_{w:g}", "gain_penalty", params,
                   gain={p: w for p in proxies}) for w in GAIN_PENALTIES if proxies]
    return specs


# --------------------------------------------------------------------------- proxies


def _rank_auc(values: np.ndarray, member: np.ndarray) -> float:
    """AUC of ``values`` for ``member`` (Mann-Whitney; a NaN ranks lowest, ties half)."""
    n1 = int(member.sum())
    n0 = len(member) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(np.where(np.isnan(values), -np.inf, values))
    return float((ranks[member].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def proxy_strength(X: np.ndarray, names: Sequence[str],
                   labels: Mapping[str, np.ndarray]) -> dict[str, dict[str, dict[str, float]]]:
    """feature -> attribute -> group -> direction-free single-feature AUC (group vs rest),
    for the groups of at least :data:`MIN_GROUP` applicants."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    members = {a: {str(g): lab == g for g in pd.unique(lab)
                   if (lab == g).sum() >= MIN_GROUP and (lab != g).sum() >= MIN_GROUP}
               for a, lab in labels.items()}
    for j, name in enumerate(names):
        values = np.asarray(X[:, j], dtype=np.float64)
        out[name] = {}
        for attribute, groups in members.items():
            cells = {}
            for group, member in groups.items():
                a = _rank_auc(values, member)
                cells[group] = round(max(a, 1 - a), 6)
            out[name][attribute] = cells
    return out


def strongest(strength: Mapping[str, Mapping[str, Mapping[str, float]]], attribute: str,
              group: str, k: int) -> list[str]:
    """The ``k`` features that best separate ``group`` of ``attribute`` (strongest first;
    ties by name)."""
    scored = [(cells.get(attribute, {}).get(group, 0.5), name)
              for name, cells in strength.items()]
    scored = [(s, n) for s, n in scored if s > 0.5]
    return [n for _, n in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]


def monotone_directions(X: np.ndarray, y: np.ndarray, names: Sequence[str],
                        proxies: Sequence[str], folds: Sequence[Fold]) -> dict[str, int]:
    """proxy -> +1 (more means riskier) or -1, for the numeric proxies whose Spearman
    correlation with default has |z| >= :data:`MONOTONE_Z` and the same sign in every
    fold's training rows; category codes and undecided proxies are left out."""
    out: dict[str, int] = {}
    position = {n: i for i, n in enumerate(names)}
    for proxy in proxies:
        if proxy in schema.CATEGORICAL_FIELDS:
            continue
        values = X[:, position[proxy]].astype(np.float64)
        seen = ~np.isnan(values)
        if seen.sum() < 3 or np.unique(values[seen]).size < 2:
            continue
        rho = float(spearmanr(values[seen], y[seen]).statistic)
        if not np.isfinite(rho) or abs(rho) * np.sqrt(seen.sum() - 1) < MONOTONE_Z:
            continue
        signs = set()
        for train_idx, _ in folds:
            part = train_idx[seen[train_idx]]
            signs.add(float(np.sign(spearmanr(values[part], y[part]).statistic)))
        if signs == {float(np.sign(rho))}:
            out[proxy] = int(np.sign(rho))
    return out


# --------------------------------------------------------------------------- fairness


def _ci(samples: np.ndarray) -> tuple[float | None, float | None]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None, None
    low, high = np.percentile(finite, [2.5, 97.5])
    return round(float(low), 6), round(float(high), 6)


def _value(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


def _ratio(approval: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Worst / best approval rate over the usable groups, along the last axis."""
    a = np.where(usable, approval, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no usable group: NaN, on purpose
        ratio: np.ndarray = np.nanmin(a, axis=-1) / np.nanmax(a, axis=-1)
    return ratio


def evaluate(candidates: Sequence[Candidate], y: np.ndarray, labels: Mapping[str, np.ndarray],
             costs: Costs, reference: int, resamples: int, seed: int) -> None:
    """Fill each candidate's ``report``: approval rate per group, worst/best ratio per
    attribute, cost per applicant, and the ratio gain over ``reference``, each with a
    percentile bootstrap 95% CI (the same resamples for all)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    groups = [(a, str(g)) for a, lab in labels.items() for g in _ordered(lab)]
    member = np.array([labels[a] == g for a, g in groups], dtype=np.float64)  # [G, N]
    sizes = member.sum(axis=1)
    attributes = list(labels)
    spans = {a: np.array([ga == a for ga, _ in groups]) for a in attributes}
    usable = sizes >= MIN_GROUP
    approved = np.array([(c.oof < c.choice.threshold).astype(np.float64) for c in candidates])
    cells = (approved[:, None, :] * member[None, :, :]).reshape(-1, n)  # [C*G, N]
    row_cost = np.array([np.where(c.oof >= c.choice.threshold, (1 - y) * costs.fp,
                                  y * costs.fn) for c in candidates])  # [C, N]

    def stats(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(approval [B, C, G], ratio [B, C, A], cost [B, C]) of weights w [B, N]."""
        approved_in = (w @ cells.T).reshape(len(w), len(candidates), len(groups))
        with np.errstate(invalid="ignore", divide="ignore"):
            approval = approved_in / (w @ member.T)[:, None, :]
        ratio = np.stack([_ratio(approval[..., spans[a]], usable[spans[a]])
                          for a in attributes], axis=-1)
        cost = (w @ row_cost.T) / w.sum(axis=1, keepdims=True)
        return approval, ratio, cost

    point_app, point_ratio, point_cost = (s[0] for s in stats(np.ones((1, n))))
    boot_app, boot_ratio, boot_cost = _bootstrap(stats, n, resamples, seed)
    for c, cand in enumerate(candidates):
        ratios = {}
        for k, a in enumerate(attributes):
            gain = boot_ratio[:, c, k] - boot_ratio[:, reference, k]
            low, high = _ci(boot_ratio[:, c, k])
            g_low, g_high = _ci(gain)
            ratios[a] = {"value": _value(point_ratio[c, k]), "ci_low": low, "ci_high": high,
                         "gain_vs_champion": _value(point_ratio[c, k] - point_ratio[reference, k]),
                         "gain_ci_low": g_low, "gain_ci_high": g_high}
        approvals: dict[str, dict[str, Any]] = {a: {} for a in attributes}
        for g, (a, name) in enumerate(groups):
            low, high = _ci(boot_app[:, c, g])
            approvals[a][name] = {"applicants": int(sizes[g]), "value": _value(point_app[c, g]),
                                  "ci_low": low, "ci_high": high,
                                  "in_ratio": bool(usable[g])}
        c_low, c_high = _ci(boot_cost[:, c])
        cand.report = {
            **cand.spec.describe(),
            "auc": round(cand.auc, 6),
            "cost_per_applicant": {"value": _value(point_cost[c]), "ci_low": c_low,
                                   "ci_high": c_high},
            "threshold": cand.choice.threshold,
            "ratio": ratios,
            "approval_rate": approvals,
            **calibration_metrics(y, cand.oof),
        }


def _bootstrap(stats: Callable[[np.ndarray], tuple[np.ndarray, ...]], n: int, resamples: int,
               seed: int) -> tuple[np.ndarray, ...]:
    """``stats`` of ``resamples`` bootstrap weightings of n rows (multinomial counts), drawn
    100 at a time, each of its outputs stacked over the resamples."""
    rng = np.random.default_rng(seed)
    chunks = [stats(rng.multinomial(n, np.full(n, 1 / n), size=min(100, resamples - done))
                    .astype(np.float64)) for done in range(0, resamples, 100)]
    return tuple(np.concatenate(parts) for parts in zip(*chunks, strict=True))


def calibration_metrics(y: np.ndarray, oof: np.ndarray) -> dict[str, float | None]:
    """The candidate's calibration on its OOF predictions, as it would be served: ``ece``
    after its own Platt map (training.calibration, the champion's method), and
    ``ece_uncalibrated`` before it. ``ece`` is None when no map can be fitted."""
    from training import calibration as calib

    raw = calib.ece(oof, y)
    try:
        calibrated: float | None = calib.ece(calib.fit_platt(oof, y).probability(oof), y)
    except calib.CalibrationError:
        calibrated = None
    return {"ece": calibrated, "ece_uncalibrated": raw}


def _ordered(labels: np.ndarray) -> list[str]:
    """Group names in fairness order (age bands first in their order, then sorted)."""
    names = [str(v) for v in pd.unique(labels)]
    from contract.explain import AGE_BANDS

    order = [label for _, label in AGE_BANDS if label in names]
    return order + sorted(n for n in names if n not in order)


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Choice:
    """The rule's outcome: the chosen row, the rows it could choose from, and why."""

    index: int
    eligible: tuple[int, ...]
    reason: str

    def changed(self, reference: int) -> bool:
        return self.index != reference


def rule_text(tolerance: float, attribute: str) -> str:
    return (f"among candidates with OOF cost per applicant <= champion cost x "
            f"(1 + {tolerance:g}) and OOF AUC >= champion AUC - {AUC_MARGIN:g}, the highest "
            f"worst/best approval-rate ratio by {attribute} (ties: lower cost, higher AUC, "
            f"the champion, the earlier candidate); the champion stays unless the ratio "
            f"strictly improves; tolerance 0 keeps the champion")


def choose(rows: Sequence[Mapping[str, float]], reference: int, tolerance: float,
           auc_margin: float = AUC_MARGIN) -> Choice:
    """Apply the rule to rows of ``cost``, ``auc`` and ``ratio`` (see the module
    docstring). ``reference`` is the champion's row."""
    if tolerance < 0:
        raise ValueError(f"the LDA tolerance must be >= 0, got {tolerance}")
    ref = rows[reference]
    if tolerance == 0:
        return Choice(reference, (reference,),
                      "tolerance 0: the compliant champion is kept (the search is evidence "
                      "only)")
    limit = ref["cost"] * (1 + tolerance)
    floor = ref["auc"] - auc_margin
    eligible = tuple(i for i, r in enumerate(rows)
                     if i == reference or (r["cost"] <= limit and r["auc"] >= floor
                                           and np.isfinite(r["ratio"])))

    def key(i: int) -> tuple[float, float, float, bool, int]:
        r = rows[i]
        return (r["ratio"], -r["cost"], r["auc"], i == reference, -i)

    best = max(eligible, key=key)
    others = len(eligible) - 1
    if others == 0:
        return Choice(reference, eligible,
                      f"no other candidate is within the tolerance (cost <= {limit:.4f}, "
                      f"AUC >= {floor:.4f}): the champion stays")
    if best == reference or not rows[best]["ratio"] > ref["ratio"]:
        return Choice(reference, eligible,
                      f"none of the {others} other candidates within the tolerance improves "
                      f"the ratio ({ref['ratio']:.3f}): the champion stays")
    return Choice(best, eligible,
                  f"highest ratio of the {len(eligible)} candidates within the tolerance: "
                  f"{ref['ratio']:.3f} -> {rows[best]['ratio']:.3f}")


def pareto(rows: Sequence[Mapping[str, float]]) -> list[int]:
    """Rows on the frontier of lower cost and higher ratio (no other row is at least as
    good on both and better on one), by cost."""
    front = []
    for i, r in enumerate(rows):
        if not np.isfinite(r["ratio"]):
            continue
        dominated = any(
            o["cost"] <= r["cost"] and o["ratio"] >= r["ratio"]
            and (o["cost"] < r["cost"] or o["ratio"] > r["ratio"])
            for j, o in enumerate(rows) if j != i and np.isfinite(o["ratio"]))
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (rows[i]["cost"], -rows[i]["ratio"]))


# --------------------------------------------------------------------------- the search


@dataclass(frozen=True)
class Settings:
    tolerance: float = DEFAULT_TOLERANCE
    proxies: int = DEFAULT_PROXIES
    attribute: str = DEFAULT_ATTRIBUTE
    resamples: int = 1_000
    seed: int = 0
    n_jobs: int = 1
    progress: bool = False


@dataclass
class Result:
    """The whole search: candidates (champion at ``reference``), the rule's choice, the
    frontier and the card entry."""

    candidates: list[Candidate]
    reference: int
    choice: Choice
    frontier: list[int]
    names: tuple[str, ...]
    entry: dict[str, Any]

    @property
    def chosen(self) -> Candidate:
        return self.candidates[self.choice.index]

    @property
    def changed(self) -> bool:
        return self.choice.changed(self.reference)

    def chosen_names(self) -> tuple[str, ...]:
        return self.chosen.spec.names(self.names)

    def champion(self) -> CandidateResult:
        """The chosen candidate as the pipeline's champion (params ready for its columns)."""
        c = self.chosen
        return CandidateResult("champion", c.spec.fit_params(self.names), c.oof, c.auc,
                               c.choice)


def search(X: np.ndarray, y: np.ndarray, names: Sequence[str], folds: Sequence[Fold],
           frame: pd.DataFrame, costs: Costs, compliant: CandidateResult,
           settings: Settings) -> Result:
    """Run the search on the compliant search's rows and folds (``frame`` gives the
    fairness groups of those rows) and apply the rule."""
    labels = fairness.groups(frame)
    if settings.attribute not in labels:
        raise ValueError(f"unknown fairness attribute {settings.attribute!r}: "
                         f"one of {', '.join(labels)}")
    names = tuple(names)
    candidates = trial_candidates(compliant, y, costs)
    reference = champion_index(compliant)
    target = _worst_group(candidates[reference], labels[settings.attribute])
    strength = proxy_strength(X, names, labels)
    proxies = strongest(strength, settings.attribute, target, settings.proxies)
    monotone = monotone_directions(X, y, names, proxies, folds)
    specs = refit_specs(candidates[reference].spec.params, proxies, monotone)
    bar = tqdm(specs, desc="less discriminatory alternatives", unit="candidate",
               file=sys.stderr, disable=not settings.progress)
    for spec in bar:
        candidates.append(fit_candidate(spec, X, y, names, folds, costs, settings.seed,
                                        settings.n_jobs, settings.progress))
    evaluate(candidates, y, labels, costs, reference, settings.resamples, settings.seed)
    rows = [rule_row(c, settings.attribute) for c in candidates]
    choice = choose(rows, reference, settings.tolerance)
    frontier = pareto(rows)
    result = Result(candidates, reference, choice, frontier, names, {})
    result.entry = _entry(result, settings, strength, proxies, monotone, target, len(y),
                          len(folds))
    return result


def _worst_group(champion: Candidate, labels: np.ndarray) -> str:
    """The group of ``labels`` with the lowest approval rate under the champion (among
    groups of at least :data:`MIN_GROUP` applicants)."""
    approved = champion.oof < champion.choice.threshold
    rates = {g: approved[labels == g].mean() for g in _ordered(labels)
             if (labels == g).sum() >= MIN_GROUP}
    if not rates:
        raise ValueError(f"no fairness group has {MIN_GROUP} applicants")
    return min(rates, key=lambda g: (rates[g], g))


def rule_row(c: Candidate, attribute: str) -> dict[str, float]:
    """What :func:`choose` reads of an evaluated candidate (a missing ratio is NaN)."""
    ratio = c.report["ratio"][attribute]["value"]
    return {"cost": c.cost, "auc": c.auc, "ratio": float("nan") if ratio is None else ratio}


def _brief(c: Candidate, attribute: str) -> dict[str, Any]:
    return {"name": c.spec.name, "auc": round(c.auc, 6),
            "cost_per_applicant": round(c.cost, 6),
            "ratio": c.report["ratio"][attribute]["value"]}


def _entry(result: Result, settings: Settings, strength: Mapping[str, Any],
           proxies: Sequence[str], monotone: Mapping[str, int], target: str, rows: int,
           folds: int) -> dict[str, Any]:
    """The card's ``less_discriminatory_alternatives``."""
    a = settings.attribute
    listed = strongest(strength, a, target, PROXIES_LISTED)
    ref, chosen = result.candidates[result.reference], result.chosen
    frontier = {result.candidates[i].spec.name for i in result.frontier}
    eligible = {result.candidates[i].spec.name for i in result.choice.eligible}
    candidates = []
    for c in result.candidates:
        candidates.append({**c.report, "on_frontier": c.spec.name in frontier,
                           "within_tolerance": c.spec.name in eligible,
                           "champion": c is ref, "chosen": c is chosen})
    return {
        "attribute": a, "disadvantaged_group": target,
        "scope": {"rows": rows, "folds": folds,
                  "predictions": "out-of-fold, the compliant search's folds",
                  "bootstrap_resamples": settings.resamples,
                  "ci": "percentile bootstrap 95% (applicants resampled, the same resamples "
                        "for every candidate)",
                  "min_group_applicants_in_ratio": MIN_GROUP},
        "rule": {"text": rule_text(settings.tolerance, a), "tolerance": settings.tolerance,
                 "auc_margin": AUC_MARGIN, "reference": ref.spec.name},
        "families": FAMILIES,
        "proxies": {
            "measure": f"single-feature AUC for each group vs the rest (direction-free), "
                       f"groups of at least {MIN_GROUP}",
            "used": list(proxies), "monotone_directions": dict(monotone),
            "strongest": [{"feature": n, "strength": strength[n][a][target],
                           "by_attribute": {att: max(cells.values(), default=None)
                                            for att, cells in strength[n].items()}}
                          for n in listed],
        },
        "candidates": candidates,
        "frontier": [result.candidates[i].spec.name for i in result.frontier],
        "choice": {**chosen.spec.describe(), "changed": result.changed,
                   "before": _brief(ref, a), "after": _brief(chosen, a)},
        "reason": result.choice.reason,
    }


# --------------------------------------------------------------------------- reporting


def summary_lines(entry: Mapping[str, Any]) -> list[str]:
    """The rule, the choice and what it cost: before -> after."""
    before, after = entry["choice"]["before"], entry["choice"]["after"]

    def fmt(key: str, digits: int) -> str:
        b, c = before[key], after[key]
        return f"{b:.{digits}f} -> {c:.{digits}f}" if b is not None and c is not None else "n/a"

    verb = "switched to" if entry["choice"]["changed"] else "kept"
    a, rows = entry["attribute"], {r["name"]: r for r in table(entry)}
    return [
        f"less discriminatory alternatives ({len(entry['candidates'])} candidates, "
        f"{len(entry['frontier'])} on the frontier): rule: {entry['rule']['text']}",
        f"  choice: {verb} {entry['choice']['name']} ({entry['reason']}); "
        f"{a} ratio {fmt('ratio', 3)}, cost/applicant "
        f"{fmt('cost_per_applicant', 4)}, AUC {fmt('auc', 4)}",
        f"  frontier (cost/applicant, {a} ratio): " + ", ".join(
            f"{n} {rows[n]['cost_per_applicant']:.4f}/{rows[n][a + '_ratio']:.3f}"
            for n in entry["frontier"]) + " (plot: MLflow plots/lda_frontier.png)",
    ]


def table(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One flat row per candidate (the MLflow CSV and the docs' frontier table)."""
    a = entry["attribute"]
    out = []
    for c in entry["candidates"]:
        ratio, cost = c["ratio"][a], c["cost_per_applicant"]
        out.append({
            "name": c["name"], "family": c["family"], "auc": c["auc"],
            "cost_per_applicant": cost["value"], "cost_ci_low": cost["ci_low"],
            "cost_ci_high": cost["ci_high"], "threshold": c["threshold"],
            f"{a}_ratio": ratio["value"], f"{a}_ratio_ci_low": ratio["ci_low"],
            f"{a}_ratio_ci_high": ratio["ci_high"],
            f"{a}_ratio_gain": ratio["gain_vs_champion"],
            **{f"{att}_ratio": r["value"] for att, r in c["ratio"].items() if att != a},
            "ece": c["ece"], "on_frontier": c["on_frontier"],
            "within_tolerance": c["within_tolerance"], "champion": c["champion"],
            "chosen": c["chosen"], "dropped": " ".join(c["dropped"]),
        })
    return out


def plot(entry: Mapping[str, Any], path: Path) -> Path:
    """The frontier picture (training.plots.lda_frontier)."""
    from training.plots import lda_frontier

    a = entry["attribute"]
    points = [(c["name"], c["family"], c["cost_per_applicant"]["value"],
               c["ratio"][a]["value"], c["ratio"][a]["ci_low"], c["ratio"][a]["ci_high"])
              for c in entry["candidates"] if c["ratio"][a]["value"] is not None]
    before = entry["choice"]["before"]
    return lda_frontier(points, entry["frontier"], entry["rule"]["reference"],
                        entry["choice"]["name"],
                        before["cost_per_applicant"] * (1 + entry["rule"]["tolerance"]),
                        f"worst/best approval ratio by {a} (OOF)", path)


def log(tracker: Any, entry: Mapping[str, Any]) -> None:
    """To MLflow: before/after metrics, the candidate table (lda_candidates.csv) and the
    frontier picture (plots/lda_frontier.png)."""
    import tempfile

    before, after = entry["choice"]["before"], entry["choice"]["after"]
    tracker.log_metrics({f"lda_{when}_{k}": v for when, brief in (("before", before),
                                                                  ("after", after))
                         for k, v in brief.items() if k != "name" and v is not None})
    tracker.log_metrics({"lda_candidates": len(entry["candidates"]),
                         "lda_changed": float(entry["choice"]["changed"])})
    tracker.set_tags({"lda_choice": entry["choice"]["name"]})
    tracker.log_table(table(entry), "lda_candidates.csv")
    with tempfile.TemporaryDirectory() as tmp:
        tracker.log_artifact(plot(entry, Path(tmp) / "lda_frontier.png"), "plots")
