"""Fixtures shared by the monitor's functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.drift.test_handler import aws_world


@pytest.fixture
def world() -> Iterator[Any]:
    """moto S3 with the drift bucket and reference files, the drift env configured."""
    with aws_world() as s3:
        yield s3
