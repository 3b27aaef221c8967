"""What a fact's name says, whatever the company calls it: its words, matched against an
answer's words by their stems in English, Spanish and Portuguese (`dias_desde_compra` is about
"tu compra", `valor_reembolso` about "reembolsamos", `payment_card_exposed` about "your card").

No table of known fact names: a key is split into words (snake_case, kebab-case, camelCase,
digits), the words that only say what kind of value it is (a unit, "amount", "total") are left
out, and what remains is compared stem to stem with the Snowball stemmers of the three
languages, so plurals, genders and verb forms of the same word meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

from guardrails.text import Quantity, fold, quantities

_STEMMERS = tuple(snowballstemmer.stemmer(name) for name in ("english", "spanish", "portuguese"))
_WORD = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
#: Stems shorter than this say too little to tie a key to a sentence ("in", "es").
MIN_STEM = 3
#: A stem this long that starts another one is the same word in another language.
_PREFIX_STEM = 5
# Words of a fact's name that say what kind of value it is or nothing at all, not what about:
# units, aggregates, joiners and time anchors, in en/es/pt (folded).
GENERIC = frozenset(
    {
        # joiners
        "the", "and", "for", "with", "from", "que", "con", "los", "las", "del", "por", "para",
        "una", "uno", "dos", "de", "da", "do", "das", "em", "no", "na", "nos", "nas",
        "el", "la", "of", "to", "in", "on", "at", "by", "per", "sin", "sem", "com", "en",
        # aggregates and kinds of value
        "amount", "total", "current", "number", "count", "value", "valor", "monto", "importe",
        "numero", "cantidad", "quantidade", "actual", "atual", "flag", "status", "estado",
        "is", "has", "was", "es", "esta", "tiene", "tem",
        # time anchors
        "since", "before", "after", "until", "ago", "left", "remaining", "desde", "hace",
        "antes", "despues", "depois", "hasta", "ate", "restantes", "restante", "faltan",
        "last", "ultimo", "ultima", "ultimos", "ultimas",
        # units
        "business", "working", "habiles", "uteis", "hours", "hour", "horas", "hora",
        "minutes", "minute", "minutos", "minuto", "mins", "min", "months", "month", "meses",
        "mes", "weeks", "week", "semanas", "semana", "years", "year", "anos", "ano", "date",
        "fecha", "days", "day", "dias", "dia", "usd", "eur", "brl", "mxn", "ars", "gbp",
        "pct", "percent", "porcentaje", "percentual", "ts",
    }
)  # fmt: skip


def key_words(key: str, company: str = "") -> tuple[str, ...]:
    """The words of a fact's name that say what it is about ("payment_card_exposed" ->
    payment, card, exposed; "dias_desde_compra" -> compra); the company's own name is about
    every conversation, so it is left out."""
    spaced = _CAMEL.sub("_", key)
    own = fold(company).strip()
    return tuple(
        w
        for w in _WORD.findall(fold(spaced))
        if len(w) >= MIN_STEM + 1 and w not in GENERIC and w != own
    )


@lru_cache(maxsize=16384)
def stems(word: str) -> tuple[str, str, str]:
    """A folded word's stems in English, Spanish and Portuguese (in that order)."""
    en, es, pt = (s.stemWord(word) for s in _STEMMERS)
    return en, es, pt


@lru_cache(maxsize=65536)  # a vocabulary of word pairs: asked again for every answer
def same_word(a: str, b: str) -> bool:
    """Two folded words that one of the three stemmers brings to the same stem of at least
    `MIN_STEM` letters: compra/compras, reembolso/reembolsamos, exposed/exposure."""
    if a == b:
        return True
    ours, theirs = stems(a), stems(b)
    for x, y in zip(ours, theirs, strict=True):
        if x == y and len(x) >= MIN_STEM:
            return True
    # The same word spelt in the other language: servicio/serviço, exposed/exposure
    # (one stem starts the other, both long enough to name something).
    long_ours = _long_stems(a)
    long_theirs = _long_stems(b)
    if any(x.startswith(y) or y.startswith(x) for x in long_ours for y in long_theirs):
        return True
    # English doubles letters its Spanish and Portuguese cognates write once: difference /
    # diferença / diferencia, commission / comisión, supplement / suplemento.
    single_a, single_b = _DOUBLE.sub(r"\1", a), _DOUBLE.sub(r"\1", b)
    if (single_a, single_b) != (a, b) and min(len(single_a), len(single_b)) >= _PREFIX_STEM:
        return same_word(single_a, single_b)
    return False


_DOUBLE = re.compile(r"([a-z])\1")


@lru_cache(maxsize=16384)
def _long_stems(word: str) -> tuple[str, ...]:
    """A folded word's distinct stems of at least `_PREFIX_STEM` letters (most words have one
    stem in all three languages): the stems `same_word` compares by prefix."""
    return tuple(dict.fromkeys(s for s in stems(word) if len(s) >= _PREFIX_STEM))


def words_of(folded: str) -> list[re.Match[str]]:
    """The words of a folded text, with their positions."""
    return list(_WORD.finditer(folded))


