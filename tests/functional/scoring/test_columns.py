"""Hypothesis: the columnar validator (a CSV through portfolio.read and scoring.columns) and
/predict (the JSON body through the Lambda handler) accept and reject the same rows, with
the same error items; the rows both accept get the same score.

Strategies come from contract.schema (kinds, bounds, vocabularies, nullability). Each cell
is drawn as a pair: the CSV text and the JSON token it stands for (an empty cell is null;
a number literal is that number; other text is a string; ``NaN``/``inf``/``1e400`` are the
non-finite numbers JSON spells ``NaN``/``Infinity``/``1e400``). Rows may break any number
of fields at once. Reproducible: derandomize=True, no example database.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contract import schema
from portfolio.chunk import score_chunk
from portfolio.read import _NUMBER, open_book
from scoring.config import DEFAULT_REASONS
from scoring.model import Bundle, load_bundle
from tests.functional.portfolio.conftest import write_csv

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
Cell = tuple[str | None, str]  # (CSV text or None for an empty cell, JSON token)
NULL: Cell = (None, "null")
REASONS = DEFAULT_REASONS  # asked of both paths


@pytest.fixture(scope="module")
def bundle(trained_bundle: Path) -> Bundle:
    return load_bundle(trained_bundle)


@pytest.fixture(scope="module")
def post(handler: Any) -> Any:
    """post(path, body, k=0) -> (status, JSON body), through the production Lambda handler,
    asking for k reasons."""
    from infra.lambda_events import FakeLambdaContext, http_api_event, response_json

    def call(path: str, body: str, k: int = 0) -> tuple[int, Any]:
        response = handler(http_api_event("POST", path, body=body, query={"reasons": str(k)}),
                           FakeLambdaContext())
        return response["statusCode"], response_json(response)

    return call


def _number(x: float | int) -> Cell:
    text = repr(x) if isinstance(x, float) else str(x)
    return text, text


def _text(s: str) -> Cell:
    return s, json.dumps(s)


def _valid(field: schema.Field) -> st.SearchStrategy[Cell]:
    if field.kind == "category":
        return st.sampled_from(field.categories).map(_text)
    low = None if field.minimum is None else math.ceil(field.minimum)
    high = None if field.maximum is None else math.floor(field.maximum)
    integers = st.integers(min_value=low, max_value=high)
    if field.kind == "integer":
        return st.one_of(integers.map(_number), integers.map(lambda i: _number(float(i))))
    floats = st.floats(min_value=field.minimum, max_value=field.maximum, allow_nan=False,
                       allow_infinity=False)
    return st.one_of(floats.map(_number), integers.map(_number))


_WORDS = st.text(st.characters(categories=["L", "Zs"]), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and not _NUMBER.fullmatch(s))
#: Text that parsers other than the literal's grammar might read as a number (pyarrow's
#: integer cast reads hex; its CSV reader trims spaces).
_NEAR_NUMBERS = ["0x10", "0X1F", " 1", "1 ", "1_000", "NAN", "INF", "Nan", "1e", ".", "-"]


def _invalid(field: schema.Field) -> st.SearchStrategy[Cell]:
    options: list[st.SearchStrategy[Cell]] = []
    if not field.nullable:
        options.append(st.just(NULL))
    if field.kind == "category":
        options += [_WORDS.filter(lambda s: s not in field.categories).map(_text),
                    st.integers(-5, 5).map(lambda i: (str(i), str(i)))]
        return st.one_of(options)
    options += [
        _WORDS.map(_text),
        st.sampled_from(_NEAR_NUMBERS).map(_text),
        st.sampled_from([("true", "true"), ("false", "false")]),
        st.sampled_from([("NaN", "NaN"), ("inf", "Infinity"), ("-inf", "-Infinity"),
                         ("1e400", "1e400"), ("-1e400", "-1e400")]),
    ]
    if field.minimum is not None:
        below = (st.integers(max_value=math.ceil(field.minimum) - 1) if field.kind == "integer"
                 else st.floats(max_value=field.minimum, exclude_max=True, allow_nan=False,
                                allow_infinity=False))
        options.append(below.map(_number))
    if field.maximum is not None:
        above = (st.integers(min_value=math.floor(field.maximum) + 1,
                             max_value=2**62) if field.kind == "integer"
                 else st.floats(min_value=field.maximum, exclude_min=True, allow_nan=False,
                                allow_infinity=False))
        options.append(above.map(_number))
    if field.kind == "integer":
        low = field.minimum if field.minimum is not None else -1e6
        high = field.maximum if field.maximum is not None else 1e6
        options.append(st.floats(min_value=low, max_value=high, allow_nan=False)
                       .filter(lambda x: not x.is_integer()).map(_number))
    return st.one_of(options)


@st.composite
def rows(draw: st.DrawFn) -> list[Cell]:
    """One row: every field valid (nullable ones sometimes empty), then a few broken."""
    cells = []
    for field in schema.FIELDS:
        valid = _valid(field)
        cells.append(draw(st.one_of(st.just(NULL), valid) if field.nullable else valid))
    broken = draw(st.lists(st.integers(0, len(schema.FIELDS) - 1), max_size=4, unique=True))
    for i in broken:
        cells[i] = draw(_invalid(schema.FIELDS[i]))
    return cells


def _body(row: list[Cell]) -> str:
    return "{" + ",".join(f"{json.dumps(f.name)}:{token}"
                          for f, (_, token) in zip(schema.FIELDS, row, strict=True)) + "}"


@SETTINGS
@given(book=st.lists(rows(), min_size=1, max_size=5))
def test_columnar_validation_agrees_with_predict(bundle, post, tmp_path_factory, book):
    """Same rejects with the same items; for accepted rows the same score, decision and
    reasons (the chunk's flat reason columns against /predict's reasons)."""
    path = write_csv(tmp_path_factory.mktemp("csv") / "rows.csv",
                     [f.name for f in schema.FIELDS], [[text for text, _ in r] for r in book])
    table = pa.concat_tables(list(open_book(str(path)).chunks()))
    result = score_chunk(bundle, table, REASONS, first_row=0)
    rejects = {r["row"]: r["errors"] for r in result.rejects}
    scored = iter(result.table.to_pylist())
    for i, row in enumerate(book):
        status, body = post("/predict", _body(row), REASONS)
        event("accepted" if status == 200 else "rejected")
        if status == 200:
            assert i not in rejects, (rejects[i], row)
            out = next(scored)
            assert out["SK_ID_CURR"] == body["client_id"]
            assert out["probability_default"] == pytest.approx(body["probability_default"],
                                                               rel=1e-14, abs=0)
            assert out["decision"] == body["decision"]
            _assert_same_reasons(out, body)
        else:
            assert status == 422, body
            assert rejects.get(i) == body["detail"], row
    assert next(scored, None) is None


def _assert_same_reasons(out: dict[str, Any], body: dict[str, Any]) -> None:
    reasons = body["reasons"]
    event(f"{len(reasons)} reasons")
    for i in range(1, REASONS + 1):
        want = reasons[i - 1] if i <= len(reasons) else None
        assert out[f"reason_{i}_fields"] == (",".join(want["fields"]) if want else None)
        assert out[f"reason_{i}_statement"] == (want["statement"] if want else None)
        assert out[f"reason_{i}_direction"] == (want["direction"] if want else None)
        if want:
            assert out[f"reason_{i}_contribution"] == pytest.approx(
                want["contribution"], rel=1e-12, abs=1e-15)
        else:
            assert out[f"reason_{i}_contribution"] is None
    assert out["base_log_odds"] == body["base_log_odds"]
    assert out["other_log_odds"] == pytest.approx(body["other_log_odds"], rel=1e-12, abs=1e-12)


def test_missing_nullable_columns_are_null_and_required_ones_refuse_the_file(
        bundle, post, tmp_path: Path):
    """An absent nullable column is a missing value (as an omitted JSON key); an absent
    required column refuses the whole file, naming it."""
    from portfolio.read import BookError
    from scoring.model import prime_application

    app = prime_application()
    kept = [f for f in schema.FIELDS if not f.nullable]
    path = write_csv(tmp_path / "required.csv", [f.name for f in kept],
                     [[str(app[f.name]) for f in kept]])
    table = next(open_book(str(path)).chunks())
    result = score_chunk(bundle, table, 0, first_row=0)
    status, body = post("/predict", json.dumps({f.name: app[f.name] for f in kept}))
    assert status == 200
    assert result.table.column("probability_default").to_pylist() == \
        [pytest.approx(body["probability_default"], rel=1e-14, abs=0)]
    drop = write_csv(tmp_path / "no_credit.csv", [f.name for f in kept if f.name != "AMT_CREDIT"],
                     [[str(app[f.name]) for f in kept if f.name != "AMT_CREDIT"]])
    with pytest.raises(BookError, match="lacks required column\\(s\\) AMT_CREDIT"):
        open_book(str(drop))


def test_a_category_text_is_compared_whole(bundle, post, tmp_path: Path):
    """A category cell is the text as sent, trailing NUL characters included: /predict
    rejects "Cash loans\\x00" as an unknown category, and so does the file's validator."""
    from scoring.model import prime_application

    app: dict[str, Any] = prime_application()
    sent = ["Cash loans", "Cash loans\x00", "Revolving loans\x00\x00"]
    rows = [[None if app[f.name] is None else str(app[f.name]) for f in schema.FIELDS]
            for _ in sent]
    column = [f.name for f in schema.FIELDS].index("NAME_CONTRACT_TYPE")
    for row, text in zip(rows, sent, strict=True):
        row[column] = text
    path = write_csv(tmp_path / "nul.csv", [f.name for f in schema.FIELDS], rows)
    result = score_chunk(bundle, next(open_book(str(path)).chunks()), 0, first_row=0)
    rejects = {r["row"]: r["errors"] for r in result.rejects}
    assert sorted(rejects) == [1, 2]
    for i, text in enumerate(sent[1:], start=1):
        status, body = post("/predict", json.dumps({**app, "NAME_CONTRACT_TYPE": text}))
        assert status == 422
        assert rejects[i] == body["detail"]


