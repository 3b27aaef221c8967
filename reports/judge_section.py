"""The LLM judge's section of the HTML and markdown reports: which judge, which calibration and
its figures, whether it gates (and why not), its cost apart from the targets', and every
advisory finding under "judge (uncalibrated)".

Model output, the judge's notes and customer text are untrusted: HTML-escaped here, and escaped
for markdown with the markdown report's own `untrusted`.
"""

from __future__ import annotations

import html

from evals.judge.calibration import Calibration, Figures
from evals.judge.summary import JudgeSummary
from evals.records import Finding
from evals.scorecard import Scorecard

#: The heading every report gives advisory findings.
ADVISORY_HEADING = "judge (uncalibrated)"


def shown_message(finding: Finding) -> str:
    """A finding's message as a reader sees it in a list of findings: an uncalibrated judge's
    says so, and that it counts in no gate, pass rate or decision."""
    if finding.evidence.advisory:
        return f"{ADVISORY_HEADING}, advisory, counted nowhere: {finding.message}"
    return finding.message


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def figure_rows(summary: JudgeSummary) -> list[list[str]]:
    rows = []
    for check, f in summary.status.figures.items():
        rows.append(_figure_row(check, f, check in summary.status.gating))
    return rows


def _figure_row(check: str, f: Figures, gates: bool) -> list[str]:
    return [
        check,
        f"{_ratio(f.precision)} [{f.precision_ci.low:.2f}, {f.precision_ci.high:.2f}]",
        f"{_ratio(f.recall)} [{f.recall_ci.low:.2f}, {f.recall_ci.high:.2f}]",
        _ratio(f.f1),
        _ratio(f.kappa),
        f"{f.tp}/{f.fp}/{f.fn}/{f.tn}",
        "gates" if gates else "advisory",
    ]


FIGURE_HEADERS = ["check", "precision [95%]", "recall [95%]", "F1", "kappa", "tp/fp/fn/tn", ""]
COST_HEADERS = ["target", "answers judged", "calls", "tokens in/out", "cost", "time", "errors"]


def cost_rows(summary: JudgeSummary) -> list[list[str]]:
    return [
        [
            target,
            str(c.answers),
            str(c.calls),
            f"{c.prompt_tokens}/{c.completion_tokens}",
            "-" if c.cost_usd is None else f"${c.cost_usd:.4f}",
            f"{c.latency_ms / 1000:.1f} s",
            str(c.errors) + (f" ({c.skipped} not judged: max_cost)" if c.skipped else ""),
        ]
        for target, c in summary.cost.items()
    ]


def headline(summary: JudgeSummary) -> str:
    s = summary.status
    gating = ", ".join(s.gating) if s.gating else "nothing"
    return (
        f"judge {s.model} ({s.state}; gates: {gating}), checks {', '.join(s.checks)}, "
        f"on {s.on} answers, {s.votes} vote(s), prompt {s.prompt_sha256}, calibration "
        f"{s.calibration or 'none'}"
        + (f" (sha256 {s.calibration_sha256[:16]})" if s.calibration_sha256 else "")
    )


def _html_table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_finding(finding: Finding) -> str:
    e = finding.evidence
    parts = [f"<code>{_esc(finding.code)}</code> {_esc(finding.message)}"]
    if e.span is not None:
        parts.append(f"said: <mark>{_esc(e.span.text)}</mark> ({e.span.start}-{e.span.end})")
    if e.checked_against:
        parts.append(f"checked against {_esc(e.source or '')}: “{_esc(e.checked_against)}”")
    if e.note:
        parts.append(_esc(e.note))
    return "<li>" + "<br>".join(parts) + "</li>"


def judge_html(card: Scorecard) -> str:
    """The judge's section of report.html (empty when the run had no judge)."""
    summary = card.judge
    if summary is None:
        return ""
    s = summary.status
    out = ['<section id="judge"><h2>LLM judge</h2>', f"<p>{_esc(headline(summary))}</p>"]
    if s.reasons:
        out.append(
            "<p>Advisory, because: "
            + "; ".join(_esc(r) for r in s.reasons)
            + ". Its advisory findings count in no gate, pass rate or decision.</p>"
        )
    if s.figures:
        out.append(_html_table(FIGURE_HEADERS, figure_rows(summary)))
    if summary.cost:
        out.append("<h3>Judge cost (apart from the targets')</h3>")
        out.append(_html_table(COST_HEADERS, cost_rows(summary)))
    out.append(f"<h3>{_esc(ADVISORY_HEADING)}</h3>")
    if not summary.advisory:
        out.append("<p>No advisory finding.</p>")
    shown = len(summary.advisory)
    if shown < summary.advisory_answers:
        out.append(f"<p>First {shown} of {summary.advisory_answers} answers.</p>")
    for result in summary.advisory:
        out.append(
            f"<details><summary><code>{_esc(result.case_id)}</code> "
            f"[{_esc(result.target)} #{result.sample}]: {len(result.findings)} advisory "
            f"finding(s)</summary><blockquote>{_esc(result.response.text)}</blockquote><ul>"
            + "".join(_html_finding(f) for f in result.findings)
            + "</ul></details>"
        )
    out.append("</section>")
    return "".join(out)


def judge_markdown(card: Scorecard) -> list[str]:
    """The judge's section of report.md, as lines (none when the run had no judge)."""
    from reports.markdown import _finding_line, _table, untrusted

    summary = card.judge
    if summary is None:
        return []
    s = summary.status
    out = ["## LLM judge", "", untrusted(headline(summary), 1000), ""]
    if s.reasons:
        out += [
            "Advisory, because: " + "; ".join(untrusted(r, 300) for r in s.reasons) + ". Its "
            "advisory findings count in no gate, pass rate or decision.",
            "",
        ]
    if s.figures:
        out += [_table(FIGURE_HEADERS, figure_rows(summary)), ""]
    if summary.cost:
        out += [
            "Judge cost (apart from the targets'):",
            "",
            _table(COST_HEADERS, cost_rows(summary)),
            "",
        ]
    out += [f"### {ADVISORY_HEADING}", ""]
    if not summary.advisory:
        out += ["No advisory finding.", ""]
    for result in summary.advisory:
        out += [
            f"#### `{result.case_id}` [{result.target} #{result.sample}]",
            "",
            f"> answer: {untrusted(result.response.text, 600)}",
            "",
            *[_finding_line(f) for f in result.findings],
            "",
        ]
    return out


def calibration_table(calibration: Calibration) -> str:
    """`evals calibrate`'s terminal table: per check, then per language."""
    from tabulate import tabulate

    rows = [_figure_row(c, f, True)[:-1] for c, f in calibration.families.items()]
    for language, checks in calibration.by_language.items():
        rows += [[f"{c} ({language})", *_figure_row(c, f, True)[1:-1]] for c, f in checks.items()]
    usage = calibration.usage
    cost = "unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
    tokens = usage.prompt_tokens + usage.completion_tokens
    per_thousand = (
        f", about {1000 * tokens / calibration.responses:,.0f} tokens per 1,000 answers"
        if calibration.responses
        else ""
    )
    return (
        tabulate(rows, headers=FIGURE_HEADERS[:-1])
        + f"\n\n{calibration.responses} responses, {calibration.errors} judge errors; "
        f"{usage.calls} calls, {usage.prompt_tokens} prompt + {usage.completion_tokens} "
        f"completion tokens{per_thousand}, cost {cost}; "
        f"prompt {calibration.fingerprint.prompt_sha256}"
    )
