"""A policy book's tables: every quantity it states with what the checks ask of it (its
clause, bound, nearby concepts, subject, minimum, countries), its rates, tiers and per-country
values, built once per policy book (`per_policy`), and how strongly the book speaks about what a
quantity of an answer is about (`policy_relation`).

The `policy` guardrail compares an answer's values with these tables; the `facts` guardrail
reads them to leave a value the policy states to the policy guardrail. Both import this module,
so neither imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails.grounding import Clause, PolicyIndex, bound_of
from guardrails.lexicon import Lexicon, lexicon_for
from guardrails.text import NUMBER_WORDS, Quantity, fold, per_policy


def comparable_units(q: Quantity, p: Quantity) -> bool:
    if q.kind == "duration" and p.kind == "duration":
        return True
    return p.same_unit(q)


def relation_score(stated: Stated, local: set[str], topic: set[str]) -> int:
    """How much a policy quantity is about what the answer's quantity is about: shared
    concepts near both quantities count double, shared concepts of the sentences once (the
    policy's generic concepts were taken out of both at index time)."""
    return 2 * len(stated.near & local) + len(stated.concepts & topic)


#: A policy quantity this related to the answer's states the same thing: a different value
#: contradicts the policy.
RELATED = 4


#: A policy quantity on the answer's subject this related (and more related than any clause
#: stating the answer's value) contradicts a different value.
SUBJECT_RELATED = 3


#: When the policy states the same value in a clause this related, it supports the answer even
#: if another clause looks more related.
EQUAL_ENOUGH = 1


def policy_relation(q: Quantity, local: set[str], topic: set[str], index: PolicyIndex) -> int:
    """How strongly the policy speaks about what `q` is about: the score of its most related
    comparable quantity (RELATED or more: the policy has a rule on it)."""
    return max(
        (relation_score(s, local, topic) for s in book_tables(index).comparable(q)), default=-1
    )


MINIMUM_BEFORE = re.compile(
    r"(?<!\w)(?:at least|al menos|como minimo|por lo menos|pelo menos|no minimo)\s+$"
)


# A rate: how many times something may happen per period ("no more than twice a week",
# "hasta 5 mensajes por mes", "até 4 vezes por semana"). Durations are quantities; a rate is a
# count over a period, which `quantities` does not read.
_RATE_NOUNS = (
    r"times?|vez|veces|vezes|calls?|llamadas?|ligacoes|ligacao|chamadas?|contacts?|contactos?|"
    r"contatos?|messages?|mensajes?|mensagens|emails?|correos?|requests?|solicitudes|pedidos"
)


_RATE = re.compile(
    r"(?<![\w:.,])(?:(?P<digits>\d+)|(?P<adverb>once|twice)|(?P<word>[a-z]+))"
    rf"\s+(?P<noun>(?:{_RATE_NOUNS})\s+)?"
    r"(?:a|per|each|every|al|por|cada|a cada|ao|en el|em)\s+(?:calendar\s+|natural\s+)?"
    r"(?P<period>day|dia|week|semana|month|mes|year|ano)(?!\w)"
)


_PERIOD = {"dia": "day", "semana": "week", "mes": "month", "ano": "year"}


@dataclass(frozen=True)
class Rate:
    count: float
    period: str
    start: int
    end: int


# Every rate ends in a period word after a space: most texts have none, and this search is
# much cheaper than the rate pattern tried at every word.
_PERIOD_WORD = re.compile(
    r"\s(?:calendar\s+|natural\s+)?(?:day|dia|week|semana|month|mes|year|ano)(?!\w)"
)


def rates(text: str) -> list[Rate]:
    """The rates a text states, with offsets into it."""
    folded = fold(text)
    if _PERIOD_WORD.search(folded) is None:
        return []
    out = []
    for m in _RATE.finditer(folded):
        if m.group("digits") and m.group("noun"):  # "4 messages a week", not "09:30 every day"
            count = float(m.group("digits"))
        elif m.group("adverb"):
            count = 1.0 if m.group("adverb") == "once" else 2.0
        elif m.group("noun") and m.group("word") in NUMBER_WORDS:
            count = float(NUMBER_WORDS[m.group("word")])  # "una vez", "three calls"
        else:
            continue
        period = _PERIOD.get(m.group("period"), m.group("period"))
        out.append(Rate(count, period, m.start(), m.end()))
    return out


# "12 days in Peru", "8 days (Chile)": a value stated for a country.
_FOR_COUNTRY = re.compile(r"^\s*(?:\(|in\s|en\s|em\s|no\s|na\s|for\s|para\s)")


def _countries_of(clause: Clause, lexicon: Lexicon) -> list[frozenset[str]]:
    """For each quantity of a clause, the countries it is stated for: the names right after it,
    before the next value ("12 days in Peru, 3 weeks in Italy", "8 days (Chile)"), those of the
    policy book's packs (the `countries` pack: names by region subtag)."""
    folded = fold(clause.text)
    out: list[frozenset[str]] = []
    for i, p in enumerate(clause.quantities):
        stop = clause.quantities[i + 1].start if i + 1 < len(clause.quantities) else len(folded)
        gap = folded[p.end : min(stop, p.end + 40)]
        gap = re.split(r"[;.:](?:\s|$)", gap, maxsplit=1)[0]
        if not _FOR_COUNTRY.match(gap):
            out.append(frozenset())
            continue
        out.append(frozenset(lexicon.country_codes(gap)))
    return out


# A tiered rule: a value earned from a threshold on ("10% ... for 6 hours or more, 25% for 24
# hours or more"; "25% por 24 horas o más"; "a partir de 24 horas").
_TIER = re.compile(
    r"(?P<value>\d+(?:[.,]\d+)?\s*%)[^%;]*?(?:(?:for|por|durante|de)\s+(?P<n>\d+)\s+"
    r"(?P<unit>hours?|horas?|days?|dias?)\s+(?:or more|o mas|ou mais)|(?:from|a partir de|"
    r"desde)\s+(?P<n2>\d+)\s+(?P<unit2>hours?|horas?|days?|dias?))"
)


HOURS_PER_UNIT = {"hour": 1.0, "day": 24.0, "minute": 1 / 60}


@dataclass(frozen=True)
class Tier:
    value: float  # percent
    threshold: float  # hours


def tiers(clause: Clause) -> list[Tier]:
    """The tiers a clause states, in order."""
    out = []
    for m in _TIER.finditer(fold(clause.text)):
        n = float(m.group("n") or m.group("n2"))
        unit = m.group("unit") or m.group("unit2")
        per = 24.0 if unit.startswith(("day", "dia")) else 1.0
        out.append(Tier(float(m.group("value").rstrip("% ").replace(",", ".")), n * per))
    return out


@dataclass(frozen=True)
class Stated:
    """One quantity of the policy book with what every check asks of it, computed once per
    book: comparing each quantity of an answer with every quantity of the book used to
    recompute these for each pair."""

    clause: Clause
    quantity: Quantity
    #: "min" / "max" when the policy states the value as a bound (see `bound_of`).
    bound: str | None
    #: The clause's concepts near the quantity, and all of the clause's, less the generic ones.
    near: frozenset[str]
    concepts: frozenset[str]
    #: What the quantity is about (`Clause.subjects`), None when not known.
    subject: frozenset[str] | None
    #: Stated as a minimum ("at least 2 days' notice").
    minimum: bool
    #: The countries the value is stated for ("10 days in Chile").
    countries: frozenset[str]


@dataclass(frozen=True)
class BookTables:
    """A policy book's quantities grouped by what they can be compared with, and the rates,
    tiers and per-country values of its clauses, in the book's order (the first clause of the
    best wins ties, so order is part of the result)."""

    durations: tuple[Stated, ...]
    by_unit: dict[str, tuple[Stated, ...]]
    numbers: frozenset[float]
    rates: tuple[tuple[Clause, tuple[Rate, ...]], ...]
    tiers: tuple[tuple[Clause, tuple[Tier, ...]], ...]
    countries: tuple[tuple[Clause, list[frozenset[str]]], ...]

    def comparable(self, q: Quantity) -> tuple[Stated, ...]:
        """The policy quantities `comparable_units` with `q`: every duration for a duration (2
        weeks vs 14 days), else those of the same unit (and compatible currency)."""
        if q.kind == "duration":
            return self.durations
        group = self.by_unit.get(q.unit, ())
        if q.unit == "money":
            return tuple(s for s in group if s.quantity.same_unit(q))
        return group


def _build_tables(index: PolicyIndex) -> BookTables:
    generic = index.generic
    lexicon = lexicon_for(index.book)
    durations: list[Stated] = []
    by_unit: dict[str, list[Stated]] = {}
    for clause in index.clauses:
        concepts = clause.concepts - generic
        assigned = _countries_of(clause, lexicon)
        for i, p in enumerate(clause.quantities):
            stated = Stated(
                clause=clause,
                quantity=p,
                bound=bound_of(clause.text, p.start, p.end),
                near=frozenset(clause.near(p.start, p.end) - generic),
                concepts=concepts,
                subject=clause.subjects[i] if i < len(clause.subjects) else None,
                minimum=bool(
                    MINIMUM_BEFORE.search(fold(clause.text[max(0, p.start - 20) : p.start]))
                ),
                countries=assigned[i],
            )
            if p.kind == "duration":
                durations.append(stated)
            else:
                by_unit.setdefault(p.unit, []).append(stated)
    with_rates = tuple((c, tuple(rates(c.text))) for c in index.clauses)
    with_tiers = tuple((c, tuple(tiers(c))) for c in index.clauses)
    with_countries = tuple((c, _countries_of(c, lexicon)) for c in index.clauses)
    return BookTables(
        durations=tuple(durations),
        by_unit={unit: tuple(group) for unit, group in by_unit.items()},
        numbers=frozenset(n.value for c in index.clauses for n in c.numbers),
        rates=tuple((c, r) for c, r in with_rates if r),
        tiers=tuple((c, t) for c, t in with_tiers if t),
        # A clause without a per-country value cannot state one for the customer's country.
        countries=tuple((c, a) for c, a in with_countries if any(a)),
    )


@per_policy()
def book_tables(index: PolicyIndex) -> BookTables:
    """The tables of a policy index, built once per index (indexes are cached per book)."""
    return _build_tables(index)
