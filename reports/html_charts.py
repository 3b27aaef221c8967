"""The HTML report's charts: inline SVG drawn here, so they print and need no chart library."""

from __future__ import annotations

import html
from collections.abc import Sequence

from evals.decisions import Decision
from evals.scores import Score
from reports.tables import OUTCOME_LABELS

#: Colours of the SVG charts (the CSS variables of data/report.css, for SVG fills).
COLOURS = {
    "automate": "#1a7f37",
    "assist": "#9a6700",
    "human": "#cf222e",
    "insufficient_evidence": "#57606a",
    "critical": "#cf222e",
    "major": "#bc4c00",
    "minor": "#0969da",
}


def esc(value: object) -> str:
    """Any value as HTML text or attribute content: `html.escape` with quotes."""
    return html.escape(str(value), quote=True)


def pct(x: float) -> str:
    return f"{x:.0%}"


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pass_rate_chart(scores: Sequence[Score], decisions: dict[str, Decision]) -> str:
    """Pass rate per intent as horizontal bars (coloured by decision) with the 95% Wilson
    interval as an error bar."""
    width, left, right, row, top = 640, 200, 56, 26, 8
    plot = width - left - right
    height = top + row * len(scores) + 30
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="pass rate per intent with 95% interval">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + plot * tick
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}" stroke="#d0d7de"/>'
            f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#57606a">'
            f"{pct(tick)}</text>"
        )
    for i, score in enumerate(scores):
        y = top + i * row
        mid = y + row / 2
        decision = decisions.get(score.key)
        outcome = decision.outcome if decision else "insufficient_evidence"
        low, high = score.pass_rate_ci.low, score.pass_rate_ci.high
        tip = (
            f"{score.key}: {pct(score.pass_rate)} of {score.answers} answers passed "
            f"(95% interval {pct(low)}-{pct(high)}); decision: {OUTCOME_LABELS[outcome]}"
        )
        x_low, x_high = left + plot * low, left + plot * high
        parts.append(
            f"<g><title>{esc(tip)}</title>"
            f'<text x="{left - 8}" y="{mid + 4:.1f}" text-anchor="end">{esc(_short(score.key))}'
            "</text>"
            f'<rect x="{left}" y="{y + 5}" width="{plot * score.pass_rate:.1f}" height="{row - 10}"'
            f' fill="{COLOURS[outcome]}" fill-opacity="0.75"/>'
            f'<line x1="{x_low:.1f}" y1="{mid:.1f}" x2="{x_high:.1f}" y2="{mid:.1f}" '
            'stroke="#1f2328" stroke-width="1.5"/>'
            f'<line x1="{x_low:.1f}" y1="{mid - 6:.1f}" x2="{x_low:.1f}" y2="{mid + 6:.1f}" '
            'stroke="#1f2328" stroke-width="1.5"/>'
            f'<line x1="{x_high:.1f}" y1="{mid - 6:.1f}" x2="{x_high:.1f}" y2="{mid + 6:.1f}" '
            'stroke="#1f2328" stroke-width="1.5"/>'
            f'<text x="{left + plot + 6}" y="{mid + 4:.1f}">{pct(score.pass_rate)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def findings_chart(score: Score) -> str:
    """Findings per code (bars coloured by severity), most frequent first."""
    codes = sorted(score.findings, key=lambda c: (-c.findings, c.code))
    if not codes:
        return '<p class="muted">No findings.</p>'
    width, left, right, row, top = 640, 200, 150, 24, 4
    plot = width - left - right
    height = top + row * len(codes) + 4
    most = max(c.findings for c in codes)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="findings by code">'
    ]
    for i, code in enumerate(codes):
        y = top + i * row
        bar = plot * code.findings / most
        tip = f"{code.code} ({code.severity}): {code.findings} findings in {code.answers} answers"
        parts.append(
            f"<g><title>{esc(tip)}</title>"
            f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">'
            f"{esc(_short(code.code))}</text>"
            f'<rect x="{left}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" '
            f'fill="{COLOURS[code.severity]}"/>'
            f'<text x="{left + bar + 6:.1f}" y="{y + row / 2 + 4:.1f}">{code.findings} '
            f"in {code.answers} answers</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
