"""infra/build_hook.py and infra/hooks/Makefile, the PreTraffic hook's build (what `sam build
PreTrafficHookFunction` runs): the package holds the hook, the bundle's golden set and the
card's expectations; a missing or altered golden set fails the build saying what to run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from contract.bundle import CARD_FILE, GOLDEN_FILE, HOOK_BUNDLE_ENV
from infra import build_hook
from infra.hooks import pretraffic

MAKEFILE = build_hook.REPO / "infra" / "hooks" / "Makefile"


@pytest.fixture
def bundle(trained_bundle: Path, tmp_path: Path) -> Path:
    """The golden set and card of the trained bundle, as promote keeps them."""
    kept = tmp_path / "promoted" / "7"
    kept.mkdir(parents=True)
    for name in (GOLDEN_FILE, CARD_FILE):
        shutil.copyfile(trained_bundle / name, kept / name)
    return kept


def test_the_package_holds_the_hook_the_golden_set_and_the_cards_expectations(bundle, tmp_path):
    out = tmp_path / "artifacts"
    expected = build_hook.build(out, bundle)
    card = json.loads((bundle / CARD_FILE).read_text())
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(
        [GOLDEN_FILE, pretraffic.EXPECTATIONS_FILE, "pretraffic.py", "contract/__init__.py",
         "contract/logs.py"])
    assert (out / "contract/logs.py").read_bytes() == (
        build_hook.REPO / "contract/logs.py").read_bytes()
    assert (out / GOLDEN_FILE).read_bytes() == (bundle / GOLDEN_FILE).read_bytes()
    assert (out / "pretraffic.py").read_bytes() == Path(pretraffic.__file__).read_bytes()
    written = json.loads((out / pretraffic.EXPECTATIONS_FILE).read_text())
    assert written == expected == {"model_version": "test",
                                   "golden_sha256": card["golden_sha256"],
                                   "golden_file": GOLDEN_FILE}
    assert written["golden_sha256"] == hashlib.sha256(
        (out / GOLDEN_FILE).read_bytes()).hexdigest()


def test_a_bundle_without_a_golden_set_fails_saying_what_to_run(bundle, tmp_path):
    (bundle / GOLDEN_FILE).unlink()
    with pytest.raises(build_hook.BuildError, match=r"has no golden_set\.json: run `make train`"
                       r".* or `make promote`"):
        build_hook.build(tmp_path / "artifacts", bundle)
    assert not (tmp_path / "artifacts").exists()


def test_a_golden_set_that_does_not_match_the_card_fails(bundle, tmp_path):
    (bundle / GOLDEN_FILE).write_bytes((bundle / GOLDEN_FILE).read_bytes() + b" ")
    with pytest.raises(build_hook.BuildError,
                       match=r"does not match the card's golden_sha256 .* of model 'test': the "
                             r"bundle was altered; run `make train`"):
        build_hook.build(tmp_path / "artifacts", bundle)


def test_relative_bundles_are_read_from_the_repo_root():
    assert build_hook.bundle_dir(None) == build_hook.REPO / "function" / "model"
    assert build_hook.bundle_dir("artifacts/promoted/7") == (
        build_hook.REPO / "artifacts" / "promoted" / "7")
    assert build_hook.bundle_dir("/tmp/b") == Path("/tmp/b")


def test_main_reads_hook_bundle_and_reports_a_failed_build(bundle, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.setenv(HOOK_BUNDLE_ENV, str(bundle))
    assert build_hook.main([str(tmp_path / "ok")]) == 0
    assert "golden set of model test" in capsys.readouterr().out
    monkeypatch.setenv(HOOK_BUNDLE_ENV, str(tmp_path / "nowhere"))
    assert build_hook.main([str(tmp_path / "failed")]) == 1
    assert "PreTraffic hook build failed: the hook's bundle" in capsys.readouterr().err


def test_the_makefile_builds_from_sams_scratch_copy(bundle, tmp_path):
    """sam runs the target in a copy of infra/hooks/ with ARTIFACTS_DIR and its environment."""
    scratch = tmp_path / "scratch"
    shutil.copytree(MAKEFILE.parent, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, HOOK_BUNDLE_ENV: str(bundle),
           "ARTIFACTS_DIR": str(tmp_path / "built")}
    done = subprocess.run(["make", "--makefile", str(MAKEFILE), "build-PreTrafficHookFunction"],
                          cwd=scratch, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "built" / GOLDEN_FILE).read_bytes() == (bundle / GOLDEN_FILE).read_bytes()
    env[HOOK_BUNDLE_ENV] = str(tmp_path / "nowhere")
    failed = subprocess.run(["make", "--makefile", str(MAKEFILE), "build-PreTrafficHookFunction"],
                            cwd=scratch, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert failed.returncode != 0
    assert "run `make train`" in failed.stderr
