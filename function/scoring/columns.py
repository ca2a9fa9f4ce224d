"""Columnar validation and scoring: whole columns checked with /predict's rules, then scored
through the same bundle calls as :func:`scoring.service.score`.

The portfolio re-scoring command (``python -m portfolio``) and the batch Lambda read a file
into :class:`Cells` per field (numpy arrays, no pandas or pyarrow here) and call
:func:`validate`; every rule and every message comes from contract.schema and from the words
/predict uses (scoring.request), so a row is accepted here iff /predict accepts the same
application, and rejected with the same ``detail`` items (a property test checks both).

A file has no JSON types, so a cell is one of: a number, null (an empty cell: the field is
missing), text that is not a number, or a boolean. An integral number is an integer, as
``2.0`` is in JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from contract import schema
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from contract.reasons import ReasonColumns, reason_columns
from scoring.model import Bundle

#: Cell states of a numeric field's column.
NUMBER: Final = 0
NULL: Final = 1
NOT_A_NUMBER: Final = 2  # text or a boolean

# Error codes of a field per row (0 = valid).
_OK, _TYPE, _NOT_FINITE, _LOW, _HIGH, _CATEGORY = range(6)


@dataclass(frozen=True)
class Cells:
    """One field's column: ``values`` (int64/float64 for numeric fields, any dtype where
    ``state`` is not NUMBER; for categories either a str array with ``state`` marking NULL
    cells, or an object array of str/None/other values) and, for numeric fields, ``state``
    [N] (NUMBER, NULL or NOT_A_NUMBER). A category column may instead come dictionary-coded:
    ``dictionary`` its distinct texts (object array of str), ``values`` [N] integer codes
    into it and ``state`` marking the NULL cells (whose codes are ignored)."""

    values: np.ndarray
    state: np.ndarray | None = None
    dictionary: np.ndarray | None = None


@dataclass(frozen=True)
class Validated:
    """The outcome of :func:`validate` over N rows."""

    valid: np.ndarray                        # [N] bool
    errors: dict[int, list[dict[str, Any]]]  # row -> /predict's detail items, in field order
    ids: np.ndarray                          # [N] object: SK_ID_CURR as int, None if unusable
    inputs: dict[str, np.ndarray]            # graph inputs of the valid rows, in row order


class MissingColumns(ValueError):
    """Required fields absent from the file's columns (the whole file is refused)."""

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__("the input lacks required column(s): " + ", ".join(missing))
        self.missing = list(missing)


def missing_columns(columns: Sequence[str]) -> list[str]:
    """The required (non-nullable) fields not among ``columns``, in schema order."""
    present = set(columns)
    return [f.name for f in schema.FIELDS if not f.nullable and f.name not in present]


def _bound(value: float) -> str:
    """A bound as pydantic prints it (``0``, ``9007199254740992``, ``0.5``)."""
    return str(int(value)) if isinstance(value, int) else str(value)


def _messages(field: schema.Field) -> dict[int, dict[str, Any]]:
    """The detail item of each error code for ``field`` (scoring.request's words)."""

    def item(msg: str, type_: str) -> dict[str, Any]:
        return {"loc": [field.name], "field": field.name, "msg": msg, "type": type_}

    if field.kind == "category":
        out = item(f"unknown category for {field.name}; allowed: {list(field.categories)}",
                   "unknown_category")
        out["allowed"] = list(field.categories)
        return {_CATEGORY: out}
    messages = {
        _TYPE: item("Input should be a valid integer", "int_type") if field.kind == "integer"
        else item("Input should be a valid number", "float_type"),
        _NOT_FINITE: item("Input should be a finite number", "finite_number"),
    }
    if field.minimum is not None:
        messages[_LOW] = item(f"Input should be greater than or equal to {_bound(field.minimum)}",
                              "greater_than_equal")
    if field.maximum is not None:
        messages[_HIGH] = item(f"Input should be less than or equal to {_bound(field.maximum)}",
                               "less_than_equal")
    return messages


_MESSAGES: Final = {f.name: _messages(f) for f in schema.FIELDS}
_CATEGORY_SETS: Final = {f.name: frozenset(f.categories) for f in schema.FIELDS
                         if f.kind == "category"}
_CATEGORY_ARRAYS: Final = {f.name: np.array(f.categories) for f in schema.FIELDS
                           if f.kind == "category"}


