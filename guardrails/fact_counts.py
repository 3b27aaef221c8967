"""How many of something the facts count, stated with the words of the fact's name: "5
solicitudes de reembolso" against `solicitudes_reembolso_30_dias: 7`, "3 instalments were
missed" against `instalments_missed: 2`.

A fact whose value is a plain whole number with no unit in its name is a count of what its
name's words say. A bare number in the answer followed (within two words) by one of those words,
by its Snowball stem in en/es/pt, states that count; when it is another number, the answer
contradicts the fact, unless the number is the conversation's or another fact's, the policy
counts something with it ("missing 2 instalments cancels the plan", in whatever language the
book is written) and nothing makes it this conversation's (a cause: "because 3 were
missed"; the customer's own: "your 3 orders"), the fact is itself a limit (`cuotas_maximas`),
or the words attached to it make it a rule, a bound, a condition or an offer (the caller says
which).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from guardrails.analysis import analyse
from guardrails.fact_keys import key_words, same_word, without_windows
from guardrails.grounding import fact_quantities
from guardrails.records import Case
from guardrails.text import fold

# A number standing alone: not part of a date, a time, an amount, a reference or a phone.
_NUMBER = re.compile(r"(?<![\w.,:/+#-])(\d{1,4})(?![\w%]|[.,:/-]\d)")
_NEXT_WORDS = re.compile(r"\s+(?:([a-z]+)\s+)?([a-z]+)")
_BARE = re.compile(r"(?<![\w.,:/-])(\d{1,4})(?![\w]|[.,:/-]\d)")


@dataclass(frozen=True)
class Count:
    """A count stated by the answer that contradicts a fact: the fact and where (in `text`)."""

    key: str
    start: int
    end: int


def counted_facts(case: Case) -> list[tuple[str, int, tuple[str, ...], str]]:
    """(key, value, words, unit) for each fact that counts something its name says."""
    out = []
    for key, value in case.facts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        units = {q.unit for q in fact_quantities(key, value)}
        if not units or not all(u == "number" or u.startswith("count:") for u in units):
            continue
        words = key_words(without_windows(key), case.company)
        if words and not any(_LIMIT_WORD.match(w) for w in words):
            out.append((key, value, words, units.pop()))
    return out


def _numbers(text: str) -> set[int]:
    return {int(m.group(1)) for m in _BARE.finditer(fold(text))}


def _policy_counts(book_text: str, number: int) -> bool:
    """Whether the policy counts something with this number ("missing 2 instalments cancels
    the plan"): then a sentence stating it may be restating the rule, in any language."""
    return number in _counts_in(book_text)


@lru_cache(maxsize=64)  # one per policy book
def _counts_in(book_text: str) -> frozenset[int]:
    folded = fold(book_text)
    return frozenset(
        int(m.group(1)) for m in _NUMBER.finditer(folded) if _NEXT_WORDS.match(folded, m.end())
    )


# Words that make a count this conversation's, not a rule restated: a cause given for what
# happened ("blocked because 4 payments bounced", "cerrada porque se registraron
# 6 intentos") or the customer's own ("your 3 orders", "tus 5 pedidos").
_OF_THIS_CASE = re.compile(
    r"(?<!\w)(?:because|porque|ya\s+que|pues|pois|ja\s+que|visto\s+que)(?!\w)"
    r"|(?<!\w)(?:your|tus|sus|seus|suas|tu|su|seu|sua)\s+$"
)
# A fact that is a bound (the most instalments allowed, a threshold) is a limit, not a count
# of this conversation: "6 cuotas" against `cuotas_maximas: 12` is a choice within it.
_LIMIT_WORD = re.compile(r"^(?:max|min|limit|threshold|umbral|tope|cap|allowed|permitid)")


def contradicted_counts(
    case: Case,
    text: str,
    book_text: str,
    attached: Callable[[str, int, int], bool],
) -> list[Count]:
    """Counts the answer states that contradict a fact. `attached(folded_sentence, start,
    end)` says whether a bound, condition, offer or rate comes with a number there."""
    facts = counted_facts(case)
    if not facts:
        return []
    values = {
        float(v)
        for v in case.facts.values()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    said: set[int] | None = None  # the conversation's numbers, read when a count needs them
    out: list[Count] = []
    for sent in analyse(text, case.language).sentences:
        folded = sent.folded
        for m in _NUMBER.finditer(folded):
            number = int(m.group(1))
            after = _NEXT_WORDS.match(folded, m.end())
            if after is None:
                continue
            nouns = [w for w in after.groups() if w]
            named = [
                (key, value, unit)
                for key, value, words, unit in facts
                if any(same_word(n, w) for n in nouns for w in words)
            ]
            if len(named) != 1:
                continue
            key, value, unit = named[0]
            if any(q.unit == unit and q.start <= m.start() < q.end for q in sent.quantities):
                continue  # a count in the fact's own unit ("4 parcelas"): compared as a quantity
            if number == value or number in values:
                continue
            if said is None:
                said = _numbers(" ".join(m.content for m in case.messages))
            if number in said:
                continue
            if attached(folded, m.start(), m.end()):
                continue
            before = folded[max(0, m.start() - 80) : m.start()]
            if _policy_counts(book_text, number) and not _OF_THIS_CASE.search(before):
                continue
            out.append(Count(key, sent.start + m.start(), sent.start + m.end()))
    return out
