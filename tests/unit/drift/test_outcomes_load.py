"""drift.outcomes_load: exports checked row by row, hashed like captures, written whole."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from contract.capture_format import client_hash, hash_key_id
from drift.__main__ import main
from drift.outcomes_load import (
    HashKeys,
    OutcomeError,
    build_records,
    encode_objects,
    load,
    read_outcome_lines,
    write_objects,
)

KEY, OLD = b"capture-key", b"previous-key"
AS_OF = date(2027, 6, 30)


def _export(path: Path, rows: list[dict[str, object]]) -> Path:
    frame = pd.DataFrame(rows)
    if path.name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


GOOD = [
    {"SK_ID_CURR": 100002, "outcome": 1, "observed_at": "2027-05-31", "decided_at": "2026-04-02"},
    {"SK_ID_CURR": 100003, "outcome": 0, "observed_at": "2027-05-31", "decided_at": None},
    {"SK_ID_CURR": 100004, "outcome": 0, "observed_at": "2027-06-01", "decided_at": None},
]


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz", "export.parquet"])
def test_an_export_becomes_hashed_records_per_observed_day(tmp_path, name):
    written = load(_export(tmp_path / name, GOOD), tmp_path / "bucket", HashKeys(KEY), AS_OF)
    assert [Path(w).relative_to(tmp_path / "bucket").parts[:2] for w in written] == [
        ("outcomes", "dt=2027-05-31"), ("outcomes", "dt=2027-06-01")]
    records = [r for w in written for r in read_outcome_lines(Path(w).read_bytes())]
    assert [r["client_id_hash"] for r in records] == [client_hash(KEY, i)
                                                      for i in (100002, 100003, 100004)]
    assert {r["hash_key_id"] for r in records} == {hash_key_id(KEY)}
    assert [r["outcome"] for r in records] == [1, 0, 0]
    assert records[0]["decided_at"] == "2026-04-02" and records[1]["decided_at"] is None
    text = b"".join(gzip.decompress(Path(w).read_bytes()) for w in written)
    assert b"100002" not in text  # the plain id is never stored
    again = load(tmp_path / name, tmp_path / "bucket", HashKeys(KEY), AS_OF)
    assert again == written  # the same export replaces its objects


def test_a_rotation_writes_one_line_per_key_for_the_same_loan():
    frame = pd.DataFrame(GOOD[:1]).astype("string")
    records = build_records(frame, HashKeys(KEY, (OLD,)), AS_OF)
    assert [r["hash_key_id"] for r in records] == [hash_key_id(KEY), hash_key_id(OLD)]
    assert [r["client_id_hash"] for r in records] == [client_hash(KEY, 100002),
                                                      client_hash(OLD, 100002)]
    assert records[0]["loan_id"] == records[1]["loan_id"] == client_hash(KEY, 100002)


def test_every_bad_row_and_field_is_named_and_nothing_is_written(tmp_path):
    rows = [
        {"SK_ID_CURR": 1, "outcome": 2, "observed_at": "2027-01-01"},
        {"SK_ID_CURR": None, "outcome": 0, "observed_at": "2027-01-01"},
        {"SK_ID_CURR": 3, "outcome": 0, "observed_at": "2027-07-01"},
        {"SK_ID_CURR": 4, "outcome": 1, "observed_at": "yesterday"},
        {"SK_ID_CURR": 5, "outcome": 0, "observed_at": "2027-01-01"},
        {"SK_ID_CURR": 5, "outcome": 1, "observed_at": "2027-02-01"},
        {"SK_ID_CURR": 6, "outcome": 0, "observed_at": "2027-01-01", "decided_at": "2027-03-01"},
    ]
    with pytest.raises(OutcomeError) as raised:
        load(_export(tmp_path / "bad.csv", rows), tmp_path / "bucket", HashKeys(KEY), AS_OF)
    assert raised.value.problems == [
        "row 2: outcome '2' is not 0 or 1",
        "row 3: no SK_ID_CURR and no request_id",
        "row 4: observed_at 2027-07-01 is after the as-of date 2027-06-30",
        "row 5: observed_at 'yesterday' is not a date (YYYY-MM-DD)",
        "row 7: duplicate loan (SK_ID_CURR 5 is also on row 6)",
        "row 8: decided_at 2027-03-01 is after observed_at 2027-01-01",
    ]
    assert "nothing was written" in str(raised.value)
    assert not (tmp_path / "bucket").exists()


def test_a_malformed_file_or_missing_column_is_a_sentence(tmp_path):
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match=r"not a readable CSV, CSV\.gz or Parquet file"):
        load(broken, tmp_path / "out", HashKeys(KEY), AS_OF)
    with pytest.raises(OutcomeError, match=r"missing column.*outcome"):
        load(_export(tmp_path / "x.csv", [{"SK_ID_CURR": 1, "observed_at": "2027-01-01"}]),
             tmp_path / "out", HashKeys(KEY), AS_OF)
    assert not (tmp_path / "out").exists()


def test_a_failed_write_removes_what_it_wrote(tmp_path, monkeypatch):
    import drift.outcomes_load as module

    objects = encode_objects(build_records(pd.DataFrame(GOOD).astype("string"),
                                           HashKeys(KEY), AS_OF))
    calls = []
    real = module.os.replace

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(module.os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_objects(objects, tmp_path / "bucket")
    assert [p for p in (tmp_path / "bucket").rglob("*") if p.is_file()] == []


def test_s3_in_and_out_through_aws_endpoint_url(tmp_path, monkeypatch):
    """A moto server reached only through AWS_ENDPOINT_URL, as the command would be."""
    import boto3
    from moto.server import ThreadedMotoServer

    # boto3's default session would keep this test's keys for later tests: a fresh one,
    # put back afterwards
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="exports")
        s3.create_bucket(Bucket="monitoring")
        s3.upload_file(str(_export(tmp_path / "e.csv", GOOD)), "exports", "2027/e.csv")
        monkeypatch.setenv("CAPTURE_HASH_KEY", KEY.decode())
        assert main(["load-outcomes", "--input", "s3://exports/2027/e.csv",
                     "--output", "s3://monitoring/", "--as-of", "2027-06-30"]) == 0
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="monitoring")["Contents"]]
        assert [k.split("/")[:2] for k in keys] == [["outcomes", "dt=2027-05-31"],
                                                    ["outcomes", "dt=2027-06-01"]]
        body = s3.get_object(Bucket="monitoring", Key=keys[0])["Body"].read()
        assert [r["outcome"] for r in read_outcome_lines(body)] == [1, 0]
    finally:
        server.stop()


def test_the_command_without_a_key_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CAPTURE_HASH_KEY", raising=False)
    monkeypatch.delenv("CAPTURE_HASH_KEY_SECRET_ARN", raising=False)
    code = main(["load-outcomes", "--input", str(_export(tmp_path / "e.csv", GOOD)),
                 "--output", str(tmp_path / "out")])
    assert code == 2 and "no hash key: set CAPTURE_HASH_KEY" in capsys.readouterr().err
