"""The architecture: serving, training and drift share only the contract package (read from
the import graph), and every source module has its test module where a newcomer looks.

Every import in every module is read from the source (module level and inside functions
alike), so a lazy import cannot slip a dependency past this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"contract", "scoring", "training", "drift", "infra", "benchmarks", "portfolio",
               "tests"}
PACKAGE_DIRS = {
    "contract": REPO / "contract",
    "scoring": REPO / "function" / "scoring",
    "training": REPO / "training",
    "drift": REPO / "drift",
    "portfolio": REPO / "portfolio",
}
#: What each package may import from the project (besides itself).
ALLOWED = {
    "contract": set(),
    "scoring": {"contract"},
    "training": {"contract"},
    "drift": {"contract"},
    # Re-scoring a book runs the scoring function's own validation, bundle and reasons.
    "portfolio": {"contract", "scoring"},
}


def first_party_imports(directory: Path) -> dict[str, set[str]]:
    """{module path: first-party top-level packages it imports}."""
    found: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        roots: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
        found[path.name if not path.is_relative_to(REPO) else str(path.relative_to(REPO))] = (
            roots & FIRST_PARTY)
    return found


@pytest.mark.parametrize("package", sorted(PACKAGE_DIRS))
def test_package_imports_only_the_contract(package: str) -> None:
    imports = first_party_imports(PACKAGE_DIRS[package])
    assert imports, f"no modules found for {package}"
    allowed = ALLOWED[package] | {package}
    offending = {module: sorted(roots - allowed)
                 for module, roots in imports.items() if roots - allowed}
    assert not offending, f"{package} imports outside {sorted(allowed)}: {offending}"


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    """The scanner is not fooled by an import inside a function."""
    (tmp_path / "m.py").write_text("def f():\n    from training import pipeline\n")
    assert first_party_imports(tmp_path) == {"m.py": {"training"}}


def test_contract_is_pure_python_and_numpy() -> None:
    """The contract ships in the Lambda zip and the drift image: numpy is its only library."""
    for path in sorted(PACKAGE_DIRS["contract"].rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in {"numpy", "contract", "__future__"} or root in _STDLIB, (
                    f"{path.name} imports {name}")


_STDLIB = {"collections", "dataclasses", "datetime", "json", "typing", "uuid", "math",
           "hashlib", "hmac", "pathlib", "gzip", "io", "re", "os", "zlib", "logging", "sys",
           "traceback", "statistics"}


# --------------------------------------------------------------------------- tests mirror code
TESTS = REPO / "tests"
#: Source modules without a test module of their own, and why.
NO_TEST_MODULE = {
    "training/__main__.py": "`python -m training`, a call of training.cli.main: test_cli.py",
    "drift/__main__.py": "`python -m drift report` (make drift-report): its main() is driven "
                         "by tests/functional/drift/test_report.py next to the report it writes",
    "portfolio/__main__.py": "`python -m portfolio` (make score-book, split-book): its main() "
                             "is driven by tests/functional/portfolio/test_run.py",
}


def _source_modules() -> list[tuple[str, str, Path]]:
    """(area, module name, path) of every module of the four source packages."""
    found = []
    for area, directory in PACKAGE_DIRS.items():
        for path in sorted(directory.glob("*.py")):
            if path.name != "__init__.py":
                found.append((area, path.stem, path))
    return found


def test_every_source_module_has_its_test_module() -> None:
    """tests/unit/<area>/test_<module>.py or tests/functional/<area>/test_<module>.py."""
    missing = []
    for area, module, path in _source_modules():
        name = str(path.relative_to(REPO / "function" if area == "scoring" else REPO))
        if name in NO_TEST_MODULE:
            continue
        candidates = [TESTS / kind / area / f"test_{module}.py" for kind in ("unit", "functional")]
        if not any(candidate.is_file() for candidate in candidates):
            missing.append(f"{name} -> tests/{{unit,functional}}/{area}/test_{module}.py")
    assert not missing, "source modules without a test module:\n" + "\n".join(missing)


def test_the_exceptions_are_real_modules() -> None:
    for name in NO_TEST_MODULE:
        assert (REPO / name).is_file(), f"{name} is listed as an exception but does not exist"


def infra_module_graph(directory: Path) -> dict[str, set[str]]:
    """{infra module: infra modules it imports} (lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        name = ".".join(path.relative_to(directory.parent).with_suffix("").parts)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {t for t in targets if t.startswith(f"{directory.name}.")} - {name}
    return {module: targets & graph.keys() for module, targets in graph.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as the list of its modules."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_infra_has_no_import_cycle() -> None:
    graph = infra_module_graph(REPO / "infra")
    assert graph.get("infra.demo")
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_lazy_cycle(tmp_path: Path) -> None:
    package = tmp_path / "infra"
    package.mkdir()
    (package / "a.py").write_text("from infra.b import f\n")
    (package / "b.py").write_text("def f():\n    from infra import a\n")
    assert import_cycles(infra_module_graph(package)) == [["infra.a", "infra.b", "infra.a"]]
