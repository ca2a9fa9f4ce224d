"""``python -m training promote``: put a registered model in front of the deployed stack.

    python -m training promote --stack credit-scoring                # alias champion
    python -m training promote --version 7 --stack credit-scoring --deploy

1. Resolve the model in the MLflow registry (alias or version) and download the bundle its
   training run logged (artifact folder ``bundle/``).
2. Check it: every file present, the card's model_version is the registry version, the
   model's and the golden set's sha256 match the card, parity and probe passed, the golden
   set replays exactly on the model, and the card's input schema is the serving schema
   (contract.schema).
3. Read the stack: its outputs (buckets) and its ``ModelPrefix`` parameter, which says which
   model serves; the version already serving is refused.
4. Keep the checked golden set and card under ``artifacts/promoted/<version>/``: the
   PreTraffic hook is built with them (``HOOK_BUNDLE=artifacts/promoted/<version> sam
   build``, infra/build_hook.py), so it checks the version against what was checked here.
5. Upload model.onnx, shap_paths.npz, reference_bins.json, golden_set.json, then
   model_card.json to ``models/<version>/`` in the model bucket; reference.csv.gz to the
   drift reference key and, beside it, reference_scores.json and model_card.json (the drift
   job's score baseline and fairness reference rates): contract.bundle.upload_plan, the
   same uploads as infra/upload_bundle.py.
6. Print the ``sam build && sam deploy`` command that serves it (or run both with
   ``--deploy``), and tag the registry version with the promotion time and stack.

Every refusal raises :class:`PromoteError` with the reason; nothing is uploaded then.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract import schema
from contract.aws_errors import explain
from contract.bundle import (
    CARD_FILE,
    GOLDEN_FILE,
    HOOK_BUNDLE_ENV,
    MODEL_FILE,
    PUBLISHED_FILES,
    REFERENCE_FILE,
    upload,
    upload_plan,
)
from training import golden
from training.tracking import CHAMPION_ALIAS, REGISTERED_MODEL, tracking_uri

MODEL_PREFIX = "models/{version}/"
#: Where the checked golden set and card of each promoted version are kept (the hook's
#: build input); relative to the working directory, the repository root for ``make``.
PROMOTED_DIR = Path("artifacts") / "promoted"
PROMOTED_AT_TAG = "promoted_at"
PROMOTED_STACK_TAG = "promoted_stack"


class PromoteError(Exception):
    """The model may not be promoted; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Promotion:
    version: str
    model_prefix: str
    keys: tuple[str, ...]
    #: The directory holding the kept golden set and card (HOOK_BUNDLE of the build).
    hook_bundle: str
    build: tuple[str, ...]
    deploy: tuple[str, ...]
    promoted_at: str

    @property
    def command(self) -> str:
        """The shell line that serves the version (printed, or run with ``--deploy``)."""
        return shell_line(self.hook_bundle, self.build, self.deploy)


def resolve(client: Any, alias: str | None, version: int | None,
            name: str = REGISTERED_MODEL) -> Any:
    """The registry's ModelVersion for the alias or version."""
    from mlflow.exceptions import MlflowException

    try:
        registered = client.search_model_versions(f"name='{name}'", max_results=1)
    except MlflowException:
        registered = []
    if not registered:
        raise PromoteError(f"the MLflow registry at {client.tracking_uri} holds no {name} "
                           f"model yet: run `make demo` or `make train` first (each registers "
                           f"its model with the alias {CHAMPION_ALIAS!r})")
    try:
        if version is not None:
            return client.get_model_version(name, str(version))
        return client.get_model_version_by_alias(name, alias or CHAMPION_ALIAS)
    except MlflowException as exc:
        what = (f"version {version}" if version is not None
                else f"alias {alias or CHAMPION_ALIAS!r}")
        raise PromoteError(f"no {what} of {name} in the MLflow registry at "
                           f"{client.tracking_uri}: {exc.message}") from None


