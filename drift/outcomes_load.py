"""Load a servicing export of loan outcomes into the bucket layout (contract.outcome_format).

``python -m drift load-outcomes --input export.csv[.gz|.parquet] --output DEST [--as-of D]``

* ``--input``: a local file or an ``s3://bucket/key`` object (downloaded first);
* ``--output``: a local directory or an ``s3://bucket/prefix`` (the layout's root: objects go
  to ``<root>outcomes/dt=<observed_at>/``);
* the hash key: CAPTURE_HASH_KEY, else the Secrets Manager secret named by
  CAPTURE_HASH_KEY_SECRET_ARN (the scoring function's). CAPTURE_HASH_KEY_PREVIOUS (comma-separated)
  adds the keys of a rotation's overlap: each loan then gets one line per key.

S3 is reached with boto3's default chain, so AWS_ENDPOINT_URL (a moto server) is honoured.

Every row is checked before anything is written: a missing id, a non-binary outcome, an
``observed_at`` that is not a date or is after the as-of date (default: today), a
``decided_at`` after ``observed_at``, a duplicate loan. All problems are reported together,
one line per row and field, and nothing is written. The objects of one load are written
together: if one fails, the ones already written are removed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from contract.capture_format import client_hash, hash_key_id
from contract.outcome_format import (
    DEFAULT_PREFIX,
    ID_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    OutcomeRecord,
    day_prefix,
)

if TYPE_CHECKING:
    from contract.aws import S3Client

#: Problems listed in the error (the count is always exact).
MAX_LISTED = 50


class OutcomeError(ValueError):
    """The export cannot be loaded; ``problems`` has one sentence per bad row and field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listed = "\n  ".join(self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{source}: {len(self.problems)} problem(s), nothing was written:"
                         f"\n  {listed}{tail}")


@dataclass(frozen=True)
class HashKeys:
    """The current capture hash key and any previous ones still in their overlap."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HashKeys:
        env = os.environ if env is None else env
        key = env.get("CAPTURE_HASH_KEY") or _secret(env.get("CAPTURE_HASH_KEY_SECRET_ARN"))
        if not key:
            raise ValueError("no hash key: set CAPTURE_HASH_KEY (the scoring function's key) "
                             "or CAPTURE_HASH_KEY_SECRET_ARN (its Secrets Manager secret)")
        previous = tuple(k.strip().encode("utf-8")
                         for k in env.get("CAPTURE_HASH_KEY_PREVIOUS", "").split(",") if k.strip())
        return cls(key.encode("utf-8"), previous)

    @property
    def all(self) -> tuple[bytes, ...]:
        return (self.current, *self.previous)


def _secret(name: str | None) -> str | None:
    if not name:
        return None
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    return str(value)


# --------------------------------------------------------------------------- reading


def is_s3(uri: str | Path) -> bool:
    return str(uri).startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix) of an ``s3://`` URI."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"not an s3://bucket/key URI: {uri}")
    return bucket, key


def s3_client() -> S3Client:
    import boto3

    client: S3Client = boto3.client("s3")
    return client


def read_export(source: str | Path, s3: S3Client | None = None) -> pd.DataFrame:
    """The export as strings (empty cells: missing): CSV, CSV.gz or Parquet, local or S3."""
    name = str(source)
    if is_s3(name):
        bucket, key = split_s3(name)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / Path(key).name
            from drift.outcomes_join import fetch_object

            fetch_object(s3 or s3_client(), bucket, key, local)
            return read_export(local)
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        if path.name.endswith((".parquet", ".pq")):
            import duckdb

            frame = duckdb.execute(f"SELECT * FROM read_parquet('{_quote(str(path))}')").df()
            return frame.astype(object).where(frame.notna(), None).astype("string")
        return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""],
                           compression="infer")
    except (ValueError, OSError, UnicodeDecodeError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable CSV, CSV.gz or Parquet file "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from exc
    except Exception as exc:  # duckdb's own errors on a corrupt Parquet file
        if type(exc).__module__.startswith("duckdb") or "duckdb" in type(exc).__module__:
            raise ValueError(f"{path}: not a readable Parquet file ({exc})") from exc
        raise


def _quote(text: str) -> str:
    return text.replace("'", "''")


# --------------------------------------------------------------------------- checking


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def build_records(frame: pd.DataFrame, keys: HashKeys, as_of: date,
                  source: str = "the export") -> list[OutcomeRecord]:
    """The outcome records of ``frame`` (one per loan and hash key), or OutcomeError."""
    _check_columns(frame, source)
    key_ids = [hash_key_id(key) for key in keys.all]
    problems: list[str] = []
    records: list[OutcomeRecord] = []
    seen: dict[str, int] = {}
    columns = [c for c in (*ID_COLUMNS, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame]
    rows = frame[columns].astype(object).where(frame[columns].notna(), None)
    for number, row in enumerate(rows.to_dict("records"), start=2):  # line 1: the header
        where, before = f"row {number}", len(problems)
        client = _whole(_strip(row.get("SK_ID_CURR")))
        request = _strip(row.get("request_id"))
        if client is None and request is None:
            problems.append(f"{where}: no SK_ID_CURR and no request_id")
            continue
        if client is not None and not client.isdigit():
            problems.append(f"{where}: SK_ID_CURR {client!r} is not a whole number")
            continue
        outcome = _strip(row.get("outcome"))
        if outcome not in {"0", "1", "0.0", "1.0"}:
            problems.append(f"{where}: outcome {outcome!r} is not 0 or 1")
        observed, decided = _dates(row, where, as_of, problems)
        hashes: list[str | None] = ([client_hash(k, int(client)) for k in keys.all]
                                    if client is not None else [None])
        loan = hashes[0] or f"request:{request}"
        identity = f"SK_ID_CURR {client}" if client is not None else f"request_id {request}"
        if loan in seen:
            problems.append(f"{where}: duplicate loan ({identity} is also on row {seen[loan]})")
            continue
        seen[loan] = number
        if len(problems) > before:
            continue
        assert observed is not None and outcome is not None
        for key_id, digest in zip(key_ids, hashes, strict=False):
            records.append({
                "loan_id": loan, "request_id": request, "client_id_hash": digest,
                "hash_key_id": key_id if digest is not None else None,
                "outcome": int(float(outcome)), "observed_at": observed.isoformat(),
                "decided_at": decided.isoformat() if decided is not None else None,
            })
    if problems:
        raise OutcomeError(source, problems)
    if not records:
        raise OutcomeError(source, ["the export has no rows"])
    return records


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    """OutcomeError naming the required columns ``frame`` lacks."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if not any(c in frame.columns for c in ID_COLUMNS):
        missing.insert(0, " or ".join(ID_COLUMNS))
    if missing:
        raise OutcomeError(source, [f"missing column(s): {', '.join(missing)} (found: "
                                    f"{', '.join(map(str, frame.columns))})"])


