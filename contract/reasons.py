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

:func:`reason_columns` does this for N rows at once, reading the applicant fields by column
(:class:`FieldValues`) and returning [N, k] columns (:class:`ReasonColumns`): the book
writes them as they are, and :func:`reasons_for_rows` turns them into /predict's reasons.
Every step works within a row, so a row's reasons are the same alone or in a batch.
Numpy only: the scoring function runs it on every request (scoring.reasons); training
runs it to record a golden set's expected reasons (training.golden).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, TypedDict

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
    # Row-dependent shares: per tuple of source fields, its (feature, rule)s in feature order.
    dynamic: tuple[tuple[tuple[int, ...], tuple[tuple[int, str], ...]], ...]
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
        dynamic: dict[tuple[int, ...], list[tuple[int, str]]] = {}
        for j, name in enumerate(feature_names):
            rule, sources = explain.ENGINEERED_SOURCES.get(name, (explain.EQUAL, (name,)))
            if rule == explain.EQUAL:
                terms.extend((index[s], j, 1.0 / len(sources)) for s in sources)
            else:
                dynamic.setdefault(tuple(index[s] for s in sources), []).append((j, rule))
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
            dynamic=tuple((members, tuple(rules)) for members, rules in dynamic.items()),
            unit_order=unit_order,
            unit_starts=np.searchsorted(field_unit[unit_order], np.arange(len(unit_keys))),
            unit_keys=tuple(unit_keys), unit_fields=unit_fields, unit_labels=unit_labels,
            unit_banned=np.array([any(fields[i] in protected for i in members)
                                  for members in unit_fields], dtype=bool),
            unit_age=np.array([any(fields[i] == explain.AGE_FIELD for i in members)
                               for members in unit_fields], dtype=bool),
            labels=labels, medians=medians)

    def field_contributions(self, phi: np.ndarray, values: FieldValues) -> np.ndarray:
        """[N, n_fields]: each feature's contribution split onto its fields (row sums kept)."""
        terms = phi[:, self.term_features] * self.term_weights
        out: np.ndarray = np.add.reduceat(terms, self.field_starts, axis=1)
        for members, features in self.dynamic:  # the source values read once
            sources = values.numbers([self.fields[i] for i in members])
            shares = _shares([rule for _, rule in features], sources)
            total = out[:, list(members)]
            for (j, _), share in zip(features, shares, strict=True):  # in feature order
                total += phi[:, j:j + 1] * share
            out[:, list(members)] = total
        return out


class FieldValues(Protocol):
    """The applicant fields of N rows, read by column."""

    def numbers(self, fields: Sequence[str]) -> np.ndarray:
        """[N, len(fields)] float64: the fields' numbers, NaN where missing or not a
        number."""

    def values(self, field: str, rows: Sequence[int]) -> list[Any]:
        """The field's values in ``rows`` as a validated application holds them: int,
        float or str, None where missing."""


class MappingValues:
    """FieldValues over applications held as mappings (validated requests, golden rows)."""

    def __init__(self, apps: Sequence[Mapping[str, Any]]) -> None:
        self.apps = apps

    def numbers(self, fields: Sequence[str]) -> np.ndarray:
        return np.array([[_number(app.get(f)) for f in fields] for app in self.apps],
                        dtype=np.float64).reshape(len(self.apps), len(fields))

    def values(self, field: str, rows: Sequence[int]) -> list[Any]:
        return [self.apps[row].get(field) for row in rows]


def _median(entry: Mapping[str, Any]) -> float | None:
    value = (entry.get("observed") or {}).get("median")
    return float(value) if isinstance(value, int | float) else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _shares(rules: Sequence[str], values: np.ndarray) -> np.ndarray:
    """[R, N, S]: per rule, weights summing to 1 per row: how one contribution splits over
    the S sources whose values [N, S] are given."""
    missing = np.isnan(values)
    present = ~missing
    masks = np.empty((len(rules), *values.shape), dtype=bool)
    for mask, rule in zip(masks, rules, strict=True):
        if rule in (explain.PRESENT, explain.MISSING):
            mask[:] = present if rule == explain.PRESENT else missing
        elif rule in (explain.ARGMIN, explain.ARGMAX):
            filled = np.where(missing, np.inf, values if rule == explain.ARGMIN else -values)
            np.equal(np.arange(values.shape[1]), np.argmin(filled, axis=1)[:, None], out=mask)
            mask &= present
        else:
            raise ValueError(f"unknown attribution rule {rule!r}")
    count = masks.sum(axis=2, keepdims=True)
    # Nothing qualifies: equal shares.
    shares: np.ndarray = np.where(count > 0, masks / np.maximum(count, 1), 1.0 / values.shape[1])
    return shares


