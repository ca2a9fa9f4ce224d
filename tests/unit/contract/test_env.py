"""contract.env: the environment readers the scoring function and the drift job share, and
the messages that tell a deployer what to fix."""

from __future__ import annotations

import pytest

from contract.env import positive_float, positive_int, prefix, required


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("250", 250), (" 7 ", 7), ("+3", 3)])
def test_positive_int_reads_whole_numbers(raw, expected):
    assert positive_int({"N": raw}, "N", 99) == expected


@pytest.mark.parametrize("env", [{}, {"N": ""}, {"N": "   "}])
def test_positive_int_default_when_unset_or_blank(env):
    assert positive_int(env, "N", 99) == 99


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "1e3", "ten", "0x10"])
def test_positive_int_rejects_with_the_name_and_the_value(raw):
    with pytest.raises(ValueError) as info:
        positive_int({"MIN_ROWS": raw}, "MIN_ROWS", 200)
    assert str(info.value) == f"MIN_ROWS must be a positive integer, got {raw!r}"
    assert info.value.__cause__ is None  # no int() traceback noise in the deploy log


@pytest.mark.parametrize(("raw", "expected"), [("1", 1.0), ("0.25", 0.25), ("2e-3", 0.002),
                                               (" 3 ", 3.0)])
def test_positive_float_reads_finite_positive_numbers(raw, expected):
    assert positive_float({"T": raw}, "T", 9.0) == expected


def test_positive_float_default_when_unset_or_blank():
    assert positive_float({}, "T", 1.5) == 1.5
    assert positive_float({"T": " "}, "T", 1.5) == 1.5


@pytest.mark.parametrize("raw", ["0", "-0.5", "inf", "Infinity", "nan", "1s", "1,5"])
def test_positive_float_rejects_with_the_name_and_the_value(raw):
    with pytest.raises(ValueError) as info:
        positive_float({"CAPTURE_TIMEOUT_S": raw}, "CAPTURE_TIMEOUT_S", 1.0)
    assert str(info.value) == f"CAPTURE_TIMEOUT_S must be a positive number, got {raw!r}"


def test_required_returns_the_named_values():
    env = {"A": "1", "B": "two", "OTHER": "x"}
    assert required("A", "B", env=env) == {"A": "1", "B": "two"}


def test_required_lists_every_missing_or_empty_variable_at_once():
    with pytest.raises(ValueError) as info:
        required("REPORT_BUCKET", "CAPTURE_BUCKET", "MODEL_NAME",
                 env={"CAPTURE_BUCKET": "data", "MODEL_NAME": ""})
    assert str(info.value) == (
        "missing required environment variable(s): REPORT_BUCKET, MODEL_NAME")


@pytest.mark.parametrize(("value", "expected"), [
    ("captures", "captures/"), ("captures/", "captures/"), ("a/b", "a/b/"), ("", ""),
])
def test_prefix_ends_with_a_slash_unless_empty(value, expected):
    assert prefix(value) == expected
