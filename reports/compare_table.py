"""The comparison of two runs for the terminal: one row per target and intent, then verdicts.

It renders `evals.compare.Comparison` only; the JSON (`evals compare --json`) is that record as
is, so the table and the machine-readable output cannot disagree. No model output is shown.
"""

from __future__ import annotations

from tabulate import tabulate

from evals.compare import Comparison, Pairing
from evals.decision_policy import Outcome
from reports.tables import OUTCOME_LABELS

HEADERS = [
    "target",
    "intent",
    "paired",
    "regressed",
    "improved",
    "before",
    "after",
    "p",
    "significant",
    "decision before -> after",
    "unpaired b/c",
]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


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


def render_comparison(comparison: Comparison) -> str:
    """Header, table and verdicts, ending with the outcome the exit code reflects."""
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
    for verdict in comparison.verdicts:
        lines.append(f"{'REGRESSION' if verdict.fails else 'note'}: {verdict.text}")
    failures = len(comparison.failures)
    lines.append("")
    lines.append(
        f"{failures} regression(s) flagged" if comparison.failed else "no regression flagged"
    )
    return "\n".join(lines)
