"""The HTML report's drill-down data: every failing answer and every case's stability, as one
gzip-compressed, base64-encoded JSON block that the page's script renders a page at a time.

Why data and not markup: at 50,000 answers the markup of every failing answer made a 38 MB page
that took 50 s to open. The same content as compressed JSON is a few MB, the browser parses it
after the summary is on screen, and the filters run over the data instead of over DOM nodes.

The untrusted texts (answers, customer messages, policy clauses) stay plain strings in the JSON;
the script only ever puts them into the page as text. Highlighting is computed here, once: each
answer is sent as pieces, either a plain string or `[text, worst severity, [finding indices]]`,
so the script never computes offsets (Python counts code points, JavaScript UTF-16 units).
Texts that repeat across answers (policy clauses, finding messages) are stored once in a string
table: JSON.parse time grows with the text's size, and at 50,000 answers that is most of the wait.
"""

from __future__ import annotations

import base64
import gzip
import html
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.decisions import Decision
from evals.records import SEVERITIES, Case, CaseResult, Finding, RunPlan, Severity, Span
from evals.scorecard import Scorecard
from evals.scores import CaseOutcome
from reports.tables import OUTCOME_LABELS, ms

#: Version of the embedded JSON, read by `data/report.js`.
PAYLOAD_VERSION = 1
STABILITY_LABELS = {"stable_pass": "stable pass", "flaky": "flaky", "stable_fail": "stable fail"}
#: What colours a failing answer: no answer at all first, then the worst finding.
WORST_FIRST = ("error", *SEVERITIES)


@dataclass(frozen=True)
class Mark:
    """One finding's span located in an answer: `ref` names the finding element it belongs to."""

    start: int
    end: int
    ref: str
    severity: Severity
    label: str


@dataclass(frozen=True)
class Piece:
    """A run of the answer's text and the marks covering all of it (none: plain text)."""

    text: str
    covering: tuple[Mark, ...]

    @property
    def worst(self) -> Severity:
        return min((m.severity for m in self.covering), key=SEVERITIES.index)


def locate(text: str, span: Span) -> tuple[int, int] | None:
    """Where a span lies in the answer: its offsets when they hold its text, else its first
    occurrence (offsets from another normalisation of the text), else nowhere."""
    if not span.text:
        return None
    if span.end <= len(text) and text[span.start : span.end] == span.text:
        return span.start, span.end
    found = text.find(span.text)
    return (found, found + len(span.text)) if found >= 0 else None


def pieces(text: str, marks: Sequence[Mark]) -> list[Piece]:
    """The text cut at every span boundary, each piece with the marks that cover it.

    Marks never nest this way, so overlapping or adjacent spans cannot break the markup.
    """
    valid = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    bounds = sorted({0, len(text), *(m.start for m in valid), *(m.end for m in valid)})
    return [
        Piece(text[start:end], tuple(m for m in valid if m.start <= start and end <= m.end))
        for start, end in itertools.pairwise(bounds)
    ]


def highlight(text: str, marks: Sequence[Mark]) -> str:
    """The answer as escaped HTML with `<mark>` around every span: each piece covered by spans
    becomes one `<mark>` listing the findings covering it (`data-findings`), styled by the worst."""
    out = []
    for piece in pieces(text, marks):
        body = html.escape(piece.text, quote=True)
        if not piece.covering:
            out.append(body)
            continue
        refs = html.escape(" ".join(m.ref for m in piece.covering), quote=True)
        label = html.escape("; ".join(m.label for m in piece.covering), quote=True)
        out.append(
            f'<mark class="m-{piece.worst}" data-findings="{refs}" title="{label}">{body}</mark>'
        )
    return "".join(out)


def severity_order(result: CaseResult) -> int:
    """Provider errors first, then by the worst finding."""
    if result.response.error is not None:
        return -1
    return min((SEVERITIES.index(f.severity) for f in result.findings), default=len(SEVERITIES))


def ordered_failing(card: Scorecard) -> list[CaseResult]:
    """The failing answers, worst first, then by target, case and sample."""
    return sorted(card.failing, key=lambda r: (severity_order(r), r.target, r.case_id, r.sample))


class Strings:
    """A table of the texts that repeat across answers (policy clauses, messages, codes):
    each is stored once and referred to by index, which keeps the JSON the browser parses
    small. Index 0 is the empty string."""

    def __init__(self) -> None:
        self.table: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def __call__(self, text: str | None) -> int:
        if text is None:
            return 0
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.table)
            self.table.append(text)
        return found


