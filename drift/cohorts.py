"""Cohorts of the outcomes join and their realised quality (contract.outcome_stats).

A cohort is a decision month per model version. It is *matured* once ``outcome_months``
have passed since its last day; an immature cohort shows counts and coverage only, never a
quality figure. For a matured cohort, on its approved loans with an outcome:

* observed default rate against mean predicted PD, the Jeffreys 95% interval and the
  one-sided Jeffreys test: ``calibration`` fails when the PD significantly underestimates
  the default rate (p < 2.5%, the lower tail of the 95% interval); a PD above the interval
  is reported as ``conservative``, not a failure;
* the same per decile of predicted PD (reported, not part of the verdict: ten tests at 95%
  would fail a calibrated model one time in three);
* AUC and Gini with DeLong 95% CIs, KS, Brier;
* against the model card's ``outcome_reference`` (the same truncation: applicants the model
  approves): a one-sided DeLong test of the realised AUC, and the minimum AUC drop the
  cohort's size could detect at 80% power;
* observed cost: only missed defaulters are observable on booked loans. Declined applicants
  have no outcome, so false positives (good applicants declined) cannot be counted.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contract import outcome_stats as st

if TYPE_CHECKING:
    from drift.challenger import ChallengerModel

#: One-sided level of the calibration and AUC verdicts.
CALIBRATION_ALPHA = 0.025
AUC_ALPHA = 0.05
FP_NOTE = ("False positives cannot be counted: declined applicants were never booked, so "
           "their outcome is unknown. The observed cost counts missed defaulters only.")
SELECTION_NOTE = ("Outcomes exist for approved applicants only: realised AUC is computed on "
                  "this truncated population and is lower than the through-the-door AUC by "
                  "construction. It is compared with the card's outcome_reference, computed "
                  "on the same truncation.")


@dataclass(frozen=True)
class Reference:
    """The model card facts the statistics need (None when no card was given)."""

    model_version: str | None
    threshold: float | None
    cost_fn: float | None
    outcome_reference: dict[str, Any] | None
    costs: dict[str, float] | None = None

    @classmethod
    def from_card(cls, card: dict[str, Any] | None) -> Reference:
        if not card:
            return cls(None, None, None, None)
        costs = card.get("costs") if isinstance(card.get("costs"), dict) else None
        return cls(str(card.get("model_version")), card.get("threshold"),
                   costs.get("fn") if costs else None, card.get("outcome_reference"), costs)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def matured(cohort: str, as_of: date, outcome_months: int) -> bool:
    """True once ``outcome_months`` have passed since the cohort month's last day."""
    year, month = (int(x) for x in cohort.split("-"))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return add_months(last, outcome_months) <= as_of


def join_counts(loans: pd.DataFrame) -> dict[str, int]:
    """What became of every outcome: matched, unmatched, ambiguous, matched to a decline
    (a loan that should not exist), matched to a rescored client."""
    status = loans["status"]
    matched = loans[status == "matched"]
    return {
        "outcomes": len(loans),
        "matched": len(matched),
        "unmatched": int((status == "unmatched").sum()),
        "ambiguous": int((status == "ambiguous").sum()),
        "matched_to_decline": int((matched["decision"] == "decline").sum()),
        "rescored_clients": int(((matched["matched_on"] == "client_hash")
                                 & (matched["scorings"] > 1)).sum()),
    }


def approved_loans(loans: pd.DataFrame) -> pd.DataFrame:
    """The matched loans decided "approve": the population with meaningful outcomes."""
    return loans[(loans["status"] == "matched") & (loans["decision"] == "approve")]


def calibration_verdict(p_value: Any) -> np.ndarray:
    """"fail" (the PD significantly underestimates the default rate), "conservative" (it
    significantly overestimates it: the PD lies above the Jeffreys 95% interval) or "pass",
    from the one-sided Jeffreys p-value(s)."""
    p = np.asarray(p_value, dtype=np.float64)
    return np.where(p < CALIBRATION_ALPHA, "fail",
                    np.where(p > 1 - CALIBRATION_ALPHA, "conservative", "pass"))


