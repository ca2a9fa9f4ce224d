"""The loan-officer page (GET /ui) in a real headless Chromium, driven by Playwright.

The browser is Debian's ``chromium`` (/usr/bin/chromium; ``make test`` and .ci/run install
it); Playwright never downloads one. The app runs under uvicorn on 127.0.0.1 with the
synthetic test bundle. Every test checks the numbers the page shows against the API's own
answer for the same request, runs axe-core (from the npm registry, installed by the
Makefile) and expects 0 violations, and writes a screenshot to test-artifacts/ui/.

Without chromium these tests FAIL with the reason; set SKIP_BROWSER_TESTS=1 to skip them
explicitly.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scoring.api import create_app
from scoring.config import Settings
from tests.conftest import REPO_ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = REPO_ROOT / ".venv-tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000

if os.environ.get("SKIP_BROWSER_TESTS") == "1":
    pytest.skip("SKIP_BROWSER_TESTS=1: browser tests skipped on request", allow_module_level=True)


# -------------------------------------------------------------------------------- servers
class Server:
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def server(trained_bundle: Path) -> Iterator[Server]:
    with Server(create_app(Settings(model_dir=trained_bundle))) as running:
        yield running


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    missing = tmp_path_factory.mktemp("nobundle") / "model"
    with Server(create_app(Settings(model_dir=missing))) as running:
        yield running


# -------------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium package "
                    "(make test does) or set SKIP_BROWSER_TESTS=1 to skip browser tests")
    if not AXE.is_file():
        pytest.fail(f"axe-core not found at {AXE}: run `make tools` (npm install axe-core)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=LAUNCH_ARGS, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture
def page(browser_context: Any, server: Server) -> Iterator[Any]:
    page = browser_context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.url) or
            r.url.startswith("data:") else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            "status of 4" not in m.text else None)
    page.goto(server.url + "/ui")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    assert outside == [], f"the page reached outside its origin: {outside}"
    assert errors == [], errors
    page.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA (+ best-practice) violations on the current page state."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return list(result)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def shown(text: str) -> float:
    """The number in a shown value: "+1.23 pts", "\u22120.0420", "3.13%"."""
    token = text.split()[0].replace("\u2212", "-").rstrip("%")
    return float(token)


def same(text: str, value: float, digits: int, suffix: str = "") -> bool:
    """``text`` shows ``value`` to ``digits`` decimals (JavaScript's toFixed rounds exact
    decimal ties up, Python's format to even: either last digit is the same number)."""
    decimals = text.split()[0].rstrip("%").split(".")[-1]
    return (len(decimals) == digits and text.endswith(suffix)
            and abs(shown(text) - value) <= 0.5 * 10 ** -digits + 1e-9)


def pct_ok(text: str, p: float) -> bool:
    return same(text, 100 * p, 2, "%")


def examples() -> list[dict[str, Any]]:
    path = REPO_ROOT / "function" / "scoring" / "ui" / "examples.json"
    return [e["application"] for e in json.loads(path.read_text())["examples"]]


def form_application(page: Any) -> dict[str, Any]:
    """What the page would send (its own readFields), for asking the API directly."""
    return dict(page.evaluate("readFields()"))


def wait_for_form_id(page: Any, expected: int, timeout_s: float = 10.0) -> None:
    """Poll the form until it holds ``expected`` as SK_ID_CURR. (Playwright's
    wait_for_function evaluates a string predicate with eval, which the page's
    Content-Security-Policy forbids; page.evaluate goes through the debugger protocol.)"""
    deadline = time.monotonic() + timeout_s
    while page.evaluate("readFields().SK_ID_CURR") != expected:
        assert time.monotonic() < deadline, f"the form never showed SK_ID_CURR {expected}"
        time.sleep(0.05)


def find_bin(entry: dict[str, Any] | None, value: Any) -> dict[str, Any] | None:
    if entry is None:
        return None
    if value is None:
        return entry["missing"]
    for b in entry["bins"]:
        if entry["kind"] == "category":
            if b["category"] == value or value in (b.get("categories") or []):
                return b
        elif (b["low"] is None or value >= b["low"]) and (b["high"] is None or value < b["high"]):
            return b
    return None


# ---------------------------------------------------------------------------------- tests
def test_score_an_example(page: Any, server: Server) -> None:
    page.click("#load-a")
    page.click("#score")
    page.wait_for_selector("#reasons")
    app = form_application(page)
    assert app == examples()[0]
    expected = httpx.post(server.url + "/predict", json=app).json()
    assert pct_ok(page.inner_text("#probability"), expected["probability_default"])
    assert pct_ok(page.inner_text("#threshold"), expected["threshold"])
    assert page.inner_text("#model-version") == expected["model_version"]
    assert expected["decision"].capitalize() in page.inner_text("#decision")
    reference = httpx.get(server.url + "/reference").json()
    rows = page.query_selector_all("#reasons tbody tr")
    assert len(rows) == len(expected["reasons"]) > 0
    for row, reason in zip(rows, expected["reasons"], strict=True):
        cells = [c.inner_text() for c in row.query_selector_all("th, td")]
        assert cells[0] == reason["statement"]
        assert same(cells[2], reason["contribution"], 4)
        assert ("raises" in cells[3]) == (reason["direction"] == "increases_risk")
        field = reason["fields"][0] if len(reason["fields"]) == 1 else None
        hit = find_bin(reference["features"].get(field), reason["values"].get(field)) \
            if field else None
        assert (pct_ok(cells[5], hit["default_rate"]) if hit else cells[5] == "\u2014"), cells
        if hit:
            assert f"{hit['rows']} applicants" in cells[4]
        else:  # a plain sentence saying why there is no comparison
            assert cells[4].startswith(("not shown: ", "A group of ", "Not compared: ")), cells
    label = page.get_attribute("svg[role=img]", "aria-label")
    shown_probability = label.removeprefix("Estimated probability of default ").split()[0]
    assert pct_ok(shown_probability, expected["probability_default"])
    assert "calibrated on training data" in page.inner_text("#result")
    shot(page, "score")
    assert axe_violations(page) == []


def chart_labels(page: Any, selector: str) -> list[dict[str, Any]]:
    """Each waterfall label of the chart: its text, and whether every line of it lies inside
    the chart and left of the bars."""
    return list(page.evaluate("""(selector) => {
        const svg = document.querySelector(selector);
        const box = svg.getBoundingClientRect();
        const scale = box.width / svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll("text.bar-label")].map((t) => ({
            text: [...t.querySelectorAll("tspan")].map((s) => s.textContent).join(" "),
            lines: t.querySelectorAll("tspan").length,
            inside: [...t.querySelectorAll("tspan")].every((s) => {
                const r = s.getBoundingClientRect();
                return r.width > 0 && r.left >= box.left - 1 && r.top >= box.top - 1 &&
                    r.bottom <= box.bottom + 1 && r.right <= box.left + 270 * scale + 1;
            }),
        }));
    }""", selector))


def grouped_prediction(server: Server) -> tuple[dict[str, Any], dict[str, Any]]:
    """(application, prediction with 10 reasons) of the first example with a grouped reason."""
    for app in examples():
        prediction = httpx.post(server.url + "/predict?reasons=10", json=app).json()
        if any(len(r["fields"]) > 1 for r in prediction["reasons"]):
            return app, prediction
    pytest.fail("no example has a grouped reason among its 10 largest")


def test_every_chart_label_is_shown_whole(page: Any, server: Server) -> None:
    """Long statements wrap onto several lines inside the chart: none is cut."""
    app, prediction = grouped_prediction(server)
    page.evaluate("([p, app]) => renderPrediction(p, app)", [prediction, app])
    page.wait_for_selector("#reasons")
    labels = chart_labels(page, "#result svg.chart:not(:first-of-type)")
    assert [x["text"] for x in labels] == [r["statement"] for r in prediction["reasons"]]
    assert all(x["inside"] for x in labels), labels
    longest = max(prediction["reasons"], key=lambda r: len(r["statement"]))
    assert len(longest["statement"]) <= 34 or max(x["lines"] for x in labels) > 1
    shot(page, "labels")
    assert axe_violations(page) == []


def test_a_grouped_reason_shows_its_fields_behind_a_disclosure(page: Any, server: Server) -> None:
    app, prediction = grouped_prediction(server)
    page.evaluate("([p, app]) => renderPrediction(p, app)", [prediction, app])
    page.wait_for_selector("#reasons")
    index, reason = next((i, r) for i, r in enumerate(prediction["reasons"])
                         if len(r["fields"]) > 1)
    row = page.query_selector_all("#reasons tbody tr")[index]
    cells = row.query_selector_all("th, td")
    assert cells[0].inner_text() == reason["statement"]
    disclosure = cells[1].query_selector("details")
    assert disclosure is not None and disclosure.get_attribute("open") is None
    n = len(reason["fields"])
    assert cells[1].inner_text().strip() == f"{n} fields and their values"  # values hidden
    cells[1].query_selector("summary").click()
    items = [li.inner_text() for li in cells[1].query_selector_all("li")]
    assert [item.split(" ")[0] for item in items] == reason["fields"]
    assert all(" \u2014 " in item for item in items)
    reference = httpx.get(server.url + "/reference").json()
    binned = [f for f in reason["fields"] if find_bin(reference["features"].get(f),
                                                     reason["values"][f])]
    sentence = cells[4].inner_text()
    if binned:
        assert sentence.startswith(f"A group of {n} fields has no single training bin")
        assert f"({len(binned)} of {n} fields shown under the value)" in sentence
    else:
        assert sentence.startswith("Not compared: ")
    shot(page, "grouped-reason")
    assert axe_violations(page) == []


def test_compare_two(page: Any, server: Server) -> None:
    page.click("#load-b")
    page.click("#compare")
    page.wait_for_selector("#groups")
    body = {"a": form_application(page), "b": json.loads(page.input_value("#json-b"))}
    expected = httpx.post(server.url + "/compare", json=body).json()
    summary = [[c.inner_text() for c in r.query_selector_all("th, td")]
               for r in page.query_selector_all("#compare-summary tbody tr")]
    assert pct_ok(summary[0][1], expected["a"]["probability_default"])
    assert pct_ok(summary[0][2], expected["b"]["probability_default"])
    assert same(summary[0][3], 100 * expected["probability_difference"], 2, " pts")
    assert same(summary[2][1], expected["margin_a"], 4)
    assert same(summary[2][2], expected["margin_b"], 4)
    assert same(summary[2][3], expected["margin_difference"], 4)
    groups = page.query_selector_all("#groups tbody tr")
    first = [c.inner_text() for c in groups[0].query_selector_all("th, td")]
    top = expected["groups"][0]
    assert first[0] == top["label"]
    for text, key in zip(first[1:], ("contribution_a", "contribution_b", "delta"), strict=True):
        assert same(text, top[key], 4), (text, key, top)
    total = [c.inner_text() for c in groups[-1].query_selector_all("th, td")]
    assert same(total[-1], expected["margin_difference"], 4)
    differing = page.query_selector_all("#differing tbody tr")
    assert len(differing) == len(expected["differing_fields"]) > 0
    shot(page, "compare")
    assert axe_violations(page) == []


def test_edit_a_field_and_rescore_with_the_keyboard(page: Any, server: Server) -> None:
    # Keyboard only: Tab to the Score button, Enter; then edit a field and Enter again.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "score":
            break
    else:
        pytest.fail("the Score button is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reasons")
    original = httpx.post(server.url + "/predict", json=form_application(page)).json()
    page.focus("summary")
    page.keyboard.press("Enter")  # open the fields
    page.focus("#f-AMT_CREDIT")
    page.keyboard.press("Control+A")
    page.keyboard.type("1500000")
    page.focus("#score")
    page.keyboard.press("Enter")
    page.wait_for_selector("#change")
    edited = form_application(page)
    assert edited["AMT_CREDIT"] == 1_500_000
    after = httpx.post(server.url + "/predict", json=edited).json()
    assert pct_ok(page.inner_text("#probability"), after["probability_default"])
    delta = after["probability_default"] - original["probability_default"]
    assert same(page.inner_text("#change-points"), 100 * delta, 2, " percentage points")
    assert "AMT_CREDIT" in page.inner_text("#change")
    shot(page, "what-if")
    assert axe_violations(page) == []


def test_a_bad_value_shows_its_error_next_to_the_field(page: Any, server: Server) -> None:
    page.click("summary")
    page.fill("#f-CNT_CHILDREN", "2.5")
    page.click("#score")
    page.wait_for_selector("#result-error")
    expected = httpx.post(server.url + "/predict", json=form_application(page))
    assert expected.status_code == 422
    (item,) = expected.json()["detail"]
    assert item["field"] == "CNT_CHILDREN"
    assert page.inner_text("#f-CNT_CHILDREN-error") == item["msg"]
    assert page.get_attribute("#f-CNT_CHILDREN", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "f-CNT_CHILDREN"
    # An integral float is an integer: accepted.
    page.fill("#f-CNT_CHILDREN", "2.0")
    page.click("#score")
    page.wait_for_selector("#reasons")
    assert page.inner_text("#f-CNT_CHILDREN-error") == ""
    page.fill("#f-CNT_CHILDREN", "2.5")
    page.click("#score")
    page.wait_for_selector("#result-error")
    shot(page, "field-error")
    assert axe_violations(page) == []


def test_503_is_a_clear_banner(browser_context: Any, broken_server: Server) -> None:
    page = browser_context.new_page()
    page.goto(broken_server.url + "/ui")
    page.wait_for_selector("body[data-ready=true]")
    expected = httpx.get(broken_server.url + "/model")
    assert expected.status_code == 503
    banner = page.inner_text("#banner")
    assert page.is_visible("#banner")
    assert "unavailable" in banner and expected.json()["detail"][0]["msg"] in banner
    assert page.inner_text("h1") == "Credit decision explainer"  # never a blank page
    page.click("#score")  # still a banner, not a crash
    assert expected.json()["detail"][0]["msg"] in page.inner_text("#banner")
    shot(page, "unavailable")
    assert axe_violations(page) == []
    page.close()


def test_layout_holds_at_200_percent_text(page: Any) -> None:
    page.click("#score")
    page.wait_for_selector("#reasons")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    page.evaluate("document.getElementById('fields-box').open = true")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of horizontal scrolling at 200% text"
    for selector in ("#score", "#compare", "#probability", "#f-AMT_CREDIT"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, selector
    shot(page, "text-200")
    assert axe_violations(page) == []


def test_title_and_no_external_resources(page: Any, server: Server) -> None:
    assert page.title() == "Credit decision explainer for loan officers"
    html = httpx.get(server.url + "/ui").text
    assert "http://" not in html and "https://" not in html


def test_the_readme_shows_a_screenshot_of_the_page() -> None:
    """docs/officer-page.png: the top of test-artifacts/ui/score.png (cropped, 64 colours)."""
    assert (REPO_ROOT / "docs" / "officer-page.png").stat().st_size > 10_000
    assert "](docs/officer-page.png)" in (REPO_ROOT / "README.md").read_text()


def test_upload_or_paste_an_application(page: Any) -> None:
    second = examples()[1]
    page.set_input_files("#file-a", files=[{"name": "applicant.json", "mimeType":
                                            "application/json",
                                            "buffer": json.dumps(second).encode()}])
    wait_for_form_id(page, second["SK_ID_CURR"])
    assert form_application(page) == second
    page.fill("#json-a", '{"SK_ID_CURR": 1,')
    page.click("#use-json-a")
    assert page.inner_text("#json-a-error").startswith("This is not valid JSON")
    assert form_application(page) == second  # the form keeps the last good application
    page.fill("#json-a", json.dumps({**second, "NOT_A_FIELD": 1}))
    page.click("#use-json-a")
    assert "NOT_A_FIELD" in page.inner_text("#json-a-error")
    shot(page, "json-error")
    assert axe_violations(page) == []
