"""The scoring function's settings loader (scoring/config.py): every variable read from the
environment, the defaults, and the errors a malformed value raises (from contract.env)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.config import PACKAGED_MODEL_DIR, Settings, load_settings


def test_an_empty_environment_gives_the_defaults():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.model_dir == PACKAGED_MODEL_DIR
    assert PACKAGED_MODEL_DIR.parent.name == "function"  # function/model, packaged with the code
    assert settings.model_s3_uri is None
    assert settings.capture_stream is None and settings.capture_enabled is False
    assert settings.capture_hash_key is None
    assert settings.capture_buffer_bytes == 16 * 1024 * 1024
    assert settings.capture_flush_s == 5.0
    assert (settings.max_body_bytes, settings.max_batch_body_bytes) == (65_536, 5_242_880)
    assert settings.ort_threads == 1


def test_every_variable_is_read():
    settings = load_settings({
        "MODEL_DIR": "/opt/bundle",
        "MODEL_S3_URI": "s3://models/scoring/v7/",
        "CAPTURE_STREAM": "credit-captures",
        "CAPTURE_HASH_KEY": "pepper-é",
        "CAPTURE_BUFFER_BYTES": "1048576",
        "CAPTURE_FLUSH_S": "0.25",
        "MAX_BODY_BYTES": "1000",
        "MAX_BATCH_BODY_BYTES": "200000",
        "ORT_INTRA_OP_THREADS": "2",
        "CAPTURE_HASH_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:k",
    })
    assert settings == Settings(
        model_dir=Path("/opt/bundle"),
        model_s3_uri="s3://models/scoring/v7/",
        capture_stream="credit-captures",
        capture_hash_key="pepper-é".encode(),
        capture_buffer_bytes=1_048_576,
        capture_flush_s=0.25,
        max_body_bytes=1000,
        max_batch_body_bytes=200_000,
        ort_threads=2,
        capture_hash_key_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:k",
    )
    assert settings.capture_enabled is True


def test_empty_and_blank_values_mean_unset():
    """CloudFormation passes an unset optional parameter as an empty string."""
    blank = {name: "" for name in ("MODEL_DIR", "MODEL_S3_URI", "CAPTURE_STREAM",
                                   "CAPTURE_HASH_KEY", "CAPTURE_HASH_KEY_SECRET_ARN",
                                   "CHALLENGER_MODEL_S3_URI")}
    blank |= {name: "  " for name in ("CAPTURE_FLUSH_S", "CAPTURE_BUFFER_BYTES", "MAX_BODY_BYTES",
                                      "MAX_BATCH_BODY_BYTES", "ORT_INTRA_OP_THREADS")}
    assert load_settings(blank) == Settings()


def test_numbers_may_carry_surrounding_spaces():
    settings = load_settings({"MAX_BODY_BYTES": " 2048 ", "CAPTURE_FLUSH_S": "\t3\n"})
    assert (settings.max_body_bytes, settings.capture_flush_s) == (2048, 3.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_BODY_BYTES", "64KiB", "MAX_BODY_BYTES must be a positive integer, got '64KiB'"),
        ("MAX_BODY_BYTES", "0", "MAX_BODY_BYTES must be a positive integer, got '0'"),
        ("MAX_BATCH_BODY_BYTES", "-5", "MAX_BATCH_BODY_BYTES must be a positive integer, "
                                       "got '-5'"),
        ("ORT_INTRA_OP_THREADS", "1.5", "ORT_INTRA_OP_THREADS must be a positive integer, "
                                        "got '1.5'"),
        ("CAPTURE_FLUSH_S", "soon", "CAPTURE_FLUSH_S must be a positive number, "
                                      "got 'soon'"),
        ("CAPTURE_FLUSH_S", "0", "CAPTURE_FLUSH_S must be a positive number, got '0'"),
        ("CAPTURE_FLUSH_S", "inf", "CAPTURE_FLUSH_S must be a positive number, got 'inf'"),
        ("CAPTURE_FLUSH_S", "nan", "CAPTURE_FLUSH_S must be a positive number, got 'nan'"),
    ],
)
def test_a_malformed_number_names_the_variable_and_the_value(name, value, message):
    with pytest.raises(ValueError) as info:
        load_settings({name: value})
    assert str(info.value) == message


def test_the_process_environment_is_the_default(monkeypatch):
    monkeypatch.setenv("MODEL_DIR", "/from/os/environ")
    monkeypatch.setenv("MAX_BODY_BYTES", "4096")
    settings = load_settings()
    assert (settings.model_dir, settings.max_body_bytes) == (Path("/from/os/environ"), 4096)


def test_settings_are_immutable():
    with pytest.raises(AttributeError):
        Settings().max_body_bytes = 1  # type: ignore[misc]