def quality(y: np.ndarray, p: np.ndarray, reference: Reference) -> dict[str, Any]:
    """The quality figures of one matured cohort's approved loans with outcomes."""
    n, defaults = len(y), int(y.sum())
    observed, predicted = defaults / n, float(p.mean())
    low, high = st.jeffreys_interval(defaults, n)
    p_value = float(st.jeffreys_p_value(defaults, n, predicted))
    verdict = str(calibration_verdict(p_value))
    out: dict[str, Any] = {
        "observed_default_rate": observed, "mean_predicted_pd": predicted,
        "default_rate_ci95": [float(low), float(high)],
        "calibration": {"verdict": verdict, "jeffreys_p_value": p_value,
                        "alpha": CALIBRATION_ALPHA},
        "bands": st.calibration_bands(y, p),
        "brier": st.brier(y, p),
        "auc": None, "auc_ci95": None, "gini": None, "gini_ci95": None, "ks": None,
        "auc_vs_reference": None, "min_detectable_auc_drop": None,
    }
    if 0 < defaults < n:
        ci = st.auc_ci(y, p)
        out.update({"auc": ci["auc"], "auc_se": ci["se"],
                    "auc_ci95": [ci["ci_low"], ci["ci_high"]], "gini": ci["gini"],
                    "gini_ci95": [ci["gini_ci_low"], ci["gini_ci_high"]], "ks": st.ks(y, p)})
        out.update(_versus_reference(ci, defaults, n - defaults, reference))
    if reference.cost_fn is not None:
        out["observed_cost"] = {"missed_defaulters": defaults,
                                "cost": defaults * float(reference.cost_fn),
                                "per_booked_loan": defaults * float(reference.cost_fn) / n,
                                "cost_fn": float(reference.cost_fn), "note": FP_NOTE}
    return out


def _versus_reference(ci: dict[str, float], defaults: int, others: int,
                      reference: Reference) -> dict[str, Any]:
    ref = (reference.outcome_reference or {}).get("auc")
    if not isinstance(ref, dict) or "value" not in ref:
        return {}
    ref_auc, ref_se = float(ref["value"]), float(ref.get("se") or 0.0)
    test = st.auc_below_reference(ci["auc"], ci["se"], ref_auc, ref_se)
    return {
        "auc_vs_reference": {"reference_auc": ref_auc, "reference_se": ref_se,
                             "z": test["z"], "p_value": test["p_value"], "alpha": AUC_ALPHA,
                             "significantly_below": test["p_value"] < AUC_ALPHA},
        "min_detectable_auc_drop": st.min_detectable_drop(ref_auc, defaults, others, ref_se,
                                                          AUC_ALPHA, 0.8),
    }


def cohorts(loans: pd.DataFrame, counts: pd.DataFrame, as_of: date, outcome_months: int,
            reference: Reference, challenger: ChallengerModel | None = None
            ) -> list[dict[str, Any]]:
    """One entry per (decision month, model version) seen in the captures or the loans;
    with a challenger, its verdicts on each matured cohort's booked loans too."""
    matched = loans[loans["status"] == "matched"]
    approved = approved_loans(loans)
    keys = sorted(set(zip(counts["cohort"], counts["model_version"], strict=True))
                  | set(zip(matched["cohort"], matched["model_version"], strict=True)))
    scored = {(c, v): (int(s), int(a)) for c, v, s, a in counts[
        ["cohort", "model_version", "scored", "approved"]].itertuples(index=False)}
    entries = []
    for cohort, version in keys:
        n_scored, n_approved = scored.get((cohort, version), (0, 0))
        mine = approved[(approved["cohort"] == cohort) & (approved["model_version"] == version)]
        declined = matched[(matched["cohort"] == cohort) & (matched["model_version"] == version)
                           & (matched["decision"] == "decline")]
        is_matured = matured(cohort, as_of, outcome_months)
        entry: dict[str, Any] = {
            "cohort": cohort, "model_version": version, "matured": is_matured,
            "scored": n_scored, "approved": n_approved, "with_outcome": len(mine),
            "coverage": len(mine) / n_approved if n_approved else None,
            "declined_with_outcome": len(declined),
            "observed_default_rate": None, "mean_predicted_pd": None,
            "auc": None, "auc_ci95": None,
        }
        if is_matured and len(mine):
            same = reference if reference.model_version == version else Reference(
                reference.model_version, reference.threshold, reference.cost_fn, None)
            entry.update(quality(mine["outcome"].to_numpy(np.int64),
                                 mine["probability"].to_numpy(np.float64), same))
            if challenger is not None:
                entry["challenger"] = judge_challenger(mine, challenger, reference.costs)
        entries.append(entry)
    return entries


def judge_challenger(booked: pd.DataFrame, challenger: ChallengerModel,
                     costs: dict[str, float] | None) -> dict[str, Any]:
    """The challenger on a matured cohort's booked loans: its decisions against the
    champion's (all approvals), paired DeLong, both models' observed cost."""
    from drift.challenger import agreement, on_outcomes
    from drift.outcomes_join import features

    probability = challenger.score(features(booked))
    declined = challenger.declines(probability)
    return {**agreement(np.zeros(len(booked), bool), declined, challenger.version),
            **on_outcomes(booked["outcome"].to_numpy(np.int64),
                          booked["probability"].to_numpy(np.float64), probability, declined,
                          costs)}
