"""Tiers and rates: a tier value the case's own duration does not reach ("25% for 24 hours or
more" for a 7-hour outage), and a rate the policy states differently for the same subject ("4
messages a week" against "no more than twice a week"), are `policy.contradicted`."""

from __future__ import annotations

from guardrails.grounding import CaseGround, PolicyIndex, policy_finding
from guardrails.policy_tables import HOURS_PER_UNIT, book_tables, rates
from guardrails.records import Case, Finding, Span
from guardrails.text import Quantity, per_object


def tier_finding(
    q: Quantity,
    duration: float | None,
    topic: set[str],
    index: PolicyIndex,
    stated_hours: frozenset[float] | set[float] = frozenset(),
) -> Finding | None:
    """A tier value the case does not reach ("20% for 12 hours or more" for a 7-hour outage):
    the case's own duration (its only duration fact) selects the tier the policy grants. A
    sentence that names the tier's own threshold restates the rule ("if it reaches 72 hours,
    the credit becomes 50%")."""
    if duration is None or q.unit != "percent":
        return None
    for clause, stated in book_tables(index).tiers:
        if len(stated) < 2 and not any(t.value == q.value for t in stated):
            continue
        if not any(t.value == q.value for t in stated):
            continue
        if topic and not index.related(clause, topic):
            continue
        reached = [t for t in stated if t.threshold <= duration]
        earned = max(reached, key=lambda t: t.threshold) if reached else None
        if earned is not None and earned.value == q.value:
            return None
        if any(t.value == q.value and t.threshold in stated_hours for t in stated):
            return None
        return policy_finding(
            "policy.contradicted",
            f"The answer states {q.text}, but the policy grants "
            + (f"{earned.value:g}%" if earned else "nothing")
            + " for this case's duration.",
            Span(start=q.start, end=q.end, text=q.text),
            index,
            "the policy's tier for this case's duration is another value",
            clause,
        )
    return None


def case_duration(facts: tuple[tuple[str, Quantity], ...]) -> float | None:
    """The case's duration in hours, when its facts state exactly one."""
    values = {f.value * HOURS_PER_UNIT[f.unit] for _, f in facts if f.unit in HOURS_PER_UNIT}
    return values.pop() if len(values) == 1 else None


def rate_findings(
    text: str,
    offset: int,
    topic: set[str],
    index: PolicyIndex,
    said: frozenset[tuple[float, str]] | set[tuple[float, str]],
) -> list[Finding]:
    """A rate the policy states differently for the same subject: `policy.contradicted`. A rate
    the policy never states per that period is left alone (nothing to compare it with)."""
    out = []
    for rate in rates(text):
        if (rate.count, rate.period) in said:
            continue  # the customer's own count ("they call me 4 times a day")
        related = [
            (c, r)
            for c, stated in book_tables(index).rates
            if index.related(c, topic)
            for r in stated
            if r.period == rate.period
        ]
        if not related or any(r.count == rate.count for _, r in related):
            continue
        span = Span(
            start=offset + rate.start, end=offset + rate.end, text=text[rate.start : rate.end]
        )
        out.append(
            policy_finding(
                "policy.contradicted",
                f"The answer states '{span.text}', but the policy states another rate.",
                span,
                index,
                f"the policy clause on the same subject states another number per {rate.period}",
                related[0][0],
            )
        )
    return out


@per_object()
def rates_said(case: Case, ground: CaseGround) -> frozenset[tuple[float, str]]:
    """The rates the customer or the case facts state ("they call me 4 times a day"), once per
    case."""
    return frozenset(
        (r.count, r.period)
        for part in [*(m.content for m in case.messages), *map(str, case.facts.values())]
        for r in rates(part)
    )
