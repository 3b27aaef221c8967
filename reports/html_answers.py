"""The HTML report's drill-down data: every answer (failing ones first, identical samples of a
case grouped), every case's stability and the matrix of cases across targets, as one
gzip-compressed, base64-encoded JSON block that the page's script renders a page at a time.

Why every answer and not only the failing ones: the guardrails miss meaning-level fabrications,
so a compliance reviewer must be able to spot-check what passed. Passing answers are shown
collapsed, after the failing ones.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from evals.decisions import Decision
from evals.records import SEVERITIES, Case, CaseResult, Finding, RunPlan, Severity, Span
from evals.scorecard import Scorecard
from evals.scores import CaseOutcome
from evals.verdict import result_passed
from reports.judge_section import shown_message
from reports.tables import OUTCOME_LABELS, ms

#: Version of the embedded JSON, read by `data/report.js`.
#: 2: every answer (`passed`), identical samples grouped (`samples`), `matrix`.
PAYLOAD_VERSION = 2
STABILITY_LABELS = {"stable_pass": "stable pass", "flaky": "flaky", "stable_fail": "stable fail"}
#: An answer's fields at their usual value, left out of the data (`complete` in report.js).
USUAL: dict[str, Any] = {
    "error": None,
    "attempts": 1,
    "details": "",
    "findings": [],
    "severities": [],
    "decision": None,
    "worst": "minor",
}
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
    if not valid:  # most answers (every passing one): the text in one piece
        return [Piece(text, ())] if text else []
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


def _sameness(result: CaseResult) -> tuple[Any, ...]:
    """What makes two samples of one (target, case) the same answer for a reader: the text, the
    error, the verdict and the findings (code, severity and where)."""
    response = result.response
    return (
        result.target,
        result.case_id,
        result_passed(result),
        response.text,
        response.error,
        tuple(
            (f.code, f.severity, f.message, f.evidence.span.text if f.evidence.span else None)
            for f in result.findings
        ),
    )


def answer_groups(results: Iterable[CaseResult]) -> list[list[CaseResult]]:
    """Every answer, failing ones first (worst first), then passing ones, each by target, case
    and sample; the samples of one (target, case) that are the same answer form one group."""

    def order(r: CaseResult) -> tuple[int, int, str, str, int]:
        passed = result_passed(r)
        return (passed, 0 if passed else severity_order(r), r.target, r.case_id, r.sample)

    groups: dict[tuple[Any, ...], list[CaseResult]] = {}
    for result in sorted(results, key=order):
        groups.setdefault(_sameness(result), []).append(result)
    return list(groups.values())


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
        strings(shown_message(finding)),
        said,
        place,
        strings(evidence.checked_against),
        strings(evidence.source),
        strings(evidence.note),
    ]


def _answer(
    group: list[CaseResult], case: Case | None, decision: Decision | None, strings: Strings
) -> dict[str, Any]:
    result = group[0]
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
            label = f"{finding.severity} {finding.code}: {shown_message(finding)}"
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
    entry = {
        "case": result.case_id,
        "target": result.target,
        "samples": [r.sample for r in group],
        "passed": result_passed(result),
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
    # fields at their usual value are left out (data/report.js puts them back): most answers
    # pass with no finding, and the browser's parse time grows with the JSON's size
    return {k: v for k, v in entry.items() if k not in USUAL or v != USUAL[k]}


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


def matrix(card: Scorecard) -> dict[str, Any]:
    """Each case across the targets: `[case, intent, language, cells]`, a cell per target being
    `[passed, samples, errors]` or null (not run), cases with a failing sample first."""
    targets = [t.name for t in card.targets]
    column = {name: i for i, name in enumerate(targets)}
    rows: dict[str, list[Any]] = {}
    for o in card.cases:
        row = rows.setdefault(o.case_id, [o.case_id, o.intent, o.language, [None] * len(targets)])
        if o.target in column:
            row[3][column[o.target]] = [o.passed, o.samples, o.errors]

    def failing(row: list[Any]) -> bool:
        return any(cell is not None and cell[0] < cell[1] for cell in row[3])

    return {"targets": targets, "rows": sorted(rows.values(), key=lambda r: (not failing(r), r[0]))}


def payload(
    card: Scorecard,
    plan: RunPlan,
    results: Iterable[CaseResult] | None = None,
    first: int | None = None,
    groups: list[list[CaseResult]] | None = None,
) -> dict[str, Any]:
    """Everything the drill-down shows, as JSON-ready data: every one of `results` (default:
    the failing answers only), grouped (or `groups`, already grouped by `answer_groups`); with
    `first`, only the first that many groups and no stability tables or matrix (the page shows
    them while the rest loads)."""
    cases = {c.id: c for c in plan.cases}
    decisions = {(d.target, d.intent): d for d in card.decisions}
    answers = []
    strings = Strings()
    if groups is None:
        groups = answer_groups(card.failing if results is None else results)
    shown = {(g[0].target, g[0].case_id) for g in groups}
    for group in groups[:first]:
        case = cases.get(group[0].case_id)
        decision = decisions.get((group[0].target, case.intent)) if case else None
        answers.append(_answer(group, case, decision, strings))
    used = {a["case"] for a in answers}
    stability = [] if first is not None else stability_groups(card)
    return {
        "version": PAYLOAD_VERSION,
        "outcomes": OUTCOME_LABELS,
        "cases": {cid: _case(cases[cid]) for cid in sorted(used) if cid in cases},
        "answers": answers,
        "strings": strings.table,
        "matrix": matrix(card) if first is None else {"targets": [], "rows": []},
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
                        (o.target, o.case_id) in shown,
                    ]
                    for o in outcomes
                ],
            }
            for target, intent, outcomes in stability
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
