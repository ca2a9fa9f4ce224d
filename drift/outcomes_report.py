"""report.html of an outcomes run: the cohort table, a reliability plot per matured cohort
(observed against predicted default rate by decile, with Jeffreys intervals), links to
Evidently's classification report of each matured cohort (drift.outcomes_classification) and
the notes on selection and unobservable false positives. Plain HTML and inline SVG: no script,
no download, readable by a screen reader (each plot has a title, a description and its table).
"""

from __future__ import annotations

from html import escape
from typing import Any

from drift.outcomes_classification import NOTE as CLASSIFICATION_NOTE

_SIZE, _PAD = 320, 44


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v, digits) for v in value) + "]"
    return escape(str(value))


def reliability_svg(cohort: dict[str, Any]) -> str:
    """Observed against predicted default rate per band, the diagonal for reference."""
    bands = cohort.get("bands") or []
    top = max([0.05] + [b["ci95"][1] for b in bands] + [b["predicted"] for b in bands])
    top = min(1.0, top * 1.1)
    span = _SIZE - 2 * _PAD

    def x(v: float) -> float:
        return _PAD + span * v / top

    def y(v: float) -> float:
        return _SIZE - _PAD - span * v / top

    name = f"{cohort['cohort']} model {cohort['model_version']}"
    parts = [
        f'<svg role="img" aria-labelledby="t-{id(cohort)} d-{id(cohort)}" width="{_SIZE}" '
        f'height="{_SIZE}" viewBox="0 0 {_SIZE} {_SIZE}">',
        f'<title id="t-{id(cohort)}">Reliability, {escape(name)}</title>',
        f'<desc id="d-{id(cohort)}">Observed default rate (vertical) against mean predicted '
        f'PD (horizontal) for {len(bands)} score bands, with 95% Jeffreys intervals; points '
        f'on the diagonal are calibrated.</desc>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(top)}" y2="{y(top)}" stroke="#767676" '
        f'stroke-dasharray="4 3"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(top)}" y2="{y(0)}" stroke="#222"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(0)}" y2="{y(top)}" stroke="#222"/>',
        f'<text x="{_SIZE / 2}" y="{_SIZE - 8}" text-anchor="middle" font-size="12">'
        f'predicted PD (0 to {top:.3f})</text>',
        f'<text x="12" y="{_SIZE / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {_SIZE / 2})">observed default rate</text>',
    ]
    for b in bands:
        colour = "#0b6e4f" if b["passed"] else "#b00020"
        px = x(b["predicted"])
        parts.append(f'<line x1="{px:.1f}" y1="{y(b["ci95"][0]):.1f}" x2="{px:.1f}" '
                     f'y2="{y(b["ci95"][1]):.1f}" stroke="{colour}"/>')
        parts.append(f'<circle cx="{px:.1f}" cy="{y(b["observed"]):.1f}" r="3.5" '
                     f'fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _bands_table(cohort: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{b['band']}</td><td>{b['loans']}</td><td>{b['defaults']}</td>"
        f"<td>{_fmt(b['predicted'])}</td><td>{_fmt(b['observed'])}</td>"
        f"<td>{_fmt(b['ci95'])}</td><td>{'pass' if b['passed'] else 'fail'}</td></tr>"
        for b in cohort.get("bands") or [])
    return ("<table><caption>Calibration by decile of predicted PD</caption><thead><tr>"
            "<th scope='col'>band</th><th scope='col'>loans</th><th scope='col'>defaults</th>"
            "<th scope='col'>predicted</th><th scope='col'>observed</th>"
            "<th scope='col'>Jeffreys 95%</th><th scope='col'>result</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


_COLUMNS = ("cohort", "model_version", "matured", "scored", "approved", "with_outcome",
            "coverage", "observed_default_rate", "mean_predicted_pd", "auc", "auc_ci95")


def _classification(summary: dict[str, Any]) -> str:
    """The links to Evidently's classification reports, with their headline figures."""
    rows = "".join(
        f"<tr><td>{escape(c['cohort'])}</td><td>{escape(str(c['model_version']))}</td>"
        f"<td>{r['loans']}</td><td>{_fmt(r['roc_auc'])}</td><td>{_fmt(r['log_loss'])}</td>"
        f"<td>{_fmt(r['accuracy'])}</td><td><a href=\"{escape(r['file'])}\">Evidently report, "
        f"{escape(c['cohort'])} model {escape(str(c['model_version']))}</a></td></tr>"
        for c in summary["cohorts"] if (r := c.get("classification_report")))
    if not rows:
        return "<p>No matured cohort with both outcomes yet: no classification report.</p>"
    head = "".join(f"<th scope='col'>{h}</th>" for h in (
        "cohort", "model version", "booked loans", "ROC AUC", "log loss", "accuracy", "report"))
    return (f"<p>{escape(CLASSIFICATION_NOTE)}</p><table><caption>Evidently "
            f"ClassificationPreset on each matured cohort's booked loans</caption><thead><tr>"
            f"{head}</tr></thead><tbody>{rows}</tbody></table>")


def render(summary: dict[str, Any]) -> str:
    """The whole page."""
    head = "".join(f"<th scope='col'>{c.replace('_', ' ')}</th>" for c in _COLUMNS)
    head += "<th scope='col'>calibration</th><th scope='col'>AUC vs reference (p)</th>"
    rows = []
    for c in summary["cohorts"]:
        cells = "".join(f"<td>{_fmt(c.get(k))}</td>" for k in _COLUMNS)
        verdict = (c.get("calibration") or {}).get("verdict")
        versus = c.get("auc_vs_reference") or {}
        cells += f"<td>{_fmt(verdict)}</td><td>{_fmt(versus.get('p_value'))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    plots = "".join(
        f"<section><h3>{escape(c['cohort'])}, model {escape(str(c['model_version']))}</h3>"
        f"{reliability_svg(c)}{_bands_table(c)}</section>"
        for c in summary["cohorts"] if c.get("bands"))
    join = summary["join"]
    join_items = "".join(f"<li>{escape(k.replace('_', ' '))}: {v}</li>" for k, v in join.items())
    notes = "".join(f"<p>{escape(text)}</p>" for text in summary["notes"].values())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outcomes analysis as of {escape(summary['as_of'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#111}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #999;padding:.25rem .5rem;
text-align:right}}caption{{text-align:left;font-weight:600}}</style></head>
<body><main>
<h1>Outcomes analysis as of {escape(summary['as_of'])}</h1>
<p>Cohorts mature {summary['outcome_months']} months after their last day; immature cohorts
show counts and coverage only.</p>
<h2>The join</h2><ul>{join_items}</ul>
<h2>Cohorts</h2>
<table><caption>One row per decision month and model version</caption>
<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<h2>What the figures can and cannot say</h2>{notes}
<h2>Reliability of matured cohorts</h2>{plots or '<p>No matured cohort yet.</p>'}
<h2>Evidently's classification report</h2>{_classification(summary)}
</main></body></html>
"""
