"""The comparison of two runs for the terminal: one row per target and intent, the answers that
changed (a word diff of each), the answers without a pair, then verdicts.

It renders `evals.compare.Comparison` only; the JSON (`evals compare --json`) is that record as
is, so the table and the machine-readable output cannot disagree. Model text is shown through
`reports.word_diff`, which neutralises control characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from tabulate import tabulate

from evals.compare import Comparison, Pairing
from evals.compare_pairs import AnswerPair, AnswerSide, FindingNote, UnpairedAnswer
from evals.decision_policy import Outcome
from reports.tables import OUTCOME_LABELS
from reports.word_diff import printable, terminal_diff

#: Changed pairs and unpaired answers shown in full by default; the rest are counted, and all
#: of them are in the JSON and the HTML comparison.
SHOWN = 50

T = TypeVar("T")

HEADERS = [
    "target",
    "intent",
    "paired",
    "regressed",
    "improved",
    "before",
    "after",
    "change",
    "p",
    "significant",
    "decision before -> after",
    "unpaired b/c",
]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _delta(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "-"
    points = round((after - before) * 100)
    return f"{points:+d} pts" if points else "0"


def _p(value: float) -> str:
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def _decision(before: Outcome | None, after: Outcome | None, worse: bool) -> str:
    if before is None and after is None:
        return "-"
    b = OUTCOME_LABELS[before] if before else "-"
    a = OUTCOME_LABELS[after] if after else "-"
    if before == after:
        return b
    return f"{b} -> {a}" + (" (WORSE)" if worse else "")


def _cells(p: Pairing) -> list[str]:
    return [
        str(p.paired),
        str(p.regressed),
        str(p.improved),
        _rate(p.pass_rate_before),
        _rate(p.pass_rate_after),
        _delta(p.pass_rate_before, p.pass_rate_after),
        _p(p.p_value),
        "YES" if p.significant else "no",
    ]


def comparison_rows(comparison: Comparison) -> list[list[str]]:
    """Per target: one row per intent, then an 'all' row (its test is not Holm-corrected)."""
    rows = []
    for target in comparison.targets:
        for change in target.intents:
            rows.append(
                [
                    target.label,
                    change.intent,
                    *_cells(change),
                    _decision(change.decision_before, change.decision_after, change.decision_worse),
                    f"{change.baseline_only}/{change.candidate_only}",
                ]
            )
        total = target.overall
        rows.append(
            [
                target.label,
                "all",
                *_cells(total),
                "",
                f"{total.baseline_only}/{total.candidate_only}",
            ]
        )
    return rows


def comparison_table(comparison: Comparison) -> str:
    return tabulate(comparison_rows(comparison), headers=HEADERS, tablefmt="simple")


def _finding(note: FindingNote) -> str:
    quote = f' "{printable(note.quote)}"' if note.quote else ""
    return f"{note.code} ({note.severity}){quote}: {printable(note.message)}"


def _verdict(side: AnswerSide) -> str:
    if side.error is not None:
        return "error"
    return "passed" if side.passed else "failed"


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines() or [""])


def _target(pair: AnswerPair) -> str:
    if pair.baseline_target == pair.candidate_target:
        return pair.candidate_target
    return f"{pair.baseline_target} -> {pair.candidate_target}"


def render_pair(pair: AnswerPair, *, colour: bool = False) -> list[str]:
    """A changed pair: which answer, its verdicts, findings that came and went, the diff."""
    label = pair.change.replace("_", " ").upper()
    lines = [
        f"{label}: {_target(pair)} / {pair.intent} / case {pair.case_id} sample {pair.sample}: "
        f"{_verdict(pair.before)} -> {_verdict(pair.after)}"
    ]
    lines += [f"  + appeared:    {_finding(f)}" for f in pair.appeared]
    lines += [f"  - disappeared: {_finding(f)}" for f in pair.disappeared]
    for name, side in (("before", pair.before), ("after", pair.after)):
        if side.error is not None:
            lines.append(f"  error {name}: {printable(side.error)}")
    lines.append("  answer ([-before-]{+after+}):")
    lines.append(_indent(terminal_diff(pair.before.text, pair.after.text, colour=colour)))
    return lines


def _unpaired(answer: UnpairedAnswer) -> str:
    verdict = "error" if answer.error is not None else "passed" if answer.passed else "failed"
    return (
        f"  only in the {answer.side}: {answer.target} / {answer.intent} / case "
        f"{answer.case_id} sample {answer.sample} ({verdict})"
    )


def _listed(
    title: str, items: Sequence[T], render: Callable[[T], list[str]], shown: int
) -> list[str]:
    if not items:
        return []
    lines = [f"{title} ({len(items)}):"]
    for item in items[:shown]:
        lines += render(item)
    if len(items) > shown:
        lines.append(
            f"  ... and {len(items) - shown} more: every one is in --json and the HTML comparison"
        )
    lines.append("")
    return lines


def unflagged(comparison: Comparison) -> list[str]:
    """What a passing comparison still holds, so 'no regression flagged' never reads as 'no
    answer got worse'."""
    regressed = sum(1 for p in comparison.pairs if p.change == "regressed")
    new = sum(1 for v in comparison.verdicts if v.kind == "new_severity" and not v.fails)
    said = []
    if regressed:
        said.append(f"{regressed} answer(s) regressed, listed below the table")
    if new:
        said.append(
            f"{new} answer(s) with a new critical finding (--fail-on-new critical fails on them)"
        )
    return said


def render_comparison(comparison: Comparison, *, colour: bool = False, shown: int = SHOWN) -> str:
    """Header, table, changed and unpaired answers, verdicts, ending with the outcome the exit
    code reflects. `shown` bounds how many changed pairs and unpaired answers are printed in
    full (0: all); `colour` adds ANSI colours to the word diffs."""
    limit = shown if shown > 0 else len(comparison.pairs) + len(comparison.unpaired)
    before, after = comparison.baseline, comparison.candidate
    lines = [
        f"baseline  {before.id} (suite '{before.suite}', {before.status}, "
        f"policy {before.decision_policy.ident})",
        f"candidate {after.id} (suite '{after.suite}', {after.status}, "
        f"policy {after.decision_policy.ident})",
        f"one-sided exact McNemar test per intent, Holm-corrected at alpha {comparison.alpha:g}; "
        "'before'/'after' are pass rates over paired answers",
        "",
        comparison_table(comparison),
        "",
    ]
    lines += _listed(
        "answers that changed (regressed, findings changed, improved)",
        comparison.pairs,
        lambda pair: render_pair(pair, colour=colour),
        limit,
    )
    lines += _listed(
        "answers without a pair (not compared)",
        comparison.unpaired,
        lambda answer: [_unpaired(answer)],
        limit,
    )
    for verdict in comparison.verdicts:
        lines.append(f"{'REGRESSION' if verdict.fails else 'note'}: {verdict.text}")
    failures = len(comparison.failures)
    lines.append("")
    if comparison.failed:
        lines.append(f"{failures} regression(s) flagged")
    else:
        said = unflagged(comparison)
        lines.append("no regression flagged" + (f" ({'; '.join(said)})" if said else ""))
    return "\n".join(lines)
