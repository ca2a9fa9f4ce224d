"""``make ui``: the scoring app with a local bundle on 127.0.0.1, for the loan-officer page.

    python -m infra.serve_ui [--bundle function/model] [--port 8765]

No AWS: the bundle is read from disk, capture is off, and the page calls the app directly
(no sign-in). Prints the page's URL, then serves until interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("function/model"))
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)

    import uvicorn

    from scoring.api import create_app
    from scoring.config import Settings

    app = create_app(Settings(model_dir=args.bundle.resolve()))
    status, health = app.state.service.health()
    if status != 200:
        raise SystemExit(f"the bundle at {args.bundle} cannot serve: {health['reason']}")
    print(f"Loan-officer page: http://127.0.0.1:{args.port}/ui  (model {health['model_version']};"
          " Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
