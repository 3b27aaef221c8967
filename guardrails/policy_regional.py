"""Values the policy states per country: a value the policy gives another country, in a clause
that states a different value for the customer's country (from the case's BCP-47 tag), is
`policy.contradicted`; the very value stated for the customer's country is supported."""

from __future__ import annotations

from guardrails.grounding import PolicyIndex, equivalent, policy_finding
from guardrails.policy_tables import book_tables, comparable_units
from guardrails.records import Finding, Span
from guardrails.text import Quantity


def customer_country(language: str | None) -> str | None:
    """The customer's country from the case's BCP-47 tag (es-MX -> MX), if it names one (only
    a country the policy book's packs name can match a clause)."""
    parts = (language or "").split("-")
    region = parts[1].upper() if len(parts) > 1 else None
    return region if region is not None and len(region) == 2 and region.isalpha() else None


def same_value(q: Quantity, p: Quantity) -> bool:
    """The same value; a range only as the same range ("4 to 9 days" is not "4 to 12 days",
    though it lies inside it)."""
    if q.upper is not None and p.upper is not None:
        return p.same_unit(q) and q.value == p.value and q.upper == p.upper
    return equivalent(q, p)


def stated_for_country(q: Quantity, country: str, topic: set[str], index: PolicyIndex) -> bool:
    """Whether a clause on this topic states this very value for the customer's country."""
    # (`same_value` implies comparable: only those of the policy's quantities can be the same.)
    return any(
        country in s.countries and s.concepts & topic and same_value(q, s.quantity)
        for s in book_tables(index).comparable(q)
    )


def regional_finding(
    q: Quantity, country: str, topic: set[str], index: PolicyIndex
) -> Finding | None:
    """A value the policy states for another country, in a clause that states a different value
    for the customer's country ("10 days in Chile"): `policy.contradicted`."""
    if q.kind == "time":
        return None
    for clause, assigned in book_tables(index).countries:
        if not index.related(clause, topic):
            continue
        comparable = [
            (p, c)
            for p, c in zip(clause.quantities, assigned, strict=True)
            if comparable_units(q, p)
        ]
        own = [p for p, c in comparable if country in c]
        if not own or any(same_value(q, p) for p in own):
            continue
        # A range from a per-country table of ranges must be the customer's country's range.
        table_of_ranges = q.upper is not None and all(p.upper is not None for p, _ in comparable)
        if table_of_ranges or any(equivalent(q, p) for p, c in comparable if country not in c):
            return policy_finding(
                "policy.contradicted",
                f"The answer states {q.text}, but the policy states "
                f"{own[0].text} for this customer's country.",
                Span(start=q.start, end=q.end, text=q.text),
                index,
                "the value belongs to another country in the policy clause",
                clause,
            )
    return None
