"""Reasons an applicant can read, from the exact TreeSHAP contributions of one score.

1. **Back to the applicant's fields.** A model feature that is a request field keeps its
   contribution; an engineered feature's contribution is split onto the fields it is
   computed from (contract.explain.ENGINEERED_SOURCES: a ratio half and half,
   EXT_SOURCE_MIN all to the lowest score, EXT_SOURCE_MEAN equally over the scores present,
   ...). The shares of a contribution sum to it, so nothing is lost or invented.
2. **Grouped as a person sees them.** Fields of one FIELD_GROUPS group (documents, home
   building, credit bureau enquiries, ...) form one reason; every other field is its own.
3. **Chosen by the decision.** A decline lists only risk-raising reasons, largest first (the
   principal reasons for the adverse action); an approval lists the reasons that lowered the
   risk most. Never a reason: a protected attribute; for an applicant aged 62 or over, a
   risk-raising reason that contains the age field.
4. **Stated plainly.** ``statement`` comes from the field's label, its value (high / low
   against the training median) and the direction (contract.explain.statement).

Each prediction also carries ``base_log_odds`` (the explainer's expected value) and
``other_log_odds`` (every contribution not listed): base + listed + other = the margin.
Numpy only: the scoring function runs it on every request (scoring.reasons); training
runs it to record a golden set's expected reasons (training.golden).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict

import numpy as np

from contract import explain

Direction = Literal["increases_risk", "decreases_risk"]


class ReasonBody(TypedDict):
    """One reason: the applicant fields it comes from, their values, the exact
    contribution, its direction and a plain-language statement."""

    fields: list[str]
    values: dict[str, float | int | str | None]
    contribution: float
    direction: Direction
    statement: str


class Explained(TypedDict):
    """The reasons of one prediction and the log-odds they do not list."""

    reasons: list[ReasonBody]
    base_log_odds: float | None
    other_log_odds: float | None

INCREASES: Final = "increases_risk"
DECREASES: Final = "decreases_risk"


@dataclass(frozen=True)
class ReasonPlan:
    """How one bundle's feature contributions become reasons (built once at load)."""

    fields: tuple[str, ...]          # applicant fields that receive contributions
    # Fixed shares (request fields, EQUAL rule) as terms sorted by field: feature, weight,
    # and where each field's terms start. Sums run row by row (no matrix product), so one
    # row gives bit-identical reasons alone or in a batch.
    term_features: np.ndarray
    term_weights: np.ndarray
    field_starts: np.ndarray
    dynamic: tuple[tuple[int, str, tuple[int, ...]], ...]  # (feature, rule, field indices)
    unit_order: np.ndarray           # fields sorted by reason unit
    unit_starts: np.ndarray          # where each unit's fields start in unit_order
    unit_keys: tuple[str, ...]       # a FIELD_GROUPS key, or the field of a one-field unit
    unit_fields: tuple[tuple[int, ...], ...]
    unit_labels: tuple[str, ...]
    unit_banned: np.ndarray          # [n_units] bool: contains a protected field
    unit_age: np.ndarray             # [n_units] bool: contains the age field
    labels: tuple[str, ...]          # per field
    medians: tuple[float | None, ...]

    @classmethod
    def build(cls, feature_names: Sequence[str], card: Mapping[str, Any]) -> ReasonPlan:
        fields = tuple(dict.fromkeys(
            f for name in feature_names for f in explain.feature_sources(name)))
        index = {f: i for i, f in enumerate(fields)}
        terms: list[tuple[int, int, float]] = []  # (field, feature, weight)
        dynamic = []
        for j, name in enumerate(feature_names):
            rule, sources = explain.ENGINEERED_SOURCES.get(name, (explain.EQUAL, (name,)))
            if rule == explain.EQUAL:
                terms.extend((index[s], j, 1.0 / len(sources)) for s in sources)
            else:
                dynamic.append((j, rule, tuple(index[s] for s in sources)))
                terms.extend((index[s], j, 0.0) for s in sources)  # keeps every field
        terms.sort(key=lambda t: t[0])
        term_fields = np.array([t[0] for t in terms])
        group_of = {f: key for key, (_, members) in explain.FIELD_GROUPS.items()
                    for f in members}
        unit_keys = list(dict.fromkeys(group_of.get(f, f) for f in fields))
        unit_index = {key: u for u, key in enumerate(unit_keys)}
        field_unit = np.array([unit_index[group_of.get(f, f)] for f in fields])
        unit_order = np.argsort(field_unit, kind="stable")
        entries = {e.get("name"): e for e in card.get("schema", []) if isinstance(e, dict)}
        labels = tuple(str(entries.get(f, {}).get("label") or explain.LABELS.get(f, f))
                       for f in fields)
        medians = tuple(_median(entries.get(f, {})) for f in fields)
        protected = set(card.get("protected_attributes") or explain.DEFAULT_PROTECTED)
        protected.add(explain.GENDER_FIELD)
        unit_fields = tuple(tuple(np.flatnonzero(field_unit == u).tolist())
                            for u in range(len(unit_keys)))
        unit_labels = tuple(explain.FIELD_GROUPS[k][0] if k in explain.FIELD_GROUPS
                            else labels[index[k]] for k in unit_keys)
        return cls(
            fields=fields, term_features=np.array([t[1] for t in terms]),
            term_weights=np.array([t[2] for t in terms]),
            field_starts=np.searchsorted(term_fields, np.arange(len(fields))),
            dynamic=tuple(dynamic), unit_order=unit_order,
            unit_starts=np.searchsorted(field_unit[unit_order], np.arange(len(unit_keys))),
            unit_keys=tuple(unit_keys), unit_fields=unit_fields, unit_labels=unit_labels,
            unit_banned=np.array([any(fields[i] in protected for i in members)
                                  for members in unit_fields], dtype=bool),
            unit_age=np.array([any(fields[i] == explain.AGE_FIELD for i in members)
                               for members in unit_fields], dtype=bool),
            labels=labels, medians=medians)

    def field_contributions(self, phi: np.ndarray,
                            apps: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """[N, n_fields]: each feature's contribution split onto its fields (row sums kept)."""
        terms = phi[:, self.term_features] * self.term_weights
        out: np.ndarray = np.add.reduceat(terms, self.field_starts, axis=1)
        values: dict[tuple[int, ...], np.ndarray] = {}  # the source values, read once
        for j, rule, members in self.dynamic:
            if members not in values:
                values[members] = np.array(
                    [[_number(app.get(self.fields[i])) for i in members] for app in apps],
                    dtype=np.float64).reshape(len(apps), -1)
            out[:, list(members)] += phi[:, j:j + 1] * _shares(rule, values[members])
        return out


def _median(entry: Mapping[str, Any]) -> float | None:
    value = (entry.get("observed") or {}).get("median")
    return float(value) if isinstance(value, int | float) else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _shares(rule: str, values: np.ndarray) -> np.ndarray:
    """[N, S] weights summing to 1 per row: how one contribution splits over S sources."""
    missing = np.isnan(values)
    if rule in (explain.PRESENT, explain.MISSING):
        mask = ~missing if rule == explain.PRESENT else missing
    elif rule in (explain.ARGMIN, explain.ARGMAX):
        sign = 1.0 if rule == explain.ARGMIN else -1.0
        filled = np.where(missing, np.inf, sign * values)
        mask = np.arange(values.shape[1]) == np.argmin(filled, axis=1)[:, None]
        mask &= ~missing
    else:
        raise ValueError(f"unknown attribution rule {rule!r}")
    mask = mask.astype(np.float64)
    mask[mask.sum(axis=1) == 0] = 1.0  # nothing qualifies: equal shares
    return mask / mask.sum(axis=1, keepdims=True)


def _attribute(phi: np.ndarray, apps: Sequence[Mapping[str, Any]],
               plan: ReasonPlan) -> tuple[np.ndarray, np.ndarray]:
    """([N, n_fields], [N, n_units]): the feature contributions split onto fields, and
    summed per reason unit."""
    by_field = plan.field_contributions(phi, apps)
    by_unit = np.add.reduceat(by_field[:, plan.unit_order], plan.unit_starts, axis=1)
    return by_field, by_unit


def group_contributions(contributions: np.ndarray, apps: Sequence[Mapping[str, Any]],
                        plan: ReasonPlan) -> np.ndarray:
    """[N, n_units]: every reason unit's exact contribution per row (the value a reason for
    that unit carries), named by plan.unit_keys / unit_labels / unit_fields. A row's units
    sum to its feature contributions' sum (the margin minus the expected value, last column
    of ``contributions`` [N, F+1]), protected units included."""
    return _attribute(contributions[:, :-1], apps, plan)[1]


def reasons_for_rows(
    contributions: np.ndarray,
    apps: Sequence[Mapping[str, Any]],
    declined: Sequence[bool],
    plan: ReasonPlan,
    k: int,
) -> list[Explained]:
    """Per row: ``reasons`` (at most k), ``base_log_odds`` and ``other_log_odds``.
    ``contributions`` is [N, F+1] (TreeSHAP, last column the expected value)."""
    phi = contributions[:, :-1]
    by_field, by_unit = _attribute(phi, apps, plan)
    total = phi.sum(axis=1)
    out: list[Explained] = []
    for row, app in enumerate(apps):
        chosen = _choose(by_unit[row], bool(declined[row]),
                         explain.is_elderly(app.get(explain.AGE_FIELD)), plan, k)
        fields = by_field[row].tolist()  # Python floats: cheaper to read one by one
        listed = [_reason(plan, u, float(by_unit[row, u]), fields, app) for u in chosen]
        shown = math.fsum(r["contribution"] for r in listed)
        out.append({"reasons": listed, "base_log_odds": float(contributions[row, -1]),
                    "other_log_odds": float(total[row]) - shown})
    return out


def _choose(values: np.ndarray, declined: bool, elderly: bool, plan: ReasonPlan,
            k: int) -> list[int]:
    """Unit indices to list: risk-raising ones for a decline, risk-lowering ones for an
    approval, by |contribution| (ties: unit order); never banned, never age for 62+."""
    allowed = ~plan.unit_banned & ((values > 0) if declined else (values < 0))
    if elderly:
        allowed &= ~(plan.unit_age & (values > 0))
    candidates = np.flatnonzero(allowed)
    order = np.lexsort((candidates, -np.abs(values[candidates])))
    return [int(u) for u in candidates[order[:k]]]


def _reason(plan: ReasonPlan, unit: int, contribution: float, by_field: np.ndarray,
            app: Mapping[str, Any]) -> ReasonBody:
    members = [i for i in plan.unit_fields[unit] if by_field[i] != 0.0] or \
        list(plan.unit_fields[unit])
    names = [plan.fields[i] for i in members]
    raises = contribution > 0
    if len(members) == 1:
        i = members[0]
        text = explain.statement(names[0], plan.labels[i], app.get(names[0]), plan.medians[i],
                                 raises)
    else:
        text = explain.group_statement(plan.unit_labels[unit], raises)
    direction: Direction = INCREASES if raises else DECREASES
    return {
        "fields": names,
        "values": {name: app.get(name) for name in names},
        "contribution": contribution,
        "direction": direction,
        "statement": text,
    }


__all__ = ["DECREASES", "INCREASES", "Direction", "Explained", "ReasonBody", "ReasonPlan",
           "group_contributions", "reasons_for_rows"]
