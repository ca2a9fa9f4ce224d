"""The PreTraffic hook's deployment build (what ``sam build PreTrafficHookFunction`` runs,
through infra/hooks/Makefile): the hook's code plus the golden set it replays.

    python -m infra.build_hook ARTIFACTS_DIR [--bundle DIR]

The bundle is ``--bundle``, else the ``HOOK_BUNDLE`` environment variable, else
``function/model`` (the packaged bundle ``make train`` writes); a relative path is taken
from the repository root, where ``sam build`` runs. The golden set must match the card's
``golden_sha256``; the package then holds ``pretraffic.py``, ``contract/logs.py``, the
golden set and the expectations file (the card's model_version and golden_sha256), so the
hook needs no access to the model bucket. Standard library only (the build runs in sam's Python).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from contract.bundle import CARD_FILE, GOLDEN_FILE, HOOK_BUNDLE_ENV
from infra.hooks import pretraffic

REPO = Path(__file__).resolve().parents[1]
HOOK_SOURCE = Path(pretraffic.__file__).resolve()
#: The shared JSON logging the hook imports (standard library only), with its package file.
LOGS_SOURCES = ("__init__.py", "logs.py")
DEFAULT_BUNDLE = "function/model"
_WHAT_TO_RUN = ("`make train` (the packaged bundle, function/model) or `make promote` (keeps "
                "the promoted version's golden set and card under artifacts/promoted/<version>/"
                ", then HOOK_BUNDLE=artifacts/promoted/<version> sam build)")


class BuildError(Exception):
    """The hook cannot be built from this bundle; ``str(exc)`` says what to run."""


def bundle_dir(value: str | None) -> Path:
    """The bundle directory: ``value`` or the default, relative paths from the repo root."""
    path = Path(value or DEFAULT_BUNDLE)
    return path if path.is_absolute() else REPO / path


def expectations(bundle: Path) -> tuple[dict[str, str], bytes]:
    """(expectations file content, golden set bytes) of a bundle whose golden set matches
    its card; raises BuildError otherwise."""
    missing = [n for n in (GOLDEN_FILE, CARD_FILE) if not (bundle / n).is_file()]
    if missing:
        raise BuildError(f"the hook's bundle {bundle} has no {' or '.join(missing)}: run "
                         f"{_WHAT_TO_RUN}")
    card = json.loads((bundle / CARD_FILE).read_text(encoding="utf-8"))
    data = (bundle / GOLDEN_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if "model_version" not in card or digest != card.get("golden_sha256"):
        raise BuildError(f"{bundle / GOLDEN_FILE} (sha256 {digest}) does not match the card's "
                         f"golden_sha256 {card.get('golden_sha256')!r} of model "
                         f"{card.get('model_version')!r}: the bundle was altered; run "
                         f"{_WHAT_TO_RUN}")
    return ({"model_version": str(card["model_version"]), "golden_sha256": digest,
             "golden_file": GOLDEN_FILE}, data)


def build(artifacts: Path, bundle: Path) -> dict[str, str]:
    """Write the hook's package into ``artifacts``; returns the expectations written."""
    expected, data = expectations(bundle)
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOOK_SOURCE, artifacts / HOOK_SOURCE.name)
    (artifacts / "contract").mkdir(exist_ok=True)
    for name in LOGS_SOURCES:
        shutil.copyfile(REPO / "contract" / name, artifacts / "contract" / name)
    (artifacts / GOLDEN_FILE).write_bytes(data)
    (artifacts / pretraffic.EXPECTATIONS_FILE).write_text(
        json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", type=Path, help="sam's ARTIFACTS_DIR")
    parser.add_argument("--bundle", help=f"default: ${HOOK_BUNDLE_ENV}, else {DEFAULT_BUNDLE}")
    args = parser.parse_args(argv)
    bundle = bundle_dir(args.bundle or os.environ.get(HOOK_BUNDLE_ENV))
    try:
        expected = build(args.artifacts, bundle)
    except BuildError as exc:
        print(f"PreTraffic hook build failed: {exc}", file=sys.stderr)
        return 1
    print(f"PreTraffic hook built with the golden set of model {expected['model_version']} "
          f"({bundle})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
