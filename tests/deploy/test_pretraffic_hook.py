"""The PreTraffic hook against the real scoring app (through Mangum, as Lambda runs it), run
from the package infra/build_hook.py builds (as `sam build` does): it passes a sound version
and fails, reporting Failed to CodeDeploy, on a tampered model, a changed threshold, a 503,
a golden set built for another model version and a golden file altered after the build."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mangum import Mangum

from contract.bundle import CARD_FILE, GOLDEN_FILE
from infra import build_hook
from infra.hooks import pretraffic
from scoring.api import create_app
from scoring.config import Settings

EVENT = {"DeploymentId": "d-ABC123", "LifecycleEventHookExecutionId": "hook-exec-1"}
ENV = {"TARGET_FUNCTION": "arn:aws:lambda:us-east-1:123456789012:function:scoring:7"}


class InProcessLambda:
    """Lambda's Invoke API over the scoring handler, run in this process."""

    def __init__(self, model_dir: Path) -> None:
        self.handler = Mangum(create_app(Settings(model_dir=model_dir)), lifespan="off")
        self.calls: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.calls.append({"function": FunctionName, "route": event["routeKey"]})
        response = self.handler(event, None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(response).encode())}


class CodeDeployRecorder:
    """Records PutLifecycleEventHookExecutionStatus (moto does not implement it)."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, str]] = []

    def put_lifecycle_event_hook_execution_status(self, **kw: str) -> dict[str, str]:
        self.statuses.append(kw)
        return {"lifecycleEventHookExecutionId": kw["lifecycleEventHookExecutionId"]}


def _built(bundle: Path, directory: Path) -> ModuleType:
    """The hook module as deployed: built from ``bundle`` and imported from its package."""
    build_hook.build(directory, bundle)
    spec = importlib.util.spec_from_file_location(f"built_pretraffic_{id(directory)}",
                                                  directory / "pretraffic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hook(trained_bundle: Path, tmp_path: Path) -> ModuleType:
    """The hook built with the trained bundle's golden set (HOOK_BUNDLE=<that bundle>)."""
    return _built(trained_bundle, tmp_path / "hook")


def _run(model_dir: Path, hook: ModuleType) -> tuple[dict, CodeDeployRecorder, InProcessLambda]:
    codedeploy, lam = CodeDeployRecorder(), InProcessLambda(model_dir)
    report = hook.handle(EVENT, ENV, lam, codedeploy)
    assert codedeploy.statuses == [{"deploymentId": "d-ABC123",
                                    "lifecycleEventHookExecutionId": "hook-exec-1",
                                    "status": report["status"]}]
    return report, codedeploy, lam


def _copy(trained_bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "served"
    shutil.copytree(trained_bundle, copy)
    return copy


def test_a_sound_version_passes(trained_bundle, hook):
    report, _, lam = _run(trained_bundle, hook)
    assert report["status"] == "Succeeded"
    assert report["model_version"] == report["health"] == "test"
    assert report["golden"] == {"rows": 200, "max_abs_diff_probability": 0.0,
                                "decisions_differing": 0, "mismatches": 0}
    assert {c["function"] for c in lam.calls} == {ENV["TARGET_FUNCTION"]}
    assert [c["route"] for c in lam.calls] == ["GET /health", "POST /predict/batch"]


def test_a_freshly_trained_calibrated_bundle_passes(calibrated_bundles, tmp_path):
    """The calibration map is inside the graph: the hook built from a bundle that training
    just wrote replays its golden set bit for bit."""
    bundle = calibrated_bundles["balanced"]
    report, _, _ = _run(bundle, _built(bundle, tmp_path / "hook"))
    assert report["status"] == "Succeeded", report
    assert report["golden"]["max_abs_diff_probability"] == 0.0
    assert report["golden"]["decisions_differing"] == report["golden"]["mismatches"] == 0


def test_a_changed_threshold_fails(trained_bundle, hook, tmp_path):
    served = _copy(trained_bundle, tmp_path)
    card = json.loads((served / CARD_FILE).read_text())
    golden = json.loads((trained_bundle / GOLDEN_FILE).read_bytes())
    # Just above the lowest declined golden probability: exactly that decision flips.
    card["threshold"] = min(r["probability_default"] for r in golden["rows"]
                            if r["decision"] == "decline") + 1e-12
    (served / CARD_FILE).write_text(json.dumps(card))
    report, _, _ = _run(served, hook)
    assert report["status"] == "Failed"
    assert "1 of 200 applications differ" in report["error"]
    assert '"expected": "decline", "got": "approve"' in report["error"]


def test_a_tampered_model_fails(trained_bundle, hook, tmp_path):
    served = _copy(trained_bundle, tmp_path)
    (served / "model.onnx").write_bytes((served / "model.onnx").read_bytes() + b"\0")
    report, _, _ = _run(served, hook)
    assert report["status"] == "Failed"
    assert "/health answered 503" in report["error"]
    assert "does not match the card's onnx_sha256" in report["error"]


def test_a_different_model_with_a_consistent_card_fails(trained_bundle, hook, tmp_path):
    """A bundle swapped for another (self-consistent) model: probabilities differ."""
    import lightgbm

    from contract import schema
    from training.bundle import write_bundle
    from training.features import frame_features
    from training.synthetic import generate

    frame = generate(1_500, seed=11)
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 11, "num_threads": 1},
        lightgbm.Dataset(frame_features(frame.iloc[:1_000]),
                         label=frame[schema.TARGET_FIELD].to_numpy()[:1_000]),
        num_boost_round=20)
    other = tmp_path / "other"
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    write_bundle(other, booster, {k: card[k] for k in ("model_version", "costs", "schema")},
                 holdout=frame.iloc[1_000:], reference=frame.iloc[:200],
                 threshold=card["threshold"], probe_rows=200)
    report, _, _ = _run(other, hook)
    assert report["status"] == "Failed"
    assert "of 200 applications differ" in report["error"]