def _finding(finding: Finding, where: tuple[int, int] | None, strings: Strings) -> list[Any]:
    """`[severity, code#, message#, said, where, checked against#, source#, note#]`, where `#`
    marks an index into the string table; `said` is null when the finding has no span."""
    evidence = finding.evidence
    said = evidence.span.text if evidence.span is not None else None
    place = ""
    if evidence.span is not None:
        place = f"characters {evidence.span.start}-{evidence.span.end}"
        if where is None:
            place += "; not found in the answer as stored"
    return [
        finding.severity,
        strings(finding.code),
        strings(finding.message),
        said,
        place,
        strings(evidence.checked_against),
        strings(evidence.source),
        strings(evidence.note),
    ]


def _answer(
    result: CaseResult, case: Case | None, decision: Decision | None, strings: Strings
) -> dict[str, Any]:
    response = result.response
    severities: set[str] = {f.severity for f in result.findings}
    if response.error is not None:
        severities.add("error")
    marks = []
    findings = []
    for j, finding in enumerate(result.findings):
        span = finding.evidence.span
        where = locate(response.text, span) if span is not None else None
        findings.append(_finding(finding, where, strings))
        if where is not None:
            label = f"{finding.severity} {finding.code}: {finding.message}"
            marks.append(Mark(where[0], where[1], str(j), finding.severity, label))
    cut: list[Any] = [
        p.text if not p.covering else [p.text, p.worst, [int(m.ref) for m in p.covering]]
        for p in pieces(response.text, marks)
        if p.text
    ]
    facts = [
        f"latency {ms(response.latency_ms)} ms" if response.latency_ms is not None else "",
        f"model {response.model}" if response.model else "",
        "replayed from a cassette" if response.cached else "",
    ]
    return {
        "case": result.case_id,
        "target": result.target,
        "sample": result.sample,
        "intent": case.intent if case else "?",
        "language": case.language if case else "?",
        "decision": decision.outcome if decision else None,
        "severities": sorted(severities, key=WORST_FIRST.index),
        "worst": min(severities, key=WORST_FIRST.index, default="minor"),
        "error": response.error,
        "attempts": response.attempts,
        "pieces": cut,
        "details": "; ".join(x for x in facts if x),
        "findings": findings,
    }


def _case(case: Case) -> dict[str, Any]:
    return {
        "intent": case.intent,
        "language": case.language,
        "kind": case.kind,
        "risk": case.risk,
        "channel": case.channel,
        "messages": [
            ["customer" if m.role == "user" else "agent", m.content] for m in case.messages
        ],
        "facts": [
            [k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)]
            for k, v in case.facts.items()
        ],
    }


def stability_groups(card: Scorecard) -> list[tuple[str, str, list[CaseOutcome]]]:
    """Each decided (target, intent) with its cases, stable failures first: the order of the
    report's per-intent sections, which refer to these groups by index."""
    order = {"stable_fail": 0, "flaky": 1, "stable_pass": 2}
    by_key: dict[tuple[str, str], list[CaseOutcome]] = {}
    for o in card.cases:
        by_key.setdefault((o.target, o.intent), []).append(o)
    return [
        (
            d.target,
            d.intent,
            sorted(
                by_key.get((d.target, d.intent), []), key=lambda o: (order[o.stability], o.case_id)
            ),
        )
        for d in card.decisions
    ]


def payload(card: Scorecard, plan: RunPlan, first: int | None = None) -> dict[str, Any]:
    """Everything the drill-down shows, as JSON-ready data; with `first`, only the first that
    many failing answers and no stability tables (the page shows them while the rest loads)."""
    cases = {c.id: c for c in plan.cases}
    decisions = {(d.target, d.intent): d for d in card.decisions}
    answers = []
    strings = Strings()
    failing = ordered_failing(card)
    failed_cases = {(r.target, r.case_id) for r in failing}
    for result in failing[:first]:
        case = cases.get(result.case_id)
        decision = decisions.get((result.target, case.intent)) if case else None
        answers.append(_answer(result, case, decision, strings))
    used = {a["case"] for a in answers}
    groups = [] if first is not None else stability_groups(card)
    return {
        "version": PAYLOAD_VERSION,
        "outcomes": OUTCOME_LABELS,
        "cases": {cid: _case(cases[cid]) for cid in sorted(used) if cid in cases},
        "answers": answers,
        "strings": strings.table,
        "stability": [
            {
                "target": target,
                "intent": intent,
                "rows": [
                    [
                        o.case_id,
                        o.language,
                        o.passed,
                        o.samples,
                        o.errors,
                        STABILITY_LABELS[o.stability],
                        (o.target, o.case_id) in failed_cases,
                    ]
                    for o in outcomes
                ],
            }
            for target, intent, outcomes in groups
        ],
    }


def encode(data: dict[str, Any]) -> str:
    """JSON, gzip (no timestamp, so the same run gives the same bytes), base64: only
    `A-Za-z0-9+/=`, which cannot end the `<script>` data block that carries it."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def decode(block: str) -> Any:
    """The inverse of `encode` (for tests and tools that read a report back)."""
    return json.loads(gzip.decompress(base64.b64decode(block)).decode("utf-8"))
