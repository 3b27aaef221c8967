"""The HTML report: one self-contained page for product owners and compliance reviewers.

Why it is built the way it is:

- One file with no network at all (no external CSS, scripts, fonts or images): it is attached to
  tickets and opened from disk years later, and a report must not phone home when opened.
- It opens fast at any size. The summary (verdict, decisions, scores, charts, per-intent
  figures) is static HTML, rendered here. Every answer (failing ones first, passing ones
  collapsed, identical samples of a case shown once with their count), the case stability tables
  and the matrix of cases across targets are one gzip-compressed JSON block
  (`reports.html_answers`) that the page's script (`data/report.js`) decompresses and renders a
  page at a time; its filters run over that data, so they reach every answer, and they are kept
  in the URL's fragment (`#status=failed&code=...`), so a filtered view can be linked and the
  back button undoes a filter. The first page also travels alone in a small block, so it is on
  screen while the rest is decoded. Printing prints every matching answer up to 1,000
  (`benchmarks/html_report_speed.py` measures the page at 50,000 answers).
- No machine paths: the decision policy is named by name, version and hash (and `bundled` or
  its file relative to the suite), never by where it lies on this machine.
- Untrusted text (model answers, customer messages, policy text) goes through
  `html.escape(..., quote=True)` here, attributes included, and through `textContent` in the
  script, which never turns data into markup. A Content-Security-Policy allows that one script
  (by its hash) and nothing else, so even a missed escape could not run injected script or
  load anything. The data block is not a script the browser runs: its type is not JavaScript.
- The verdict banner is green only when every gate passed and every answer passed
  (`reports.verdict`).
- The page's CSS and script are data files (`reports/data/`), read once.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from evals.records import SEVERITIES, CaseResult, PolicyBook, RunPlan
from evals.scorecard import Scorecard
from evals.scores import Score
from reports import explain
from reports.html_answers import Mark, answer_groups, encode, highlight, locate, payload
from reports.html_charts import findings_chart, pass_rate_chart, pct
from reports.judge_section import judge_html
from reports.tables import OUTCOME_LABELS, money, ms, pass_k, rate, total_rows
from reports.verdict import Verdict, verdict

__all__ = [
    "CSS",
    "SCRIPT",
    "Mark",
    "content_security_policy",
    "highlight",
    "locate",
    "render_html",
    "script_hash",
    "write_html",
]

OUTCOMES = ("automate", "assist", "human", "insufficient_evidence")
#: The severity filter's values: finding severities, plus provider errors (no answer at all).
SEVERITY_FILTER = (*SEVERITIES, "error")
#: The ids of the blocks that carry the failing answers (read by data/report.js): all of them,
#: and the first page alone, which is on screen while the rest is decoded.
DATA_ID = "answers-data"
FIRST_ID = "answers-first"
FIRST_PAGE = 50
#: Its type: data the browser never runs.
DATA_TYPE = "application/gzip+base64"


@cache
def _asset(name: str) -> str:
    return (resources.files("reports") / "data" / name).read_text(encoding="utf-8")


#: The page's only script (data/report.js). It never creates markup from data. Its SHA-256 goes
#: into the Content-Security-Policy, so edit it freely: the hash follows.
SCRIPT = _asset("report.js")
CSS = _asset("report.css")


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


# --- sections -------------------------------------------------------------------------------


def _banner(v: Verdict) -> str:
    """The verdict: green, amber or red, with the gates that failed and the answer totals."""
    items = [f'<li class="gate-failure">{esc(r)}</li>' for r in v.gate_failures]
    items += [f"<li>{esc(fact)}</li>" for fact in v.facts]
    return (
        f'<div id="verdict" class="banner {v.state}" data-state="{v.state}" role="status">'
        f"<strong>{esc(v.headline)}</strong><ul>{''.join(items)}</ul></div>"
    )


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
            f'<span class="muted">({esc(card.decision_policy.source or "-")})</span>',
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
    gate = _banner(verdict(card))
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
    codes = sorted({c.code for s in card.scores if s.group == "target" for c in s.findings})
    return (
        '<div id="filters" class="filters" hidden><strong>Filter</strong>'
        + _select("status", "answers", (("failed", "failed"), ("passed", "passed")))
        + _select("target", "target", ((t.name, t.name) for t in card.targets))
        + _select("intent", "intent", ((i, i) for i in intents))
        + _select("language", "language", ((x, x) for x in languages))
        + _select(
            "severity",
            "severity",
            ((s, "provider error" if s == "error" else s) for s in SEVERITY_FILTER),
        )
        + _select("code", "finding", ((c, c) for c in codes))
        + _select("decision", "decision", ((o, OUTCOME_LABELS[o]) for o in OUTCOMES))
        + '<label>case <input type="search" id="filter-case" placeholder="case id" size="12">'
        "</label>" + '<button type="button" id="filter-reset">reset</button>'
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
    return f'<dl class="kpis">{body}</dl>' + _explained(score)


def _explained(score: Score) -> str:
    """What the interval and pass^k mean, in plain words with this score's numbers."""
    return (
        f'<ul class="explain"><li>{esc(explain.wilson(score))}</li>'
        f"<li>{esc(explain.pass_k(score))}</li></ul>"
    )


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