def _attribute(phi: np.ndarray, values: FieldValues,
               plan: ReasonPlan) -> tuple[np.ndarray, np.ndarray]:
    """([N, n_fields], [N, n_units]): the feature contributions split onto fields, and
    summed per reason unit."""
    by_field = plan.field_contributions(phi, values)
    by_unit = np.add.reduceat(by_field[:, plan.unit_order], plan.unit_starts, axis=1)
    return by_field, by_unit


def group_contributions(contributions: np.ndarray, apps: Sequence[Mapping[str, Any]],
                        plan: ReasonPlan) -> np.ndarray:
    """[N, n_units]: every reason unit's exact contribution per row (the value a reason for
    that unit carries), named by plan.unit_keys / unit_labels / unit_fields. A row's units
    sum to its feature contributions' sum (the margin minus the expected value, last column
    of ``contributions`` [N, F+1]), protected units included."""
    return _attribute(contributions[:, :-1], MappingValues(apps), plan)[1]


@dataclass(frozen=True)
class ReasonColumns:
    """Up to k reasons per row as [N, k] columns, slot i the row's (i+1)-th reason; a row
    with fewer reasons has unit -1, contribution 0.0, field set -1 and statement None in
    the slots it does not fill."""

    unit: np.ndarray              # [N, k] int: the reason unit (plan.unit_keys)
    contribution: np.ndarray      # [N, k] float64: its exact contribution (log-odds)
    field_set: np.ndarray         # [N, k] int: index into field_sets
    field_sets: list[tuple[str, ...]]  # the applicant fields a reason names
    statement: np.ndarray         # [N, k] object: the plain-language statement
    base_log_odds: np.ndarray     # [N] the explainer's expected value
    other_log_odds: np.ndarray    # [N] every contribution not listed

    @classmethod
    def empty(cls, k: int) -> ReasonColumns:
        """The columns of no rows."""
        return cls(unit=np.full((0, k), -1), contribution=np.zeros((0, k)),
                   field_set=np.full((0, k), -1), field_sets=[],
                   statement=np.full((0, k), None, dtype=object),
                   base_log_odds=np.zeros(0), other_log_odds=np.zeros(0))

    @property
    def direction(self) -> np.ndarray:
        """[N, k] object: each reason's direction (increases_risk when its contribution is
        positive), None in the slots without a reason."""
        out = np.where(self.contribution > 0, INCREASES, DECREASES).astype(object)
        out[self.unit < 0] = None
        return out


def reason_columns(contributions: np.ndarray, values: FieldValues, declined: np.ndarray,
                   plan: ReasonPlan, k: int) -> ReasonColumns:
    """Up to k reasons for each row, as columns. ``contributions`` is [N, F+1] (TreeSHAP,
    last column the expected value), ``declined`` [N] bool. A row's reasons do not depend
    on the other rows."""
    phi = contributions[:, :-1]
    by_field, by_unit = _attribute(phi, values, plan)
    elderly = explain.elderly(values.numbers([explain.AGE_FIELD])[:, 0])
    unit, contribution = _choose(by_unit, declined, elderly, plan, k)
    shown = np.array([math.fsum(row) for row in contribution.tolist()], dtype=np.float64)
    field_set, field_sets, statement = _describe(unit, contribution, by_field, values, plan)
    return ReasonColumns(unit=unit, contribution=contribution, field_set=field_set,
                         field_sets=field_sets, statement=statement,
                         base_log_odds=contributions[:, -1].copy(),
                         other_log_odds=phi.sum(axis=1) - shown)


def _choose(by_unit: np.ndarray, declined: np.ndarray, elderly: np.ndarray,
            plan: ReasonPlan, k: int) -> tuple[np.ndarray, np.ndarray]:
    """([N, k] units, [N, k] contributions): risk-raising units for a decline, risk-lowering
    ones for an approval, by |contribution| (ties: unit order); never banned, never age
    for 62+."""
    allowed = (np.where(declined[:, None], by_unit, -by_unit) > 0) & ~plan.unit_banned
    if elderly.any():
        allowed &= ~(elderly[:, None] & plan.unit_age & (by_unit > 0))
    key = np.where(allowed, -np.abs(by_unit), np.inf)
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(by_unit))[:, None]
    listed = allowed[rows, order]
    return np.where(listed, order, -1), np.where(listed, by_unit[rows, order], 0.0)


