"""infra/build_function.py, the scoring function's deployment build (what `sam build
ScoringFunction` runs): pruning, unchecked-hash .pyc files, and the whole build answering a
/predict v2 event from a Lambda-like interpreter (python -S, only the package on sys.path,
no .pyc writes)."""

from __future__ import annotations

import json
import marshal
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from infra import build_function
from infra.lambda_events import http_api_event, reference_applications

#: pip failures that mean "no package index reachable", not a broken build.
_OFFLINE_MARKERS = ("NewConnectionError", "Temporary failure in name resolution",
                    "Network is unreachable", "ProxyError", "Max retries exceeded")


def _pyc_of(source: Path) -> Path:
    tag = sys.implementation.cache_tag
    return source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"


def _flags_and_filename(pyc: Path) -> tuple[int, str]:
    data = pyc.read_bytes()
    (flags,) = struct.unpack("<I", data[4:8])
    return flags, marshal.loads(data[16:]).co_filename


def test_prune_removes_the_runtime_dead_weight_only(tmp_path):
    kept = ("mangum/handlers/api_gateway.py", "numpy/_core/multiarray.py",
            "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so",
            "numpy/random/_generator.cpython-312-x86_64-linux-gnu.so",
            "onnxruntime/capi/session.py", "pydantic_core/py.typed")
    dead = ("numpy/f2py/crackfortran.py", "numpy/_core/tests/test_x.py",
            "onnxruntime/tools/convert.py", "onnxruntime/quantization/q.py",
            "onnxruntime/transformers/t.py", "bin/f2py", "numpy/__init__.pyi",
            "pydantic_core/_pydantic_core.pyi", "numpy/random/_generator.pxd",
            "numpy/_core/include/numpy/ndarrayobject.h", "numpy/_core/lib/libnpymath.a",
            "numpy/random/lib/libnpyrandom.a")
    for rel in kept + dead:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    removed = build_function.prune(tmp_path)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(kept)
    assert not (tmp_path / "bin").exists()
    assert all(not path.exists() for path in removed)


def test_compile_writes_unchecked_hash_pyc_recorded_under_var_task(tmp_path):
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text("VALUE = 41 + 1\n")
    build_function.compile_package(tmp_path)
    flags, filename = _flags_and_filename(_pyc_of(source))
    assert flags == 0b01  # hash-based, check_source off: never revalidated at import
    assert filename == "/var/task/pkg/mod.py"


def test_build_refuses_to_wipe_a_directory_that_is_not_a_build(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(build_function.BuildError, match="not wiping"):
        build_function.build(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.slow
def test_built_package_answers_predict_from_a_lambda_like_interpreter(tmp_path, trained_bundle):
    try:
        out = build_function.build(tmp_path / "build", model_dir=trained_bundle)
    except build_function.BuildError as exc:
        if any(marker in str(exc) for marker in _OFFLINE_MARKERS):
            pytest.skip(f"no package index reachable for pip: {str(exc)[-200:]}")
        raise
    # Layout: code, the bundle files the function reads (not the drift reference nor the
    # hook's golden set), no tests / f2py / console scripts / type stubs.
    assert (out / "scoring" / "handler.py").is_file() and (out / "contract" / "schema.py").is_file()
    packaged = {p.name for p in (out / "model").iterdir()}
    assert packaged == {"model.onnx", "model_card.json", "shap_paths.npz",
                        "reference_bins.json"} & {p.name for p in trained_bundle.iterdir()}
    assert {"model.onnx", "model_card.json", "shap_paths.npz"} <= packaged
    assert not [p for p in out.rglob("*") if p.is_dir() and p.name in ("tests", "f2py")]
    assert not list(out.rglob("*.pyi"))
    assert not (out / "bin").exists()
    # Every module precompiled, unchecked-hash.
    sources = [p for p in out.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) > 300
    missing = [str(p.relative_to(out)) for p in sources if not _pyc_of(p).is_file()]
    assert missing == []
    assert {_flags_and_filename(_pyc_of(p))[0] for p in sources[::25]} == {0b01}
    assert build_function.package_bytes(out) <= 150e6

    # Lambda-like cold start: /var/task read-only (no .pyc writes), no site-packages.
    event = http_api_event("POST", "/predict", body=reference_applications(trained_bundle, 1)[0])
    (tmp_path / "event.json").write_text(json.dumps(event))
    child = (
        "import json, sys\n"
        "import scoring.handler as app\n"
        "event = json.load(open(sys.argv[1]))\n"
        "response = app.handler(event, None)\n"
        "loaded = [m.__file__ for m in list(sys.modules.values())\n"
        "          if getattr(m, '__file__', None) and m.__file__.endswith('.py')]\n"
        "print('@@', json.dumps({'status': response['statusCode'],\n"
        "                        'body': json.loads(response['body']), 'files': loaded}))\n"
    )
    env = {k: v for k, v in os.environ.items()
           if k not in ("MODEL_S3_URI", "CAPTURE_STREAM", "PYTHONPATH")}
    env.update({"PYTHONPATH": str(out), "MODEL_DIR": "", "PYTHONDONTWRITEBYTECODE": "1"})
    result = subprocess.run([sys.executable, "-S", "-c", child, str(tmp_path / "event.json")],
                            cwd=out, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("@@ "))
    answer = json.loads(line[3:])
    assert answer["status"] == 200, answer["body"]
    assert answer["body"]["decision"] in ("approve", "decline")
    assert 0.0 <= answer["body"]["probability_default"] <= 1.0
    # The third-party code came from the package, never from the dev venv.
    third_party = [f for f in answer["files"] if "site-packages" in f]
    assert third_party == []
    assert any(f.startswith(str(out / "numpy")) for f in answer["files"])