def _numeric_codes(field: schema.Field, cells: Cells) -> np.ndarray:
    """[N] error codes of a numeric field, in pydantic's order: type, integral, finite,
    bounds (a null in a nullable field is valid)."""
    state = cells.state if cells.state is not None else np.zeros(len(cells.values), np.uint8)
    values = cells.values
    number = state == NUMBER
    codes = np.where(state == NOT_A_NUMBER, _TYPE, _OK).astype(np.uint8)
    if not field.nullable:
        codes[state == NULL] = _TYPE
    if values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(values)
            if field.kind == "integer":  # NaN, infinities and fractions are not integers
                codes[number & ~(finite & (np.floor(values) == values))] = _TYPE
            else:
                codes[number & ~finite] = _NOT_FINITE
        checked = number & finite & (codes == _OK)
    else:
        checked = number & (codes == _OK)
    with np.errstate(invalid="ignore"):
        if field.minimum is not None:
            codes[checked & (values < field.minimum)] = _LOW
        if field.maximum is not None:
            codes[checked & (values > field.maximum)] = _HIGH
    return codes


def _category_codes(field: schema.Field, cells: Cells) -> np.ndarray:
    values = cells.values
    if cells.dictionary is not None:  # each distinct text checked once
        allowed = _CATEGORY_SETS[field.name]
        known = np.array([v in allowed for v in cells.dictionary.tolist()] + [False], bool)
        present = cells.state != NULL if cells.state is not None else np.ones(len(values), bool)
        known_rows = known[np.where(present, values, len(cells.dictionary))]
        bad = (present & ~known_rows) if field.nullable else ~known_rows
    elif values.dtype.kind == "U":  # fixed-width text with a null mask: vectorised
        present = cells.state != NULL if cells.state is not None else np.ones(len(values), bool)
        known = np.isin(values, _CATEGORY_ARRAYS[field.name])
        bad = (present & ~known) if field.nullable else ~(present & known)
    else:
        allowed = _CATEGORY_SETS[field.name]
        bad = np.array([not (v in allowed if isinstance(v, str) else v is None and field.nullable)
                        for v in values.tolist()], dtype=bool)
    return np.where(bad, _CATEGORY, _OK).astype(np.uint8)


def _null_cells(n: int, field: schema.Field) -> Cells:
    if field.kind == "category":
        return Cells(np.full(n, None, dtype=object))
    return Cells(np.full(n, np.nan), np.full(n, NULL, dtype=np.uint8))


def validate(columns: Mapping[str, Cells], n: int) -> Validated:
    """Check N rows column by column; a nullable field absent from ``columns`` is null.

    Raises :class:`MissingColumns` when a required field is absent. Columns that are not
    schema fields are the caller's business (they are never read here).
    """
    missing = missing_columns(list(columns))
    if missing:
        raise MissingColumns(missing)
    codes: dict[str, np.ndarray] = {}
    cells: dict[str, Cells] = {}
    for field in schema.FIELDS:
        column = columns.get(field.name) or _null_cells(n, field)
        if len(column.values) != n:
            raise ValueError(f"column {field.name} has {len(column.values)} rows, expected {n}")
        cells[field.name] = column
        codes[field.name] = (_category_codes(field, column) if field.kind == "category"
                             else _numeric_codes(field, column))
    invalid = np.zeros(n, dtype=bool)
    for field_codes in codes.values():
        invalid |= field_codes != _OK
    bad_rows = np.flatnonzero(invalid)
    valid = ~invalid
    # The error matrix of the rejected rows only.
    code_matrix = np.column_stack([codes[f.name][bad_rows] for f in schema.FIELDS])
    errors: dict[int, list[dict[str, Any]]] = {}
    for row, row_codes in zip(bad_rows.tolist(), code_matrix.tolist(), strict=True):
        errors[row] = [dict(_MESSAGES[f.name][code])
                       for f, code in zip(schema.FIELDS, row_codes, strict=True) if code]
    return Validated(valid=valid, errors=errors, ids=_ids(cells[schema.ID_FIELD]),
                     inputs=_encode(cells, valid))


def _ids(cells: Cells) -> np.ndarray:
    """SK_ID_CURR per row as a Python int where it is an integral number, else None."""
    if cells.values.dtype.kind == "i" and (cells.state is None or not cells.state.any()):
        return cells.values.astype(object)  # every cell an integer: Python ints
    values = cells.values.tolist()
    state = cells.state.tolist() if cells.state is not None else [NUMBER] * len(values)
    out = np.full(len(values), None, dtype=object)
    for i, (value, s) in enumerate(zip(values, state, strict=True)):
        if s == NUMBER and isinstance(value, int | float) and math.isfinite(value) \
                and float(value).is_integer():
            out[i] = int(value)
    return out