def _describe(unit: np.ndarray, contribution: np.ndarray, by_field: np.ndarray,
              values: FieldValues, plan: ReasonPlan
              ) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
    """Each listed reason's field set and statement. A group names its fields with a
    non-zero contribution (all of them when none has one); a reason naming one field reads
    its value, a group's statement only its label and direction."""
    n, k = unit.shape
    by_unit: dict[int, list[int]] = {}  # unit -> the flat slots listing it
    for slot, u in enumerate(unit.ravel().tolist()):
        if u >= 0:
            by_unit.setdefault(u, []).append(slot)
    raises = (contribution.ravel() > 0).tolist()
    field_set = [-1] * (n * k)
    statement: list[str | None] = [None] * (n * k)
    field_sets: list[tuple[str, ...]] = []
    known: dict[tuple[int, ...], int] = {}  # field indices -> index in field_sets
    alone: dict[int, list[int]] = {}  # field -> the slots of reasons naming only it
    for u, slots in by_unit.items():
        members = plan.unit_fields[u]
        named: list[tuple[int, ...]]
        if len(members) == 1:
            named = [members] * len(slots)
        else:
            nonzero = by_field[np.ix_([s // k for s in slots], members)] != 0.0
            named = [tuple(i for i, on in zip(members, row, strict=True) if on) or members
                     for row in nonzero.tolist()]
            texts = [explain.group_statement(plan.unit_labels[u], up) for up in (False, True)]
        for slot, fields in zip(slots, named, strict=True):
            index = known.get(fields)
            if index is None:
                index = known[fields] = len(field_sets)
                field_sets.append(tuple(plan.fields[i] for i in fields))
            field_set[slot] = index
            if len(fields) == 1:
                alone.setdefault(fields[0], []).append(slot)
            else:
                statement[slot] = texts[raises[slot]]
    for i, slots in alone.items():
        for slot, text in zip(slots, _field_statements(
                plan, i, values, [s // k for s in slots], [raises[s] for s in slots]),
                strict=True):
            statement[slot] = text
    return (np.array(field_set, dtype=np.intp).reshape(n, k), field_sets,
            np.array(statement, dtype=object).reshape(n, k))


def _field_statements(plan: ReasonPlan, i: int, values: FieldValues, rows: list[int],
                      raises: list[bool]) -> list[str]:
    """One field's statements for ``rows`` (each text built once per value and direction)."""
    name, label, median = plan.fields[i], plan.labels[i], plan.medians[i]
    texts: dict[tuple[Any, bool], str] = {}
    out = []
    for value, up in zip(values.values(name, rows), raises, strict=True):
        key = (value, up)
        text = texts.get(key)
        if text is None:
            text = texts[key] = explain.statement(name, label, value, median, up)
        out.append(text)
    return out


def reasons_for_rows(
    contributions: np.ndarray,
    apps: Sequence[Mapping[str, Any]],
    declined: Sequence[bool],
    plan: ReasonPlan,
    k: int,
) -> list[Explained]:
    """Per row: ``reasons`` (at most k), ``base_log_odds`` and ``other_log_odds``: the
    reason_columns of ``apps`` as one response object per row, each reason with the values
    of its fields. ``contributions`` is [N, F+1] (TreeSHAP, last column the expected
    value)."""
    table = reason_columns(contributions, MappingValues(apps), np.asarray(declined, dtype=bool),
                           plan, k)
    direction = table.direction
    out: list[Explained] = []
    for row, app in enumerate(apps):
        listed: list[ReasonBody] = []
        for slot in range(k):
            if table.unit[row, slot] < 0:
                break
            names = table.field_sets[table.field_set[row, slot]]
            listed.append({
                "fields": list(names),
                "values": {name: app.get(name) for name in names},
                "contribution": float(table.contribution[row, slot]),
                "direction": direction[row, slot],
                "statement": table.statement[row, slot],
            })
        out.append({"reasons": listed, "base_log_odds": float(table.base_log_odds[row]),
                    "other_log_odds": float(table.other_log_odds[row])})
    return out


__all__ = ["DECREASES", "INCREASES", "Direction", "Explained", "FieldValues", "MappingValues",
           "ReasonBody", "ReasonColumns", "ReasonPlan", "group_contributions", "reason_columns",
           "reasons_for_rows"]
