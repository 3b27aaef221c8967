"""The HTML report: one self-contained page for product owners and compliance reviewers.

Why it is built the way it is:

- One file with no network at all (no external CSS, scripts, fonts or images): it is attached to
  tickets and opened from disk years later, and a report must not phone home when opened.
- Everything is rendered here, in Python. Model answers, customer messages and policy text are
  untrusted, so every piece of text goes through `html.escape(..., quote=True)`, in attributes
  too. The page's only script toggles visibility through `data-*` attributes and never turns data
  into markup or code. A Content-Security-Policy allows that one script (by its hash) and nothing
  else, so even a missed escape could not run injected script or load anything.
- Charts are inline SVG drawn here, so they print and need no chart library.
- Offending spans are highlighted from the evidence's character offsets. Overlapping spans cannot
  nest as elements, so the answer is cut at every span boundary and each piece is marked with
  every finding that covers it: the markup stays well formed whatever the spans are.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.decisions import Decision
from evals.records import SEVERITIES, Case, CaseResult, Finding, PolicyBook, RunPlan, Severity, Span
from evals.scorecard import Scorecard
from evals.scores import CaseOutcome, Score
from reports.tables import OUTCOME_LABELS, money, ms, pass_k, rate, total_rows

OUTCOMES = ("automate", "assist", "human", "insufficient_evidence")
STABILITY_LABELS = {"stable_pass": "stable pass", "flaky": "flaky", "stable_fail": "stable fail"}
#: The severity filter's values: finding severities, plus provider errors (no answer at all).
SEVERITY_FILTER = (*SEVERITIES, "error")
#: What colours a failing answer: no answer at all first, then the worst finding.
WORST_FIRST = ("error", *SEVERITIES)

#: The page's only script. It reads `data-*` attributes and sets `hidden`; it never creates
#: markup from data. Its SHA-256 goes into the Content-Security-Policy, so edit it freely: the
#: hash follows.
SCRIPT = """
(function () {
  "use strict";
  var panel = document.getElementById("filters");
  if (!panel) { return; }
  var selects = panel.querySelectorAll("select[data-filter]");
  var items = document.querySelectorAll("[data-filterable]");
  var count = document.getElementById("filter-count");
  function matches(el) {
    for (var i = 0; i < selects.length; i++) {
      var want = selects[i].value;
      if (!want) { continue; }
      var have = el.getAttribute("data-" + selects[i].getAttribute("data-filter"));
      if (have === null) { continue; }
      if (have.split(" ").indexOf(want) < 0) { return false; }
    }
    return true;
  }
  function apply() {
    var shown = 0;
    var total = 0;
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var ok = matches(el);
      if (ok) { el.removeAttribute("hidden"); } else { el.setAttribute("hidden", ""); }
      if (el.classList.contains("failing")) {
        total += 1;
        if (ok) { shown += 1; }
      }
    }
    if (count) { count.textContent = shown + " of " + total + " failing answers shown"; }
  }
  for (var i = 0; i < selects.length; i++) {
    selects[i].addEventListener("change", apply);
  }
  document.getElementById("filter-reset").addEventListener("click", function () {
    for (var i = 0; i < selects.length; i++) { selects[i].value = ""; }
    apply();
  });
  window.addEventListener("beforeprint", function () {
    var closed = document.querySelectorAll("details:not([open])");
    for (var i = 0; i < closed.length; i++) { closed[i].setAttribute("open", ""); }
  });
  panel.removeAttribute("hidden");
  apply();
})();
"""

CSS = """
:root{--automate:#1a7f37;--assist:#9a6700;--human:#cf222e;--insufficient_evidence:#57606a;
--critical:#cf222e;--major:#bc4c00;--minor:#0969da;--error:#8250df;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0 auto;
max-width:75rem;padding:0 1rem 3rem}
h1{font-size:1.5rem;margin:1rem 0 .5rem}h2{margin-top:2rem;border-bottom:1px solid var(--line)}
h3{margin:.5rem 0}
[hidden]{display:none!important}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft)}td.num{text-align:right;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
td ul,dd ul{margin:0;padding-left:1.1rem}
.answer,.msg,dd,blockquote{overflow-wrap:anywhere}td,li{overflow-wrap:break-word}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.banner{padding:.5rem 1rem;border-radius:6px;margin:.75rem 0;color:#fff}
.banner.pass{background:var(--automate)}.banner.fail{background:var(--human)}
.banner ul{margin:.25rem 0}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;color:#fff;font-size:.8rem;
font-weight:600;white-space:nowrap}
.d-automate{background:var(--automate)}.d-assist{background:var(--assist)}
.d-human{background:var(--human)}.d-insufficient_evidence{background:var(--insufficient_evidence)}
.s-critical{background:var(--critical)}.s-major{background:var(--major)}
.s-minor{background:var(--minor)}.s-error{background:var(--error)}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.5rem;
margin:.5rem 0}
.kpis div{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem}
.kpis dt{font-size:.8rem;color:#57606a}.kpis dd{margin:0;font-weight:600}
figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#57606a}
svg{max-width:100%;height:auto;font:12px system-ui,sans-serif}
details{border:1px solid var(--line);border-radius:6px;padding:.25rem .75rem;margin:.4rem 0}
summary{cursor:pointer;font-weight:600}
.filters{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);
padding:.5rem 0;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;z-index:1}
article.failing{border:1px solid var(--line);border-left:4px solid var(--minor);border-radius:6px;
padding:.5rem 1rem;margin:1rem 0}
article.w-critical{border-left-color:var(--critical)}
article.w-major{border-left-color:var(--major)}article.w-error{border-left-color:var(--error)}
.conversation{list-style:none;padding:0;margin:.25rem 0}
.msg,.answer{white-space:pre-wrap;background:var(--soft);border-radius:6px;padding:.4rem .6rem;
margin:.25rem 0}
.role{font-size:.8rem;font-weight:600;color:#57606a;display:block}
.answer{background:#fff;border:1px solid var(--line)}
mark{background:#ffe08a;border-bottom:2px solid var(--major);padding:0}
mark.m-critical{background:#ffc1c0;border-color:var(--critical)}
mark.m-minor{background:#ddf4ff;border-color:var(--minor)}
.error{color:var(--error);font-weight:600}
.findings{padding-left:1.2rem}.findings li{margin:.4rem 0}
.findings dl{display:grid;grid-template-columns:max-content 1fr;gap:0 .75rem;margin:.2rem 0}
.findings dt{color:#57606a}.findings dd{margin:0}
blockquote{margin:0;padding-left:.6rem;border-left:3px solid var(--line)}
pre.policy{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);padding:.5rem}
.muted{color:#57606a}
@media print{.filters{display:none}body{max-width:none;font-size:11pt}
article.failing,details,figure{break-inside:avoid}}
"""

#: Colours of the SVG charts (the CSS variables above, for SVG fills).
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


def script_hash(script: str = SCRIPT) -> str:
    """The CSP source that allows exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    """No network, no plugins, no forms; only the page's own inline script and inline styles."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script_hash()}; base-uri 'none'; form-action 'none'"
    )


def _data(**values: str | Iterable[str] | None) -> str:
    """`data-*` attributes for the filters, values space-separated and escaped."""
    out = []
    for key, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else " ".join(sorted(set(value)))
        out.append(f' data-{key}="{esc(text)}"')
    return " data-filterable" + "".join(out)


def _badge(outcome: str) -> str:
    return (
        f'<span class="badge d-{esc(outcome)}">{esc(OUTCOME_LABELS.get(outcome, outcome))}</span>'
    )


def _severity_badge(severity: str) -> str:
    label = "provider error" if severity == "error" else severity
    return f'<span class="badge s-{esc(severity)}">{esc(label)}</span>'


def _pct(x: float) -> str:
    return f"{x:.0%}"


# --- highlighting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One finding's span located in an answer: `ref` names the finding element it belongs to."""

    start: int
    end: int
    ref: str
    severity: Severity
    label: str


def locate(text: str, span: Span) -> tuple[int, int] | None:
    """Where a span lies in the answer: its offsets when they hold its text, else its first
    occurrence (offsets from another normalisation of the text), else nowhere."""
    if not span.text:
        return None
    if span.end <= len(text) and text[span.start : span.end] == span.text:
        return span.start, span.end
    found = text.find(span.text)
    return (found, found + len(span.text)) if found >= 0 else None


def highlight(text: str, marks: Sequence[Mark]) -> str:
    """The answer as escaped HTML with `<mark>` around every span.

    The text is cut at every span boundary; each piece covered by spans becomes one `<mark>`
    listing the findings covering it (`data-findings`) and styled by the worst of them. Marks never
    nest, so overlapping or adjacent spans cannot break the markup.
    """
    valid = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    bounds = sorted({0, len(text), *(m.start for m in valid), *(m.end for m in valid)})
    out = []
    for start, end in itertools.pairwise(bounds):
        piece = esc(text[start:end])
        covering = [m for m in valid if m.start <= start and end <= m.end]
        if not covering:
            out.append(piece)
            continue
        worst = min((m.severity for m in covering), key=SEVERITIES.index)
        refs = " ".join(m.ref for m in covering)
        label = "; ".join(m.label for m in covering)
        out.append(
            f'<mark class="m-{worst}" data-findings="{esc(refs)}" title="{esc(label)}">'
            f"{piece}</mark>"
        )
    return "".join(out)


# --- charts ---------------------------------------------------------------------------------


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
            f"{_pct(tick)}</text>"
        )
    for i, score in enumerate(scores):
        y = top + i * row
        mid = y + row / 2
        decision = decisions.get(score.key)
        outcome = decision.outcome if decision else "insufficient_evidence"
        low, high = score.pass_rate_ci.low, score.pass_rate_ci.high
        tip = (
            f"{score.key}: {_pct(score.pass_rate)} of {score.answers} answers passed "
            f"(95% interval {_pct(low)}-{_pct(high)}); decision: {OUTCOME_LABELS[outcome]}"
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
            f'<text x="{left + plot + 6}" y="{mid + 4:.1f}">{_pct(score.pass_rate)}</text></g>'
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


# --- sections -------------------------------------------------------------------------------


def _header(card: Scorecard) -> str:
    finished = f"{card.finished:%Y-%m-%d %H:%M:%S %Z}" if card.finished else "not finished"
    books = ", ".join(f"{k} {v}" for k, v in sorted(card.versions.policy_books.items()))
    targets = "".join(f"<li><code>{esc(t.name)}</code>: {esc(t.model)}</li>" for t in card.targets)
    rows = [
        ("suite", f"<code>{esc(card.suite)}</code>"),
        ("run", f"<code>{esc(card.run_id)}</code> ({esc(card.status)})"),
        ("started", esc(f"{card.started:%Y-%m-%d %H:%M:%S %Z}")),
        ("finished", esc(finished)),
        ("samples per case", esc(card.samples)),
        (
            "decision policy",
            f"<code>{esc(card.decision_policy.ident)}</code> "
            f'<span class="muted">{esc(card.decision_policy.source)}</span>',
        ),
        (
            "versions",
            f"package {esc(card.versions.package)}, guardrails {esc(card.versions.guardrails)}, "
            f"cases {esc(card.versions.cases)}, policy books {esc(books or '-')}",
        ),
        ("config hash", f"<code>{esc(card.config_hash)}</code>"),
        ("targets", f"<ul>{targets}</ul>"),
    ]
    meta = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    if card.gate_failures:
        reasons = "".join(f"<li>{esc(r)}</li>" for r in card.gate_failures)
        gate = f'<div class="banner fail"><strong>Gates FAILED</strong><ul>{reasons}</ul></div>'
    else:
        gate = '<div class="banner pass"><strong>All gates passed</strong></div>'
    return (
        f'<header><h1>Scorecard: {esc(card.suite)}</h1>{gate}<dl class="meta">{meta}</dl></header>'
    )


def _select(name: str, label: str, values: Iterable[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(text)}</option>' for v, text in values)
    return (
        f'<label>{esc(label)} <select data-filter="{esc(name)}" id="filter-{esc(name)}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _filters(card: Scorecard, plan: RunPlan) -> str:
    intents = sorted({d.intent for d in card.decisions} | {c.intent for c in plan.cases})
    languages = sorted({s.key for s in card.scores if s.group == "language"})
    return (
        '<div id="filters" class="filters" hidden><strong>Filter</strong>'
        + _select("target", "target", ((t.name, t.name) for t in card.targets))
        + _select("intent", "intent", ((i, i) for i in intents))
        + _select("language", "language", ((x, x) for x in languages))
        + _select(
            "severity",
            "severity",
            ((s, "provider error" if s == "error" else s) for s in SEVERITY_FILTER),
        )
        + _select("decision", "decision", ((o, OUTCOME_LABELS[o]) for o in OUTCOMES))
        + '<button type="button" id="filter-reset">reset</button>'
        '<span id="filter-count" class="muted" aria-live="polite"></span></div>'
    )


def _kpis(score: Score) -> str:
    cost = money(score.cost_per_answer_usd)
    tokens = "-" if score.tokens_per_answer is None else f"{score.tokens_per_answer:,.0f}"
    items = [
        ("answers", f"{score.answers} ({score.errors} errors)"),
        ("pass rate [95% CI]", rate(score)),
        (f"pass^{score.k} (cases)", pass_k(score)),
        (
            "stable pass / flaky / stable fail",
            f"{score.stable_pass} / {score.flaky} / {score.stable_fail}",
        ),
        ("latency p50 / p95", f"{ms(score.latency_p50_ms)} / {ms(score.latency_p95_ms)} ms"),
        ("tokens / conversation", tokens),
        ("cost / conversation", cost),
    ]
    body = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
    return f'<dl class="kpis">{body}</dl>'


def _decision_table(card: Scorecard, target: str) -> str:
    rows = []
    for d in card.decisions:
        score = card.score(d.target, "intent", d.intent)
        if d.target != target or score is None:
            continue
        reasons = "".join(f"<li>{esc(r)}</li>" for r in d.reasons)
        attrs = _data(intent=d.intent, decision=d.outcome, language=score.languages)
        rows.append(
            f"<tr{attrs}><td><code>{esc(d.intent)}</code></td><td>{esc(d.risk)}</td>"
            f'<td class="num">{score.answers}</td><td class="num">{esc(rate(score))}</td>'
            f'<td class="num">{esc(pass_k(score))}</td><td class="num">{score.critical_answers}'
            f"</td><td>{_badge(d.outcome)}</td><td><ul>{reasons}</ul></td></tr>"
        )
    if not rows:
        return '<p class="muted">No intents scored.</p>'
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "intent",
            "risk",
            "answers",
            "pass [95% CI]",
            "pass^k",
            "critical",
            "decision",
            "why",
        )
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def _summary(card: Scorecard) -> str:
    out = ['<section id="summary"><h2>Decisions per target and intent</h2>']
    out.append(
        '<p class="muted">automate: the model answers alone; assist: the model drafts, a person '
        "approves; human: people answer; insufficient evidence: too few answers to decide.</p>"
    )
    for target in card.targets:
        total = card.score(target.name, "target", "*")
        intents = [s for s in card.scores if s.target == target.name and s.group == "intent"]
        decisions = {d.intent: d for d in card.decisions if d.target == target.name}
        out.append(
            f'<section class="target"{_data(target=target.name)}>'
            f"<h3>Target <code>{esc(target.name)}</code> "
            f'<span class="muted">{esc(target.model)}</span></h3>'
        )
        if total is None:
            out.append('<p class="muted">No answers stored for this target.</p></section>')
            continue
        out.append(_kpis(total))
        out.append(_decision_table(card, target.name))
        out.append(
            "<figure>"
            + pass_rate_chart(intents, decisions)
            + "<figcaption>Pass rate per intent; the black bar is the 95% Wilson interval, the "
            "colour the decision.</figcaption></figure>"
        )
        out.append(
            "<figure>"
            + findings_chart(total)
            + "<figcaption>Findings by code (colour: severity).</figcaption></figure>"
        )
        out.append("</section>")
    headers, rows = total_rows(card, "language")
    if rows:
        head = "".join(f"<th>{esc(h)}</th>" for h in headers)
        body = "".join(
            f"<tr{_data(target=row[0], language=row[1])}>"
            + "".join(f"<td>{esc(cell)}</td>" for cell in row)
            + "</tr>"
            for row in rows
        )
        out.append(
            "<h3>Per target and language</h3>"
            f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'
        )
    out.append("</section>")
    return "".join(out)


def _drilldown(card: Scorecard, first_failure: dict[tuple[str, str], str]) -> str:
    out = ['<section id="intents"><h2>Per intent</h2>']
    for d in card.decisions:
        score = card.score(d.target, "intent", d.intent)
        if score is None:
            continue
        attrs = _data(
            target=d.target, intent=d.intent, decision=d.outcome, language=score.languages
        )
        reasons = "".join(f"<li>{esc(r)}</li>" for r in d.reasons)
        if d.more_answers_needed:
            reasons += f"<li>about {d.more_answers_needed} more answers needed to decide</li>"
        if d.more_cases_needed:
            reasons += (
                f"<li>to automate if the observed rates hold: about {d.more_cases_needed} more "
                "cases</li>"
            )
        stats = [
            ("kind / risk tier", f"{score.kind} / {d.risk} (ceiling: {d.ceiling})"),
            ("languages", ", ".join(score.languages) or "-"),
            ("cases / answers", f"{score.cases} / {score.answers}"),
            ("passed / failed / errors", f"{score.passed} / {score.failed} / {score.errors}"),
            ("pass rate [95% CI]", rate(score)),
            (
                f"pass^{score.k}",
                f"{pass_k(score)} [{_pct(score.pass_k_ci.low)}-{_pct(score.pass_k_ci.high)}]",
            ),
            (
                "answers with a finding",
                ", ".join(f"{s} {score.answers_by_severity.get(s, 0)}" for s in SEVERITIES),
            ),
            ("latency p50 / p95", f"{ms(score.latency_p50_ms)} / {ms(score.latency_p95_ms)} ms"),
            ("cost / conversation", money(score.cost_per_answer_usd)),
        ]
        stat_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in stats)
        codes = "".join(
            f"<tr{_data(severity=c.severity)}><td><code>{esc(c.code)}</code></td>"
            f'<td>{_severity_badge(c.severity)}</td><td class="num">{c.answers}</td>'
            f'<td class="num">{c.findings}</td></tr>'
            for c in score.findings
        )
        code_table = (
            "<table><tr><th>code</th><th>severity</th><th>answers</th><th>findings</th></tr>"
            f"{codes}</table>"
            if codes
            else '<p class="muted">No findings.</p>'
        )
        outcomes = [o for o in card.cases if o.target == d.target and o.intent == d.intent]
        stability = _stability_table(outcomes, first_failure)
        out.append(
            f"<details{attrs}><summary>{_badge(d.outcome)} <code>{esc(d.target)}</code> / "
            f"<code>{esc(d.intent)}</code>: {esc(rate(score))}</summary>"
            f'<h4>Decision</h4><ul>{reasons}</ul><p class="muted">policy {esc(d.policy)}</p>'
            f'<h4>Score</h4><dl class="meta">{stat_html}</dl>'
            f'<h4>Findings by code</h4><div class="scroll">{code_table}</div>'
            f'<h4>Case stability</h4><div class="scroll">{stability}</div></details>'
        )
    out.append("</section>")
    return "".join(out)


def _stability_table(
    outcomes: Sequence[CaseOutcome], first_failure: dict[tuple[str, str], str]
) -> str:
    order = {"stable_fail": 0, "flaky": 1, "stable_pass": 2}
    rows = []
    for o in sorted(outcomes, key=lambda o: (order[o.stability], o.case_id)):
        anchor = first_failure.get((o.target, o.case_id))
        case = f"<code>{esc(o.case_id)}</code>"
        if anchor:
            case = f'<a href="#{esc(anchor)}">{case}</a>'
        rows.append(
            f"<tr{_data(language=o.language)}><td>{case}</td><td>{esc(o.language)}</td>"
            f'<td class="num">{o.passed}/{o.samples}</td><td class="num">{o.errors}</td>'
            f"<td>{esc(STABILITY_LABELS[o.stability])}</td></tr>"
        )
    return (
        "<table><tr><th>case</th><th>language</th><th>passed</th><th>errors</th>"
        f"<th>stability</th></tr>{''.join(rows)}</table>"
    )


def _severity_order(result: CaseResult) -> int:
    if result.response.error is not None:
        return -1
    return min((SEVERITIES.index(f.severity) for f in result.findings), default=len(SEVERITIES))


def _finding_item(finding: Finding, ref: str, located: bool) -> str:
    evidence = finding.evidence
    rows = []
    if evidence.span is not None:
        where = f"characters {evidence.span.start}-{evidence.span.end}"
        if not located:
            where += "; not found in the answer as stored"
        rows.append(
            f'<dt>said</dt><dd><q class="said">{esc(evidence.span.text)}</q> '
            f'<span class="muted">({esc(where)})</span></dd>'
        )
    if evidence.checked_against:
        rows.append(
            f"<dt>checked against</dt><dd><blockquote>{esc(evidence.checked_against)}"
            "</blockquote></dd>"
        )
    if evidence.source:
        rows.append(f"<dt>source</dt><dd><code>{esc(evidence.source)}</code></dd>")
    if evidence.note:
        rows.append(f"<dt>note</dt><dd>{esc(evidence.note)}</dd>")
    if not (evidence.checked_against or evidence.source or evidence.note):
        rows.append('<dt>checked against</dt><dd class="muted">nothing recorded</dd>')
    return (
        f'<li id="{esc(ref)}">{_severity_badge(finding.severity)} <code>{esc(finding.code)}</code>'
        f" {esc(finding.message)}<dl>{''.join(rows)}</dl></li>"
    )


def _conversation(case: Case | None) -> str:
    if case is None:
        return '<p class="muted">The case is not in the run plan.</p>'
    turns = "".join(
        f'<li class="msg"><span class="role">{"customer" if m.role == "user" else "agent"}'
        f"</span>{esc(m.content)}</li>"
        for m in case.messages
    )
    facts = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(', '.join(map(str, v)) if isinstance(v, list) else v)}</dd>"
        for k, v in case.facts.items()
    )
    facts_html = (
        f'<details><summary>case facts</summary><dl class="meta">{facts}</dl></details>'
        if facts
        else ""
    )
    return f'<ol class="conversation">{turns}</ol>{facts_html}'


def _failing_answer(
    result: CaseResult, index: int, case: Case | None, decision: Decision | None
) -> str:
    anchor = f"fail-{index}"
    intent = case.intent if case else "?"
    language = case.language if case else "?"
    severities: set[str] = {f.severity for f in result.findings}
    if result.response.error is not None:
        severities.add("error")
    worst = min(severities, key=WORST_FIRST.index, default="minor")
    attrs = _data(
        target=result.target,
        intent=intent,
        language=language,
        severity=severities,
        decision=decision.outcome if decision else None,
    )
    marks = []
    located: list[bool] = []
    for j, finding in enumerate(result.findings):
        span = finding.evidence.span
        where = locate(result.response.text, span) if span is not None else None
        located.append(where is not None)
        if where is not None:
            label = f"{finding.severity} {finding.code}: {finding.message}"
            marks.append(Mark(where[0], where[1], f"{anchor}-f{j}", finding.severity, label))
    response = result.response
    if response.error is not None:
        answer = (
            f'<p class="error">Provider error (after {response.attempts} attempts): '
            f"{esc(response.error)}</p>"
        )
        if response.text:
            answer += f'<div class="answer">{highlight(response.text, marks)}</div>'
    elif response.text:
        answer = f'<div class="answer">{highlight(response.text, marks)}</div>'
    else:
        answer = '<p class="muted">(empty answer)</p>'
    facts = [
        f"latency {ms(response.latency_ms)} ms" if response.latency_ms is not None else "",
        f"model {response.model}" if response.model else "",
        "replayed from a cassette" if response.cached else "",
    ]
    details = "; ".join(x for x in facts if x)
    findings = "".join(
        _finding_item(f, f"{anchor}-f{j}", located[j]) for j, f in enumerate(result.findings)
    )
    context = (
        f"{esc(intent)} · {esc(language)} · {esc(case.kind)} · {esc(case.risk)} risk · "
        f"{esc(case.channel)}"
        if case
        else "unknown case"
    )
    return (
        f'<article class="failing w-{worst}" id="{anchor}" data-case="{esc(result.case_id)}"'
        f"{attrs}>"
        f"<h3><code>{esc(result.case_id)}</code> "
        f'<span class="muted">target <code>{esc(result.target)}</code>, sample '
        f"{result.sample}</span></h3>"
        f"<p>{context} {_badge(decision.outcome) if decision else ''}</p>"
        f"<h4>Conversation</h4>{_conversation(case)}"
        f'<h4>Answer</h4>{answer}<p class="muted">{esc(details)}</p>'
        + (f'<h4>Findings</h4><ol class="findings">{findings}</ol>' if findings else "")
        + "</article>"
    )


def _failing(card: Scorecard, plan: RunPlan) -> tuple[str, dict[tuple[str, str], str]]:
    cases = {c.id: c for c in plan.cases}
    ordered = sorted(
        card.failing,
        key=lambda r: (_severity_order(r), r.target, r.case_id, r.sample),
    )
    first: dict[tuple[str, str], str] = {}
    items = []
    for i, result in enumerate(ordered):
        case = cases.get(result.case_id)
        decision = card.decision(result.target, case.intent) if case else None
        first.setdefault((result.target, result.case_id), f"fail-{i}")
        items.append(_failing_answer(result, i, case, decision))
    body = "".join(items) if items else '<p class="muted">Every answer passed.</p>'
    html_ = (
        f'<section id="failing"><h2>Failing answers ({len(ordered)}, worst first)</h2>{body}'
        "</section>"
    )
    return html_, first


def _policies(policies: dict[str, PolicyBook]) -> str:
    if not policies:
        return ""
    books = "".join(
        f"<details><summary>{esc(book.name)} <code>{esc(book.id)}</code> "
        f'<span class="muted">version {esc(book.version)}</span></summary>'
        f'<pre class="policy">{esc(book.text)}</pre></details>'
        for book in sorted(policies.values(), key=lambda b: b.id)
    )
    return f'<section id="policies"><h2>Policy books</h2>{books}</section>'


def render_html(scorecard: Scorecard, plan: RunPlan) -> str:
    """The whole report as one HTML document (no external resources)."""
    card = scorecard
    failing, first_failure = _failing(card, plan)
    title = f"supportgate scorecard: {card.suite} ({card.run_id})"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(content_security_policy())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        + _header(card)
        + _filters(card, plan)
        + "<main>"
        + _summary(card)
        + _drilldown(card, first_failure)
        + failing
        + _policies(plan.policies)
        + "</main>"
        + f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_html(scorecard: Scorecard, plan: RunPlan, folder: Path) -> Path:
    """Write `folder/report.html` (creating the folder) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_html(scorecard, plan), encoding="utf-8")
    return path
