"""Readers of settings from the environment, shared by the scoring function and drift job.

Each raises ``ValueError`` naming the variable when a value is malformed, so a bad deploy
fails with a message that says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """``env[name]`` as an integer >= 1; ``default`` when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    """``env[name]`` as a finite number > 0; ``default`` when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive number, got {raw!r}") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


def required(*names: str, env: Mapping[str, str]) -> dict[str, str]:
    """The named variables; one ValueError listing every one that is unset or empty."""
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ValueError(f"missing required environment variable(s): {', '.join(missing)}")
    return {name: env[name] for name in names}


def prefix(value: str) -> str:
    """An S3 key prefix that ends with ``/`` (empty stays empty: the bucket root)."""
    return value if not value or value.endswith("/") else value + "/"
