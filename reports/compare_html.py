"""The comparison of two runs as one HTML page, for reading the changed answers side by side.

Built like the run's report (`reports.html`): one file with no network and no script at all,
the report's CSS plus a few rules for the diff (`data/compare.css`). Everything from the runs,
model answers above all, is untrusted and goes through `html.escape(..., quote=True)`; the
Content-Security-Policy allows no script and no network, so even a missed escape could not run
anything or phone home.

It renders `evals.compare.Comparison` only, like the terminal table and the JSON, so the three
cannot disagree: the per-intent pass-rate changes, the verdicts, every changed pair with a word
diff, both answers in full and the findings that appeared and disappeared, and every answer
without a pair.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from evals.compare import Comparison, RunRef
from evals.compare_pairs import AnswerPair, AnswerSide, FindingNote
from reports.compare_table import HEADERS, comparison_rows, unflagged
from reports.html import CSS, esc
from reports.word_diff import word_diff

#: No script, no network; inline styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


@cache
def _css() -> str:
    extra = (resources.files("reports") / "data" / "compare.css").read_text(encoding="utf-8")
    return CSS + extra


def _run(role: str, ref: RunRef) -> str:
    return (
        f"<dt>{esc(role)}</dt><dd><code>{esc(ref.id)}</code> (suite <code>{esc(ref.suite)}"
        f"</code>, {esc(ref.status)}, started {esc(f'{ref.started:%Y-%m-%d %H:%M:%S %Z}')}, "
        f"policy <code>{esc(ref.decision_policy.ident)}</code>)</dd>"
    )


def _banner(comparison: Comparison) -> str:
    failures = comparison.failures
    if failures:
        items = "".join(f'<li class="gate-failure">{esc(text)}</li>' for text in failures)
        head = f"{len(failures)} regression(s) flagged"
        state = "fail"
    else:
        said = unflagged(comparison)
        items = "".join(f"<li>{esc(text)}</li>" for text in said)
        head, state = "no regression flagged", "warn" if said else "pass"
    return (
        f'<div id="verdict" class="banner {state}" data-state="{state}" role="status">'
        f"<strong>{esc(head)}</strong><ul>{items}</ul></div>"
    )


def _table(comparison: Comparison) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
        for row in comparison_rows(comparison)
    )
    return (
        '<section id="intents"><h2>Per target and intent</h2><p class="muted">One-sided exact '
        f"McNemar test per intent, Holm-corrected at alpha {esc(f'{comparison.alpha:g}')}; "
        "before and after are pass rates over paired answers.</p>"
        f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div></section>'
    )


def _verdicts(comparison: Comparison) -> str:
    items = "".join(
        f'<li class="{"fails" if v.fails else "note"}">'
        f"{'REGRESSION' if v.fails else 'note'}: {esc(v.text)}</li>"
        for v in comparison.verdicts
    )
    return f'<section id="verdicts"><h2>Verdicts</h2><ul class="verdicts">{items}</ul></section>'


def _findings(title: str, notes: list[FindingNote]) -> str:
    if not notes:
        return ""
    items = "".join(
        f'<li><span class="badge s-{esc(n.severity)}">{esc(n.severity)}</span> '
        f"<code>{esc(n.code)}</code>: {esc(n.message)}"
        + (f"<blockquote>{esc(n.quote)}</blockquote>" if n.quote else "")
        + "</li>"
        for n in notes
    )
    return f'<h4>{esc(title)}</h4><ul class="findings">{items}</ul>'


def _diff(before: str, after: str) -> str:
    tags = {"same": "", "del": "del", "ins": "ins"}
    parts = []
    for op, text in word_diff(before, after):
        tag = tags[op]
        parts.append(f"<{tag}>{esc(text)}</{tag}>" if tag else esc(text))
    return "".join(parts)


def _side(name: str, side: AnswerSide) -> str:
    verdict = "error" if side.error is not None else "passed" if side.passed else "failed"
    error = f'<p class="error">{esc(side.error)}</p>' if side.error is not None else ""
    return (
        f"<div><h4>{esc(name)}: {esc(verdict)}</h4>{error}"
        f'<div class="answer">{esc(side.text)}</div></div>'
    )


def _pair(pair: AnswerPair) -> str:
    target = (
        pair.candidate_target
        if pair.baseline_target == pair.candidate_target
        else f"{pair.baseline_target} -> {pair.candidate_target}"
    )
    before = (
        "error" if pair.before.error is not None else "passed" if pair.before.passed else "failed"
    )
    after = "error" if pair.after.error is not None else "passed" if pair.after.passed else "failed"
    return (
        f'<article class="failing c-{esc(pair.change)}" data-case="{esc(pair.case_id)}" '
        f'data-sample="{pair.sample}" data-change="{esc(pair.change)}">'
        f"<h3>{esc(pair.change.replace('_', ' '))}: <code>{esc(target)}</code> / "
        f"<code>{esc(pair.intent)}</code> / case <code>{esc(pair.case_id)}</code> sample "
        f'{pair.sample} <span class="muted">{esc(before)} -&gt; {esc(after)}</span></h3>'
        + _findings("findings that appeared", pair.appeared)
        + _findings("findings that disappeared", pair.disappeared)
        + "<h4>word diff (deleted, inserted)</h4>"
        + f'<div class="answer">{_diff(pair.before.text, pair.after.text)}</div>'
        + '<div class="sides">'
        + _side("before", pair.before)
        + _side("after", pair.after)
        + "</div></article>"
    )


def _pairs(comparison: Comparison) -> str:
    if not comparison.pairs:
        return (
            '<section id="pairs"><h2>Answers that changed (0)</h2>'
            '<p class="muted">Every paired answer kept its verdict and its findings.</p></section>'
        )
    return (
        f'<section id="pairs"><h2>Answers that changed ({len(comparison.pairs)})</h2>'
        '<p class="muted">Regressed first, then answers whose findings changed, then improved.'
        "</p>" + "".join(_pair(p) for p in comparison.pairs) + "</section>"
    )


def _unpaired(comparison: Comparison) -> str:
    rows = "".join(
        f"<tr><td>{esc(u.side)}</td><td><code>{esc(u.target)}</code></td>"
        f"<td><code>{esc(u.intent)}</code></td><td><code>{esc(u.case_id)}</code></td>"
        f'<td class="num">{u.sample}</td>'
        f"<td>{esc('error' if u.error is not None else 'passed' if u.passed else 'failed')}</td>"
        "</tr>"
        for u in comparison.unpaired
    )
    extra = "".join(
        f"<li>target <code>{esc(name)}</code> is only in the {side} run ({n} answers)</li>"
        for side, targets in (
            ("baseline", comparison.baseline_only_targets),
            ("candidate", comparison.candidate_only_targets),
        )
        for name, n in targets.items()
    )
    if not rows and not extra:
        return ""
    table = (
        "<table><tr><th>only in</th><th>target</th><th>intent</th><th>case</th><th>sample</th>"
        f"<th>verdict</th></tr>{rows}</table>"
        if rows
        else ""
    )
    return (
        f'<section id="unpaired"><h2>Answers without a pair ({len(comparison.unpaired)}, not '
        f'compared)</h2><ul>{extra}</ul><div class="scroll">{table}</div></section>'
    )


def render_compare_html(comparison: Comparison) -> str:
    """The comparison as one HTML document (no script, no external resources)."""
    before, after = comparison.baseline, comparison.candidate
    title = f"supportgate comparison: {before.id} -> {after.id}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CONTENT_SECURITY_POLICY)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{_css()}</style></head><body>"
        f"<header><h1>Comparison: {esc(before.suite)}</h1>{_banner(comparison)}"
        f'<dl class="meta">{_run("baseline", before)}{_run("candidate", after)}</dl></header>'
        "<main>"
        + _verdicts(comparison)
        + _table(comparison)
        + _pairs(comparison)
        + _unpaired(comparison)
        + "</main></body></html>\n"
    )


def write_compare_html(comparison: Comparison, path: Path) -> Path:
    """Write the page to `path` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_compare_html(comparison), encoding="utf-8")
    return path
