"""trend.html: the matured cohorts across outcomes runs, as pictures.

Two inline-SVG charts over the decision months, one point per matured cohort (the latest run
that reported it wins, since outcomes keep arriving): the realised AUC with its DeLong 95%
CI against the card's reference AUC, and the observed default rate with its Jeffreys 95%
interval against the mean predicted PD. A table carries the same figures for screen
readers. Plain HTML: no script, nothing downloaded; hand-written rather than Evidently's UI,
which would need a running service and its own workspace format in the bucket.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

_W, _H, _PAD = 640, 260, 48
_COLOURS = ("#1f5fa8", "#b0400b", "#2d7d46", "#6b3fa0")


def matured_cohorts(summaries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each matured cohort with figures, from the latest run reporting it, in month order."""
    latest: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for summary in summaries:
        for cohort in summary.get("cohorts", []):
            if not cohort.get("matured") or cohort.get("auc") is None:
                continue
            key = (cohort["cohort"], str(cohort["model_version"]))
            if key not in latest or summary["as_of"] >= latest[key][0]:
                latest[key] = (summary["as_of"], cohort)
    return [latest[key][1] for key in sorted(latest)]


def _chart(title: str, ident: str, cohorts: list[dict[str, Any]], value: str, low_high: str,
           reference: str, reference_label: str, top: float, bottom: float = 0.0) -> str:
    months = sorted({c["cohort"] for c in cohorts})
    versions = sorted({str(c["model_version"]) for c in cohorts})
    span_x = (_W - 2 * _PAD) / max(len(months), 1)

    def x(month: str) -> float:
        return _PAD + span_x * (months.index(month) + 0.5)

    def y(v: float) -> float:
        v = min(max(v, bottom), top)
        return _H - _PAD - (_H - 2 * _PAD) * (v - bottom) / (top - bottom)

    parts = [f'<svg role="img" aria-labelledby="{ident}-t {ident}-d" width="{_W}" '
             f'height="{_H}" viewBox="0 0 {_W} {_H}">',
             f'<title id="{ident}-t">{escape(title)}</title>',
             f'<desc id="{ident}-d">{escape(title)} for {len(cohorts)} matured cohorts; the '
             f'table below has the same figures.</desc>',
             f'<line x1="{_PAD}" y1="{y(bottom)}" x2="{_W - _PAD}" y2="{y(bottom)}" '
             f'stroke="#222"/>',
             f'<line x1="{_PAD}" y1="{y(bottom)}" x2="{_PAD}" y2="{y(top)}" stroke="#222"/>']
    for tick in (bottom, (bottom + top) / 2, top):
        parts.append(f'<text x="{_PAD - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{tick:.3f}</text>')
    for month in months:
        parts.append(f'<text x="{x(month):.1f}" y="{_H - _PAD + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(month)}</text>')
    for c in cohorts:
        slot = versions.index(str(c["model_version"]))
        colour = _COLOURS[slot % len(_COLOURS)]
        px = x(c["cohort"]) + 14 * (slot - (len(versions) - 1) / 2)  # versions side by side
        lo, hi = c[low_high]
        parts.append(f'<line x1="{px:.1f}" y1="{y(lo):.1f}" x2="{px:.1f}" y2="{y(hi):.1f}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<circle cx="{px:.1f}" cy="{y(c[value]):.1f}" r="4" fill="{colour}"/>')
        ref = _reference(c, reference)
        if ref is not None:
            parts.append(f'<line x1="{px - 12:.1f}" y1="{y(ref):.1f}" x2="{px + 12:.1f}" '
                         f'y2="{y(ref):.1f}" stroke="#222" stroke-dasharray="3 2"/>')
    legend = " ".join(f'<span style="color:{_COLOURS[i % len(_COLOURS)]}">&#9679; model '
                      f'{escape(v)}</span>' for i, v in enumerate(versions))
    parts.append("</svg>")
    return (f"<figure><figcaption>{escape(title)}: dots and bars are the figure and its 95% "
            f"interval; dashes mark the {escape(reference_label)}. {legend}</figcaption>"
            f"{''.join(parts)}</figure>")


def _reference(cohort: dict[str, Any], kind: str) -> float | None:
    if kind == "auc":
        versus = cohort.get("auc_vs_reference") or {}
        value = versus.get("reference_auc")
        return float(value) if value is not None else None
    return float(cohort["mean_predicted_pd"])


def _table(cohorts: list[dict[str, Any]]) -> str:
    def fmt(v: Any) -> str:
        return "–" if v is None else f"{v:.4f}" if isinstance(v, float) else escape(str(v))

    rows = "".join(
        f"<tr><th scope='row'>{escape(c['cohort'])}</th><td>{escape(str(c['model_version']))}"
        f"</td><td>{c['with_outcome']}</td><td>{fmt(c['auc'])}</td>"
        f"<td>{fmt(c['auc_ci95'][0])} – {fmt(c['auc_ci95'][1])}</td>"
        f"<td>{fmt(_reference(c, 'auc'))}</td><td>{fmt(c['observed_default_rate'])}</td>"
        f"<td>{fmt(c['mean_predicted_pd'])}</td>"
        f"<td>{fmt((c.get('calibration') or {}).get('verdict'))}</td></tr>" for c in cohorts)
    return ("<table><caption>Matured cohorts</caption><thead><tr><th scope='col'>cohort</th>"
            "<th scope='col'>model</th><th scope='col'>loans</th><th scope='col'>AUC</th>"
            "<th scope='col'>AUC 95% CI</th><th scope='col'>reference AUC</th>"
            "<th scope='col'>observed default rate</th><th scope='col'>mean predicted PD</th>"
            f"<th scope='col'>calibration</th></tr></thead><tbody>{rows}</tbody></table>")


def render_trend(summaries: Iterable[dict[str, Any]]) -> str:
    """The whole trend page."""
    runs = list(summaries)
    cohorts = matured_cohorts(runs)
    last = max((s["as_of"] for s in runs), default="–")
    if cohorts:
        auc_top = 1.0
        rate_top = min(1.0, 1.15 * max(max(c["default_rate_ci95"][1], c["mean_predicted_pd"])
                                       for c in cohorts))
        body = (_chart("Realised AUC per cohort", "auc", cohorts, "auc", "auc_ci95", "auc",
                       "reference AUC (model card, same truncation)", auc_top, 0.5)
                + _chart("Observed default rate per cohort", "dr", cohorts,
                         "observed_default_rate", "default_rate_ci95", "pd",
                         "mean predicted PD", rate_top)
                + _table(cohorts))
    else:
        body = "<p>No matured cohort yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outcomes trend</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#111}}
figure{{margin:1.5rem 0}}figcaption{{margin-bottom:.5rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.25rem .5rem}}
caption{{text-align:left;font-weight:600}}</style></head>
<body><main>
<h1>Outcomes trend</h1>
<p>{len(runs)} monthly runs, the latest as of {escape(str(last))}. Each matured cohort
(decision month and model version) appears once, with the figures of the latest run.</p>
{body}
</main></body></html>
"""
