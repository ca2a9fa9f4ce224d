"""Reading a book: CSV, CSV.gz or Parquet, local or ``s3://``, streamed in fixed-size chunks
and turned into scoring.columns.Cells (the validator's columnar input).

CSV cells are read as text and converted here, so one odd cell never changes how a whole
column is typed: an empty cell is null (the field is missing); a number literal is that
number (``2`` and ``2.0`` are integers, as in JSON; ``NaN``/``inf`` and numbers that
overflow a double are numbers the rules then reject); anything else is text. Parquet
columns keep their types: numbers are numbers, booleans and text in a numeric field are
not numbers, and a null is missing.

S3 objects are copied to a local temporary file first (boto3, so AWS_ENDPOINT_URL is
honoured): memory stays bounded by the chunk, never the object.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from isal import igzip

from contract import schema
from scoring.columns import NOT_A_NUMBER, NULL, NUMBER, Cells, missing_columns

#: Rows per chunk by default: a chunk's arrays (and, with reasons, its reason objects)
#: stay in the tens of megabytes, and the progress bar moves every few seconds.
DEFAULT_CHUNK_ROWS = 10_000
_CSV_BLOCK_BYTES = 1 << 20
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|NaN|inf|Infinity)")
_INTEGER = re.compile(r"[+-]?\d+")


class BookError(Exception):
    """The book cannot be read; ``str(exc)`` names the file and what is wrong."""


def book_format(name: str) -> str:
    """"csv" (``.csv``, ``.csv.gz``) or "parquet" (``.parquet``, ``.pq``), from the name."""
    lower = name.lower()
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    raise BookError(f"{name}: unknown file type (expected .csv, .csv.gz or .parquet)")


def split_s3(uri: str) -> tuple[str, str]:
    """("bucket", "key") of ``s3://bucket/key``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise BookError(f"{uri!r} is not an s3://bucket/key address")
    return bucket, key


def s3_client() -> Any:
    """A boto3 S3 client (endpoint, region and credentials from the usual settings)."""
    import boto3

    return boto3.client("s3")


def fetch(uri: str, directory: Path) -> Path:
    """A local copy of ``uri`` in ``directory`` (a local path is returned as it is)."""
    if not uri.startswith("s3://"):
        return Path(uri)
    bucket, key = split_s3(uri)
    target = directory / key.rsplit("/", 1)[-1]
    try:
        s3_client().download_file(bucket, key, str(target))
    except Exception as exc:  # botocore ClientError, connection errors, ...
        raise BookError(f"{uri}: cannot be downloaded ({_one_line(exc)})") from None
    return target


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


@dataclass(frozen=True)
class Book:
    """A readable book: its local path, format, header and row count (when known)."""

    name: str            # as the user gave it (path or s3:// address)
    path: Path
    format: str
    columns: tuple[str, ...]
    rows: int | None     # Parquet: from the footer; CSV: unknown until read

    @property
    def fields(self) -> list[str]:
        """The schema fields among the columns, in schema order."""
        present = set(self.columns)
        return [f.name for f in schema.FIELDS if f.name in present]

    @property
    def ignored(self) -> list[str]:
        """Columns that are not schema fields (never read)."""
        known = schema.FIELDS_BY_NAME
        return [c for c in self.columns if c not in known]

    def chunks(self, rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pa.Table]:
        """The schema fields, ``rows`` rows per table (the last may be shorter)."""
        pending: list[pa.RecordBatch] = []
        held = 0
        try:
            for batch in self._batches(rows):
                pending.append(batch)
                held += batch.num_rows
                while held >= rows:
                    table = pa.Table.from_batches(pending)
                    yield table.slice(0, rows)
                    rest = table.slice(rows)
                    pending, held = rest.to_batches(), rest.num_rows
        except (pa.ArrowInvalid, OSError, EOFError) as exc:
            raise BookError(f"{self.name}: cannot be read ({_one_line(exc)})") from None
        if held:
            yield pa.Table.from_batches(pending)

    def _csv_types(self) -> dict[str, pa.DataType]:
        """Every field read as text: categories as UTF-8 strings, numeric fields as bytes
        (parsed into numbers by table_cells; not checked for UTF-8, which costs time, and a
        cell that is not UTF-8 is text that is not a number)."""
        return {name: pa.string() if schema.FIELDS_BY_NAME[name].kind == "category"
                else pa.binary() for name in self.fields}

    def _batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        if self.format == "parquet":
            # One reader per row group: a single reader's memory grows with every row
            # group it decodes (measured: ~100 MB per million rows), a fresh one does not.
            for group in range(pq.ParquetFile(self.path).metadata.num_row_groups):
                with pq.ParquetFile(self.path) as reader:
                    yield from reader.iter_batches(batch_size=rows, row_groups=[group],
                                                   columns=self.fields)
            return
        with ExitStack() as files:
            # gzip through ISA-L's inflate (the same bytes as zlib's, in a fraction of the time)
            source = files.enter_context(igzip.open(self.path, "rb")) \
                if self.path.name.lower().endswith(".gz") else self.path
            reader = files.enter_context(pa_csv.open_csv(
                source, read_options=_csv_read(), convert_options=pa_csv.ConvertOptions(
                    column_types=self._csv_types(),
                    include_columns=self.fields, null_values=[""], strings_can_be_null=True,
                    quoted_strings_can_be_null=False)))
            yield from reader


def _csv_read() -> pa_csv.ReadOptions:
    return pa_csv.ReadOptions(block_size=_CSV_BLOCK_BYTES, use_threads=False)