def test_parquet_types_follow_the_same_rules(bundle, post, tmp_path: Path):
    """Typed Parquet columns: a boolean or a text column in a numeric field is not a number,
    an integer column in a category field is not a category, a NaN (not null) is not
    finite; the same words as /predict for the same values."""
    import pyarrow.parquet as pq

    from scoring.model import prime_application

    app: dict[str, Any] = prime_application()
    columns = {f.name: [app[f.name]] * 4 for f in schema.FIELDS}
    columns["SK_ID_CURR"] = [1, 2, 3, 4]
    table = pa.table(columns)
    table = table.set_column(table.schema.get_field_index("FLAG_MOBIL"), "FLAG_MOBIL",
                             pa.array([True, False, None, True]))
    table = table.set_column(table.schema.get_field_index("AMT_CREDIT"), "AMT_CREDIT",
                             pa.array(["5", "x", "1e400", None]))
    table = table.set_column(table.schema.get_field_index("NAME_CONTRACT_TYPE"),
                             "NAME_CONTRACT_TYPE", pa.array([1, 2, 3, 4]))
    table = table.set_column(table.schema.get_field_index("AMT_ANNUITY"), "AMT_ANNUITY",
                             pa.array([float("nan"), 1.0, None, 2.0]))
    pq.write_table(table, tmp_path / "typed.parquet")
    result = score_chunk(bundle, next(open_book(str(tmp_path / "typed.parquet")).chunks()), 0,
                         first_row=0, text_numbers=False)
    rejects = {r["row"]: r["errors"] for r in result.rejects}
    tokens = {"FLAG_MOBIL": ["true", "false", "null", "true"],
              "AMT_CREDIT": ['"5"', '"x"', '"1e400"', "null"],
              "NAME_CONTRACT_TYPE": ["1", "2", "3", "4"],
              "AMT_ANNUITY": ["NaN", "1.0", "null", "2.0"]}
    for i in range(4):
        body = json.dumps({**app, "SK_ID_CURR": i + 1, **dict.fromkeys(tokens, "@")})
        for name, values in tokens.items():
            body = body.replace(f'"{name}": "@"', f'"{name}": {values[i]}')
        status, answer = post("/predict", body)
        assert status == 422
        assert rejects[i] == answer["detail"]


def test_a_chunk_with_every_row_rejected_keeps_the_reason_columns(bundle, tmp_path: Path):
    """No scored row: an empty table with the full layout (reason columns included) and one
    reject per row."""
    from portfolio.chunk import output_schema
    from scoring.model import prime_application

    app: dict[str, Any] = prime_application()
    rows = [[None if app[f.name] is None else str(app[f.name]) for f in schema.FIELDS]
            for _ in range(3)]
    credit = [f.name for f in schema.FIELDS].index("AMT_CREDIT")
    for row in rows:
        row[credit] = "a lot"
    path = write_csv(tmp_path / "rejected.csv", [f.name for f in schema.FIELDS], rows)
    table = next(open_book(str(path)).chunks())
    result = score_chunk(bundle, table, REASONS, first_row=10)
    assert result.table.num_rows == 0
    assert result.table.schema == output_schema(REASONS)
    assert "reason_4_statement" in result.table.column_names
    assert [r["row"] for r in result.rejects] == [10, 11, 12]
