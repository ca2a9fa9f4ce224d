"""Runtime settings of the scoring function, read once from the environment.

==============================  ==================================  ===========================
variable                        meaning                             default
==============================  ==================================  ===========================
MODEL_DIR                       the model bundle directory          ``function/model``
                                                                    (packaged)
MODEL_S3_URI                    ``s3://bucket/prefix``: download     unset (use MODEL_DIR)
                                the bundle to /tmp at cold start
CAPTURE_STREAM                  Firehose delivery stream of the     unset (capture off)
                                inference captures
CAPTURE_HASH_KEY_SECRET_ARN     Secrets Manager secret holding the  unset; read at start-up
                                HMAC-SHA256 key for SK_ID_CURR      (the template sets it)
CAPTURE_HASH_KEY                the key itself (local runs only)    unset: with no secret
                                                                    either, a random
                                                                    per-process key
CAPTURE_BUFFER_BYTES            captures held in memory at most     16777216 (16 MiB); more
                                (waiting to be sent)                are dropped and counted
CAPTURE_FLUSH_S                 the producer sends at least this    ``5``
                                often (seconds)
MAX_BODY_BYTES                  largest /predict body               65536 (64 KiB)
MAX_BATCH_BODY_BYTES            largest /predict/batch body         5242880 (5 MiB: under
                                                                    Lambda's 6 MB synchronous
                                                                    payload limit; see
                                                                    docs/decisions.md)
ORT_INTRA_OP_THREADS            onnxruntime intra-op threads        1 (a Lambda of <= 1769 MB
                                                                    has one vCPU)
==============================  ==================================  ===========================

The function scores the champion only: a challenger is scored by the monitor, on the
captured applications (drift.challenger, docs/outcomes.md).

docs/operations.md has the same table, with the variables the runtime sets
(AWS_LAMBDA_LOG_LEVEL, AWS_LAMBDA_INITIALIZATION_TYPE); a test keeps it complete.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contract.env import positive_float, positive_int

#: The bundle packaged with the function: function/model next to the code.
PACKAGED_MODEL_DIR = Path(__file__).resolve().parent.parent / "model"

MAX_BATCH_SIZE = 1_000
DEFAULT_REASONS = 4
DEFAULT_BATCH_REASONS = 0
MAX_REASONS = 10


@dataclass(frozen=True)
class Settings:
    model_dir: Path = PACKAGED_MODEL_DIR
    model_s3_uri: str | None = None
    capture_stream: str | None = None
    capture_hash_key: bytes | None = None
    capture_hash_key_secret_arn: str | None = None
    capture_buffer_bytes: int = 16 * 1024 * 1024
    capture_flush_s: float = 5.0
    max_body_bytes: int = 64 * 1024
    max_batch_body_bytes: int = 5 * 1024 * 1024
    ort_threads: int = 1

    @property
    def capture_enabled(self) -> bool:
        return bool(self.capture_stream)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default: os.environ); raises ValueError on a malformed value."""
    env = os.environ if env is None else env
    hash_key = env.get("CAPTURE_HASH_KEY") or None
    return Settings(
        model_dir=Path(env.get("MODEL_DIR") or PACKAGED_MODEL_DIR),
        model_s3_uri=env.get("MODEL_S3_URI") or None,
        capture_stream=env.get("CAPTURE_STREAM") or None,
        capture_hash_key=hash_key.encode("utf-8") if hash_key else None,
        capture_hash_key_secret_arn=env.get("CAPTURE_HASH_KEY_SECRET_ARN") or None,
        capture_buffer_bytes=positive_int(env, "CAPTURE_BUFFER_BYTES", 16 * 1024 * 1024),
        capture_flush_s=positive_float(env, "CAPTURE_FLUSH_S", 5.0),
        max_body_bytes=positive_int(env, "MAX_BODY_BYTES", 64 * 1024),
        max_batch_body_bytes=positive_int(env, "MAX_BATCH_BODY_BYTES", 5 * 1024 * 1024),
        ort_threads=positive_int(env, "ORT_INTRA_OP_THREADS", 1),
    )
