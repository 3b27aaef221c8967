"""The scorecard's tables as rows, shared by the terminal, markdown and the pytest plugin."""

from __future__ import annotations

from tabulate import tabulate

from evals.scorecard import Scorecard
from evals.scores import Score

OUTCOME_LABELS = {
    "automate": "AUTOMATE",
    "assist": "assist",
    "human": "human",
    "insufficient_evidence": "insufficient evidence",
}


def rate(score: Score) -> str:
    ci = score.pass_rate_ci
    return f"{score.pass_rate:.0%} [{ci.low:.0%}-{ci.high:.0%}]"


def pass_k(score: Score) -> str:
    return f"{score.cases_all_passed}/{score.cases} ({score.pass_k:.0%})"


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def decision_rows(card: Scorecard, *, reasons: bool = True) -> tuple[list[str], list[list[str]]]:
    headers = ["target", "intent", "risk", "answers", "pass [95% CI]", "pass^k", "flaky"]
    headers += ["critical", "decision"] + (["why"] if reasons else [])
    rows = []
    for d in card.decisions:
        score = card.score(d.target, "intent", d.intent)
        if score is None:
            continue
        row = [
            d.target,
            d.intent,
            d.risk,
            str(score.answers),
            rate(score),
            pass_k(score),
            str(score.flaky),
            str(score.critical_answers),
            OUTCOME_LABELS[d.outcome],
        ]
        if reasons:
            row.append(d.reasons[0])
        rows.append(row)
    return headers, rows


def total_rows(card: Scorecard, group: str = "target") -> tuple[list[str], list[list[str]]]:
    """Per target overall (group 'target') or per target and language (group 'language')."""
    headers = ["target", "language" if group == "language" else "scope", "cases", "answers"]
    headers += ["passed", "failed", "errors", "pass [95% CI]", "pass^k"]
    headers += ["stable pass", "flaky", "stable fail", "p50 ms", "p95 ms", "tokens", "cost/conv"]
    rows = []
    for s in card.scores:
        if s.group != group:
            continue
        rows.append(
            [
                s.target,
                "all" if s.key == "*" else s.key,
                str(s.cases),
                str(s.answers),
                str(s.passed),
                str(s.failed),
                str(s.errors),
                rate(s),
                pass_k(s),
                str(s.stable_pass),
                str(s.flaky),
                str(s.stable_fail),
                ms(s.latency_p50_ms),
                ms(s.latency_p95_ms),
                "-" if s.tokens_per_answer is None else f"{s.tokens_per_answer:,.0f}",
                money(s.cost_per_answer_usd),
            ]
        )
    return headers, rows


def totals_table(card: Scorecard) -> str:
    """Totals per target, for the terminal."""
    headers, rows = total_rows(card)
    return tabulate(rows, headers=headers, tablefmt="simple")


def decision_table(card: Scorecard) -> str:
    """The decision per target and intent, for the terminal (`evals run` ends with it)."""
    headers, rows = decision_rows(card, reasons=False)
    table = tabulate(rows, headers=headers, tablefmt="simple")
    return f"decisions (policy {card.decision_policy.ident}):\n{table}"
