"""Faster than stated: money promised back sooner than any time the policy gives for it.

"It will be back on your card within 24 hours" or "vou estornar hoje mesmo" where the policy's
quickest refund step takes 2 business days promises what nobody can deliver, and every policy
book rules out "faster refunds than stated". A duration, "immediately"-like word or "tomorrow"
close to a mention of money coming back (a refund, a reversal) is compared with the shortest
duration the policy states in any clause about refunds: shorter is `policy.contradicted`, with
that clause. Minimums ("at least 2 days"), negated statements, durations of this conversation
("refunded 3 days ago") and the case's own figures are left alone. These findings belong to
the `policy` family.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from guardrails.grounding import (
    CaseGround,
    Clause,
    Mention,
    PolicyIndex,
    bound_of,
    near,
    negated_before,
    policy_finding,
)
from guardrails.records import Finding, Span
from guardrails.text import fold, per_policy, quantities

#: Hours per unit of a duration (a business day counts as a day: never shorter than one).
HOURS = {
    "immediate": 0.0,
    "minute": 1 / 60,
    "hour": 1.0,
    "day": 24.0,
    "business_day": 24.0,
    "week": 168.0,
    "month": 720.0,
    "year": 8760.0,
}
#: How close (characters) the time must be to the money coming back to be its time.
RADIUS = 90
_TOMORROW = re.compile(r"(?<!\w)(?:tomorrow|manana|amanha)(?!\w)")
# Also no promise of speed: a value after which something happens ("after 2 days").
_AFTER = re.compile(r"(?<!\w)(?:minimum|after|despues de|depois de|tras)\s+$")
# The assistant's own step, not the money: "hoy mismo abro la reclamación del reembolso".
_OWN_STEP = re.compile(
    r"(?<!\w)(?:abro|abrimos|abrir|open|opening|file|filing|registro|registramos|registrar|"
    r"escalo|escalamos|escalate|transfiero|transfiro|te paso|le paso|submit|envio|encaminho|"
    r"presento|solicito|tramito|gestiono|request|pido|peco)(?!\w)"
)
# Durations of this conversation: "refunded 3 days ago", "hace 2 días".
_AGO = re.compile(r"(?<!\w)(?:ago|hace|ha|faz|since|desde)(?!\w)")


@dataclass(frozen=True)
class Quickest:
    hours: float
    text: str
    clause: Clause


@per_policy()
def quickest_refund(index: PolicyIndex) -> Quickest | None:
    """The shortest duration the policy states about refunds."""
    best: Quickest | None = None
    for clause in index.clauses:
        subjects = clause.subjects or tuple(frozenset[str]() for _ in clause.quantities)
        for q, subject in zip(clause.quantities, subjects, strict=True):
            # about refunds: the clause names them, or its section does ("## Refunds")
            if q.unit not in HOURS or "refund" not in clause.concepts | subject:
                continue
            hours = q.value * HOURS[q.unit]
            if best is None or hours < best.hours:
                best = Quickest(hours, q.text, clause)
    return best


def faster_findings(
    text: str,
    offset: int,
    found: Sequence[Mention],
    language: str | None,
    index: PolicyIndex,
    ground: CaseGround,
) -> list[Finding]:
    """A refund promised faster than the policy's quickest in one sentence `text`."""
    if not any(m.concept == "refund" and not m.negated for m in found):
        return []
    quickest = quickest_refund(index)
    if quickest is None:
        return []
    folded = fold(text)
    times = [
        (q.start, q.end, q.value * HOURS[q.unit])
        for q in quantities(text)
        if q.unit in HOURS and not ground.grounds(q)
    ]
    times += [(m.start(), m.end(), 24.0) for m in _TOMORROW.finditer(folded)]
    for start, end, hours in sorted(times):
        if hours >= quickest.hours:
            continue
        if "refund" not in near([m for m in found if not m.negated], start, end, RADIUS):
            continue
        before = folded[max(0, start - 30) : start]
        if (
            bound_of(text, start) == "min"
            or _AFTER.search(before)
            or _OWN_STEP.search(folded[max(0, start - 40) : end + 40])
            or _AGO.search(folded[max(0, start - 12) : end + 8])
            or negated_before(folded, start, language, 6)
        ):
            continue
        span = Span(start=offset + start, end=offset + end, text=text[start:end])
        return [
            policy_finding(
                "policy.contradicted",
                f"The answer promises money back in '{span.text}', faster than the quickest "
                f"time the policy states for refunds ({quickest.text}).",
                span,
                index,
                "the policy's quickest refund time",
                quickest.clause,
            )
        ]
    return []