def _drilldown(card: Scorecard) -> str:
    out = ['<section id="intents"><h2>Per intent</h2>']
    for group, d in enumerate(card.decisions):
        score = card.score(d.target, "intent", d.intent)
        if score is None:
            continue
        attrs = _data(
            target=d.target, intent=d.intent, decision=d.outcome, language=score.languages
        )
        # The reasons end with how many more passing cases would reach each higher level.
        reasons = "".join(f"<li>{esc(r)}</li>" for r in d.reasons)
        stats = [
            ("kind / risk tier", f"{score.kind} / {d.risk} (ceiling: {d.ceiling})"),
            ("languages", ", ".join(score.languages) or "-"),
            ("cases / answers", f"{score.cases} / {score.answers}"),
            ("passed / failed / errors", f"{score.passed} / {score.failed} / {score.errors}"),
            ("pass rate [95% CI]", rate(score)),
            (
                f"pass^{score.k}",
                f"{pass_k(score)} [{pct(score.pass_k_ci.low)}-{pct(score.pass_k_ci.high)}]",
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
        out.append(
            f"<details{attrs} data-stability-section><summary>{_badge(d.outcome)} "
            f"<code>{esc(d.target)}</code> / "
            f"<code>{esc(d.intent)}</code>: {esc(rate(score))}</summary>"
            f'<h4>Decision</h4><ul>{reasons}</ul><p class="muted">policy {esc(d.policy)}</p>'
            f'<h4>Score</h4><dl class="meta">{stat_html}</dl>{_explained(score)}'
            f'<h4>Findings by code</h4><div class="scroll">{code_table}</div>'
            f"<h4>Case stability ({score.cases} cases)</h4>"
            f'<div class="scroll" data-stability="{group}">'
            '<p class="muted">Shown when the failing answers are loaded.</p></div></details>'
        )
    out.append("</section>")
    return "".join(out)


def _matrix(card: Scorecard) -> str:
    """The matrix of cases across targets: an empty holder the script fills from the data."""
    if not card.cases:
        return ""
    return (
        '<section id="matrix"><h2>Cases across targets</h2>'
        '<p class="muted">One row per case, one column per target: samples passed of samples '
        "run (errors counted apart). Cases with a failing sample come first. Click a cell to "
        "see those answers.</p>"
        '<div class="scroll" id="matrix-table"><p class="muted">Shown when the answers are '
        "loaded.</p></div></section>"
    )


def _answers(card: Scorecard, plan: RunPlan, results: Sequence[CaseResult] | None) -> str:
    """Every answer's section: a pager and an empty list the script fills from the data."""
    shown = card.failing if results is None else results
    n, failing = len(shown), len(card.failing)
    if not n:
        empty = "Every answer passed." if results is None else "No answer was stored."
        return f'<section id="failing"><h2>Answers</h2><p class="muted">{empty}</p></section>'
    what = "failing answers" if results is None else f"answers: {failing} failing, first"
    if results is not None and not failing:
        what = "answers: every one passed"
    groups = answer_groups(shown)  # once, for the first page and for every answer
    pager = (
        '<nav id="pager" class="pager" hidden aria-label="pages of answers">'
        '<button type="button" id="page-first">first</button>'
        '<button type="button" id="page-prev">previous</button>'
        '<label>page <input type="number" id="page-number" min="1" value="1"></label>'
        '<button type="button" id="page-next">next</button>'
        '<button type="button" id="page-last">last</button>'
        '<span id="page-info" class="muted" aria-live="polite"></span></nav>'
    )
    return (
        f'<section id="failing"><h2>{n} {esc(what)}</h2>'
        '<p class="muted">Failing answers are shown open, worst first; passing answers follow, '
        "collapsed (open one to spot-check it). Samples of a case with the same answer are shown "
        "once, with their count (×3).</p>"
        f"{_not_listed(card)}"
        '<p id="answers-status" class="muted">'
        "<noscript>The answers are shown by the page's script, which is off: "
        "report.md lists the worst failing ones.</noscript></p>"
        f'{pager}<div id="failing-list"></div>'
        f'<script type="{DATA_TYPE}" id="{FIRST_ID}">'
        f"{encode(payload(card, plan, first=FIRST_PAGE, groups=groups))}</script>"
        f'<script type="{DATA_TYPE}" id="{DATA_ID}">'
        f"{encode(payload(card, plan, groups=groups))}</script>"
        "</section>"
    )


def _not_listed(card: Scorecard) -> str:
    """What a large scan's report leaves out, and where to find it."""
    failing, passing = card.failing_not_listed, card.passing_not_listed
    if not failing and not passing:
        return ""
    return (
        f'<p class="muted" id="not-listed">Not listed here: {failing:,} more failing and '
        f"{passing:,} more passing answers (this report lists the worst failing ones and the "
        "first passing ones). Every answer is in the run store: "
        f"<code>evals show {esc(card.run_id)} --limit N</code> lists the failing ones, "
        f"<code>evals show {esc(card.run_id)} --json</code> gives them all, and a scan's "
        "findings file holds each answer's findings.</p>"
    )


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


def render_html(
    scorecard: Scorecard, plan: RunPlan, results: Sequence[CaseResult] | None = None
) -> str:
    """The whole report as one HTML document (no external resources). `results`: every answer
    of the run (the report then shows them all, passing ones collapsed); without it, only the
    scorecard's failing answers."""
    card = scorecard
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
        + judge_html(card)
        + _drilldown(card)
        + _matrix(card)
        + _answers(card, plan, results)
        + _policies(plan.policies)
        + "</main>"
        + f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_html(
    scorecard: Scorecard,
    plan: RunPlan,
    folder: Path,
    results: Sequence[CaseResult] | None = None,
) -> Path:
    """Write `folder/report.html` (creating the folder) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_html(scorecard, plan, results), encoding="utf-8")
    return path
