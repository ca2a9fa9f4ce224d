"""The outcome record: what became of a booked loan, joined to the scoring that decided it.

The lender's servicing system exports one row per booked loan (docs/outcomes.md)::

    SK_ID_CURR | request_id, outcome (1 = payment difficulties, 0 = repaid or performing),
    observed_at (the date the outcome was established), decided_at (optional)

``python -m drift load-outcomes`` checks the export and writes it to the bucket layout
``outcomes/dt=<observed_at>/outcomes-<load id>.jsonl.gz``, one gzip JSON line per loan::

    {"loan_id": "<hmac hex>", "request_id": null, "client_id_hash": "<hmac hex>",
     "hash_key_id": "1f0c...", "outcome": 1, "observed_at": "2027-11-30",
     "decided_at": null}

``client_id_hash`` is made exactly as a capture's (contract.capture_format.client_hash, the
same key) and ``hash_key_id`` names that key, so the plain id is never stored. ``loan_id``
identifies the loan across hash keys: during a key rotation the loader writes one line per
key for the same loan (same ``loan_id``), and the join keeps the loan's best match.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

DEFAULT_PREFIX = "outcomes/"
#: The export's columns: an id (either), the outcome, when it was observed; decided_at optional.
ID_COLUMNS = ("SK_ID_CURR", "request_id")
REQUIRED_COLUMNS = ("outcome", "observed_at")
OPTIONAL_COLUMNS = ("decided_at",)


class OutcomeRecord(TypedDict):
    """One line of an outcome object."""

    #: The loan's identity across hash keys: the current key's client hash, else request id.
    loan_id: str
    #: The scoring's request id (x-request-id), when the export has it.
    request_id: str | None
    #: HMAC-SHA256 hex of str(SK_ID_CURR) under the key named by hash_key_id.
    client_id_hash: str | None
    hash_key_id: str | None
    #: 1 = payment difficulties, 0 = repaid or performing.
    outcome: int
    #: YYYY-MM-DD: when the outcome was established.
    observed_at: str
    #: YYYY-MM-DD: when the loan was decided, when known.
    decided_at: str | None


def day_prefix(day: date, prefix: str = DEFAULT_PREFIX) -> str:
    """The prefix of the outcomes observed on ``day``."""
    return f"{prefix}dt={day.isoformat()}/"
