"""The markdown report: scorecard, decisions with reasons, and the worst findings with evidence.

Model and customer text is untrusted: it is quoted with HTML-escaping and table-cell escaping so
that it renders as text in any markdown viewer and cannot break the tables around it.
"""

from __future__ import annotations

import html
from pathlib import Path

from tabulate import tabulate

from evals.records import SEVERITIES, CaseResult, Finding, RunPlan
from evals.scorecard import Scorecard
from reports import explain
from reports.judge_section import judge_markdown
from reports.tables import OUTCOME_LABELS, decision_rows, total_rows

#: Failing answers listed with their evidence (the worst first).
WORST = 25


def untrusted(text: str, limit: int = 300) -> str:
    """Untrusted text as inline markdown: escaped, one line, bounded."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    escaped = html.escape(flat, quote=False)
    for char in "\\`*_[]|#":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [[c.replace("|", "\\|") for c in row] for row in rows]
    return tabulate(cells, headers=headers, tablefmt="github")


def _severity_rank(result: CaseResult) -> tuple[int, ...]:
    worst = min((SEVERITIES.index(f.severity) for f in result.findings), default=len(SEVERITIES))
    return (result.response.error is None, worst, -len(result.findings))


def _finding_line(finding: Finding) -> str:
    line = f"- **{finding.severity}** `{finding.code}`: {untrusted(finding.message)}"
    evidence = finding.evidence
    if evidence.span is not None:
        line += (
            f"\n  - said: “{untrusted(evidence.span.text)}” "
            f"(characters {evidence.span.start}-{evidence.span.end})"
        )
    if evidence.checked_against:
        source = f" ({untrusted(evidence.source)})" if evidence.source else ""
        line += f"\n  - checked against{source}: “{untrusted(evidence.checked_against)}”"
    if evidence.note:
        line += f"\n  - {untrusted(evidence.note)}"
    return line


#: How a gate check's status reads in the report.
STATUS_LABELS = {"passed": "passed", "failed": "**FAILED**", "off": "off"}


def _gates(card: Scorecard) -> list[str]:
    """The headline (what passed and what did not), then every check with its reason."""
    gates = card.gates
    out = [f"**{untrusted(gates.headline, 500)}**", ""]
    if gates.undecided:
        out += [
            "Decisions not reached: " + ", ".join(untrusted(u) for u in gates.undecided),
            "",
        ]
    rows = [
        [
            c.gate,
            c.target or "(run)",
            untrusted(c.setting),
            STATUS_LABELS[c.status],
            untrusted(c.reason, 500),
        ]
        for c in gates.checks
    ]
    out.append(_table(["gate", "target", "setting", "status", "reason"], rows))
    return out


def _explained(card: Scorecard) -> list[str]:
    """What the interval and pass^k mean, in plain words with each target's numbers."""
    lines = []
    for target in card.targets:
        score = card.score(target.name, "target", "*")
        if score is not None:
            lines.append(f"- `{target.name}`: {explain.wilson(score)} {explain.pass_k(score)}")
    return [*lines, ""] if lines else []


def render_markdown(card: Scorecard, plan: RunPlan) -> str:
    cases = {c.id: c for c in plan.cases}
    out = [
        f"# Scorecard: suite `{card.suite}`, run `{card.run_id}`",
        "",
        f"- status: {card.status}; started {card.started:%Y-%m-%d %H:%M:%S %Z}",
        f"- samples per case: {card.samples}; decision policy `{card.decision_policy.ident}`",
        f"- versions: package {card.versions.package}, guardrails {card.versions.guardrails}, "
        f"cases {card.versions.cases}; config hash {card.config_hash}",
        "- targets: " + ", ".join(f"`{t.name}` ({untrusted(t.model)})" for t in card.targets),
        "",
        "## Gates",
        "",
    ]
    out += _gates(card)
    out += ["", "## Decisions", ""]
    headers, rows = decision_rows(card, reasons=False)
    out += [_table(headers, rows), ""]
    for d in card.decisions:
        out.append(f"### `{d.target}` / `{d.intent}`: {OUTCOME_LABELS[d.outcome]}")
        out.append("")
        # The reasons end with how many more passing cases would reach each higher level.
        out += [f"- {untrusted(r, 500)}" for r in d.reasons]
        out.append("")
    out += ["## Totals per target", ""]
    out += [_table(*total_rows(card, "target")), ""]
    out += _explained(card)
    out += ["## Per language", ""]
    out += [_table(*total_rows(card, "language")), ""]
    out += ["## Findings by code", ""]
    finding_rows = [
        [s.target, c.code, c.severity, str(c.answers), str(c.findings)]
        for s in card.scores
        if s.group == "target"
        for c in s.findings
    ]
    out += [
        _table(["target", "code", "severity", "answers", "findings"], finding_rows)
        if finding_rows
        else "No findings.",
        "",
    ]
    flaky = [o for o in card.cases if o.stability == "flaky"]
    out += ["## Flaky cases", ""]
    out += [
        _table(
            ["target", "case", "intent", "passed"],
            [[o.target, o.case_id, o.intent, f"{o.passed}/{o.samples}"] for o in flaky],
        )
        if flaky
        else "No case gave different verdicts across its samples.",
        "",
    ]
    out += judge_markdown(card)
    worst = sorted(card.failing, key=_severity_rank)[:WORST]
    out += [
        f"## Failing answers (worst {len(worst)} of {len(card.failing) + card.failing_not_listed})",
        "",
    ]
    for result in worst:
        case = cases.get(result.case_id)
        where = f"{case.intent}, {case.language}" if case else "unknown case"
        out.append(f"### `{result.case_id}` [{result.target} #{result.sample}] ({where})")
        out.append("")
        if case is not None:
            out.append(f"> customer: {untrusted(case.messages[-1].content)}")
            out.append("")
        if result.response.error:
            out.append(f"- **error**: {untrusted(result.response.error, 500)}")
        else:
            out.append(f"> answer: {untrusted(result.response.text, 600)}")
            out.append("")
        out += [_finding_line(f) for f in result.findings]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_markdown(card: Scorecard, plan: RunPlan, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.md"
    path.write_text(render_markdown(card, plan), encoding="utf-8")
    return path
