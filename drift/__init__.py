"""Monitoring: an Evidently data-drift report of captured applications against the
training reference, as a scheduled Lambda (drift.handler) and a local command (python -m drift);
and outcomes analysis, monthly (drift.outcomes_handler, docs/outcomes.md).

One module per job. Shared by both scheduled jobs: publish (S3 and metric plumbing),
schedule (the dates an event means). The weekly drift run: handler (the entry point), config
(its settings), drift_job (the run), captures/report/prediction/fairness/shadow (its parts),
challenger (a challenger scored on captures). Outcomes: outcomes_handler (the monthly entry
point and run), outcomes_load (loan-outcome exports), outcomes_join + sql/ (the join,
DuckDB), athena (the same SQL on Athena), cohorts (the statistics per cohort),
outcomes_report/outcomes_classification/outcomes_trend (the pages), outcomes (the local run).

Evidently's usage telemetry is switched off here, before any drift module imports evidently:
0.7.23 reads DO_NOT_TRACK (evidently.telemetry, the UI/collector), EVIDENTLY_DISABLE_TELEMETRY
(evidently.legacy._config) and its iterative-telemetry library reads ITERATIVE_DO_NOT_TRACK.
The drift container image sets the same variables.
"""

import os

for _name in ("DO_NOT_TRACK", "EVIDENTLY_DISABLE_TELEMETRY", "ITERATIVE_DO_NOT_TRACK"):
    os.environ[_name] = "1"
