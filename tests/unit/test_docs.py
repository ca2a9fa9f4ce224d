"""The docs stay true to the code: every environment variable a Lambda handler reads is in a
configuration table of docs/ and every variable in those tables is read; every ``make help``
target is documented; every link in README.md and docs/ resolves; the README stays short and
starts with the two commands.

Each check is a function over text, so the tests below also show it failing on a broken
copy (a variable removed from a table, a link to nowhere, ...).
"""

from __future__ import annotations

import re
import subprocess  # nosec B404  (runs `make help`)
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
#: The code each Lambda runs: scoring (zip), drift (image), the PreTraffic hook, and the
#: contract modules that read the environment for them.
HANDLER_CODE = (REPO / "function" / "scoring", REPO / "drift", REPO / "infra" / "hooks",
                REPO / "contract" / "env.py", REPO / "contract" / "logs.py")
MAX_README_LINES = 250

_NAME = r"([A-Z][A-Z0-9_]{2,})"
_READS = (
    re.compile(r"(?:env|environ)(?:\.get|\.setdefault)?\(\s*\"" + _NAME + "\""),
    re.compile(r"(?:env|environ)\[\s*\"" + _NAME + r"\"\s*\]"),
    re.compile(r"positive_(?:int|float)\(\s*env,\s*\"" + _NAME + "\""),
    re.compile(r"^[A-Z_]+_ENV(?::\s*\w+)?\s*=\s*\"" + _NAME + "\"", re.MULTILINE),
)
_REQUIRED = re.compile(r"required\(([^)]*)\)")
#: Written by the code for a library, never read as a setting.
_WRITTEN = re.compile(r"os\.environ\.setdefault\(\s*\"" + _NAME + "\"")


def python_sources(paths: tuple[Path, ...]) -> dict[Path, str]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return {f: f.read_text(encoding="utf-8") for f in files}


def variables_read(sources: dict[Path, str]) -> set[str]:
    """Environment variable names the code reads (literal names, as the code spells them)."""
    names: set[str] = set()
    for text in sources.values():
        for pattern in _READS:
            names.update(pattern.findall(text))
        for args in _REQUIRED.findall(text):
            names.update(re.findall(r"\"" + _NAME + "\"", args))
        names -= set(_WRITTEN.findall(text))
    return names


def documents() -> dict[Path, str]:
    return {README: README.read_text(encoding="utf-8"),
            **{p: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}}


def table_variables(text: str) -> set[str]:
    """Names in the first column of every Markdown table whose first header is "variable"."""
    names: set[str] = set()
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith(
            "|") else None
        if cells is None:
            in_table = False
        elif cells[0].lower() == "variable":
            in_table = True
        elif in_table and not set(cells[0]) <= set("-: "):
            names.update(re.findall(r"`" + _NAME + "`", cells[0]))
    return names


def documented_variables(docs: dict[Path, str]) -> set[str]:
    return set().union(*(table_variables(text) for text in docs.values()))


def make_targets() -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=REPO,  # nosec
                         capture_output=True, text=True, check=True).stdout
    return re.findall(r"^\s*make (\S+)", out, re.MULTILINE)


def undocumented_targets(targets: list[str], docs: dict[Path, str]) -> list[str]:
    text = "\n".join(docs.values())
    return [t for t in targets if not re.search(r"make " + re.escape(t) + r"(?![\w-])", text)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def broken_links(path: Path, text: str) -> list[str]:
    """Every link of ``text`` (a file at ``path``) that does not resolve: external links
    cannot be checked offline, so they count as broken (cite them as plain text)."""
    broken = []
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for target in _LINK.findall(prose):
        if re.match(r"[a-z]+:", target):
            broken.append(f"{target} (external: not checkable offline)")
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve()
        if file_part and not destination.exists():
            broken.append(f"{target} (no such file)")
            continue
        if anchor:
            linked = destination.read_text(encoding="utf-8") if file_part else text
            if (file_part and destination.suffix != ".md") or anchor not in anchors(linked):
                broken.append(f"{target} (no heading #{anchor})")
    return broken


# ------------------------------------------------------------------------------- tests
def test_every_variable_a_handler_reads_is_in_a_configuration_table_and_back() -> None:
    read = variables_read(python_sources(HANDLER_CODE))
    documented = documented_variables(documents())
    assert {"MODEL_DIR", "REPORT_BUCKET", "TARGET_FUNCTION", "AWS_LAMBDA_LOG_LEVEL",
            "READ_WORKERS", "CAPTURE_HASH_KEY_SECRET_ARN"} <= read  # the scan sees them all
    assert sorted(read - documented) == [], "read by a handler but in no docs table"
    assert sorted(documented - read) == [], "in a docs table but read by no handler"


def test_every_make_target_is_documented() -> None:
    targets = make_targets()
    assert {"demo", "test", "promote", "browser"} <= set(targets)
    assert undocumented_targets(targets, documents()) == []


@pytest.mark.parametrize("path", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_every_link_resolves(path: Path) -> None:
    assert broken_links(path, path.read_text(encoding="utf-8")) == []


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_README_LINES
    commands = re.findall(r"^make (\S+)", text, re.MULTILINE)
    assert commands[:2] == ["demo", "test"]
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    order = ["What it is", "The two commands", "What you see", "Architecture",
             "Where to go next"]
    assert [h for h in headings if h in order] == order


# ------------------------------------------------------------- the checks can fail
def test_the_variable_check_fails_when_a_row_is_removed() -> None:
    docs = documents()
    operations = DOCS / "operations.md"
    broken = {**docs, operations: re.sub(r"^\| `READ_WORKERS` .*\n", "", docs[operations],
                                         flags=re.MULTILINE)}
    assert broken[operations] != docs[operations]
    assert "READ_WORKERS" in variables_read(python_sources(HANDLER_CODE)) - (
        documented_variables(broken))


def test_the_variable_scan_sees_every_way_the_code_reads() -> None:
    code = ('env.get("A_ONE")\nos.environ["A_TWO"]\npositive_int(env, "A_THREE", 1)\n'
            'required("A_FOUR", "A_FIVE", env=env)\nLEVEL_ENV = "A_SIX"\n'
            'os.environ.setdefault("A_SEVEN", "1")\n')
    assert variables_read({Path("m.py"): code}) == {"A_ONE", "A_TWO", "A_THREE", "A_FOUR",
                                                     "A_FIVE", "A_SIX"}
    table = "| variable | meaning |\n|---|---|\n| `B_ONE`, `B_TWO` | x |\n\n| `C` | y |\n"
    assert table_variables(table) == {"B_ONE", "B_TWO"}


def test_the_target_check_fails_on_an_undocumented_target() -> None:
    assert undocumented_targets(["demo", "frobnicate"], {README: "make demo\n"}) == [
        "frobnicate"]
    assert undocumented_targets(["bench"], {README: "make bench-training\n"}) == ["bench"]


def test_the_link_check_fails_on_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Title here\n")
    page = tmp_path / "a.md"
    text = ("[ok](b.md) [ok](b.md#title-here) [x](missing.md) [y](b.md#nowhere) "
            "[z](https://example.com) ![img](b.md)\n## Own `heading_x`\n[self](#own-heading_x)\n"
            "[gone](#nothing-here)\n")
    assert broken_links(page, text) == ["missing.md (no such file)",
                                        "b.md#nowhere (no heading #nowhere)",
                                        "https://example.com (external: not checkable offline)",
                                        "#nothing-here (no heading #nothing-here)"]
