"""The outcomes job end to end on one machine, with neither Docker nor AWS: the demo path.

    python -m infra.local_outcomes infra/events/outcomes_schedule.json [--bundle function/model]

(``make invoke EVENT=infra/events/outcomes_schedule.json`` runs this when REPORT_BUCKET is
unset.)

1. start a moto server (S3 + Firehose) and make boto3 clients for it (explicit endpoint and
   fake credentials, as infra.local_drift: the process environment is left alone);
2. send synthetic applications through a scoring app built with explicit settings (capture
   on, this stream, a local hash key) behind Mangum, as the Lambda handler does, into
   moto's Firehose and the capture bucket (this hour's partition);
3. draw each approved applicant's outcome from the synthetic generator's own default
   probability, observed a year later, and load them with the outcome loader (hashed with
   the capture key) into the data bucket;
4. run the outcomes handler. The captures are stamped now, so the run's as-of date is the day
   this month's cohort matures (``--outcome-months`` after the month's last day), passed as the
   event's ``detail.as_of``; the report is copied to ``--output``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from contract.bundle import CARD_FILE
from contract.capture_format import hour_prefix

if TYPE_CHECKING:
    from infra.local_drift import LocalAws

STREAM = "local-outcomes-captures"
CAPTURE_BUCKET = "local-outcomes-capture-bucket"
DATA_BUCKET = "local-outcomes-data-bucket"
CARD_KEY = f"reference/{CARD_FILE}"
HASH_KEY = "local-demo-key"
APPLICATIONS = 2_000
BATCH = 500


def _set_up(aws: LocalAws, bundle: Path, now: datetime) -> None:
    s3 = aws.client("s3")
    for bucket in (CAPTURE_BUCKET, DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(bundle / CARD_FILE), DATA_BUCKET, CARD_KEY)
    aws.client("firehose").create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/local-firehose",
            "BucketARN": f"arn:aws:s3:::{CAPTURE_BUCKET}",
            "Prefix": hour_prefix(now.date(), now.hour), "CompressionFormat": "UNCOMPRESSED"})


def _score(aws: LocalAws, bundle: Path, seed: int
           ) -> tuple[list[dict[str, Any]], np.ndarray, list[dict[str, Any]]]:
    """Score the applications in batches through the scoring app behind Mangum, capture
    on; returns the applications, their true PDs and the predictions."""
    from mangum import Mangum

    from infra.lambda_events import FakeLambdaContext, http_api_event, to_application
    from scoring.api import create_app
    from scoring.config import Settings
    from training.synthetic import generate_with_true_pd

    frame, true_pd = generate_with_true_pd(APPLICATIONS, seed=seed)
    apps = [to_application(r) for r in frame.drop(columns=["TARGET"]).to_dict("records")]
    settings = Settings(model_dir=bundle, capture_stream=STREAM,
                        capture_hash_key=HASH_KEY.encode())
    app = create_app(settings, capture_client_factory=lambda: aws.client("firehose"))
    service = app.state.service
    service.prime()
    assert service.capture is not None, "capture is off"
    handler: Any = Mangum(app, lifespan="off")
    predictions: list[dict[str, Any]] = []
    for start in range(0, len(apps), BATCH):
        event = http_api_event("POST", "/predict/batch",
                               {"applications": apps[start:start + BATCH]})
        response = handler(event, FakeLambdaContext("ScoringFunction"))
        if response["statusCode"] != 200:
            raise RuntimeError(f"scoring failed: HTTP {response['statusCode']}")
        predictions.extend(json.loads(response["body"])["predictions"])
    service.capture.producer.flush(30)
    return apps, true_pd, predictions


def matures_on(now: date, outcome_months: int) -> date:
    """The day the cohort of ``now``'s month matures."""
    import calendar

    from drift.cohorts import add_months

    last = now.replace(day=calendar.monthrange(now.year, now.month)[1])
    return add_months(last, outcome_months)


def _load_outcomes(aws: LocalAws, apps: list[dict[str, Any]], true_pd: np.ndarray,
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
             as_of, aws.client("s3"))
    return len(booked)


def run(event: dict[str, Any], bundle: Path, output: Path, seed: int = 2026,
        outcome_months: int = 12) -> int:
    import logging

    from moto.server import ThreadedMotoServer

    from drift.config import OutcomesConfig
    from drift.outcomes_handler import run as run_outcomes
    from infra.local_drift import LocalAws

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    now = datetime.now(UTC)
    as_of = matures_on(now.date(), outcome_months)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = LocalAws(f"http://{host}:{port}")
        _set_up(aws, bundle, now)
        apps, true_pd, predictions = _score(aws, bundle, seed)
        booked = _load_outcomes(aws, apps, true_pd, predictions, as_of, seed)
        print(f"scored {len(apps)} applications through the scoring handler; {booked} "
              f"approved, their outcomes drawn from the generator's true PDs, observed "
              f"{as_of} (the as-of date: this month's cohort matures then)", file=sys.stderr)
        config = OutcomesConfig(report_bucket=DATA_BUCKET, capture_bucket=CAPTURE_BUCKET,
                                outcome_bucket=DATA_BUCKET, model_card_key=CARD_KEY,
                                outcome_months=outcome_months)
        pinned = {**event, "detail": {**event.get("detail", {}), "as_of": as_of.isoformat()}}
        result = run_outcomes(pinned, config, aws.client("s3"))
        saved = _save(aws, result["written"], output)
    finally:
        server.stop()
    out = sys.__stdout__ or sys.stdout
    print(json.dumps({k: result[k] for k in ("as_of", "join", "written")}, indent=2), file=out)
    for path in saved:
        print(f"wrote {path}", file=out)
    return 0


def _save(aws: LocalAws, keys: list[str], output: Path) -> list[Path]:
    s3 = aws.client("s3")
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
    parser.add_argument("--outcome-months", type=int, default=12)
    args = parser.parse_args(argv)
    if not (args.bundle / CARD_FILE).is_file():
        parser.error(f"no bundle at {args.bundle} (run `make demo` or `make train` first)")
    event = json.loads(args.event.read_text(encoding="utf-8"))
    with contextlib.redirect_stdout(sys.stderr):
        from scoring import logs

        logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115 (the handler's request lines)
        return run(event, args.bundle.resolve(), args.output,
                   outcome_months=args.outcome_months)


if __name__ == "__main__":
    raise SystemExit(main())