def download_bundle(model_version: Any, destination: Path) -> Path:
    """The bundle logged by the version's training run, downloaded to ``destination``."""
    import mlflow.artifacts

    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=model_version.run_id, artifact_path="bundle", dst_path=str(destination))
    except Exception as exc:
        raise PromoteError(f"run {model_version.run_id} of version {model_version.version} "
                           f"has no bundle artifacts: {exc}") from None
    return Path(path)


def schema_differences(card: dict[str, Any]) -> list[str]:
    """Names of the fields where the card's input schema differs from contract.schema."""
    serving = {f.name: f.to_dict() for f in schema.FIELDS}
    entries = card.get("schema")
    if not isinstance(entries, list):
        return ["(the card has no schema)"]
    trained: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict):
            name = str(entry.get("name"))
            trained[name] = {k: entry.get(k) for k in serving.get(name, {})}
    names = list(serving) + [n for n in trained if n not in serving]
    return [str(n) for n in names if trained.get(n) != serving.get(n)]


def check_bundle(bundle: Path, version: str) -> dict[str, Any]:
    """The card, once every check passed; raises PromoteError naming the first failure."""
    missing = [n for n in (*PUBLISHED_FILES, REFERENCE_FILE) if not (bundle / n).is_file()]
    if missing:
        raise PromoteError(f"the bundle of version {version} lacks {', '.join(missing)}")
    card: dict[str, Any] = json.loads((bundle / CARD_FILE).read_text(encoding="utf-8"))
    if str(card.get("model_version")) != version:
        raise PromoteError(f"the bundle's card is for model_version "
                           f"{card.get('model_version')!r}, not registry version {version}")
    digest = hashlib.sha256((bundle / MODEL_FILE).read_bytes()).hexdigest()
    if digest != card.get("onnx_sha256"):
        raise PromoteError(f"{MODEL_FILE} sha256 {digest} does not match the card's "
                           f"onnx_sha256 {card.get('onnx_sha256')!r}: the bundle was altered")
    for gate in ("parity", "probe"):
        if not (isinstance(card.get(gate), dict) and card[gate].get("passed") is True):
            raise PromoteError(f"the card does not record a passed {gate} check")
    try:
        golden.verify(bundle)
    except (golden.GoldenError, KeyError, ValueError) as exc:
        raise PromoteError(f"golden set: {exc}") from None
    differing = schema_differences(card)
    if differing:
        raise PromoteError(f"the model's input schema differs from the serving schema on "
                           f"{len(differing)} field(s): {', '.join(differing[:10])}")
    return card