def test_a_golden_file_altered_after_the_build_fails(trained_bundle, hook):
    package = Path(hook.__file__).parent
    golden = json.loads((package / GOLDEN_FILE).read_bytes())
    golden["rows"] = golden["rows"][:10]
    (package / GOLDEN_FILE).write_text(json.dumps(golden))
    report, _, lam = _run(trained_bundle, hook)
    assert report["status"] == "Failed"
    assert ("the packaged golden_set.json does not match the golden_sha256 recorded when the "
            "hook was built") in report["error"]
    assert lam.calls == []


def test_a_golden_set_built_for_another_model_version_fails(trained_bundle, tmp_path):
    """The hook built with model 6's bundle, the new version serving model "test"."""
    other = tmp_path / "bundle-6"
    other.mkdir()
    shutil.copyfile(trained_bundle / GOLDEN_FILE, other / GOLDEN_FILE)
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    (other / CARD_FILE).write_text(json.dumps({**card, "model_version": "6"}))
    report, _, lam = _run(trained_bundle, _built(other, tmp_path / "hook"))
    assert report["status"] == "Failed"
    assert ("hook built with the golden set of model 6, the new version serves test: build "
            "with HOOK_BUNDLE=") in report["error"]
    assert [c["route"] for c in lam.calls] == ["GET /health"]


def test_a_503_fails(hook, tmp_path):
    report, _, lam = _run(tmp_path / "no-model", hook)
    assert report["status"] == "Failed"
    assert "/health answered 503: model directory" in report["error"]
    assert [c["route"] for c in lam.calls] == ["GET /health"]


def test_a_hook_without_its_package_fails(trained_bundle, tmp_path):
    """The hook's source directory (no golden set built in) never passes a version."""
    codedeploy, lam = CodeDeployRecorder(), InProcessLambda(trained_bundle)
    report = pretraffic.handle(EVENT, ENV, lam, codedeploy, tmp_path)
    assert report["status"] == "Failed"
    assert "has no golden set and expectations" in report["error"]
    assert codedeploy.statuses[0]["status"] == "Failed" and lam.calls == []


def test_the_hook_is_packaged_alone():
    """CodeUri infra/hooks/: the module imports the standard library, boto3 and the shared
    JSON logging (contract.logs, copied into the package by infra/build_hook.py) only."""
    tree = ast.parse(Path(pretraffic.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "hashlib", "json", "logging", "os", "time",
                        "collections", "pathlib", "typing", "boto3", "contract"}
    from infra import build_hook

    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in modules if m.startswith("contract")} == {"contract.logs"}
    assert "logs.py" in build_hook.LOGS_SOURCES


def test_the_handler_creates_lambda_and_codedeploy_clients_only():
    """No S3 client: the hook reads nothing but its own package."""
    tree = ast.parse(Path(pretraffic.__file__).read_text())
    (handler,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
    clients = [c.args[0].value for c in ast.walk(handler) if isinstance(c, ast.Call)
               and isinstance(c.func, ast.Attribute) and c.func.attr == "client"]
    assert clients == ["lambda", "codedeploy"]
