"""The outcomes job end to end on one machine, with neither Docker nor AWS: the demo path.

    python -m infra.local_outcomes infra/events/outcomes_schedule.json [--bundle function/model]

(``make invoke EVENT=infra/events/outcomes_schedule.json`` runs this when REPORT_BUCKET is
unset.)

1. start a moto server (S3 + Firehose) and point boto3 at it (AWS_ENDPOINT_URL);
2. send synthetic applications through the scoring Lambda handler with capture on, into
   moto's Firehose and the capture bucket (this hour's partition);
3. draw each approved applicant's outcome from the synthetic generator's own default
   probability, observed a year later, and load them with the outcome loader (hashed with
   the capture key) into the data bucket;
4. run the outcomes handler. The captures are stamped now, so the run's as-of date is the day
   this month's cohort matures (OUTCOME_MONTHS after the month's last day), passed as the
   event's ``detail.as_of``; the report is copied to ``--output``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from contract.bundle import CARD_FILE
from contract.capture_format import hour_prefix

STREAM = "local-outcomes-captures"
CAPTURE_BUCKET = "local-outcomes-capture-bucket"
DATA_BUCKET = "local-outcomes-data-bucket"
CARD_KEY = f"reference/{CARD_FILE}"
HASH_KEY = "local-demo-key"
APPLICATIONS = 2_000
BATCH = 500


def _set_up(bundle: Path, now: datetime) -> None:
    import boto3

    s3 = boto3.client("s3")
    for bucket in (CAPTURE_BUCKET, DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(bundle / CARD_FILE), DATA_BUCKET, CARD_KEY)
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/local-firehose",
            "BucketARN": f"arn:aws:s3:::{CAPTURE_BUCKET}",
            "Prefix": hour_prefix(now.date(), now.hour), "CompressionFormat": "UNCOMPRESSED"})


def _score(seed: int) -> tuple[list[dict[str, Any]], np.ndarray, list[dict[str, Any]]]:
    """Score the applications in batches through the handler, capture on; returns the
    applications, their true PDs and the predictions."""
    from infra.invoke import invoke
    from infra.lambda_events import http_api_event, to_application
    from training.synthetic import generate_with_true_pd

    frame, true_pd = generate_with_true_pd(APPLICATIONS, seed=seed)
    apps = [to_application(r) for r in frame.drop(columns=["TARGET"]).to_dict("records")]
    importlib.reload(importlib.import_module("scoring.handler"))  # capture on from now
    predictions: list[dict[str, Any]] = []
    for start in range(0, len(apps), BATCH):
        event = http_api_event("POST", "/predict/batch",
                               {"applications": apps[start:start + BATCH]})
        response = invoke(event, "Scoring")
        if response["statusCode"] != 200:
            raise RuntimeError(f"scoring failed: HTTP {response['statusCode']}")
        predictions.extend(json.loads(response["body"])["predictions"])
    from scoring import handler as scoring_handler

    capture = scoring_handler.service.capture
    assert capture is not None, "capture is off"
    capture.producer.flush(30)
    return apps, true_pd, predictions


def matures_on(now: date, outcome_months: int) -> date:
    """The day the cohort of ``now``'s month matures."""
    import calendar

    from drift.cohorts import add_months

    last = now.replace(day=calendar.monthrange(now.year, now.month)[1])
    return add_months(last, outcome_months)


def _load_outcomes(apps: list[dict[str, Any]], true_pd: np.ndarray,
                   predictions: list[dict[str, Any]], as_of: date, seed: int) -> int:
    import pandas as pd

    from drift.outcomes_load import HashKeys, load

    rng = np.random.default_rng(seed + 1)
    booked = [i for i, p in enumerate(predictions) if p["decision"] == "approve"]
    export = pd.DataFrame({
        "SK_ID_CURR": [apps[i]["SK_ID_CURR"] for i in booked],
        "outcome": (rng.random(len(booked)) < true_pd[booked]).astype(int),
        "observed_at": as_of.isoformat()})
    with tempfile.TemporaryDirectory() as tmp:
        export.to_csv(Path(tmp) / "outcomes.csv", index=False)
        load(Path(tmp) / "outcomes.csv", f"s3://{DATA_BUCKET}/", HashKeys(HASH_KEY.encode()),
             as_of)
    return len(booked)


def run(event: dict[str, Any], bundle: Path, output: Path, seed: int = 2026) -> int:
    import logging

    from moto.server import ThreadedMotoServer

    from infra.local_drift import _aws_env

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    months = int(os.environ.get("OUTCOME_MONTHS", "12"))
    now = datetime.now(UTC)
    as_of = matures_on(now.date(), months)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ.update(_aws_env(f"http://{host}:{port}"))
        _set_up(bundle, now)
        os.environ.update({"MODEL_DIR": str(bundle), "CAPTURE_STREAM": STREAM,
                           "CAPTURE_HASH_KEY": HASH_KEY})
        apps, true_pd, predictions = _score(seed)
        booked = _load_outcomes(apps, true_pd, predictions, as_of, seed)
        print(f"scored {len(apps)} applications through the scoring handler; {booked} "
              f"approved, their outcomes drawn from the generator's true PDs, observed "
              f"{as_of} (the as-of date: this month's cohort matures then)", file=sys.stderr)
        os.environ.update({"REPORT_BUCKET": DATA_BUCKET, "CAPTURE_BUCKET": CAPTURE_BUCKET,
                           "MODEL_CARD_KEY": CARD_KEY, "OUTCOME_MONTHS": str(months)})
        from infra.invoke import invoke

        result = invoke({**event, "detail": {**event.get("detail", {}),
                                             "as_of": as_of.isoformat()}}, "Outcomes")
        saved = _save(result["written"], output)
    finally:
        server.stop()
    out = sys.__stdout__ or sys.stdout
    print(json.dumps(result, indent=2), file=out)
    for path in saved:
        print(f"wrote {path}", file=out)
    return 0


def _save(keys: list[str], output: Path) -> list[Path]:
    import boto3

    s3 = boto3.client("s3")
    saved = []
    for key in keys:
        path = output / key
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(DATA_BUCKET, key, str(path))
        saved.append(path)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, help="the outcomes schedule's event")
    parser.add_argument("--bundle", type=Path, default=Path(os.environ.get(
        "MODEL_DIR", "function/model")))
    parser.add_argument("--output", type=Path, default=Path("artifacts/outcomes-local"))
    args = parser.parse_args(argv)
    if not (args.bundle / CARD_FILE).is_file():
        parser.error(f"no bundle at {args.bundle} (run `make demo` or `make train` first)")
    event = json.loads(args.event.read_text(encoding="utf-8"))
    with contextlib.redirect_stdout(sys.stderr):
        from scoring import logs

        logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115 (the handler's request lines)
        return run(event, args.bundle.resolve(), args.output)


if __name__ == "__main__":
    raise SystemExit(main())
