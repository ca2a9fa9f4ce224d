"""portfolio.read: what a cell of a CSV or Parquet book becomes, chunking, refused files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contract import schema
from portfolio.read import BookError, book_format, open_book, table_cells
from scoring.columns import NOT_A_NUMBER, NULL, NUMBER
from scoring.model import prime_application
from tests.functional.portfolio.conftest import write_csv

HEADER = [f.name for f in schema.FIELDS]


def _rows(n: int, **cells: list[str | None]) -> list[list[str | None]]:
    app = prime_application()
    rows = []
    for i in range(n):
        row = {f.name: (None if app[f.name] is None else str(app[f.name])) for f in schema.FIELDS}
        row[schema.ID_FIELD] = str(100_000 + i)
        row.update({name: values[i] for name, values in cells.items()})
        rows.append([row[name] for name in HEADER])
    return rows


def test_csv_cells_are_numbers_null_or_text(tmp_path: Path):
    path = write_csv(tmp_path / "b.csv", HEADER, _rows(
        5, AMT_CREDIT=["1.5", None, "abc", "NaN", "1e400"],
        CNT_CHILDREN=["2", "2.0", "two", None, "99999999999999999999"],
        NAME_CONTRACT_TYPE=["Cash loans", None, "3", "cash loans", "Revolving loans"]))
    cells = table_cells(next(open_book(str(path)).chunks()), text_numbers=True)
    credit = cells["AMT_CREDIT"]
    assert credit.state.tolist() == [NUMBER, NULL, NOT_A_NUMBER, NUMBER, NUMBER]
    assert credit.values[0] == 1.5 and np.isnan(credit.values[3]) and credit.values[4] == np.inf
    children = cells["CNT_CHILDREN"]
    assert children.state.tolist() == [NUMBER, NUMBER, NOT_A_NUMBER, NULL, NUMBER]
    assert children.values[[0, 1]].tolist() == [2, 2]
    assert children.values[4] == 1e20
    contract = cells["NAME_CONTRACT_TYPE"]  # dictionary-coded text
    assert contract.state.tolist() == [NUMBER, NULL, NUMBER, NUMBER, NUMBER]
    texts = contract.dictionary[contract.values].tolist()
    assert [t for t, s in zip(texts, contract.state.tolist(), strict=True) if s != NULL] == [
        "Cash loans", "3", "cash loans", "Revolving loans"]


@pytest.mark.parametrize("other", ["1", "two"], ids=["column-parses", "column-has-text"])
def test_a_hex_literal_is_text_whatever_the_rest_of_its_column(tmp_path: Path, other: str):
    # pyarrow's integer cast reads "0x10" as 16; a number literal is decimal, so the cell is
    # text (a type error) whether or not the other cells of its column parse.
    path = write_csv(tmp_path / "b.csv", HEADER, _rows(3, CNT_CHILDREN=["0x10", other, "0X1F"]))
    children = table_cells(next(open_book(str(path)).chunks()), text_numbers=True)["CNT_CHILDREN"]
    assert children.state.tolist() == [NOT_A_NUMBER, NUMBER if other == "1" else NOT_A_NUMBER,
                                       NOT_A_NUMBER]


def test_bytes_that_are_not_utf8_in_a_numeric_cell_are_text(tmp_path: Path):
    # Numeric fields are read as bytes (no UTF-8 check): such a cell is not a number, and
    # only its row is rejected.
    path = write_csv(tmp_path / "b.csv", HEADER, _rows(2, AMT_CREDIT=["1.5", "SENTINEL"]))
    path.write_bytes(path.read_bytes().replace(b"SENTINEL", b"1\xff5"))
    credit = table_cells(next(open_book(str(path)).chunks()), text_numbers=True)["AMT_CREDIT"]
    assert credit.state.tolist() == [NUMBER, NOT_A_NUMBER]
    assert credit.values[0] == 1.5


def test_plain_numeric_columns_take_the_fast_route_with_the_same_values(tmp_path: Path):
    values = ["0.1", "2.5e-3", "123456.789", "1e5"]
    path = write_csv(tmp_path / "b.csv", HEADER, _rows(4, AMT_CREDIT=values,
                                                       CNT_CHILDREN=["0", "1", "2", "3"]))
    cells = table_cells(next(open_book(str(path)).chunks()), text_numbers=True)
    assert cells["AMT_CREDIT"].values.tolist() == [float(v) for v in values]
    assert cells["CNT_CHILDREN"].values.dtype == np.int64


def test_chunks_have_fixed_sizes_across_csv_gz_and_parquet(tmp_path: Path):
    rows = _rows(1_050)
    csv_path = write_csv(tmp_path / "b.csv", HEADER, rows)
    gz = tmp_path / "b.csv.gz"
    gz.write_bytes(gzip.compress(csv_path.read_bytes()))
    pq.write_table(pa.table({name: [int(r[i]) for r in rows] if name == schema.ID_FIELD
                             else [r[i] for r in rows] for i, name in enumerate(HEADER)
                             if name == schema.ID_FIELD}), tmp_path / "ids.parquet")
    for path in (csv_path, gz):
        book = open_book(str(path))
        assert [t.num_rows for t in book.chunks(400)] == [400, 400, 250]
    with pytest.raises(BookError, match="lacks required column"):
        open_book(str(tmp_path / "ids.parquet"))


def test_refused_names_and_files(tmp_path: Path):
    with pytest.raises(BookError, match="unknown file type"):
        book_format("book.xlsx")
    with pytest.raises(BookError, match="no such file"):
        open_book(str(tmp_path / "absent.csv"))
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(BookError, match="cannot be read as PARQUET"):
        open_book(str(tmp_path / "bad.parquet"))


def test_s3_book_that_does_not_exist(moto_s3):
    moto_s3.create_bucket(Bucket="book")
    with pytest.raises(BookError, match=r"s3://book/none\.csv: cannot be downloaded"):
        open_book("s3://book/none.csv")
