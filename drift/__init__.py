"""Drift monitoring: an Evidently data-drift report of captured applications against the
training reference, as a scheduled Lambda (drift.handler) and a local command (python -m drift).

Evidently's usage telemetry is switched off here, before any drift module imports evidently:
0.7.23 reads DO_NOT_TRACK (evidently.telemetry, the UI/collector), EVIDENTLY_DISABLE_TELEMETRY
(evidently.legacy._config) and its iterative-telemetry library reads ITERATIVE_DO_NOT_TRACK.
The drift container image sets the same variables.
"""

import os

for _name in ("DO_NOT_TRACK", "EVIDENTLY_DISABLE_TELEMETRY", "ITERATIVE_DO_NOT_TRACK"):
    os.environ[_name] = "1"