def open_book(name: str, directory: Path | None = None) -> Book:
    """Open a book and check it before any work: readable, and every required column
    present. Raises BookError naming the file and the problem. An S3 book is copied into
    ``directory`` (a temporary one when None)."""
    fmt = book_format(name)
    path = fetch(name, directory or Path(tempfile.mkdtemp(prefix="book-")))
    if not path.is_file():
        raise BookError(f"{name}: no such file")
    try:
        if fmt == "parquet":
            meta = pq.ParquetFile(path)
            columns, rows = tuple(meta.schema_arrow.names), meta.metadata.num_rows
        else:
            with pa_csv.open_csv(path, read_options=_csv_read()) as reader:
                columns, rows = tuple(reader.schema.names), None
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise BookError(f"{name}: cannot be read as {fmt.upper()} ({_one_line(exc)})") from None
    missing = missing_columns(columns)
    if missing:
        raise BookError(f"{name}: lacks required column(s) " + ", ".join(missing))
    return Book(name=name, path=path, format=fmt, columns=columns, rows=rows)


# ------------------------------------------------------------------------------ to Cells
def table_cells(table: pa.Table, text_numbers: bool) -> dict[str, Cells]:
    """Cells for every schema field in ``table`` (absent nullable fields stay absent).
    ``text_numbers``: a number literal in a text column is a number (CSV), or text is
    never a number (Parquet, whose columns carry their types)."""
    table = table.combine_chunks()  # one contiguous array per column, in one call
    out: dict[str, Cells] = {}
    for name in table.column_names:
        field = schema.FIELDS_BY_NAME.get(name)
        if field is None:
            continue
        chunked = table.column(name)
        column = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
        out[name] = _category_cells(column) if field.kind == "category" \
            else _numeric_cells(column, field.kind == "integer", text_numbers)
    return out


def _nulls(column: pa.Array) -> np.ndarray:
    """[N] bool: the null cells."""
    if column.null_count == 0:
        return np.zeros(len(column), dtype=bool)
    return column.is_null().to_numpy(zero_copy_only=False)


def _states(null: np.ndarray, otherwise: int = NUMBER) -> np.ndarray:
    """[N] uint8 cell states: NULL where ``null``, else ``otherwise``."""
    if not null.any():
        return np.full(len(null), otherwise, dtype=np.uint8)
    return np.where(null, np.uint8(NULL), np.uint8(otherwise))


def _numbers(column: pa.Array) -> np.ndarray:
    """A primitive array's values, read-only and without a copy; a null cell's value is
    whatever its slot holds (its state says NULL, and nothing reads it)."""
    if column.null_count:
        column = pa.Array.from_buffers(column.type, len(column), [None, column.buffers()[1]],
                                       offset=column.offset)
    return column.to_numpy()


def _category_cells(column: pa.Array) -> Cells:
    """Dictionary-coded text with a null mask; a non-text column's values as text
    (``3`` -> "3")."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    coded = column.dictionary_encode()
    return Cells(_numbers(coded.indices), _states(_nulls(coded.indices)),
                 dictionary=coded.dictionary.to_numpy(zero_copy_only=False))


def _numeric_cells(column: pa.Array, integer: bool, text_numbers: bool) -> Cells:
    kind = column.type
    null = _nulls(column)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        target = pa.int64() if pa.types.is_integer(kind) else pa.float64()
        return Cells(_numbers(column.cast(target)), _states(null))
    if text_numbers and (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                         or pa.types.is_binary(kind)):
        return _text_cells(column, null, integer)
    return Cells(np.zeros(len(column)), _states(null, NOT_A_NUMBER))


def _texts(column: pa.Array) -> list[str | None]:
    """The cells as text (bytes that are not UTF-8 read with U+FFFD: never a number)."""
    return [c.decode("utf-8", "replace") if isinstance(c, bytes) else c
            for c in column.to_pylist()]


def _maybe_hex(column: pa.Array) -> bool:
    """True when a cell of a text column may hold an x. Reads the data buffer, which for a
    slice also holds other rows' bytes: a false alarm only costs the cell-by-cell path."""
    data = column.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return b"x" in raw or b"X" in raw


def _text_cells(column: pa.Array, null: np.ndarray, integer: bool) -> Cells:
    """Number literals in a text column: pyarrow's parser when every cell parses (its
    non-finite results re-checked against the literal spellings), else cell by cell
    (Python's parser: correctly rounded, as pyarrow's)."""
    state = _states(null)
    for target in ((pa.int64(), pa.float64()) if integer else (pa.float64(),)):
        if target == pa.int64() and _maybe_hex(column):
            continue  # pyarrow's integer parser reads "0x10" as 16; it is text here
        try:
            values = _numbers(pc.cast(column, target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if target == pa.float64():
            odd = np.flatnonzero(~np.isfinite(values) & (state == NUMBER))
            texts = _texts(column.take(pa.array(odd))) if odd.size else []
            for i, text in zip(odd.tolist(), texts, strict=True):
                if not _NUMBER.fullmatch(text or ""):
                    state[i] = NOT_A_NUMBER
        return Cells(values, state)
    parsed: list[float | int] = []
    for i, text in enumerate(_texts(column)):
        value: float | int = 0
        if text is not None:
            if _INTEGER.fullmatch(text) and integer:
                value = int(text)
                if not -(2**63) <= value < 2**63:
                    value = float(value)
            elif _NUMBER.fullmatch(text):
                value = float(text)
            else:
                state[i] = NOT_A_NUMBER
        parsed.append(value)
    if all(isinstance(v, int) for v in parsed):
        return Cells(np.array(parsed, dtype=np.int64), state)
    return Cells(np.array([float(v) for v in parsed], dtype=np.float64), state)
