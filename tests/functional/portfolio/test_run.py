"""``python -m portfolio score`` end to end: agreement with /predict/batch on the real samples,
rejects, refused files, resume after a crash, the process pool, CSV output, summary."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from contract import schema
from infra.lambda_events import to_application
from portfolio.__main__ import main
from portfolio.run import Job, score_book
from tests.functional.portfolio.conftest import read_jsonl

K = 4


def _scores(directory: Path, fmt: str = "parquet") -> pd.DataFrame:
    files = sorted(directory.glob(f"part-*.{fmt}"))
    frames = [pq.read_table(f).to_pandas() if fmt == "parquet"
              else pd.read_csv(f, float_precision="round_trip")
              for f in files]
    return pd.concat(frames, ignore_index=True)


def _api_batches(post, apps: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    out = []
    for start in range(0, len(apps), 1_000):
        status, body = post("/predict/batch",
                            json.dumps({"applications": apps[start:start + 1_000]}), k)
        assert status == 200, body
        out += body["predictions"]
    return out


@pytest.mark.real_data
@pytest.mark.parametrize("sample", ["application_train_sample.csv",
                                    "application_test_sample.csv"])
def test_every_real_row_agrees_with_predict_batch(trained_bundle, post, real_data_dir, sample,
                                                  tmp_path):
    """Probability bit for bit or within the documented tolerance (1e-14 relative: one ulp
    of the graph's sigmoid), the same decision, the same reasons (fields, statement,
    direction; contributions to 1e-12)."""
    job = Job(input=str(real_data_dir / sample), output=tmp_path / "out", reasons=K,
              chunk_rows=1_700, progress=False)
    summary = score_book(job, trained_bundle)
    frame = pd.read_csv(real_data_dir / sample)
    assert summary["rows_read"] == len(frame) == summary["rows_scored"]
    assert summary["rows_rejected"] == 0
    apps = [to_application(row) for row in frame.to_dict("records")]
    api = _api_batches(post, apps, K)
    ours = _scores(tmp_path / "out").to_dict("records")
    assert [r["SK_ID_CURR"] for r in ours] == [p["client_id"] for p in api]
    exact = 0
    for row, want in zip(ours, api, strict=True):
        exact += row["probability_default"] == want["probability_default"]
        assert row["probability_default"] == pytest.approx(want["probability_default"],
                                                           rel=1e-14, abs=0)
        assert row["decision"] == want["decision"]
        assert row["threshold"] == want["threshold"]
        assert row["model_version"] == want["model_version"]
        for i, reason in enumerate(want["reasons"], start=1):
            assert row[f"reason_{i}_fields"] == ",".join(reason["fields"])
            assert row[f"reason_{i}_statement"] == reason["statement"]
            assert row[f"reason_{i}_direction"] == reason["direction"]
            assert row[f"reason_{i}_contribution"] == pytest.approx(reason["contribution"],
                                                                    rel=1e-12, abs=1e-15)
        for i in range(len(want["reasons"]) + 1, K + 1):
            assert row[f"reason_{i}_fields"] is None
        assert row["base_log_odds"] == want["base_log_odds"]
    assert summary["declines"] == sum(p["decision"] == "decline" for p in api)
    print(f"{sample}: {exact}/{len(api)} probabilities bit for bit")


def test_bad_rows_go_to_rejects_and_the_run_goes_on(trained_bundle, synthetic_book, post,
                                                    tmp_path):
    frame = pd.read_csv(synthetic_book)
    frame["AMT_CREDIT"] = frame["AMT_CREDIT"].astype(object)
    frame.loc[3, "AMT_CREDIT"] = "a lot"
    frame["CNT_CHILDREN"] = frame["CNT_CHILDREN"].astype(float)
    frame.loc[7, "CNT_CHILDREN"] = 2.5
    frame.loc[7, "NAME_CONTRACT_TYPE"] = "Mortgage"
    frame.loc[1_201, "EXT_SOURCE_1"] = 1.5
    book = tmp_path / "bad.csv"
    frame.to_csv(book, index=False)
    summary = score_book(Job(input=str(book), output=tmp_path / "out", chunk_rows=400,
                             progress=False), trained_bundle)
    assert (summary["rows_read"], summary["rows_scored"], summary["rows_rejected"]) == \
        (1_500, 1_497, 3)
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    assert [r["row"] for r in rejects] == [3, 7, 1_201]
    assert [r["SK_ID_CURR"] for r in rejects] == frame.loc[[3, 7, 1_201], "SK_ID_CURR"].tolist()
    for reject in rejects:  # the words /predict uses for the same application
        app = {k: (None if pd.isna(v) else v) for k, v in
               frame.loc[reject["row"], [f.name for f in schema.FIELDS]].items()}
        app = {k: (int(v) if hasattr(v, "item") and float(v).is_integer() else
                   v.item() if hasattr(v, "item") else v) for k, v in app.items()}
        status, body = post("/predict", json.dumps(app))
        assert status == 422
        assert reject["errors"] == body["detail"]
    assert [e["field"] for e in rejects[1]["errors"]] == ["NAME_CONTRACT_TYPE", "CNT_CHILDREN"]
    scored = _scores(tmp_path / "out")
    assert len(scored) == 1_497
    assert not scored["SK_ID_CURR"].isin(frame.loc[[3, 7, 1_201], "SK_ID_CURR"]).any()


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01 not a csv\n\x00", "lacks required column"),
    (b"SK_ID_CURR,AMT_CREDIT\n1,2\n", "lacks required column(s) NAME_CONTRACT_TYPE"),
])
def test_an_unusable_file_fails_at_once_and_leaves_nothing(trained_bundle, tmp_path, capsys,
                                                            monkeypatch, content, message):
    book = tmp_path / "book.csv"
    book.write_bytes(content)
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    assert main(["score", "--input", str(book), "--output", str(tmp_path / "out"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(book) in err and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_file_broken_midway_removes_what_the_run_wrote(trained_bundle, synthetic_book,
                                                         tmp_path, capsys, monkeypatch):
    data = gzip.decompress(synthetic_book.read_bytes())
    book = tmp_path / "cut.csv.gz"
    book.write_bytes(gzip.compress(data)[: len(gzip.compress(data)) * 2 // 3])  # truncated
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    assert main(["score", "--input", str(book), "--output", str(tmp_path / "out"),
                 "--chunk-rows", "200", "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{book}: cannot be read" in err
    assert not (tmp_path / "out").exists()


def test_a_crashed_run_redoes_only_the_missing_chunks(trained_bundle, synthetic_book, tmp_path):
    out = tmp_path / "out"
    job = Job(input=str(synthetic_book), output=out, reasons=2, chunk_rows=500, progress=False)
    first = score_book(job, trained_bundle)
    reference = _scores(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    # A crash after chunk 0: chunk 1 and 2 never finished, nothing was summarised.
    for name in ("part-00001.json", "part-00002.json", "part-00002.parquet", "_SUCCESS",
                 "summary.json", "rejects.jsonl"):
        (out / name).unlink()
    second = score_book(job, trained_bundle)
    assert second["rows_this_run"] == 1_000
    assert (out / "part-00000.parquet").stat().st_mtime_ns == mtimes["part-00000.parquet"]
    assert (out / "part-00001.parquet").stat().st_mtime_ns != mtimes["part-00001.parquet"]
    pd.testing.assert_frame_equal(_scores(out), reference)
    for key in ("rows_read", "rows_scored", "declines", "decline_rate_by_group"):
        assert second[key] == first[key]
    manifest = json.loads((out / "_SUCCESS").read_text())
    assert [p["file"] for p in manifest["parts"]] == [f"part-0000{i}.parquet" for i in range(3)]
    assert sum(p["rows"] for p in manifest["parts"]) == 1_500
    with pytest.raises(Exception, match=r"another run .*reasons"):
        score_book(Job(input=str(synthetic_book), output=out, reasons=3, chunk_rows=500,
                       progress=False), trained_bundle)


def test_the_pool_writes_what_one_process_writes_and_csv_output(trained_bundle, synthetic_book,
                                                                 tmp_path):
    one = score_book(Job(input=str(synthetic_book), output=tmp_path / "one", reasons=1,
                         chunk_rows=400, progress=False), trained_bundle)
    two = score_book(Job(input=str(synthetic_book), output=tmp_path / "two", reasons=1,
                         chunk_rows=400, workers=2, format="csv", progress=False),
                     trained_bundle)
    parquet, csv = _scores(tmp_path / "one"), _scores(tmp_path / "two", "csv")
    assert list(csv.columns) == list(parquet.columns)
    pd.testing.assert_frame_equal(csv, parquet, check_exact=True)
    assert two["workers"] == 2
    for key in ("rows_scored", "declines", "decline_rate_by_group", "applicants_by_group"):
        assert two[key] == one[key]
    frame = pd.read_csv(synthetic_book)
    assert one["ignored_columns"] == ["TARGET"]
    declined = (parquet["decision"] == "decline").to_numpy()
    women = (frame["CODE_GENDER"] == "F").to_numpy()
    assert one["decline_rate_by_group"]["gender"]["F"] == declined[women].mean()


def test_s3_input(trained_bundle, synthetic_book, moto_s3, tmp_path):
    moto_s3.create_bucket(Bucket="book")
    moto_s3.upload_file(str(synthetic_book), "book", "2026-11/book.csv.gz")
    local = score_book(Job(input=str(synthetic_book), output=tmp_path / "local",
                           progress=False), trained_bundle)
    remote = score_book(Job(input="s3://book/2026-11/book.csv.gz", output=tmp_path / "s3",
                            progress=False), trained_bundle)
    assert remote["input"] == "s3://book/2026-11/book.csv.gz"
    pd.testing.assert_frame_equal(_scores(tmp_path / "s3"), _scores(tmp_path / "local"))
    assert remote["declines"] == local["declines"]
    shutil.rmtree(tmp_path / "s3")


def test_a_bundle_the_workers_cannot_load_stops_the_run_with_the_reason(
        trained_bundle, synthetic_book, tmp_path, capsys, monkeypatch):
    broken = tmp_path / "bundle"
    shutil.copytree(trained_bundle, broken)
    (broken / "model.onnx").write_bytes(b"not the model the card describes")
    monkeypatch.setenv("MODEL_DIR", str(broken))
    assert main(["score", "--input", str(synthetic_book), "--output", str(tmp_path / "out"),
                 "--workers", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "model.onnx sha256" in err and "does not match the card" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kept_out", [True, False])
def test_the_command_keeps_pandas_out_of_its_processes(kept_out: bool):
    """pyarrow imports pandas on its first array conversion when pandas is installed (it is
    here); the command's processes refuse it, a caller's process is left alone."""
    import subprocess
    import sys

    code = ("import sys\nfrom portfolio.run import keep_pandas_out\n"
            f"if {kept_out}:\n    keep_pandas_out()\n"
            "import pyarrow as pa\n"
            "values = pa.array([1.5, None]).fill_null(0).to_numpy(zero_copy_only=False)\n"
            "print('pandas' in sys.modules, values.tolist())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[3])
    assert done.stdout.split(maxsplit=1) == [str(not kept_out), "[1.5, 0.0]\n"]
