"""Shared fixtures. Tests that need the real Home Credit samples use `real_data_dir`."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "home-credit"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """../shared/data/home-credit/ beside the checkout; skips, saying so, when absent."""
    if not (REAL_DATA_DIR / "application_train_sample.csv").is_file():
        pytest.skip(
            f"real Home Credit samples not found at {REAL_DATA_DIR} "
            "(put application_train_sample.csv etc. there to run this test)"
        )
    return REAL_DATA_DIR
