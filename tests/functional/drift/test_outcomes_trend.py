"""drift.outcomes_trend: the trend page over runs, in a real headless Chromium with axe-core
(the officer page's setup: Debian's chromium, axe-core from `make tools`; AXE_CORE may point
at another copy). Writes test-artifacts/outcomes/trend.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from drift.outcomes_trend import matured_cohorts, render_trend
from tests.conftest import REPO_ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(os.environ.get("AXE_CORE") or REPO_ROOT / ".venv-tools" / "node" / "node_modules"
           / "axe-core" / "axe.min.js")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "outcomes"


def _cohort(month: str, version: str, auc: float, dr: float, pd_: float) -> dict[str, Any]:
    return {"cohort": month, "model_version": version, "matured": True, "with_outcome": 3000,
            "auc": auc, "auc_ci95": [auc - 0.03, auc + 0.03],
            "observed_default_rate": dr, "default_rate_ci95": [dr - 0.006, dr + 0.007],
            "mean_predicted_pd": pd_, "calibration": {"verdict": "pass"},
            "auc_vs_reference": {"reference_auc": 0.74}}


def _runs() -> list[dict[str, Any]]:
    first = {"as_of": "2026-06-01", "cohorts": [
        _cohort("2025-04", "7", 0.70, 0.050, 0.048),
        {"cohort": "2026-05", "model_version": "7", "matured": False, "auc": None}]}
    second = {"as_of": "2026-07-01", "cohorts": [
        _cohort("2025-04", "7", 0.71, 0.051, 0.048),  # more outcomes since: this one wins
        _cohort("2025-05", "7", 0.69, 0.055, 0.049),
        _cohort("2025-05", "8", 0.73, 0.047, 0.050)]}
    return [first, second]


def test_each_matured_cohort_once_from_the_latest_run():
    cohorts = matured_cohorts(_runs())
    assert [(c["cohort"], c["model_version"], c["auc"]) for c in cohorts] == [
        ("2025-04", "7", 0.71), ("2025-05", "7", 0.69), ("2025-05", "8", 0.73)]
    html = render_trend(_runs())
    assert html.count("<svg") == 2 and html.count("<circle") == 6
    assert "No matured cohort yet" in render_trend([{"as_of": "2026-01-01", "cohorts": []}])


@pytest.mark.skipif(os.environ.get("SKIP_BROWSER_TESTS") == "1", reason="SKIP_BROWSER_TESTS=1")
def test_the_trend_page_in_chromium_has_no_axe_violations(tmp_path):
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"chromium not found at {CHROMIUM} (or set SKIP_BROWSER_TESTS=1)")
    if not AXE.is_file():
        pytest.fail(f"axe-core not found at {AXE}: run `make tools` (or set AXE_CORE)")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "trend.html"
    page_file.write_text(render_trend(_runs()), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 900, "height": 900})
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith("file:") else outside.append(
            r.url))
        page.goto(page_file.as_uri())
        assert page.locator("svg").count() == 2 and page.locator("circle").count() == 6
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
        violations = page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values:
                ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, nodes: v.nodes.length}));
        }""")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "trend.png"), full_page=True)
        browser.close()
    assert violations == []
    assert outside == []