def find_word(word: str, folded: str) -> re.Match[str] | None:
    """The first word of a folded text that is `word` under some stemmer, or None."""
    return next((m for m in _WORD.finditer(folded) if same_word(word, m.group())), None)


def names(word: str, folded: str) -> bool:
    """Whether a folded text has `word` in some form."""
    return find_word(word, folded) is not None


_PERCENT_WORDS = frozenset({"pct", "percent", "percentage", "porcentaje", "porcentagem"})


@lru_cache(maxsize=4096)
def word_unit(word: str) -> str | None:
    """The unit a folded word names after a number (minutos: minute, parcelas:
    count:installment), or None."""
    found = quantities(f"2 {word}")
    return found[0].unit if len(found) == 1 and found[0].end == len(word) + 2 else None


# A window a fact's name counts within: a number and its unit ("30_dias", "last_12_months",
# "24h"), with the words that open it ("in", "last", "ultimos"). It says over what time the
# value is counted, not what unit the value is in: `refund_requests_30_days: 7` counts
# requests, `no_shows_last_12_months: 2` counts no-shows.
_WINDOW = re.compile(
    r"(?:(?:^|_)(?:in|within|per|last|past|ultimos|ultimas|ultimo|ultima|en|em|nos|los|"
    r"las|the|de))*(?:^|_)\d+(?:_?[a-z]+)?(?=_|$)"
)


def without_windows(key: str) -> str:
    """A fact's name (folded, snake_case) without the windows it counts within:
    `solicitudes_reembolso_30_dias` -> `solicitudes_reembolso`; a name that is only a window
    is kept whole."""
    folded = fold(_CAMEL.sub("_", key)).replace("-", "_").replace(" ", "_")
    stripped = _WINDOW.sub("", folded).strip("_")
    return stripped or folded


@lru_cache(maxsize=4096)
def key_unit(key: str) -> tuple[str, str | None] | None:
    """The unit (and currency) a plain number of this fact is in, read from the words of its
    name as the answer's own parser reads a unit after a number, the last word first (a suffix
    says it: `outage_minutes`, `refund_usd`, `discount_pct`, `cuotas_pagadas`), or None. A
    window the name counts within is no unit (`refund_requests_30_days`, `locks_in_24h`)."""
    words = re.findall(r"[a-z]+", without_windows(key))
    for word in reversed(words):
        if len(word) < MIN_STEM:
            continue
        if word in _PERCENT_WORDS:
            return "percent", None
        found = quantities(f"2 {word}")
        if len(found) == 1 and found[0].end == len(word) + 2:
            return found[0].unit, found[0].currency
    return None


# The thing a quantity is a state of, named as the subject of "has"/"is" right before it: "tu
# compra tiene solo 20 días", "your order is 12 days old", "o contrato tem 3 meses".
_HOLDER = re.compile(
    r"(?<!\w)([a-z]{4,})\s+(?:tiene|tenia|tem|tinha|has|had|is|was|es|era|fue|foi|esta|lleva|"
    r"leva|cumple|cumpriu)(?:\s+(?:solo|only|just|apenas|ya|ja|already|about|around|almost|"
    r"casi|quase|unos|unas|cerca de))?\s+$"
)
_CLAUSE_END = re.compile(r"[,;:.!?()]")
# Durations one converts to another: minutes, hours, days, weeks (business days to none).
_DURATIONS = frozenset({"minute", "hour", "day", "week", "month", "year"})


def holder(before: str) -> str | None:
    """The folded word that the text right before a quantity (`before`, folded, within its
    clause) names as having it ("compra" in "tu compra tiene solo "), or None."""
    m = _HOLDER.search(before)
    return m.group(1) if m else None


def _comparable(fact: Quantity, q: Quantity) -> bool:
    return fact.same_unit(q) or (fact.unit in _DURATIONS and q.unit in _DURATIONS)


def stated_of(
    facts: Iterable[tuple[str, Quantity]], sentence: str, q: Quantity, company: str = ""
) -> str | None:
    """The fact a quantity of a sentence is stated of, by the words of the fact's name: the
    thing the quantity is a state of ("tu compra tiene solo 20 días": dias_desde_compra) or the
    noun a hyphenated quantity describes ("the 1-hour outage": outage_minutes), in a unit the
    fact's converts to; None unless exactly one fact is named. For the policy guardrail: such a
    value is the case's, the facts guardrail's to check."""
    folded = fold(sentence)
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, q.start)), default=0)
    words: list[str] = []
    owner = holder(folded[clause_start : q.start])
    if owner is not None:
        words.append(owner)
    if "-" in q.text:
        after = _WORD.match(folded, q.end + 1) if folded[q.end : q.end + 1] == " " else None
        if after is not None:
            words.append(after.group())
    if not words:
        return None
    keys = {
        key
        for key, fact in facts
        if _comparable(fact, q)
        and any(same_word(w, k) for w in words for k in key_words(key, company))
    }
    return keys.pop() if len(keys) == 1 else None


def convertible(fact_unit: str, unit: str) -> bool:
    """Whether a value in `unit` can state a fact in `fact_unit`: the same unit, or two
    durations one converts to the other (minutes and hours; business days convert to none)."""
    return fact_unit == unit or (fact_unit in _DURATIONS and unit in _DURATIONS)
