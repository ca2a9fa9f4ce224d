"""One chunk of a book: validate (scoring.columns), score (the bundle /predict uses) and lay
out the output table, the rejects and the chunk's counts.

Output columns, per scored row, in input order::

    SK_ID_CURR, probability_default, decision, threshold, model_version
    # with k reasons (k >= 1), for i = 1..k (empty when a row has fewer reasons):
    reason_<i>_fields         the applicant fields, comma-separated
    reason_<i>_statement      the plain-language statement
    reason_<i>_contribution   the exact TreeSHAP contribution (log-odds)
    reason_<i>_direction      increases_risk / decreases_risk
    base_log_odds, other_log_odds

A rejected row is a JSON line ``{"row": <0-based row in the file>, "SK_ID_CURR": <id or
null>, "errors": [<the detail items /predict answers for it>]}``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contract import explain, schema
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from contract.reasons import ReasonColumns
from portfolio.read import table_cells
from scoring.columns import score_inputs, validate
from scoring.model import Bundle

_AGE = schema.NUMERIC_FIELDS.index(explain.AGE_FIELD)


@dataclass
class ChunkStats:
    """Counts of one chunk (or of a whole run, summed)."""

    rows: int = 0
    scored: int = 0
    rejected: int = 0
    declines: int = 0
    #: attribute -> group -> [applicants, declines] (contract.explain.fairness_groups)
    groups: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def add(self, other: ChunkStats) -> None:
        self.rows += other.rows
        self.scored += other.scored
        self.rejected += other.rejected
        self.declines += other.declines
        for attribute, groups in other.groups.items():
            mine = self.groups.setdefault(attribute, {})
            for group, (n, d) in groups.items():
                count = mine.setdefault(group, [0, 0])
                count[0] += n
                count[1] += d

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "scored": self.scored, "rejected": self.rejected,
                "declines": self.declines, "groups": self.groups}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkStats:
        return cls(int(data["rows"]), int(data["scored"]), int(data["rejected"]),
                   int(data["declines"]), {a: {g: list(c) for g, c in gs.items()}
                                           for a, gs in data["groups"].items()})


@dataclass
class ChunkResult:
    table: pa.Table
    rejects: list[dict[str, Any]]
    stats: ChunkStats


def output_schema(k: int) -> pa.Schema:
    """The output table's columns with ``k`` reasons."""
    columns = [pa.field(schema.ID_FIELD, pa.int64()), pa.field("probability_default", pa.float64()),
               pa.field("decision", pa.string()), pa.field("threshold", pa.float64()),
               pa.field("model_version", pa.string())]
    for i in range(1, k + 1):
        columns += [pa.field(f"reason_{i}_fields", pa.string()),
                    pa.field(f"reason_{i}_statement", pa.string()),
                    pa.field(f"reason_{i}_contribution", pa.float64()),
                    pa.field(f"reason_{i}_direction", pa.string())]
    if k > 0:
        columns += [pa.field("base_log_odds", pa.float64()),
                    pa.field("other_log_odds", pa.float64())]
    return pa.schema(columns)


def score_chunk(bundle: Bundle, table: pa.Table, k: int, first_row: int,
                text_numbers: bool = True) -> ChunkResult:
    """Validate, score and lay out one chunk whose first row is ``first_row`` of the file.
    ``text_numbers``: the table comes from a CSV (portfolio.read.table_cells)."""
    n = table.num_rows
    checked = validate(table_cells(table, text_numbers), n)
    scored = score_inputs(bundle, checked.inputs, k)
    valid_rows = np.flatnonzero(checked.valid)
    ids = checked.ids[valid_rows]
    m = len(valid_rows)
    columns: dict[str, Any] = {
        schema.ID_FIELD: pa.array(ids.tolist(), pa.int64()),
        "probability_default": pa.array(scored.probability, pa.float64()),
        "decision": pc.if_else(pa.array(scored.declined, pa.bool_()), "decline", "approve")
        .cast(pa.string()),
        "threshold": pa.array(np.full(m, bundle.threshold), pa.float64()),
        "model_version": pa.repeat(pa.scalar(bundle.version, pa.string()), m),
    }
    if scored.reasons is not None:
        columns.update(_reason_columns(scored.reasons, k))
    out = pa.Table.from_pydict(columns, schema=output_schema(k))
    rejects = [{"row": first_row + row, schema.ID_FIELD: checked.ids[row], "errors": errors}
               for row, errors in sorted(checked.errors.items())]
    stats = ChunkStats(rows=n, scored=m, rejected=n - m, declines=int(scored.declined.sum()),
                       groups=_group_counts(checked.inputs, scored.declined))
    return ChunkResult(out, rejects, stats)


def _reason_columns(reasons: ReasonColumns, k: int) -> dict[str, Any]:
    """The flat reason columns (module docstring) of the scored rows."""
    joined = np.array([",".join(names) for names in reasons.field_sets] + [None], dtype=object)
    out: dict[str, Any] = {}
    direction = reasons.direction
    for i in range(k):
        out[f"reason_{i + 1}_fields"] = pa.array(joined[reasons.field_set[:, i]], pa.string())
        out[f"reason_{i + 1}_statement"] = pa.array(reasons.statement[:, i], pa.string())
        out[f"reason_{i + 1}_contribution"] = pa.array(reasons.contribution[:, i], pa.float64(),
                                                       mask=reasons.unit[:, i] < 0)
        out[f"reason_{i + 1}_direction"] = pa.array(direction[:, i], pa.string())
    out["base_log_odds"] = pa.array(reasons.base_log_odds, pa.float64())
    out["other_log_odds"] = pa.array(reasons.other_log_odds, pa.float64())
    return out


def _group_counts(inputs: dict[str, np.ndarray], declined: np.ndarray
                  ) -> dict[str, dict[str, list[int]]]:
    """attribute -> group -> [applicants, declines] of the scored rows."""
    categorical = inputs[CATEGORICAL_INPUT]

    def category(name: str) -> np.ndarray:
        values = categorical[:, schema.CATEGORICAL_FIELDS.index(name)].copy()
        values[values == schema.MISSING_CATEGORY] = None
        return values

    groups = explain.fairness_groups(category, inputs[NUMERIC_INPUT][:, _AGE])
    out: dict[str, dict[str, list[int]]] = {}
    for attribute, labels in groups.items():
        applicants = Counter(labels.tolist())
        declines = Counter(labels[declined].tolist())
        out[attribute] = {str(g): [int(applicants[g]), int(declines[g])]
                          for g in sorted(applicants, key=str)}
    return out
