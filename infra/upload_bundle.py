"""Upload a model bundle and its drift reference sample to the deployed stack's buckets.

    python -m infra.upload_bundle --bundle function/model --stack credit-scoring
    python -m infra.upload_bundle --bundle function/model \\
        --model-uri s3://MODEL_BUCKET/models/{version}/ \\
        --reference-uri s3://DATA_BUCKET/reference/reference.csv.gz

model.onnx, shap_paths.npz, golden_set.json (when present) and model_card.json (last, so a
reader never finds a card whose model is missing) go under the model prefix; ``{version}``
in it is replaced by the card's model_version, so each model gets its own prefix and older
ones stay for rollback.
reference.csv.gz goes to the drift job's reference key. The model's sha256 is checked
against the card before anything is uploaded.

The function loads its bundle when a version is published (SnapStart snapshots it), so a
model goes live by deploying its prefix: ``sam deploy --parameter-overrides
ModelPrefix=models/<version>/``, as printed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.aws_errors import explain
from contract.bundle import (
    CARD_FILE,
    MODEL_FILE,
    REFERENCE_FILE,
    SERVING_FILES,
    upload,
    upload_plan,
)

DEFAULT_MODEL_PREFIX = "models/{version}/"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BundleUploadError(Exception):
    """The bundle or the destination is not fit for upload."""


@dataclass(frozen=True)
class Uploaded:
    model_version: str
    model_uri: str  # s3://bucket/prefix/ holding the serving files
    model_prefix: str  # the template's ModelPrefix parameter value
    reference_uri: str
    keys: tuple[str, ...]  # s3:// URIs written, in order


def split_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key or prefix") of an s3:// URI."""
    if not uri.startswith("s3://"):
        raise BundleUploadError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise BundleUploadError(f"{uri!r} has no bucket")
    return bucket, key


def check_bundle(bundle: Path) -> dict[str, Any]:
    """The model card, after checking the files exist and model.onnx matches its sha256."""
    missing = [n for n in (*SERVING_FILES, REFERENCE_FILE) if not (bundle / n).is_file()]
    if missing:
        raise BundleUploadError(f"{bundle} lacks {', '.join(missing)}")
    try:
        card = json.loads((bundle / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleUploadError(f"unreadable model_card.json: {exc}") from exc
    version = str(card.get("model_version", ""))
    if not _VERSION.match(version):
        raise BundleUploadError(f"model_card.json has no usable model_version ({version!r})")
    digest = hashlib.sha256((bundle / MODEL_FILE).read_bytes()).hexdigest()
    if digest != card.get("onnx_sha256"):
        raise BundleUploadError(
            f"model.onnx sha256 {digest} does not match the card's {card.get('onnx_sha256')!r}"
        )
    return card


def upload_bundle(
    bundle: Path, model_uri: str, reference_uri: str, s3_client: Any = None
) -> Uploaded:
    """Check ``bundle`` and upload it; ``{version}`` in ``model_uri`` becomes the version."""
    bundle = Path(bundle)
    card = check_bundle(bundle)
    version = str(card["model_version"])
    model_bucket, prefix = split_s3_uri(model_uri.replace("{version}", version))
    prefix = prefix.strip("/")
    if not prefix:
        raise BundleUploadError("the model URI needs a prefix (e.g. models/{version}/)")
    reference_bucket, reference_key = split_s3_uri(reference_uri)
    if not reference_key or reference_key.endswith("/"):
        raise BundleUploadError(f"{reference_uri!r} must name an object key")
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")

    written = upload(bundle, upload_plan(lambda name: (bundle / name).is_file(), model_bucket,
                                         f"{prefix}/", reference_bucket, reference_key),
                     s3_client)
    return Uploaded(
        model_version=version,
        model_uri=f"s3://{model_bucket}/{prefix}/",
        model_prefix=f"{prefix}/",
        reference_uri=f"s3://{reference_bucket}/{reference_key}",
        keys=tuple(written),
    )


def uris_from_outputs(
    outputs: Mapping[str, str], model_prefix: str = DEFAULT_MODEL_PREFIX
) -> tuple[str, str]:
    """(model URI, reference URI) from the stack outputs of template.yaml."""
    try:
        bucket = outputs["ModelBucketName"]
        reference_uri = outputs["ReferenceS3Uri"]
    except KeyError as exc:
        raise BundleUploadError(f"the stack has no output {exc}: is it template.yaml's?") from None
    return f"s3://{bucket}/{model_prefix.lstrip('/')}", reference_uri


def stack_outputs(stack_name: str, cloudformation_client: Any = None) -> dict[str, str]:
    if cloudformation_client is None:
        import boto3

        cloudformation_client = boto3.client("cloudformation")
    stack = cloudformation_client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("function/model"))
    parser.add_argument("--stack", help="read the buckets from this stack's outputs")
    parser.add_argument("--model-uri", help="s3://bucket/prefix/ ({version} is replaced)")
    parser.add_argument("--reference-uri", help="s3://bucket/key of reference.csv.gz")
    parser.add_argument(
        "--model-prefix", default=DEFAULT_MODEL_PREFIX, help="with --stack (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if not (args.stack or (args.model_uri and args.reference_uri)):
        parser.error("give --stack, or both --model-uri and --reference-uri")
    try:
        if args.stack:
            model_uri, reference_uri = uris_from_outputs(stack_outputs(args.stack),
                                                         args.model_prefix)
            model_uri = args.model_uri or model_uri
            reference_uri = args.reference_uri or reference_uri
        else:
            model_uri, reference_uri = args.model_uri, args.reference_uri
        result = upload_bundle(args.bundle, model_uri, reference_uri)
    except BundleUploadError as exc:
        parser.exit(1, f"upload_bundle: {exc}\n")
    except Exception as exc:
        message = explain(exc, args.stack)
        if message is None:
            raise
        parser.exit(1, f"upload_bundle: {message}\n")
    for uri in result.keys:
        print(f"uploaded {uri}")
    print(
        f"model {result.model_version} is at {result.model_uri}; put it live with:\n"
        f"  sam deploy --parameter-overrides ModelPrefix={result.model_prefix}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
