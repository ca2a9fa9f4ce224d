"""The serving path imports no training/analysis stack: import the Lambda entry module in a
fresh interpreter, score through the handler, and inspect sys.modules."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FUNCTION_DIR = REPO / "function"
FORBIDDEN = ("pandas", "sklearn", "lightgbm", "scipy", "shap", "mlflow", "matplotlib",
             "onnx", "onnxmltools", "skl2onnx", "evidently", "training", "drift")
#: Only imported when capture (or MODEL_S3_URI) is on.
LAZY = ("boto3", "botocore")

_PROBE = r"""
import json, sys
import scoring.handler as app
from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
application = reference_applications(sys.argv[1], 1)[0]
response = app.handler(http_api_event("POST", "/predict", body=application),
                       FakeLambdaContext())
batch = app.handler(http_api_event("POST", "/predict/batch", body={"applications": [application]},
                                   query={"reasons": "2"}), FakeLambdaContext())
print(json.dumps({"status": [response["statusCode"], batch["statusCode"]],
                  "modules": sorted(sys.modules)}))
"""


def test_serving_path_imports_no_heavy_packages(trained_bundle):
    env = {k: v for k, v in os.environ.items() if k not in ("CAPTURE_STREAM", "MODEL_S3_URI")}
    env["MODEL_DIR"] = str(trained_bundle)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(trained_bundle)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == [200, 200]
    roots = {name.split(".")[0] for name in report["modules"]}
    # infra.lambda_events (the probe's event builder) imports nothing heavy either.
    assert not roots & set(FORBIDDEN), sorted(roots & set(FORBIDDEN))
    assert not roots & set(LAZY), "boto3 must be imported only when capture is on"
    assert "onnxruntime" in roots and "fastapi" in roots


def test_function_code_does_not_import_forbidden_packages():
    """Static check of every module in function/: no import of a forbidden package, and
    boto3 only inside functions (lazily)."""
    for path in sorted(FUNCTION_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root not in FORBIDDEN, f"{path.relative_to(REPO)} imports {name}"
        for node in tree.body:  # module-level statements only
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = getattr(node, "module", None) or node.names[0].name
                assert module.split(".")[0] not in LAZY, (
                    f"{path.relative_to(REPO)} imports {module} at module level")
