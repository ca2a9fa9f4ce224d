"""GET /reference: the bundle's reference_bins.json (aggregates of the training reference:
per-feature bins of at least MIN_BIN_ROWS rows with their default rates, never rows).

Read from the bundle directory on the first call, checked, and kept: it adds nothing to
cold start. A bundle without the file serves everything else; /reference then answers 503.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.bundle import MIN_BIN_ROWS, REFERENCE_BINS_FILE
from scoring.service import Unavailable

_RESPONSE_CONFIG = ConfigDict(defer_build=True)


class ReferenceBin(BaseModel):
    model_config = _RESPONSE_CONFIG
    low: float | None = Field(default=None, description="Numeric bins: inclusive lower "
                              "edge; null = open below.")
    high: float | None = Field(default=None, description="Numeric bins: exclusive upper "
                               "edge; null = open above.")
    category: str | None = Field(default=None, description="Category bins: the category; "
                                 "null for the pooled rare categories.")
    categories: list[str] | None = Field(default=None, description="The pooled categories.")
    rows: int = Field(ge=MIN_BIN_ROWS)
    default_rate: float = Field(ge=0, le=1)


class MissingBin(BaseModel):
    model_config = _RESPONSE_CONFIG
    rows: int = Field(ge=MIN_BIN_ROWS)
    default_rate: float = Field(ge=0, le=1)


class FeatureBins(BaseModel):
    model_config = _RESPONSE_CONFIG
    kind: Literal["numeric", "category"]
    bins: list[ReferenceBin]
    missing: MissingBin | None = Field(description="Rows where the value is missing.")
    suppressed_rows: int = Field(description="Rows in groups too small to show.")


class ReferenceResponse(BaseModel):
    """Aggregates of the training reference rows, per model feature."""

    model_config = _RESPONSE_CONFIG
    format_version: int
    rows: int = Field(description="Reference rows behind the bins.")
    min_bin_rows: int = Field(description="Fewest rows behind any bin.")
    default_rate: float
    features: dict[str, FeatureBins]


class ReferenceUnavailable(Unavailable):
    """The bundle has no usable reference_bins.json; str(exc) is why (a 503)."""


_cache: dict[Path, bytes] = {}
_lock = threading.Lock()


def _check(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("features"), dict):
        raise ReferenceUnavailable(f"{REFERENCE_BINS_FILE} is not a reference-bins object")
    for name, entry in data["features"].items():
        groups = [*entry.get("bins", []), *([entry["missing"]] if entry.get("missing") else [])]
        if any(not isinstance(g.get("rows"), int) or g["rows"] < MIN_BIN_ROWS for g in groups):
            raise ReferenceUnavailable(
                f"{REFERENCE_BINS_FILE}: a bin of {name} has fewer than {MIN_BIN_ROWS} rows")


def reference_bytes(directory: Path, s3_uri: str | None = None) -> bytes:
    """The JSON body of GET /reference for the bundle in ``directory`` (cached); a bundle
    loaded from ``s3_uri`` fetches the file from there on the first call."""
    cached = _cache.get(directory)
    if cached is not None:
        return cached
    with _lock:
        if directory not in _cache:
            path = directory / REFERENCE_BINS_FILE
            if s3_uri and not path.is_file():
                from scoring.model import download_optional

                download_optional(s3_uri, REFERENCE_BINS_FILE, directory)
            try:
                raw = path.read_bytes()
                data = json.loads(raw)
            except FileNotFoundError:
                raise ReferenceUnavailable(f"the bundle has no {REFERENCE_BINS_FILE}") from None
            except (OSError, ValueError) as exc:
                raise ReferenceUnavailable(f"{REFERENCE_BINS_FILE} is unreadable: "
                                           f"{type(exc).__name__}") from None
            _check(data)
            _cache[directory] = raw
        return _cache[directory]
