"""Calendar dates stated as rules: a date the policy gives differently for the same subject.

"Under the holiday extension you can return it until 15 January" against "Holiday extension:
items delivered 15 November to 24 December can be returned until 31 January" moves a deadline
the customer relies on. A date in the answer (any written form, see `guardrails.dates`) that
is not a date of this case (its facts or conversation) is compared with the dates of the policy
clauses about the same subject (a specific concept in common, not one the whole policy uses):
when none of them has that day, the finding is `policy.contradicted`, with the clause. A date
no clause on its subject dates (a due date computed from the case) is left alone, and so is a
negated one. These findings belong to the `policy` family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guardrails.dates import dates_in
from guardrails.grounding import Clause, Mention, PolicyIndex, negated_before, policy_finding
from guardrails.records import Case, Finding, Span
from guardrails.text import fold, per_object, per_policy


@dataclass(frozen=True)
class _Dated:
    clause: Clause
    days: frozenset[tuple[int, int]]  # (month, day)
    concepts: frozenset[str]


@per_policy()
def book_dates(index: PolicyIndex) -> tuple[_Dated, ...]:
    """The policy's clauses that state calendar dates, with their specific concepts."""
    out = []
    for clause in index.clauses:
        days = frozenset((m, d) for _, _, (_, m, d) in dates_in(clause.text))
        if days:
            out.append(_Dated(clause, days, clause.concepts - index.generic))
    return tuple(out)


@per_object()
def case_days(case: Case) -> frozenset[tuple[int, int]]:
    """The (month, day) of every date in the case's facts and conversation."""
    texts = [m.content for m in case.messages]
    for value in case.facts.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                texts.append(v)
    return frozenset((m, d) for t in texts for _, _, (_, m, d) in dates_in(t))


def date_findings(
    text: str,
    offset: int,
    found: Sequence[Mention],
    language: str | None,
    index: PolicyIndex,
    case: Case,
) -> list[Finding]:
    """A date in one sentence `text` (at `offset` in the answer) that the policy's clauses on
    its subject date differently."""
    dated = book_dates(index)
    if not dated:
        return []
    stated = dates_in(text)
    if not stated:
        return []
    topic = {m.concept for m in found if not m.negated} - index.generic
    related = [d for d in dated if d.concepts & topic]
    if not related:
        return []
    own = case_days(case)
    folded = fold(text)
    for start, end, (_, month, day) in stated:
        if (month, day) in own or any((month, day) in d.days for d in related):
            continue
        if negated_before(folded, start, language, 6):
            continue
        best = max(related, key=lambda d: len(d.concepts & topic))
        span = Span(start=offset + start, end=offset + end, text=text[start:end])
        return [
            policy_finding(
                "policy.contradicted",
                f"The answer gives the date {span.text}, but the policy dates this otherwise.",
                span,
                index,
                "the policy clause on the same subject gives other dates",
                best.clause,
            )
        ]
    return []
