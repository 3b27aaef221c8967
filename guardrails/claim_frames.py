"""Frames around a value or a benefit's word that make it something other than a claim of
policy, read with the grammar words of `guardrails/lexicons/claim_frames.yaml` (en/es/pt):

- a benefit's word named as what a request asks for offers nothing ("claims for compensation
  are reviewed by our insurer");
- an immediacy under a negation, or naming a point in time, claims none ("there is no need
  to pay right away", "na hora da reserva");
- an age the book states as a bare number ("visitors must be 21 or older") is the book's value
  when an answer says it in years ("21 years").
"""

from __future__ import annotations

import re

from guardrails.grammar import alternation, grammar_language, grammar_table, lexicon
from guardrails.grounding import PolicyIndex, negated_before
from guardrails.text import Quantity, fold, per_policy

#: Words before an immediacy within which a negation takes it back ("no need to pay it
#: right away", "nao precisa pagar na hora").
IMMEDIACY_NEGATION_WORDS = 6


@grammar_table
def _requested(language: str) -> re.Pattern[str]:
    table = lexicon("claim_frames")
    nouns = alternation(table["request_nouns"][language])
    joins = alternation(table["request_joins"][language])
    articles = alternation(table["articles"][language])
    return re.compile(rf"(?<!\w)(?:{nouns})\s+(?:{joins})\s+(?:(?:{articles})\s+)?$")


def requested_benefit(folded: str, start: int, language: str | None) -> bool:
    """Whether the benefit's word at `start` of a folded sentence is what a request, claim or
    application asks for ("requests for a refund", "pedidos de reembolso")."""
    lang = grammar_language(language)
    if lang is None:
        return False
    return _requested(lang).search(folded[max(0, start - 40) : start]) is not None


#: After an immediacy's words, what makes them a point in time: "na hora da reserva", "en el
#: momento de pagar", "at the time of purchase".
_POINT_IN_TIME = re.compile(r"^\s+(?:de|da|do|del|of)(?!\w)")


def no_immediacy(folded: str, q: Quantity, language: str | None) -> bool:
    """Whether an immediacy ("right away", "na hora") claims none: under a negation close
    before it ("no need to reply right away"), or naming a point in time ("na hora da reserva")."""
    return q.unit == "immediate" and (
        negated_before(folded, q.start, language, IMMEDIACY_NEGATION_WORDS)
        or _POINT_IN_TIME.match(folded[q.end : q.end + 8]) is not None
    )


@grammar_table
def _age_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    table = lexicon("claim_frames")
    after = "|".join(sorted(table["age_after"], key=len, reverse=True))
    before = alternation(table["age_before"])
    return (
        re.compile(rf"(?<![\d.,:])(\d{{1,3}})\s*(?:{after})(?!\w)"),
        re.compile(rf"(?<!\w)(?:{before})\s+(\d{{1,3}})(?![\d.,:]\d|\s*(?:h|%))"),
    )


@per_policy()
def book_ages(index: PolicyIndex) -> frozenset[float]:
    """The ages a policy book states as bare numbers ("21 or older", "mayores de 16")."""
    folded = fold(index.book.text)
    return frozenset(
        float(m.group(1)) for pattern in _age_patterns() for m in pattern.finditer(folded)
    )


def stated_age(q: Quantity, index: PolicyIndex) -> bool:
    """Whether a value in years is an age the book states as a bare number."""
    return q.unit == "year" and q.value in book_ages(index)
