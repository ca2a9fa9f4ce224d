"""The training command line (training/cli.py): ``python -m training train|sample``, its
help, usage errors and input errors (one message, exit status, nothing written)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from contract import schema
from training.cli import EXIT_BAD_INPUT, main
from training.data import load_dataset
from training.synthetic import generate

REPO = Path(__file__).resolve().parents[3]


def _run(*args: str, env_uri: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ}
    if env_uri:
        env["MLFLOW_TRACKING_URI"] = env_uri
    return subprocess.run([sys.executable, "-m", "training", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_sample_command_is_deterministic(tmp_path: Path) -> None:
    for name in ("a.csv.gz", "b.csv.gz"):
        done = _run("sample", "--rows", "400", "--output", str(tmp_path / name), "--seed", "3")
        assert done.returncode == 0, done.stderr
        assert "wrote 400 synthetic rows" in done.stdout
    # Same content (the gzip header holds the file name, so compare what it decompresses to).
    assert gzip.decompress((tmp_path / "a.csv.gz").read_bytes()) == gzip.decompress(
        (tmp_path / "b.csv.gz").read_bytes())
    ds = load_dataset(tmp_path / "a.csv.gz", progress=False)
    assert ds.frame.shape == (400, len(schema.TRAINING_COLUMNS))


def test_help_and_usage_errors() -> None:
    done = _run("train", "--help")
    assert done.returncode == 0
    for flag in ("--data", "--output", "--cost-fn", "--cost-fp", "--rows", "--seed", "--folds",
                 "--trials", "--descriptions", "--lda-tolerance", "--no-lda"):
        assert flag in done.stdout
    bad = _run("train", "--output", "x", "--cost-fn", "-3")
    assert bad.returncode == 2 and "--cost-fn" in bad.stderr
    bad = _run("train", "--output", "x", "--lda-tolerance", "-0.01")
    assert bad.returncode == 2 and "--lda-tolerance: must be a fraction in [0, 1)" in bad.stderr
    missing = _run("sample", "--rows", "10")
    assert missing.returncode == 2 and "--output" in missing.stderr


def test_bad_arguments_are_rejected_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    out = str(tmp_path / "b")
    assert main(["train", "--output", out, "--cost-fn", "0", "--cost-fp", "0"]) == 2
    assert "at least one of the two costs" in capsys.readouterr().err
    assert main(["train", "--output", out, "--folds", "1"]) == 2
    assert "--folds must be at least 2" in capsys.readouterr().err
    assert main(["train", "--output", out, "--descriptions", str(tmp_path / "no.csv")]) == 2
    assert "descriptions file not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_data_one_message_nothing_written(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    df = generate(300, seed=7).drop(columns=["DAYS_BIRTH"]).astype({"AMT_ANNUITY": object})
    df.loc[0, "AMT_ANNUITY"] = "n/a?"
    data = tmp_path / "bad.csv.gz"
    df.to_csv(data, index=False)
    store = tmp_path / "store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["train", "--data", str(data), "--output", str(tmp_path / "bundle"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert err.count("error:") == 1
    assert "DAYS_BIRTH: missing column" in err and "AMT_ANNUITY: 1 non-numeric" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no bundle, no MLflow store


def test_missing_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--data", str(tmp_path / "nope.csv"), "--output",
                 str(tmp_path / "b"), "--quiet"])
    assert code == EXIT_BAD_INPUT
    assert "data file not found" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
