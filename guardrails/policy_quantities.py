"""A policy value in an answer (a window, a fee, a percentage, a number of installments)
grounded against the policy book's clauses with the same unit: the rule on the same subject
decides, a value it states differently is `policy.contradicted`, one no clause states is
`policy.unsupported`; a minimum stated as a rule against the policy's minimums; an amount that
is one of the policy's percentages of an amount of the case."""

from __future__ import annotations

from guardrails.grounding import Clause, PolicyIndex, equivalent, policy_finding
from guardrails.policy_tables import (
    EQUAL_ENOUGH,
    MINIMUM_BEFORE,
    RELATED,
    SUBJECT_RELATED,
    book_tables,
    relation_score,
)
from guardrails.policy_wording import Words, stated_for_subject, translated_other, worded_alike
from guardrails.records import Finding, Span
from guardrails.text import Quantity


def _opposite(a: str | None, b: str | None) -> bool:
    """Whether two bounds (`bound_of`) point opposite ways. A lead time is a minimum of notice
    that either side of its threshold restates ("more than 48 hours before", "less than 48
    hours before"): only a maximum that counts no lead ("at most 5 days after") opposes it."""
    if a is None or b is None or a == b:
        return False
    if "lead" in (a, b):
        return {a, b} == {"lead", "max"}
    return True


def contradicted(q: Quantity, span: Span, index: PolicyIndex, clause: Clause) -> Finding:
    return policy_finding(
        "policy.contradicted",
        f"The answer states {q.text}, but the policy states a different value.",
        span,
        index,
        "the policy clause on the same subject states another value "
        "(units compared: days are not business days)",
        clause,
    )


def quantity_finding(
    q: Quantity,
    local: set[str],
    topic: set[str],
    index: PolicyIndex,
    about_case: bool,
    subject: frozenset[str] = frozenset(),
    bound: str | None = None,
    words: Words | None = None,
    country: str | None = None,
) -> Finding | None:
    if about_case:
        # Amounts and durations of this conversation (a balance, days overdue, how long the
        # outage lasted) are the facts guardrail's to check, not the policy's.
        return None
    # A maximum is not a minimum: "at most 5 days after" is not supported by "at least 5 days
    # before", so a policy value bounded the other way is left out.
    kept = [s for s in book_tables(index).comparable(q) if not _opposite(bound, s.bound)]
    if words is not None and worded_alike(q, kept, index, words):
        return None
    if words is not None and stated_for_subject(
        q, kept, subject - index.generic, index, words, country
    ):
        return None
    # (the converse across languages: a translated clause in the sentence's words, far more
    # than any clause with this value, stating another value)
    other = translated_other(q, kept, index, words) if words is not None else None
    if other is not None:
        return contradicted(q, Span(start=q.start, end=q.end, text=q.text), index, other)
    scores = [relation_score(s, local, topic) for s in kept]
    candidates = [(n, s.clause, s.quantity) for n, s in zip(scores, kept, strict=True)]
    # The answer's subject (the concepts of the quantity's own clause) against each policy
    # quantity's subject: the rule on the same subject decides, whatever the policy states
    # for other subjects ("grace period of 4 days" is not "4 days before the due date").
    wanted = subject - index.generic
    same_subject = [
        (len(wanted & s.subject), s.clause, s.quantity, n)
        for n, s in zip(scores, kept, strict=True)
        if s.subject is not None and wanted & s.subject
    ]
    # The clauses sharing most of the subject decide: "the fraud desk reviews blocked cards
    # within 2 business days" outweighs "a manager review ... within 6 business days" for
    # "our fraud desk reviews such cards within 6 business days".
    closest = max((n for n, _, _, _ in same_subject), default=0)
    if any(equivalent(q, p) for n, _, p, _ in same_subject if n == closest):
        return None
    best = max((s for s, _, _ in candidates), default=-1)
    equal = [(s, c) for s, c, p in candidates if equivalent(q, p)]
    span = Span(start=q.start, end=q.end, text=q.text)
    equal_best = max((s for s, _ in equal), default=-1)
    contra = [
        (score, c)
        for _, c, _, score in same_subject
        if score > max(equal_best, SUBJECT_RELATED - 1)
    ]
    if contra and q.kind != "time":
        top = max(s for s, _ in contra)
        clause = next(c for s, c in contra if s == top)
        return contradicted(q, span, index, clause)
    if equal and max(s for s, _ in equal) >= min(best, EQUAL_ENOUGH):
        # The policy says the same in a clause about the same subject (or the lexicon cannot
        # tell the subjects apart): supported.
        return None
    if best >= RELATED and q.kind != "time":
        clause = next(c for s, c, _ in candidates if s == best)
        return contradicted(q, span, index, clause)
    if equal:
        return None  # stated by the policy, if about a subject the lexicon cannot tell
    if (
        q.kind == "count"
        and not candidates
        and any(abs(n - q.value) < 1e-9 for n in book_tables(index).numbers)
    ):
        return None  # "blocked 4 times" against "after 4 blocks"
    return policy_finding(
        "policy.unsupported",
        f"The answer states {q.text} as policy, but no policy clause supports it.",
        span,
        index,
        "no clause in the policy states this value",
    )


def minimum_finding(q: Quantity, frame: str, topic: set[str], index: PolicyIndex) -> Finding | None:
    """A minimum stated as a rule ("at least 2 days' notice") against the policy's minimums
    on the same subject: a different value contradicts them."""
    if MINIMUM_BEFORE.search(frame) is None:
        return None
    minimums = [
        (s.clause, s.quantity)
        for s in book_tables(index).comparable(q)
        if s.minimum and s.concepts & topic
    ]
    if not minimums or any(equivalent(q, p) for _, p in minimums):
        return None
    return policy_finding(
        "policy.contradicted",
        f"The answer states a minimum of {q.text}, but the policy states another minimum.",
        Span(start=q.start, end=q.end, text=q.text),
        index,
        "the policy clause on the same subject states another minimum",
        minimums[0][0],
    )


def share_of(q: Quantity, percents: list[Quantity], bases: list[Quantity]) -> bool:
    """Whether an amount is one of the policy's percentages of an amount of the case or the
    sentence ("50% of your EUR 24.80 subtotal, EUR 12.40"): computed from the rule, not a value
    of its own."""
    return any(
        b.value > 0 and abs(p.value / 100 * b.value - q.value) < MONEY_ROUNDING and b.same_unit(q)
        for p in percents
        for b in bases
    )


def stated_percents(found: tuple[Quantity, ...], index: PolicyIndex) -> list[Quantity]:
    """The percentages of a sentence that the policy states."""
    stated = book_tables(index).by_unit.get("percent", ())
    return [
        q for q in found if q.unit == "percent" and any(equivalent(q, s.quantity) for s in stated)
    ]


#: How far a computed amount may be from its exact share (rounding to the cent).
MONEY_ROUNDING = 0.011