def stack_state(stack: str, cloudformation: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(outputs, parameters) of the deployed stack."""
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:
        raise PromoteError(explain(exc, stack) or f"stack {stack!r} cannot be read: {exc}"
                           ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "")
                  for p in found.get("Parameters", [])}
    for key in ("ModelBucketName", "ReferenceS3Uri"):
        if key not in outputs:
            raise PromoteError(f"stack {stack!r} has no output {key}: is it template.yaml's?")
    return outputs, parameters


def upload_files(bundle: Path, bucket: str, prefix: str, reference_uri: str, s3: Any
                 ) -> list[str]:
    """The bundle's uploads (contract.bundle.upload_plan): the published files under
    ``prefix`` (card last), the reference to its key with the drift job's files beside it."""
    reference_bucket, _, reference_key = reference_uri.removeprefix("s3://").partition("/")
    return upload(bundle, upload_plan(lambda name: (bundle / name).is_file(), bucket, prefix,
                                      reference_bucket, reference_key), s3)


def keep(bundle: Path, directory: Path) -> Path:
    """Copy the checked golden set and card to ``directory`` (replacing what was there)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in (GOLDEN_FILE, CARD_FILE):
        shutil.copyfile(bundle / name, directory / name)
    return directory


def deploy_commands(stack: str, model_prefix: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(``sam build``, ``sam deploy``) that serve the model at ``model_prefix``; the build
    runs with HOOK_BUNDLE set (other parameters keep their samconfig.toml / previous
    values)."""
    return (("sam", "build"),
            ("sam", "deploy", "--stack-name", stack,
             "--parameter-overrides", f"ModelPrefix={model_prefix}"))


def shell_line(hook_bundle: str, build: tuple[str, ...], deploy: tuple[str, ...]) -> str:
    return (f"{HOOK_BUNDLE_ENV}={shlex.quote(hook_bundle)} {shlex.join(build)} && "
            f"{shlex.join(deploy)}")


def run_deploy(hook_bundle: str, build: tuple[str, ...], deploy: tuple[str, ...],
               serving: str) -> None:
    """Build (the hook with the kept golden set) then deploy; PromoteError if either fails."""
    env = {**os.environ, HOOK_BUNDLE_ENV: hook_bundle}
    unchanged = f"the bundle is uploaded, the stack still serves {serving}"
    built = subprocess.run(build, env=env, check=False)
    if built.returncode != 0:
        raise PromoteError(
            f"{HOOK_BUNDLE_ENV}={shlex.quote(hook_bundle)} {shlex.join(build)} failed (exit "
            f"{built.returncode}), so nothing was deployed: the PreTraffic hook must be built "
            f"with the kept golden set; {unchanged}. Fix the build, then run: "
            f"{shell_line(hook_bundle, build, deploy)}")
    done = subprocess.run(deploy, env=env, check=False)
    if done.returncode != 0:
        raise PromoteError(f"{shlex.join(deploy)} failed (exit {done.returncode}); {unchanged}")


def promote(stack: str, alias: str | None = None, version: int | None = None, *,
            uri: str | None = None, s3: Any = None, cloudformation: Any = None,
            deploy: bool = False, promoted_dir: Path = PROMOTED_DIR) -> Promotion:
    """Check, keep, upload and tag one registered model (see the module doc)."""
    import boto3
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri or tracking_uri())
    model_version = resolve(client, alias, version)
    number = str(model_version.version)
    prefix = MODEL_PREFIX.format(version=number)
    try:
        cloudformation = cloudformation or boto3.client("cloudformation")
        s3 = s3 or boto3.client("s3")
    except Exception as exc:
        raise PromoteError(explain(exc, stack) or str(exc)) from None
    outputs, parameters = stack_state(stack, cloudformation)
    if parameters.get("ModelPrefix") == prefix:
        raise PromoteError(f"version {number} already serves stack {stack!r} "
                           f"(ModelPrefix={prefix}): nothing to promote")
    with tempfile.TemporaryDirectory(prefix="promote-") as tmp:
        bundle = download_bundle(model_version, Path(tmp))
        check_bundle(bundle, number)
        hook_bundle = str(keep(bundle, promoted_dir / number))
        try:
            keys = upload_files(bundle, outputs["ModelBucketName"], prefix,
                                outputs["ReferenceS3Uri"], s3)
        except Exception as exc:
            message = explain(exc, stack)
            if message is None:
                raise
            raise PromoteError(message) from None
    build, deploy_command = deploy_commands(stack, prefix)
    if deploy:
        run_deploy(hook_bundle, build, deploy_command,
                   parameters.get("ModelPrefix") or "the packaged model")
    promoted_at = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(model_version.name, number, PROMOTED_AT_TAG, promoted_at)
    client.set_model_version_tag(model_version.name, number, PROMOTED_STACK_TAG, stack)
    return Promotion(number, prefix, tuple(keys), hook_bundle, build, deploy_command,
                     promoted_at)


def main(args: Any) -> int:
    """The CLI command (training/cli.py parses the arguments)."""
    try:
        result = promote(args.stack, args.alias, args.version, deploy=args.deploy)
    except PromoteError as exc:
        print(f"promote refused: {exc}")
        return 1
    print(f"kept its golden set and card in {result.hook_bundle} (the PreTraffic hook's build)")
    for key in result.keys:
        print(f"uploaded {key}")
    action = "deployed with" if args.deploy else "serve it with"
    print(f"model version {result.version} promoted at {result.promoted_at}; {action}:\n"
          f"  {result.command}")
    return 0
