"""The end of ``make demo``: score a few new synthetic applications through the Lambda
handler, exactly as API Gateway (HTTP API, payload 2.0) would call it, and print each
decision with its reasons.

    python -m infra.demo [--bundle function/model] [--count 5] [--seed 2026]

The applications come from the project's synthetic generator with a seed other than the
training one, so they are unseen by the model.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from infra.invoke import invoke
from infra.lambda_events import decode_response
from infra.synthetic_traffic import predict_event, synthetic_applications


def describe(prediction: dict[str, Any]) -> str:
    """One applicant's decision and reasons, as the demo prints them."""
    lines = [
        f"applicant {prediction['client_id']}: {prediction['decision'].upper()}: estimated "
        f"probability of default {prediction['probability_default']:.3f} (calibrated on "
        f"training data), decision threshold {prediction['threshold']:.3f}, "
        f"model v{prediction['model_version']}"
    ]
    for reason in prediction["reasons"]:
        lines.append(
            f"    {reason['statement']:<74} {reason['contribution']:+.3f} log-odds "
            f"({', '.join(reason['fields'][:3])})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("function/model"))
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--logs", action="store_true", help="show the handler's JSON log lines")
    args = parser.parse_args(argv)
    os.environ["MODEL_DIR"] = str(args.bundle.resolve())
    from scoring import logs

    logs.set_stream(sys.stderr if args.logs else io.StringIO())

    print(f"Scoring {args.count} synthetic applications through scoring.handler.handler "
          f"(API Gateway HTTP API events, bundle {args.bundle}):\n")
    for application in synthetic_applications(args.count, args.seed):
        response = decode_response(invoke(predict_event(application), "Scoring"))
        if response["statusCode"] != 200:
            print(f"applicant {application['SK_ID_CURR']}: HTTP {response['statusCode']} "
                  f"{json.dumps(response['body'])}")
            return 1
        print(describe(response["body"]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