def _dates(row: dict[str, Any], where: str, as_of: date, problems: list[str]
           ) -> tuple[date | None, date | None]:
    """A row's observed_at and decided_at; what is wrong with them goes to ``problems``."""
    observed = _date(_strip(row.get("observed_at")))
    if observed is None:
        problems.append(f"{where}: observed_at {row.get('observed_at')!r} is not a date "
                        "(YYYY-MM-DD)")
    elif observed > as_of:
        problems.append(f"{where}: observed_at {observed} is after the as-of date {as_of}")
    raw_decided = _strip(row.get("decided_at"))
    decided = _date(raw_decided)
    if raw_decided is not None and decided is None:
        problems.append(f"{where}: decided_at {raw_decided!r} is not a date (YYYY-MM-DD)")
    elif decided is not None and observed is not None and decided > observed:
        problems.append(f"{where}: decided_at {decided} is after observed_at {observed}")
    return observed, decided


def _whole(text: str | None) -> str | None:
    """An integral id written as a float by a spreadsheet or a nullable column ("1.0")."""
    if text is not None and text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _strip(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- writing


def encode_objects(records: Sequence[OutcomeRecord], prefix: str = DEFAULT_PREFIX
                   ) -> dict[str, bytes]:
    """Key (relative to the layout root) -> gzip JSON Lines body, one object per observed
    day. The load id is a hash of the records, so reloading the same export replaces its
    objects instead of duplicating them."""
    by_day: dict[str, list[OutcomeRecord]] = defaultdict(list)
    for record in records:
        by_day[record["observed_at"]].append(record)
    objects = {}
    for day, day_records in sorted(by_day.items()):
        lines = b"".join(json.dumps(r, separators=(",", ":")).encode("utf-8") + b"\n"
                         for r in day_records)
        load_id = hashlib.sha256(lines).hexdigest()[:16]
        key = f"{day_prefix(date.fromisoformat(day), prefix)}outcomes-{load_id}.jsonl.gz"
        objects[key] = gzip.compress(lines, mtime=0)
    return objects


def write_objects(objects: Mapping[str, bytes], destination: str | Path,
                  s3: S3Client | None = None) -> list[str]:
    """Write every object under ``destination`` (local directory or s3:// prefix), all or
    nothing. Returns where each went."""
    if is_s3(destination):
        return _write_s3(objects, str(destination), s3 or s3_client())
    root = Path(destination)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".outcomes-", dir=root))
    placed: list[Path] = []
    try:
        for key, body in objects.items():
            (staging / key).parent.mkdir(parents=True, exist_ok=True)
            (staging / key).write_bytes(body)
        for key in objects:
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / key, target)
            placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [str(p) for p in placed]


def _write_s3(objects: Mapping[str, bytes], destination: str, s3: S3Client) -> list[str]:
    bucket, root = split_s3(destination)
    if root and not root.endswith("/"):
        root += "/"
    written: list[str] = []
    try:
        for key, body in objects.items():
            written.append(root + key)
            s3.put_object(Bucket=bucket, Key=root + key, Body=body,
                          ContentType="application/gzip")
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):  # remove the rest; the error is re-raised
                s3.delete_object(Bucket=bucket, Key=key)
        raise
    return [f"s3://{bucket}/{key}" for key in written]


def load(source: str | Path, destination: str | Path, keys: HashKeys,
         as_of: date | None = None, s3: S3Client | None = None) -> list[str]:
    """Check ``source`` and write it under ``destination``; returns the objects written."""
    as_of = as_of or datetime.now(UTC).date()
    frame = read_export(source, s3)
    records = build_records(frame, keys, as_of, source=str(source))
    return write_objects(encode_objects(records), destination, s3)


def read_outcome_lines(body: bytes) -> list[dict[str, Any]]:
    """The records of one outcome object (for tests and the local run)."""
    with gzip.open(io.BytesIO(body)) as handle:
        return [json.loads(line) for line in handle if line.strip()]