def _encode(cells: Mapping[str, Cells], valid: np.ndarray) -> dict[str, np.ndarray]:
    """The graph inputs of the valid rows: what scoring.request.encode gives for the same
    applications (float64 with NaN for missing; strings with MISSING_CATEGORY)."""
    rows: slice | np.ndarray = slice(None) if valid.all() else np.flatnonzero(valid)
    count = int(valid.sum())
    # Whole columns stacked in one call (writing them one by one into the row-major matrix
    # strides through memory: measured twice as slow).
    numeric = np.stack([_missing_as_nan(cells[name], rows) for name in schema.NUMERIC_FIELDS],
                       axis=1, dtype=np.float64)
    categorical = np.empty((count, len(schema.CATEGORICAL_FIELDS)), dtype=object)
    for j, name in enumerate(schema.CATEGORICAL_FIELDS):
        column = cells[name]
        values = column.values[rows]
        if column.dictionary is not None:  # the dictionary's str objects, shared by rows
            lookup = np.append(column.dictionary.astype(object), schema.MISSING_CATEGORY)
            if column.state is not None:
                values = np.where(column.state[rows] == NULL, len(column.dictionary), values)
            categorical[:, j] = lookup[values]
        elif values.dtype.kind == "U":
            state = column.state[rows] if column.state is not None else None
            missing = state == NULL if state is not None else np.zeros(count, bool)
            categorical[:, j] = np.where(missing, schema.MISSING_CATEGORY, values).tolist()
        else:
            # numpy's stubs reject None as an operand; an object array compares element-wise.
            missing = np.equal(values, None)  # type: ignore[call-overload]
            categorical[:, j] = np.where(missing, schema.MISSING_CATEGORY, values)
    return {NUMERIC_INPUT: numeric, CATEGORICAL_INPUT: categorical}


def _missing_as_nan(column: Cells, rows: slice | np.ndarray) -> np.ndarray:
    """A numeric field's values in ``rows``, NaN where the cell is NULL."""
    values = column.values[rows]
    if column.state is None:
        return values
    null = column.state[rows] == NULL
    return np.where(null, np.nan, values) if null.any() else values


# ---------------------------------------------------------------------------------- scoring
#: field -> (numeric?, column in its matrix, integer?)
_WHERE: Final = {
    **{name: (True, j, schema.FIELDS_BY_NAME[name].kind == "integer")
       for j, name in enumerate(schema.NUMERIC_FIELDS)},
    **{name: (False, j, False) for j, name in enumerate(schema.CATEGORICAL_FIELDS)},
}


class EncodedValues:
    """contract.reasons.FieldValues over encoded rows (the graph inputs): ints for integer
    fields, floats for numbers, strings for categories, None for missing, as the validated
    application /predict holds them."""

    def __init__(self, inputs: dict[str, np.ndarray]) -> None:
        self._numeric, self._categorical = inputs[NUMERIC_INPUT], inputs[CATEGORICAL_INPUT]

    def numbers(self, fields: Sequence[str]) -> np.ndarray:
        out = np.full((len(self._numeric), len(fields)), np.nan)
        for s, field in enumerate(fields):
            numeric, j, _ = _WHERE[field]
            if numeric:
                out[:, s] = self._numeric[:, j]
        return out

    def values(self, field: str, rows: Sequence[int]) -> list[Any]:
        numeric, j, integer = _WHERE[field]
        if not numeric:
            return [None if text == schema.MISSING_CATEGORY else text
                    for text in self._categorical[rows, j].tolist()]
        numbers = self._numeric[rows, j].tolist()
        if integer:
            return [None if v != v else int(v) for v in numbers]
        return [None if v != v else v for v in numbers]


@dataclass(frozen=True)
class Scored:
    """Scores of encoded rows: what /predict/batch returns for them, as columns."""

    probability: np.ndarray    # [N] float64
    declined: np.ndarray       # [N] bool: probability >= threshold
    reasons: ReasonColumns | None  # None when no reasons were asked (k = 0)


def score_inputs(bundle: Bundle, inputs: dict[str, np.ndarray], k: int) -> Scored:
    """Score encoded rows with up to k reasons each: the calls scoring.service.score makes
    (graph, explainer, contract.reasons), without building a response dict per row."""
    n = len(inputs[NUMERIC_INPUT])
    if n == 0:
        return Scored(np.zeros(0), np.zeros(0, dtype=bool), ReasonColumns.empty(k) if k else None)
    probability, features = bundle.predict(inputs, with_features=k > 0)
    probability = np.asarray(probability, dtype=np.float64)
    declined = probability >= bundle.threshold
    reasons = None
    if k > 0 and features is not None:
        reasons = reason_columns(bundle.explain(features), EncodedValues(inputs), declined,
                                 bundle.plan, k)
    return Scored(probability, declined, reasons)
