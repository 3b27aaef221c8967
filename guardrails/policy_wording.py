"""Whether a policy clause speaks of an answer's value in the answer's words: the specific
words (`guardrails.stems`, translated for a book in another language) and figures a sentence
shares with the clauses that state the value, against those stating another value. Read by
`guardrails.policy_quantities` before a value is called contradicted or unsupported."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from guardrails.grounding import Clause, PolicyIndex, clause_bounds, equivalent
from guardrails.policy_regional import same_value
from guardrails.policy_tables import Stated
from guardrails.stems import book_stems, text_stems, translated_stems
from guardrails.text import Quantity

#: Specific words a clause must share with the answer's sentence to be read as its subject
#: when the lexicon has no concept for it.
WORDED_ALIKE = 2


@dataclass(frozen=True)
class Words:
    """An answer sentence and its language; its stems (`guardrails.stems`) are computed when a
    check first reads them."""

    text: str
    language: str | None

    @cached_property
    def stems(self) -> frozenset[str]:
        return text_stems(self.text, self.language)


def worded_alike(q: Quantity, kept: list[Stated], index: PolicyIndex, words: Words) -> bool:
    """Whether a clause stating this very value speaks of the sentence's subject in its words
    more than any clause stating another value ("the meter check costs EUR 45.00" against
    "Meter check: ... otherwise EUR 45.00", when no concept names meters). The converse (a
    clause in the same words stating another value contradicts) was measured and left out:
    shared words such as "business days" or "refund" tie a value to the wrong clause too often
    (policy false positives on the development set 3 -> 19)."""
    table = book_stems(index)
    # A book in another language than the answer is read in the answer's language too
    # (`guardrails.translation`): each translated clause counts for its original clause.
    translated = translated_stems(index, words.language)
    # A translated clause states its units in the answer's words ("días", "horas"): the
    # value's own words tie it to every clause with a value in that unit, so they do not count.
    own = words.stems - text_stems(q.text, words.language) if translated is not None else None

    def shared(s: Stated) -> int:
        n = table.shared(s.clause, words.stems, words.language)
        if translated is not None and own is not None:
            n = max(n, translated.shared(s.clause, s.quantity.value, own))
        return n

    same = [equivalent(q, s.quantity) for s in kept]
    # The clauses stating this very value first (a few of them): unless one shares enough
    # words, the clauses stating other values need not be read at all.
    equal = max((shared(s) for s, e in zip(kept, same, strict=True) if e), default=0)
    if equal < WORDED_ALIKE:
        return False
    return all(shared(s) < equal for s, e in zip(kept, same, strict=True) if not e)


#: Specific words a translated clause must share with the answer's sentence, and how many more
#: than any clause stating the answer's value, to contradict it (3 and 1 more were measured:
#: policy false positives on the development set 3 -> 15).
TRANSLATED_ALIKE = 5
TRANSLATED_MARGIN = 3


def translated_other(
    q: Quantity, kept: list[Stated], index: PolicyIndex, words: Words
) -> Clause | None:
    """The clause of a book in another language that, translated into the answer's, speaks of
    the sentence's subject in its words far more than any clause stating the answer's value,
    and states another value: the answer contradicts it ("the deposit is EUR 80, refunded
    within 5 days" against "the deposit of EUR 50 is refunded within 5 days of the return")."""
    translated = translated_stems(index, words.language)
    if translated is None:
        return None
    own = words.stems - text_stems(q.text, words.language)
    best: Clause | None = None
    top = equal = 0
    for s in kept:
        n = translated.shared(s.clause, s.quantity.value, own)
        if equivalent(q, s.quantity):
            equal = max(equal, n)
        elif n > top:
            top, best = n, s.clause
    return best if top >= TRANSLATED_ALIKE and top >= equal + TRANSLATED_MARGIN else None


#: What a figure the sentence shares with a clause counts for, against a shared word.
FIGURE_WEIGHT = 2
# A figure of two digits or more (a single digit ties nothing: "1", "2" are everywhere).
_FIGURE = re.compile(r"(?<![\d.,:])\d{2,}(?:[.,]\d+)?(?![\d:])")


def figures_of(text: str) -> frozenset[float]:
    """The figures of two digits or more in a text, as numbers."""
    return frozenset(float(m.group(0).replace(",", ".")) for m in _FIGURE.finditer(text))


# A colon or semicolon ends a statement (not the colon of a time, "8:00").
STATEMENT_BREAK = re.compile(r";|:(?!\d)")

#: Specific words a value's own statement needs to name its subject without the rest of the
#: sentence.
OWN_CLAUSE_WORDS = 3


def stated_for_subject(
    q: Quantity,
    kept: list[Stated],
    wanted: frozenset[str],
    index: PolicyIndex,
    words: Words,
    country: str | None = None,
) -> bool:
    """Whether the book states this very value (same unit, no opposite bound) for a subject the
    sentence plausibly speaks of, at least as closely as any clause stating another value: then
    the value is the policy's, not a contradiction of it ("le contestaremos en un máximo de 15
    días" against "disputes within 30 days; the team answers within 15 days").

    Closeness is the concepts a stated value's clause shares with the sentence's subject plus
    the specific words it shares with the value's clause in the answer, in the book's language
    or translated into the answer's. A clause on the subject that states another value and is
    closer still decides ("the fraud team reviews locks within 3 business days" against "a
    supervisor review takes 5 business days", for "our fraud team reviews it within 5 business
    days")."""
    if q.upper is not None and any(
        s.quantity.upper is not None and same_value(q, s.quantity) for s in kept
    ):
        return True  # the very range the book states ("4 to 8 business days"): no accident
    table = book_stems(index)
    translated = translated_stems(index, words.language)
    unit = text_stems(q.text, words.language)
    # The value's own statement (after the last colon or semicolon before it, to the end of its
    # clause) says what it is of ("puede impugnarlo: el equipo le contestará en 15 días" is the
    # team's answer, not the dispute); a statement of a few words says too little, and the
    # sentence speaks for it.
    _, right = clause_bounds(words.text, q.start, q.end)
    left = max((m.end() for m in STATEMENT_BREAK.finditer(words.text, 0, q.start)), default=0)
    own = text_stems(words.text[left:right], words.language) - unit
    if len(own) < OWN_CLAUSE_WORDS:
        own = words.stems - unit
    # The sentence's other figures ("pagas 8 visitas y usas 10"): a clause stating them too
    # ("10 months' price for 12 months") speaks of the same thing, a figure more surely than a
    # word.
    figures = figures_of(words.text[: q.start] + " " + words.text[q.end :]) - {q.value}
    equal = other = 0
    for s in kept:
        n = len(((s.subject or frozenset()) | s.concepts) & wanted)
        n += FIGURE_WEIGHT * len(figures & figures_of(s.clause.text))
        shared = table.shared(s.clause, own, words.language)
        if translated is not None:
            shared = max(shared, translated.shared(s.clause, s.quantity.value, own))
        n += shared
        if not equivalent(q, s.quantity):
            other = max(other, n)
        elif country is None or not s.countries or country in s.countries:
            # (a value the clause gives another country is not this customer's)
            equal = max(equal, n)
    return equal >= WORDED_ALIKE and equal >= other
