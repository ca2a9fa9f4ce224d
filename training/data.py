"""Reading and checking training data.

``load_table`` reads CSV, CSV.gz or Parquet with a progress display of rows read;
``validate`` checks a frame against :mod:`contract.schema` (the only source of field facts)
and either returns it in canonical form or raises ONE :class:`SchemaError` naming every
offending column. ``fingerprint`` identifies the data in the model card and in MLflow.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from contract import schema

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where the Home Credit samples live beside a checkout (used for column descriptions).
SHARED_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "home-credit"
DESCRIPTIONS_FILE = "columns_description.csv"
#: Rows of the synthetic sample ``train`` generates when no --data is given.
DEFAULT_SYNTHETIC_ROWS = 20_000
_CHUNK_ROWS = 50_000
_EXAMPLES = 3


class SchemaError(ValueError):
    """The data does not match the training schema; ``problems`` maps column -> reason."""

    def __init__(self, problems: dict[str, str], source: str = "the data") -> None:
        self.problems = dict(problems)
        self.source = source
        lines = [f"  - {name}: {reason}" for name, reason in self.problems.items()]
        noun = "column" if len(self.problems) == 1 else "columns"
        super().__init__(
            f"{source} does not match the training schema "
            f"({len(self.problems)} offending {noun}):\n" + "\n".join(lines)
        )


class DataError(ValueError):
    """The data is well-formed but cannot be trained on (e.g. too few defaults)."""


@dataclass
class Dataset:
    """A validated training frame and where it came from."""

    frame: pd.DataFrame
    source: str
    fingerprint: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading


def _progress(total: int | None, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit=" rows", unit_scale=True, file=sys.stderr,
                disable=not enabled, mininterval=0.5)


def _read_csv(path: Path, progress: bool) -> pd.DataFrame:
    # Category fields are read as strings so that a value such as "1" is not turned into a
    # number; numeric fields are inferred and checked by validate().
    dtypes = {name: "object" for name in schema.CATEGORICAL_FIELDS}
    chunks: list[pd.DataFrame] = []
    with _progress(None, f"reading {path.name}", progress) as bar:
        for chunk in pd.read_csv(path, dtype=dtypes, chunksize=_CHUNK_ROWS, low_memory=False):
            chunks.append(chunk)
            bar.update(len(chunk))
    if not chunks:
        raise SchemaError({"(file)": "no header row"}, str(path))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _read_parquet(path: Path, progress: bool) -> pd.DataFrame:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    frames: list[pd.DataFrame] = []
    with _progress(parquet.metadata.num_rows, f"reading {path.name}", progress) as bar:
        for batch in parquet.iter_batches(batch_size=_CHUNK_ROWS):
            frame = batch.to_pandas()
            frames.append(frame)
            bar.update(len(frame))
    if not frames:
        return parquet.schema_arrow.empty_table().to_pandas()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def load_table(path: str | Path, progress: bool = True) -> pd.DataFrame:
    """Read a CSV, CSV.gz (any pandas-inferred compression) or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            return _read_parquet(path, progress)
        return _read_csv(path, progress)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise SchemaError({"(file)": f"cannot be parsed: {exc}"}, str(path)) from exc


# --------------------------------------------------------------------------- checking


def _examples(values: Iterable[Any]) -> str:
    shown: list[str] = []
    for v in values:
        if len(shown) == _EXAMPLES:
            shown.append("...")
            break
        shown.append(repr(v.item() if isinstance(v, np.generic) else v))
    return ", ".join(shown)


def _to_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """float64 values and a mask of cells that were present but not numbers."""
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(np.float64), pd.Series(False, index=series.index)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & numbers.isna()
    # Booleans inside an object column are not numbers for the purposes of the schema.
    bad |= series.map(lambda v: isinstance(v, bool | np.bool_))
    return numbers.astype(np.float64), bad


def _check_numeric(f: schema.Field, series: pd.Series) -> tuple[list[str], pd.Series]:
    reasons: list[str] = []
    values, bad = _to_numbers(series)
    if bad.any():
        shown = _examples(series[bad].unique())
        reasons.append(f"{int(bad.sum())} non-numeric values, e.g. {shown}")
    infinite = np.isinf(values)
    if infinite.any():
        reasons.append(f"{int(infinite.sum())} infinite values")
    finite = values[~infinite & values.notna()]
    if f.kind == "integer":
        fractional = finite != np.round(finite)
        if fractional.any():
            reasons.append(
                f"{int(fractional.sum())} non-integral values in an integer column, "
                f"e.g. {_examples(finite[fractional].unique())}"
            )
    low = finite < f.minimum if f.minimum is not None else pd.Series(False, index=finite.index)
    high = finite > f.maximum if f.maximum is not None else pd.Series(False, index=finite.index)
    if low.any() or high.any():
        outside = finite[low | high].unique()
        reasons.append(
            f"{int(low.sum() + high.sum())} values outside [{f.minimum}, {f.maximum}], "
            f"e.g. {_examples(outside)}"
        )
    missing = values.isna() & ~bad
    if not f.nullable and missing.any():
        reasons.append(f"{int(missing.sum())} missing values in a non-nullable column")
    return reasons, values


def _check_category(f: schema.Field, series: pd.Series) -> tuple[list[str], pd.Series]:
    reasons: list[str] = []
    present = series.notna() & (series.astype(object) != schema.MISSING_CATEGORY)
    values = series.astype(object).where(present, None)
    unknown = present & ~values.isin(f.categories)
    if unknown.any():
        reasons.append(
            f"{int(unknown.sum())} values outside the vocabulary, e.g. "
            f"{_examples(values[unknown].unique())} (allowed: {', '.join(f.categories)})"
        )
    if not f.nullable and (~present).any():
        reasons.append(f"{int((~present).sum())} missing values in a non-nullable column")
    return reasons, values


