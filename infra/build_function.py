"""Build the scoring function's deployment package (the zip root Lambda unpacks in /var/task).

The ONE build: ``sam build ScoringFunction`` runs it (``BuildMethod: makefile`` ->
function/Makefile -> this module) and benchmarks/bench_serving.py measures its output.

1. ``pip install --no-compile --target`` of requirements-fn.txt, wheels for Lambda's
   platform (python3.12, x86_64, Amazon Linux 2023's glibc 2.34) whatever the build host;
2. the serving code: function/scoring/ (entry point scoring.handler.handler) and contract/
   (+ function/model/, the packaged bundle, when present: only the files the function
   reads, MODEL_FILES);
3. PRUNE removed (test suites, numpy's f2py, onnxruntime's offline tooling, console scripts,
   type stubs, C headers and static libraries);
4. every module precompiled (``compileall --invalidation-mode unchecked-hash``).

Why 4: /var/task is read-only, so a package without .pyc files makes Python compile every
module of numpy, onnxruntime, pydantic and fastapi at EACH cold start (docs/benchmarks.md
has the cold starts with and without). unchecked-hash .pyc files are never revalidated
against the source, so they stay valid whatever zipping does to mtimes, and cost no stat
or hashing at import.

    python -m infra.build_function OUTPUT_DIR [--requirements FILE] [--model DIR]

Needs Python 3.12 (the .pyc format is per minor version) and pip; nothing else.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess  # nosec B404  (runs pip and compileall of the given interpreter)
import sys
from pathlib import Path

from contract.bundle import OPTIONAL_SERVING_FILES, SERVING_FILES

REPO = Path(__file__).resolve().parents[1]
FUNCTION_DIR = REPO / "function"
CONTRACT_DIR = REPO / "contract"
REQUIREMENTS = REPO / "requirements-fn.txt"
#: What Lambda's python3.12 runtime runs.
PYTHON_VERSION = (3, 12)
#: Wheel platforms Lambda's python3.12 x86_64 runtime accepts (Amazon Linux 2023, glibc
#: 2.34). pip does not expand manylinux_2_X to older tags itself, hence the explicit list.
PLATFORMS = (*(f"manylinux_2_{minor}_x86_64" for minor in range(34, 16, -1)),
             "manylinux2014_x86_64")
#: Not needed at run time: test suites, numpy's Fortran wrapper generator, onnxruntime's
#: offline tooling (model conversion, quantization, transformer optimisers), console scripts,
#: and what only builds or type-checks against a package: type stubs (.pyi), Cython
#: declarations (.pxd), numpy's C headers and static libraries.
PRUNE = ("**/tests", "numpy/f2py", "numpy/_pyinstaller", "onnxruntime/transformers",
         "onnxruntime/quantization", "onnxruntime/tools", "bin", "**/*.pyi", "**/*.pxd",
         "numpy/_core/include", "numpy/_core/lib", "numpy/random/lib")
#: The bundle files the function reads: the drift job's reference rows and the pre-traffic
#: hook's golden set stay out of the package (the hook's own package holds its copy).
MODEL_FILES = (*SERVING_FILES, *OPTIONAL_SERVING_FILES)
#: Where Lambda unpacks the zip: the path recorded in the .pyc files (reproducible builds,
#: tracebacks that name /var/task rather than the build host's directory).
LAMBDA_TASK_ROOT = "/var/task"


class BuildError(RuntimeError):
    """A build step failed; the message holds the tool's output tail."""


def _run(command: list[str], what: str, timeout: float = 1_800) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False,  # nosec B603
                            timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip())[-2_000:]
        raise BuildError(f"{what} failed (exit {result.returncode}):\n{tail}")


def _check_python(python: str) -> None:
    probe = subprocess.run(  # nosec B603
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True, text=True, check=True)
    version = tuple(int(x) for x in probe.stdout.split())
    if version != PYTHON_VERSION:
        raise BuildError(f"{python} is Python {'.'.join(map(str, version))}; the function runs "
                         f"on python{'.'.join(map(str, PYTHON_VERSION))} (its .pyc format)")


def _prepare(output_dir: Path) -> None:
    """Create output_dir; an existing one must be empty or a previous build."""
    if output_dir.exists():
        contents = list(output_dir.iterdir())
        if contents and not (output_dir / "scoring" / "handler.py").is_file():
            raise BuildError(f"{output_dir} is neither empty nor a previous build; not wiping it")
        for path in contents:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)


def install_requirements(target: Path, requirements: Path = REQUIREMENTS,
                         python: str = sys.executable) -> None:
    """The dependencies as wheels for Lambda's platform, unpacked without .pyc files (what
    sam build's default Python builder produces)."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--no-compile", "--target", str(target), "--only-binary=:all:",
          "--implementation", "cp", "--python-version", ".".join(map(str, PYTHON_VERSION)),
          *platforms, "-r", str(requirements)], "pip install")


def copy_code(target: Path, model_dir: Path | None = None) -> None:
    """function/scoring/, contract/ and the bundle (model_dir, default
    function/model/ when present) as target/model/."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FUNCTION_DIR / "scoring", target / "scoring", ignore=ignore,
                    dirs_exist_ok=True)
    shutil.copytree(CONTRACT_DIR, target / "contract", ignore=ignore, dirs_exist_ok=True)
    if model_dir is None and (FUNCTION_DIR / "model").is_dir():
        model_dir = FUNCTION_DIR / "model"
    if model_dir is not None:
        (target / "model").mkdir(exist_ok=True)
        for name in MODEL_FILES:
            if (Path(model_dir) / name).is_file():
                shutil.copy2(Path(model_dir) / name, target / "model" / name)


def prune(target: Path) -> list[Path]:
    """Remove PRUNE (directories and files) from the package; returns what was removed."""
    removed = []
    for pattern in PRUNE:
        for path in sorted(target.glob(pattern), reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()
            else:
                continue
            removed.append(path)
    return removed


def compile_package(target: Path, python: str = sys.executable) -> None:
    """Precompile every module: unchecked-hash .pyc files recorded under /var/task."""
    _run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
          "-s", str(target), "-p", LAMBDA_TASK_ROOT, str(target)], "compileall")


def build(output_dir: Path, requirements: Path = REQUIREMENTS, python: str = sys.executable,
          model_dir: Path | None = None) -> Path:
    """The deployment package in output_dir (created, or a previous build replaced)."""
    output_dir = Path(output_dir).resolve()
    _check_python(python)
    _prepare(output_dir)
    install_requirements(output_dir, Path(requirements), python)
    copy_code(output_dir, model_dir)
    prune(output_dir)
    compile_package(output_dir, python)
    return output_dir


def package_bytes(path: Path) -> int:
    """Unzipped size: the bytes of every regular file under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    parser.add_argument("--model", type=Path, default=None,
                        help="bundle to package (default: function/model/ when present)")
    parser.add_argument("--python", default=sys.executable,
                        help="Python 3.12 that runs pip and compileall (default: this one)")
    args = parser.parse_args(argv)
    try:
        out = build(args.output_dir, args.requirements, args.python, args.model)
    except BuildError as exc:
        print(f"build_function: {exc}", file=sys.stderr)
        return 1
    model = "with" if (out / "model").is_dir() else "WITHOUT"
    print(f"built {out}: {package_bytes(out) / 1e6:.1f} MB unzipped, {model} a packaged model")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
