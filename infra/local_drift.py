"""The drift job end to end on one machine, with neither Docker nor AWS.

    python -m infra.local_drift infra/events/drift_schedule.json [--bundle function/model]

(``make invoke EVENT=infra/events/drift_schedule.json`` runs this when REPORT_BUCKET is unset.)

1. start a moto server (S3 + Firehose) on 127.0.0.1 and make boto3 clients for it (explicit
   endpoint and fake credentials: the process environment is left alone);
2. create the capture bucket, the data bucket (with the bundle's reference sample, scores and card)
   and a Firehose delivery stream into the capture bucket;
3. score the demo's synthetic applications through a scoring app built with explicit settings
   (capture on, this stream, a local hash key) behind Mangum, as the Lambda handler does: the
   Firehose producer sends them to the stream and moto writes them to S3. moto neither
   buffers, compresses nor expands ``!{timestamp}``: each flush becomes one object, and the
   stream's prefix is moved from hour to hour of the event's window so that the captures
   spread over it as Firehose's hourly partitions would;
4. run the scheduled event through the drift job (``drift.drift_job.run`` with an explicit
   ``DriftConfig``), copy the report to ``--output`` and print where it is; stop the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from contract.bundle import REFERENCE_FILE, reference_uploads, upload
from contract.capture_format import DEFAULT_PREFIX, hour_prefix

STREAM = "local-captures"
CAPTURE_BUCKET = "local-capture-bucket"
DATA_BUCKET = "local-data-bucket"
REFERENCE_KEY = f"reference/{REFERENCE_FILE}"
HASH_KEY = b"local-demo-key"
#: Applications per flush (one moto object each) and flushes in all.
PER_OBJECT = 40
OBJECTS = 15


class LocalAws:
    """boto3 clients for a local moto server: explicit endpoint, region and fake keys."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local",
            aws_session_token="local", region_name="us-east-1")

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)


def _set_up(aws: LocalAws, bundle: Path) -> Any:
    """Buckets, the reference files and the delivery stream; returns the Firehose client."""
    s3 = aws.client("s3")
    for bucket in (CAPTURE_BUCKET, DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    upload(bundle, reference_uploads(lambda name: (bundle / name).is_file(), DATA_BUCKET,
                                     REFERENCE_KEY), s3)
    firehose = aws.client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/local-firehose",
            "BucketARN": f"arn:aws:s3:::{CAPTURE_BUCKET}", "Prefix": DEFAULT_PREFIX,
            "CompressionFormat": "UNCOMPRESSED"})
    return firehose


def _point_stream_at(firehose: Any, prefix: str) -> None:
    described = firehose.describe_delivery_stream(DeliveryStreamName=STREAM)
    stream = described["DeliveryStreamDescription"]
    firehose.update_destination(
        DeliveryStreamName=STREAM, CurrentDeliveryStreamVersionId=stream["VersionId"],
        DestinationId=stream["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"Prefix": prefix})


def drift_config() -> Any:
    """The drift job's settings for the local buckets (the template's defaults otherwise)."""
    from drift.config import DriftConfig

    return DriftConfig(report_bucket=DATA_BUCKET, capture_bucket=CAPTURE_BUCKET,
                  reference_bucket=DATA_BUCKET, reference_key=REFERENCE_KEY)


def _score_with_capture(aws: LocalAws, firehose: Any, bundle: Path, event: dict[str, Any],
                        window_days: int, seed: int) -> dict[str, object]:
    """Score OBJECTS x PER_OBJECT applications through the scoring app behind Mangum,
    capture on; the captures of each group land in one hour of the event's window."""
    from mangum import Mangum

    from drift.schedule import window_for
    from infra.lambda_events import FakeLambdaContext
    from infra.synthetic_traffic import predict_event, synthetic_applications
    from scoring.api import create_app
    from scoring.config import Settings

    settings = Settings(model_dir=bundle, capture_stream=STREAM, capture_hash_key=HASH_KEY)
    app = create_app(settings, capture_client_factory=lambda: aws.client("firehose"))
    service = app.state.service
    service.prime()
    handler: Any = Mangum(app, lifespan="off")
    assert service.capture is not None, "capture is off"
    window = window_for(event, window_days)
    days = (window.end - window.start).days + 1
    apps = synthetic_applications(OBJECTS * PER_OBJECT, seed)
    for i in range(OBJECTS):
        hour = i * days * 24 // OBJECTS
        day = window.start.fromordinal(window.start.toordinal() + hour // 24)
        _point_stream_at(firehose, hour_prefix(day, hour % 24))
        for app_body in apps[i * PER_OBJECT:(i + 1) * PER_OBJECT]:
            response = handler(predict_event(app_body), FakeLambdaContext("ScoringFunction"))
            if response["statusCode"] != 200:
                raise RuntimeError(f"scoring failed: HTTP {response['statusCode']}")
        service.capture.producer.flush(30)
    counts: dict[str, object] = {**service.capture.stats()}
    return counts


def _save_report(aws: LocalAws, result: dict[str, Any], output: Path) -> list[Path]:
    s3 = aws.client("s3")
    saved = []
    output.mkdir(parents=True, exist_ok=True)
    for key in result["written"]:
        path = output / key
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(DATA_BUCKET, key, str(path))
        saved.append(path)
    return saved


def run(event: dict[str, Any], bundle: Path, output: Path, seed: int = 2026) -> int:
    from moto.server import ThreadedMotoServer

    from drift.drift_job import run as run_drift

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per emulated request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = LocalAws(f"http://{host}:{port}")
        print(f"moto server (S3, Firehose) on {aws.endpoint}", file=sys.stderr)
        firehose = _set_up(aws, bundle)
        config = drift_config()
        counts = _score_with_capture(aws, firehose, bundle, event, config.window_days, seed)
        print(f"scored {OBJECTS * PER_OBJECT} applications through the scoring handler; "
              f"captures sent to Firehose: {counts['sent']} (dropped {counts['dropped']}, "
              f"failed {counts['failed']})", file=sys.stderr)
        result = run_drift(event, config, aws.client("s3"))
        saved = _save_report(aws, dict(result), output)
    finally:
        server.stop()
    out = sys.__stdout__ or sys.stdout
    print(json.dumps({k: result[k] for k in ("status", "reason", "window", "rows")}, indent=2,
                     default=str), file=out)
    for path in saved:
        print(f"wrote {path}", file=out)
    return 0 if result["status"] in ("ok", "skipped") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, help="a scheduled event (infra/events/)")
    parser.add_argument("--bundle", type=Path, default=Path(os.environ.get(
        "MODEL_DIR", "function/model")))
    parser.add_argument("--output", type=Path, default=Path("artifacts/drift-local"))
    args = parser.parse_args(argv)
    if not (args.bundle / REFERENCE_FILE).is_file():
        parser.error(f"no bundle at {args.bundle} (run `make demo` or `make train` first)")
    event = json.loads(args.event.read_text(encoding="utf-8"))
    with contextlib.redirect_stdout(sys.stderr):
        from scoring import logs

        logs.logger.setLevel(logging.WARNING)  # not the 600 request lines; the drift job's stay
        return run(event, args.bundle.resolve(), args.output)


if __name__ == "__main__":
    raise SystemExit(main())