def _check_target(series: pd.Series) -> tuple[list[str], pd.Series]:
    values, _ = _to_numbers(series)
    ok = values.isin((0.0, 1.0))
    if (~ok).any():
        shown = series[~ok].unique()
        return [f"{int((~ok).sum())} values that are not 0/1, e.g. {_examples(shown)}"], values
    return [], values


def validate(df: pd.DataFrame, source: str = "the data") -> pd.DataFrame:
    """Check ``df`` against the training schema; return it in canonical form.

    Canonical form: the columns of :data:`contract.schema.TRAINING_COLUMNS` in that order,
    integer fields and TARGET as int64, number fields as float64, category fields as
    object (missing = None). Raises one :class:`SchemaError` naming every offending column.
    """
    problems: dict[str, str] = {}
    present = list(df.columns)
    expected = set(schema.TRAINING_COLUMNS)
    for name in schema.TRAINING_COLUMNS:
        if name not in df.columns:
            problems[str(name)] = "missing column"
    for name in present:
        if name not in expected:
            problems[str(name)] = "unexpected column"
    duplicated = pd.Index(present)[pd.Index(present).duplicated()].unique()
    for name in duplicated:
        problems[str(name)] = "duplicated column"
    if len(df) == 0:
        problems["(rows)"] = "the file has no data rows"

    out: dict[str, pd.Series] = {}
    if not duplicated.size:
        for name in schema.TRAINING_COLUMNS:
            if name not in df.columns:
                continue
            series = df[name]
            if name == schema.TARGET_FIELD:
                reasons, values = _check_target(series)
            else:
                f = schema.FIELDS_BY_NAME[name]
                check = _check_category if f.kind == "category" else _check_numeric
                reasons, values = check(f, series)
                if name == schema.ID_FIELD and not reasons and values.duplicated().any():
                    reasons.append(f"{int(values.duplicated().sum())} duplicated ids")
            if reasons:
                problems[name] = "; ".join(reasons)
            else:
                out[name] = values
    if problems:
        raise SchemaError(problems, source)

    frame = pd.DataFrame(out, columns=list(schema.TRAINING_COLUMNS))
    for name in schema.TRAINING_COLUMNS:
        kind = "integer" if name == schema.TARGET_FIELD else schema.FIELDS_BY_NAME[name].kind
        if kind == "integer":
            frame[name] = frame[name].astype(np.int64)
    return frame.reset_index(drop=True)


def check_trainable(y: np.ndarray, folds: int, test_size: float) -> None:
    """Enough rows of each class for a stratified test split and k folds."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    need = int(np.ceil(folds / (1 - test_size))) + 1
    if counts.min() < need:
        raise DataError(
            f"TARGET has {counts[1]} defaults (1) and {counts[0]} non-defaults (0); each class "
            f"needs at least {need} rows for a {test_size:.0%} test split and {folds}-fold CV"
        )


# --------------------------------------------------------------------------- identity


def fingerprint(frame: pd.DataFrame, path: str | Path | None = None) -> dict[str, Any]:
    """sha256 of the canonical content (format-independent) and the shape.

    The content hash covers column names, row order and every value of a frame in
    :func:`validate`'s canonical form, so the same data in CSV and Parquet has the same
    fingerprint. ``file_sha256`` is added when the frame was read from a file.
    """
    digest = hashlib.sha256()
    for name in frame.columns:
        digest.update(str(name).encode())
        hashed = pd.util.hash_pandas_object(frame[name], index=False).to_numpy()
        digest.update(hashed.tobytes())
    out: dict[str, Any] = {
        "sha256": digest.hexdigest(), "rows": len(frame), "columns": int(frame.shape[1])
    }
    if path is not None:
        file_digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                file_digest.update(block)
        out["file_sha256"] = file_digest.hexdigest()
        out["source"] = Path(path).name
    return out


def load_dataset(path: str | Path, progress: bool = True) -> Dataset:
    """Read, validate and fingerprint a training file."""
    path = Path(path)
    frame = validate(load_table(path, progress), source=str(path))
    return Dataset(frame=frame, source=str(path), fingerprint=fingerprint(frame, path))


# --------------------------------------------------------------------------- descriptions


def find_descriptions(data_path: str | Path | None = None) -> Path | None:
    """columns_description.csv beside the data file, else in the shared samples folder."""
    places = [Path(data_path).parent] if data_path is not None else []
    places.append(SHARED_DATA_DIR)
    for place in places:
        candidate = place / DESCRIPTIONS_FILE
        if candidate.is_file():
            return candidate
    return None


def load_descriptions(path: str | Path | None) -> dict[str, str]:
    """Column name -> description from a columns_description.csv ({} when absent).

    Accepts this project's layout (``column,description,special``) and Kaggle's
    ``HomeCredit_columns_description.csv`` (``Table,Row,Description,Special``, latin-1).
    """
    if path is None:
        return {}
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="latin-1")
    columns = {c.lower(): c for c in table.columns}
    name_col = columns.get("column") or columns.get("row")
    text_col = columns.get("description")
    if name_col is None or text_col is None:
        raise ValueError(f"{path}: expected 'column' (or 'Row') and 'description' headers")
    if "table" in columns:
        table = table[table[columns["table"]].str.startswith("application")]
    special_col = columns.get("special")
    out: dict[str, str] = {}
    for _, row in table.iterrows():
        text = str(row[text_col]).strip()
        special = str(row[special_col]).strip() if special_col else ""
        if special:
            text = f"{text} ({special})"
        out.setdefault(str(row[name_col]).strip(), text)
    return out
