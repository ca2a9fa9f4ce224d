"""A month of synthetic capture records in the Firehose layout (gzip JSON Lines under
``dt=``/``hour=`` prefixes), for the outcomes and compaction benchmarks.

Lines carry the capture format's keys in the scoring function's order, written straight from
pre-encoded features (formatting 10^6 records through ``json.dumps`` would dominate a
benchmark's set-up); ``json.dumps(record, separators=(",", ":"))`` gives the same bytes.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contract.capture_format import client_hash, firehose_key, hash_key_id

PER_OBJECT = 4_000
START = datetime(2025, 1, 1, tzinfo=UTC)


def write_month(root: Path, count: int, key: bytes, *,
                features: Callable[[int, int], list[str]],
                client: Callable[[int], int],
                request_id: Callable[[int, random.Random], str],
                compresslevel: int) -> int:
    """``count`` records spread over 28 days from START; returns the gzip bytes written.

    ``features(first, n)``: the JSON texts of records first..first+n-1's applications;
    ``client(i)``: record i's client id (hashed with ``key``); ``request_id(i, rng)``: its
    request id, drawn after its probability from the one seeded generator."""
    key_id = hash_key_id(key)
    step = timedelta(days=28) / count
    rng = random.Random(0)
    size = 0
    for first in range(0, count, PER_OBJECT):
        texts = features(first, min(PER_OBJECT, count - first))
        lines = []
        for i, text in enumerate(texts, start=first):
            p = rng.random() * 0.4
            lines.append(
                f'{{"captured_at":"{(START + step * i).isoformat()}",'
                f'"request_id":"{request_id(i, rng)}","model_version":"1",'
                f'"client_id_hash":"{client_hash(key, client(i))}","probability":{p!r},'
                f'"decision":"{"approve" if p < 0.3 else "decline"}",'
                f'"features":{text},"hash_key_id":"{key_id}"}}\n')
        path = root / firehose_key(START + step * first, "bench", first, prefix="")
        path.parent.mkdir(parents=True, exist_ok=True)
        body = gzip.compress("".join(lines).encode(), compresslevel=compresslevel, mtime=0)
        path.write_bytes(body)
        size += len(body)
    return size
