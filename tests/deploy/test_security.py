"""bandit over the shipped code (contract/, function/, training/, drift/, infra/): 0 high
severity findings.

bandit runs as a subprocess from this venv (the pinned version in requirements-dev.txt), with
its JSON report parsed here; medium and low findings are printed (``pytest -s``) with their
locations so a reviewer sees them, but only high severity fails the build.
Takes about 3 s.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs the venv's own bandit with fixed arguments
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGETS = ["contract", "function", "training", "drift", "infra"]
BANDIT = Path(sys.executable).with_name("bandit")


def _bandit(root: Path = REPO, targets: list[str] = TARGETS) -> dict:
    missing = [t for t in targets if not (root / t).is_dir()]
    assert not missing, f"missing source directories: {missing}"
    result = subprocess.run(  # nosec B603: fixed argv, no shell
        [str(BANDIT), "-r", *targets, "-f", "json", "-q", "-x", "*/__pycache__/*"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )
    # bandit exits 1 when it finds anything (of any severity); the report decides here.
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_bandit_finds_no_high_severity_issue() -> None:
    report = _bandit()
    assert report["errors"] == [], report["errors"]  # every file was parsed
    totals = report["metrics"]["_totals"]
    assert totals["loc"] > 1_000, "bandit scanned (almost) nothing"
    severities = Counter(item["issue_severity"] for item in report["results"])
    print(f"\nbandit on {', '.join(TARGETS)} ({totals['loc']} lines): "
          f"high {severities['HIGH']}, medium {severities['MEDIUM']}, low {severities['LOW']}")
    for item in report["results"]:
        print(f"  {item['issue_severity']:<6} {item['test_id']} "
              f"{Path(item['filename']).as_posix()}:{item['line_number']} {item['issue_text']}")
    high = [f"{i['filename']}:{i['line_number']} {i['test_id']} {i['issue_text']}"
            for i in report["results"] if i["issue_severity"] == "HIGH"]
    assert high == []


def test_the_bandit_run_reports_a_planted_high_finding(tmp_path: Path) -> None:
    """The same invocation and parsing see a high finding (a shell=True call) when there is one."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    report = _bandit(tmp_path, ["pkg"])
    assert [(i["test_id"], i["issue_severity"]) for i in report["results"]
            if i["issue_severity"] == "HIGH"] == [("B602", "HIGH")]
