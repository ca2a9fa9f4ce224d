"""The monitor's settings, read from the environment (template.yaml sets them).

The weekly drift job (DriftConfig): REPORT_BUCKET, CAPTURE_BUCKET, REFERENCE_KEY
(required); REFERENCE_BUCKET (default REPORT_BUCKET), CAPTURE_PREFIX (captures/),
REPORT_PREFIX (reports/drift/), WINDOW_DAYS (7), MIN_ROWS (200), MAX_ROWS (20000),
ROWS_PER_OBJECT (50), READ_WORKERS (8),
REFERENCE_SCORES_KEY and REFERENCE_CARD_KEY (default: reference_scores.json and
model_card.json beside REFERENCE_KEY), MODEL_NAME (credit-scoring, the metric dimension),
METRIC_NAMESPACE (CreditScoring/Drift), CHALLENGER_MODEL_S3_URI (a challenger bundle scored
on the captures: drift.challenger).

The monthly outcomes job (OutcomesConfig): REPORT_BUCKET, CAPTURE_BUCKET, MODEL_CARD_KEY
(required); OUTCOME_BUCKET (default REPORT_BUCKET), CAPTURE_PREFIX (captures/),
OUTCOME_PREFIX (outcomes/), REPORT_PREFIX (reports/outcomes/), OUTCOME_MONTHS (12),
LOOKBACK_MONTHS (25), MODEL_NAME, METRIC_NAMESPACE (CreditScoring/Outcomes);
ATHENA_WORKGROUP and ATHENA_DATABASE (both set: the join runs on Athena, drift.athena, and
nothing is downloaded); DECISIONS_PREFIX (decisions/).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from contract.capture_format import DEFAULT_PREFIX as DEFAULT_CAPTURE_PREFIX
from contract.env import positive_int, prefix, required
from contract.outcome_format import DEFAULT_PREFIX as DEFAULT_OUTCOME_PREFIX
from drift.captures import DEFAULT_ROWS_PER_OBJECT, DEFAULT_WORKERS

DEFAULT_REPORT_PREFIX = "reports/drift/"
DEFAULT_OUTCOMES_REPORT_PREFIX = "reports/outcomes/"


@dataclass(frozen=True)
class DriftConfig:
    report_bucket: str
    capture_bucket: str
    reference_bucket: str
    reference_key: str
    capture_prefix: str = DEFAULT_CAPTURE_PREFIX
    report_prefix: str = DEFAULT_REPORT_PREFIX
    window_days: int = 7
    min_rows: int = 200
    max_rows: int = 20_000
    rows_per_object: int = DEFAULT_ROWS_PER_OBJECT
    reference_scores_key: str | None = None
    #: The model card beside the reference (its fairness reference decline rates).
    reference_card_key: str | None = None
    read_workers: int = DEFAULT_WORKERS
    model_name: str = "credit-scoring"
    metric_namespace: str = "CreditScoring/Drift"
    challenger_model_s3_uri: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DriftConfig:
        env = os.environ if env is None else env
        required("REPORT_BUCKET", "CAPTURE_BUCKET", "REFERENCE_KEY", env=env)
        config = cls(
            report_bucket=env["REPORT_BUCKET"],
            capture_bucket=env["CAPTURE_BUCKET"],
            reference_bucket=env.get("REFERENCE_BUCKET") or env["REPORT_BUCKET"],
            reference_key=env["REFERENCE_KEY"],
            capture_prefix=prefix(env.get("CAPTURE_PREFIX", DEFAULT_CAPTURE_PREFIX)),
            report_prefix=prefix(env.get("REPORT_PREFIX") or DEFAULT_REPORT_PREFIX),
            window_days=positive_int(env, "WINDOW_DAYS", cls.window_days),
            min_rows=positive_int(env, "MIN_ROWS", cls.min_rows),
            max_rows=positive_int(env, "MAX_ROWS", cls.max_rows),
            rows_per_object=positive_int(env, "ROWS_PER_OBJECT", cls.rows_per_object),
            reference_scores_key=env.get("REFERENCE_SCORES_KEY") or None,
            reference_card_key=env.get("REFERENCE_CARD_KEY") or None,
            read_workers=positive_int(env, "READ_WORKERS", cls.read_workers),
            model_name=env.get("MODEL_NAME") or cls.model_name,
            metric_namespace=env.get("METRIC_NAMESPACE") or cls.metric_namespace,
            challenger_model_s3_uri=env.get("CHALLENGER_MODEL_S3_URI") or None,
        )
        if config.min_rows > config.max_rows:
            raise ValueError(f"MIN_ROWS ({config.min_rows}) exceeds MAX_ROWS ({config.max_rows})")
        return config


@dataclass(frozen=True)
class OutcomesConfig:
    report_bucket: str
    capture_bucket: str
    outcome_bucket: str
    model_card_key: str
    capture_prefix: str = DEFAULT_CAPTURE_PREFIX
    outcome_prefix: str = DEFAULT_OUTCOME_PREFIX
    report_prefix: str = DEFAULT_OUTCOMES_REPORT_PREFIX
    outcome_months: int = 12
    lookback_months: int = 25
    model_name: str = "credit-scoring"
    metric_namespace: str = "CreditScoring/Outcomes"
    #: Both set: the join runs on Athena (drift.athena) instead of DuckDB on downloads.
    athena_workgroup: str | None = None
    athena_database: str | None = None
    decisions_prefix: str = "decisions/"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutcomesConfig:
        env = os.environ if env is None else env
        required("REPORT_BUCKET", "CAPTURE_BUCKET", "MODEL_CARD_KEY", env=env)
        return cls(
            report_bucket=env["REPORT_BUCKET"], capture_bucket=env["CAPTURE_BUCKET"],
            outcome_bucket=env.get("OUTCOME_BUCKET") or env["REPORT_BUCKET"],
            model_card_key=env["MODEL_CARD_KEY"],
            capture_prefix=prefix(env.get("CAPTURE_PREFIX") or DEFAULT_CAPTURE_PREFIX),
            outcome_prefix=prefix(env.get("OUTCOME_PREFIX") or DEFAULT_OUTCOME_PREFIX),
            report_prefix=prefix(env.get("REPORT_PREFIX") or DEFAULT_OUTCOMES_REPORT_PREFIX),
            outcome_months=positive_int(env, "OUTCOME_MONTHS", cls.outcome_months),
            lookback_months=positive_int(env, "LOOKBACK_MONTHS", cls.lookback_months),
            model_name=env.get("MODEL_NAME") or cls.model_name,
            metric_namespace=env.get("METRIC_NAMESPACE") or cls.metric_namespace,
            athena_workgroup=env.get("ATHENA_WORKGROUP") or None,
            athena_database=env.get("ATHENA_DATABASE") or None,
            decisions_prefix=prefix(env.get("DECISIONS_PREFIX") or cls.decisions_prefix))
