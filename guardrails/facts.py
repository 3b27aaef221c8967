"""`facts`: the answer gets this conversation's facts wrong, or leaves out one it must state.

Codes:

- `facts.contradiction` (critical): the answer states a number, amount, duration, percentage
  or date that contradicts the case facts (an outage of 5 hours reported as 2, a refund of
  USD 89.99 stated as USD 98.99, "17 days left" when 6 are left, "left in 2023" when the facts
  date it 2025-10-31), or says that something the facts list as not exposed / not affected was
  exposed or affected, or the other way round ("phone numbers were not exposed" when they
  were; "clientes do Brasil foram afetados" against `brazil_affected: false`; "your card
  details were exposed" against `payment_card_exposed: false`), or names as exposed a thing
  the list of what was exposed does not hold (see `fact_exposure`).
- `facts.missing` (major): a fact the case requires (`expect.required_facts`) is absent: its
  value is not stated in any form (amounts and durations are compared by value and unit,
  so "EUR 45.60" matches "45,60 EUR"; dates match in ISO or written form in en/es/pt).

A quantity is only claimed when it is about this conversation's facts; the policy book governs
the rest, and the `policy` guardrail judges it, so one wrong number is one finding:

- facts are named as the company likes, in en/es/pt: a plain number's unit is read from its
  name's words (`outage_minutes`, `cuotas_pagadas`, `refund_eur`, `discount_pct`), and a value
  of another unit of the same dimension is converted ("the 1-hour outage" against 240 minutes);
  there is no table of known names (see `fact_keys`);
- it is compared with the facts of the same unit whose name shares a concept or a word (by its
  Snowball stem) with the words around it, unless another quantity of the sentence is nearer
  to them ("refund of GBP 41.20" -> refund_amount; "tu compra tiene 20 días" ->
  dias_desde_compra; a fee for cancelling is not the fee for an unreturned router), or, when
  a cue attached to it says it is about this conversation ("hace 7 días", "9 days left",
  "vence en 4 días", "lasted 2 hours"), with the one fact of its unit (of the time elapsed or
  remaining, as the cue says);
- without such a cue, a value the policy states, or one about a subject the policy has a rule
  on, is the policy's; so is a fee or price when the fact is not one, a value offered or added
  ("an extra 12% discount", "ampliar su plazo a 45 días"), a bound or threshold ("up to 10
  days", "more than 120 days overdue") and a range;
- a fact of elapsed or remaining time (days_since_charge, days_left) is only contradicted by a
  quantity stated as such: "waivers come once every 6 months" is a rule, not the 4 months since
  the last waiver.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from guardrails.analysis import SentenceAnalysis, analyse
from guardrails.dates import MONTH_ALT, MONTHS, dates_in
from guardrails.fact_counts import contradicted_counts
from guardrails.fact_deadlines import misstated_deadlines
from guardrails.fact_exposure import contradiction, exposure_findings
from guardrails.fact_flags import contradicted_flags, free_fees
from guardrails.fact_keys import holder, key_words, names, same_word, word_unit
from guardrails.grounding import (
    CaseGround,
    Mention,
    PolicyIndex,
    bound_of,
    case_ground,
    equivalent,
    fact_quantities,
    index_policy,
    near,
    near_mentions,
)
from guardrails.lexicon import BENEFITS, concepts
from guardrails.policy_tables import RELATED, Stated, book_tables, policy_relation
from guardrails.records import Case, Evidence, FactValue, Finding, PolicyBook
from guardrails.registry import Check, GuardrailContext, register
from guardrails.text import Quantity, fold, per_text, quantities, whole_quantities

GUARDRAIL = "facts"

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "from",
        "que",
        "con",
        "los",
        "las",
        "del",
        "por",
        "para",
        "una",
        "uno",
        "dos",
        "de",
        "da",
        "do",
        "das",
        "em",
        "no",
        "na",
        "nos",
        "nas",
        "el",
        "la",
    }
)
# Words that make a quantity about this conversation, by what they say of it: time elapsed
# ("7 days ago", "hace 7 días", "há 2 dias úteis", "in the last 12 months"), time remaining
# ("9 days left", "quedan 3 días", "due in 5 days", "vence en 4 días") or a state of this
# conversation ("lasted 7 hours", "lleva 7 días vencida"). A cue only counts when it is attached
# to the quantity (a few words either side): "a penalty of ARS 9000 for each month that is left"
# speaks of the months, not of the amount.
_ELAPSED_CUE = re.compile(
    r"(?<!\w)(ago|hace|ha|atras|already|ya|ja|so far|pasados|passados|last|past|"
    r"ultim[oa]s?)(?!\w)"
)
_REMAINING_CUE = re.compile(
    r"(?<!\w)(left|remaining|remain|quedan|queda|restan|resta|faltan|falta|faltam|restam|"
    r"restantes?)(?!\w)|(?<!\w)(due|vence|vencen|vencem|expires?|caduca|expira)\s+(in|en|em)$"
)
_STATE_CUE = re.compile(
    r"(?<!\w)(lasted|lasting|duro|durou|dura|lleva|llevamos|leva|levamos|overdue|vencid\w*|"
    r"atrasad\w*|late|tarde)(?!\w)"
)
# "informed customers 5 days after confirming it": when an event of this conversation
# happened, unless a bound makes it a rule ("at most 10 days after the due date").
_EVENT_AFTER = re.compile(r"^\s*(after|later|despues|depois)(?!\w)")
# A bound or a threshold makes a quantity a rule, whatever else is said around it: "at most 10
# days after the due date", "balances more than 120 days overdue", "lasted 6 hours or more".
_BOUND = re.compile(
    r"(?<!\w)(within|up to|at most|at least|no later than|more than|less than|over|under|"
    r"exceed\w*|hasta|como maximo|como mucho|maximo|al menos|dentro de|mas de|menos de|"
    r"super[ao]\w*|ate|em ate|no maximo|pelo menos|minimo|por lo menos|mais de|passou de|"
    r"pasa de|excede\w*|ultrapass\w*|sobrepas\w*|surpass\w*|passed)"
    r"(?:\s+(?:de|of|do|da|the|las|los|la|el|as|os|a|o))?\s*$"
)
_AFTER_BOUND = re.compile(r"^(or more|or longer|o mas|ou mais|or less|o menos|ou menos)(?!\w)")
# Words that end what a cue next to a quantity can say about it: a rate ("EUR 12.50 per
# remaining month" is the price of a month) or the next clause ("12 meses y quedan 3").
_CUE_STOP = re.compile(
    r"(?<!\w)(per|por|each|every|cada|a month|al mes|ao mes|and|y|e|but|pero|mas|que|which|that|so|"
    r"or|ou|while|mientras|enquanto|porque|because)(?!\w)"
)
# Words that make an amount a price or a fee: "each change costs EUR 2.00".
_PRICE_WORD = re.compile(
    r"(?<!\w)(costs?|costing|cuesta\w*|cuestan|custa\w*|custam|price\w*|precio\w*|preco\w*|"
    r"fees?|tarifa\w*)(?!\w)"
)
# A quantity per something: "EUR 12.50 per remaining month", "MXN 200 por cada mes".
_RATE = re.compile(r"\s*(per|por|each|every|for each|for every|a cada|cada|por cada)\s+")
#: Words either side of a quantity a cue may be from and still be attached to it.
CUE_WORDS = 3
# Where a cue stops applying: punctuation that ends a clause.
_CLAUSE_BREAK = re.compile(r"[;:()!?]|[.,](?=\s)")
# A quantity offered, proposed or added on top of the facts is a new value, not a statement
# of the fact's: "we can offer an extra 12% discount", "ampliar su plazo a 45 días". Whether it
# may be offered is the policy's to judge.
_PROPOSAL = re.compile(
    r"(?<!\w)(ofrec\w*|ofrez\w*|offer\w*|oferec\w*|propon\w*|propos\w*|propu\w*|extend\w*|"
    r"ampli\w*|aument\w*|increas\w*|raise|adicional\w*|additional|extra|another|"
    r"otro|otra|outro|outra)(?!\w)"
)
# Facts measured from a past event or up to a coming one: only a quantity stated as elapsed
# (or remaining) time can contradict them; "waivers come once every 6 months" is a rule, not
# the 4 months since the last waiver.
_ELAPSED_KEY = re.compile(r"(^|_)(since|ago|elapsed|desde|hace|overdue|late)(_|$)")
_REMAINING_KEY = re.compile(r"(^|_)(left|remaining|before|until|restantes?|faltan)(_|$)")
_FEE_KEY = re.compile(
    r"fee|charge|cost|price|penalt|cargo|comision|multa|taxa|tarifa|total|precio|preco|custo"
)
# Concepts that say what kind of quantity it is (a fee, a price, a window), not what about.
_KIND_CONCEPTS = frozenset({"fee", "price", "window", "hours"})
# Words of a fact's name that say nothing of its subject.
_GENERIC_KEY_WORDS = frozenset(
    {"amount", "total", "current", "number", "count", "value", "since", "before", "after",
     "until", "business", "hours", "minutes", "months", "weeks", "years", "date", "days"}
)  # fmt: skip


@per_text()
def _answer_dates(text: str) -> tuple[tuple[int, int, tuple[int | None, int, int]], ...]:
    """`dates_in` of an answer, read once for the required dates and the misdated ones."""
    return tuple(dates_in(text))


def _iso(value: str) -> tuple[int, int, int] | None:
    if not _ISO.match(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return parsed.year, parsed.month, parsed.day


def _same_date(written: tuple[int | None, int, int], fact: tuple[int, int, int]) -> bool:
    year, month, day = written
    return (month, day) == fact[1:] and (year is None or year == fact[0])


def _tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(fold(text)) if len(t) >= 3 and t not in _STOP]


def _text_present(value: str, folded_answer: str, answer_tokens: set[str]) -> bool:
    folded = fold(value).strip()
    if not folded:
        return True
    if re.search(r"(?<!\w)" + re.escape(folded) + r"(?!\w)", folded_answer):
        return True
    wanted = _tokens(value)
    return bool(wanted) and all(t in answer_tokens for t in wanted)


def _present(
    key: str, value: FactValue, text: str, answer_q: Callable[[], tuple[Quantity, ...]]
) -> bool:
    """Whether the answer states the fact in any form; `answer_q` gives the answer's
    quantities, read only for the facts that need them."""
    if isinstance(value, bool):
        return True  # a yes/no fact has no surface form to look for
    if isinstance(value, list):
        return all(_present(key, item, text, answer_q) for item in value)
    folded_answer = fold(text)
    if isinstance(value, int | float):
        for fq in fact_quantities(key, value):
            if fq.unit != "number" and any(equivalent(a, fq) for a in answer_q()):
                return True
        return _number_written(value, text)
    iso = _iso(value.strip())
    if iso is not None:
        return value in text or any(_same_date(d, iso) for _, _, d in _answer_dates(text))
    wanted = quantities(value)
    if wanted:
        return all(any(equivalent(a, w) for a in answer_q()) for w in wanted)
    return _text_present(value, folded_answer, set(_WORD.findall(folded_answer)))


def _number_written(value: int | float, text: str) -> bool:
    """Whether a plain number is written in `text`, with or without a thousands separator:
    4350 as "4350", "4,350", "4.350" or "4 350" (the separator depends on the country, not
    on the language: "4,350 puntos" is four thousand in Mexico)."""
    number = f"{value:g}"
    forms = [re.escape(number)]
    if isinstance(value, int) and abs(value) >= 1000:
        digits = str(abs(value))
        head, groups = digits[: len(digits) % 3 or 3], []
        rest = digits[len(head) :]
        groups = [rest[i : i + 3] for i in range(0, len(rest), 3)]
        sign = "-" if value < 0 else ""
        forms.append(re.escape(sign + head) + "".join(r"[.,\u00a0 ]" + g for g in groups))
    pattern = rf"(?<![\d.,])(?:{'|'.join(forms)})(?![\d]|[.,]\d)"
    return re.search(pattern, text) is not None


def _key_concepts(key: str) -> set[str]:
    return concepts(key.replace("_", " "))


@lru_cache(maxsize=4096)
def _key_words(key: str, company: str, unit: str | None = None) -> tuple[str, ...]:
    """Words of a fact's name that say what it is about ("purchases_last_12_months" ->
    purchases); see `fact_keys.key_words`. The word naming the fact's own `unit` says what it
    counts, not which count it is, unless it is all the name says: cuotas_abonadas is about
    paying, `lines: 25 lines` about lines. Kept per name, company and unit: a vocabulary of
    fact names, asked for again for every quantity of every answer."""
    words = tuple(w for w in key_words(key, company) if w not in _GENERIC_KEY_WORDS)
    return tuple(w for w in words if unit is None or word_unit(w) != unit) or words


def _gap(a: tuple[int, int], b: Quantity) -> int:
    return max(b.start - a[1], a[0] - b.end, 0)


def _nearest(m: Mention, q: Quantity, others: list[Quantity]) -> bool:
    """Whether no other quantity of the sentence is nearer to a mention than `q`."""
    own = _gap((m.start, m.end), q)
    return all(_gap((m.start, m.end), o) >= own for o in others)


def _window(folded: str, q: Quantity) -> list[tuple[tuple[int, int], str]]:
    """The words said near a quantity (40 characters either side, cut at the window's edges),
    with their spans: read once per quantity, for every word of every fact's name."""
    return [(m.span(), m.group()) for m in _WORD.finditer(folded, max(0, q.start - 40), q.end + 40)]


def _names_near(
    word: str, window: list[tuple[tuple[int, int], str]], q: Quantity, others: list[Quantity]
) -> bool:
    """Whether a word of a fact's name is said near a quantity (in its `_window`) and no
    other quantity of the sentence is nearer to it: in "the 2-hour boarding delay came after
    a 15-minute queue" the delay is the 2 hours', not the 15 minutes'."""
    prefix = len(word) >= 5
    for span, found in window:
        if not ((prefix and found.startswith(word)) or same_word(word, found)):
            continue
        own = _gap(span, q)
        if all(_gap(span, o) >= own for o in others):
            return True
    return False


def _names_word(word: str, folded: str) -> bool:
    """Whether a folded text has `word` in some form: a word starting with it (purchases,
    purchased) or one of the same stem in en/es/pt (compra, compras; reembolso, reembolsamos)."""
    if len(word) >= 5 and re.search(r"(?<!\w)" + re.escape(word), folded) is not None:
        return True
    return names(word, folded)


def _close(a: str, b: str) -> bool:
    """At most one substitution apart (brazil / brasil)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


@per_text()
def _cuts(folded: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Starts and ends of the clause breaks of a folded text (one character each, so both
    ascending), found once per text: every quantity of a sentence asks for them."""
    found = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(folded)]
    return tuple(s for s, _ in found), tuple(e for _, e in found)


def _clause_start(folded: str, start: int) -> int:
    """The end of the last clause break before `start` (0 without one)."""
    ends = _cuts(folded)[1]
    at = bisect_right(ends, start)
    return ends[at - 1] if at else 0


def _clause(folded: str, start: int, end: int, words: int | None = CUE_WORDS) -> tuple[str, str]:
    """The words before and after a span that can still speak of it: within its clause, up
    to `words` each side (all of them when None), and not past a conjunction or a rate word."""
    starts = _cuts(folded)[0]
    clause_start = _clause_start(folded, start)
    at = bisect_left(starts, end)
    clause_end = starts[at] if at < len(starts) else len(folded)
    before_text, after_text = folded[clause_start:start], folded[end:clause_end]
    stops = list(_CUE_STOP.finditer(before_text))
    if stops:
        before_text = before_text[stops[-1].end() :]
    stop = _CUE_STOP.search(after_text)
    if stop:
        after_text = after_text[: stop.start()]
    if words is None:
        return " ".join(before_text.split()), " ".join(after_text.split())
    return " ".join(before_text.split()[-words:]), " ".join(after_text.split()[:words])


def _similar(a: str, b: str) -> bool:
    """Two words that start alike across en/es/pt (line, linea, linha; month, monthly)."""
    n = min(len(a), len(b))
    return n >= 4 and _close(a[:n], b[:n])


def _rate_of(folded: str, q: Quantity) -> list[str] | None:
    """The words a rate is per ("EUR 12.50 per remaining full month" -> remaining, full,
    month), or None when the quantity is not a rate."""
    m = _RATE.match(folded[q.end :])
    if m is None:
        return None
    rest = _CLAUSE_BREAK.split(folded[q.end + m.end() :], maxsplit=1)[0]
    return _WORD.findall(rest)[:CUE_WORDS]


def _is_bound(folded: str, q: Quantity) -> bool:
    """Whether a bound or a threshold comes with the quantity ("up to 10 days")."""
    clause_start = _clause_start(folded, q.start)
    before = " ".join(folded[clause_start : q.start].split()[-CUE_WORDS:])
    return bool(_BOUND.search(before) or _AFTER_BOUND.match(folded[q.end :].lstrip()))


def cue_of(folded: str, q: Quantity) -> str | None:
    """What the words attached to a quantity say it is: time `elapsed` or `remaining`, a
    `state` of this conversation, an `event` placed after another, or None (a rule, a bound,
    an offer, a figure with no tie to this conversation)."""
    if _is_bound(folded, q):
        return None
    return _unbound_cue(folded, q)


def _unbound_cue(folded: str, q: Quantity) -> str | None:
    """`cue_of` for a quantity that comes with no bound."""
    before, after = _clause(folded, q.start, q.end)
    if "-" in q.text.strip("-"):
        # "9 days left of the 60-day window": a hyphenated quantity names a thing (the
        # window), so the time left or gone around it is another quantity's
        before = after = ""
    if _REMAINING_CUE.search(before) or _REMAINING_CUE.search(after):
        return "remaining"
    if _ELAPSED_CUE.search(before) or _ELAPSED_CUE.search(after):
        return "elapsed"
    if _STATE_CUE.search(before) or _STATE_CUE.search(after):
        return "state"
    if _EVENT_AFTER.match(folded[q.end :]):
        return "event"
    return None


def _holder(folded: str, q: Quantity) -> str | None:
    """The word a quantity is stated as a state of ("compra" in "tu compra tiene 20 días"):
    a fact named by it is what the quantity speaks of, whatever its time cues."""
    return holder(folded[_clause_start(folded, q.start) : q.start])


def _direction(key: str, fact: Quantity) -> str | None:
    """Whether a duration fact is measured since a past event or up to a coming one."""
    if fact.kind != "duration":
        return None
    lowered = fold(key)
    if _REMAINING_KEY.search(lowered):
        return "remaining"
    if _ELAPSED_KEY.search(lowered):
        return "elapsed"
    return None


_COMPATIBLE = {"elapsed": {"elapsed", "state", "event"}, "remaining": {"remaining"}}


def _fits(key: str, fact: Quantity, cue: str | None) -> bool:
    """A fact of elapsed or remaining time can only be contradicted by a quantity stated as
    such; other facts by any quantity about them."""
    direction = _direction(key, fact)
    return direction is None or cue in _COMPATIBLE[direction]


def _same_subject(key: str, local: set[str], unit: str | None = None) -> bool:
    """The fact's name and the words around a quantity share a concept, and not only the kind
    of quantity: a fee for cancelling is not the fee for an unreturned router."""
    # (not the concept of what it counts, its `unit`: cuotas_abonadas is about paying)
    rest = [w for w in fold(key).split("_") if unit is None or word_unit(w) != unit]
    named = concepts(" ".join(rest)) if rest else _key_concepts(key)
    shared = named & local
    if not shared:
        return False
    if shared - _KIND_CONCEPTS:
        return True
    own, other = named - _KIND_CONCEPTS, local - _KIND_CONCEPTS - BENEFITS
    return not (own and other)


def _could_state(fact: Quantity, q: Quantity) -> bool:
    """Whether a quantity is of a unit that could state the fact's value, or a share of it
    ("EUR 36.00 (50% of the subtotal)": the subtotal is the share's base, not the amount)."""
    return (
        fact.same_unit(q)
        or (fact.kind == "duration" and q.kind == "duration")
        or q.unit == "percent"
    )


def _fact_finding(case: Case, text: str, start: int, end: int, key: str, what: str) -> Finding:
    value = case.facts[key]
    message = f"The answer states {what}, but the case facts say {value} ({key.replace('_', ' ')})."
    return contradiction(text, start, end, key, value, message)


# A condition opening the clause: what follows is what would happen, not what did.
_IF = re.compile(r"(?<!\w)(?:if|si|caso|unless|in case|en caso de|no caso de)(?!\w)")


def _grounded(ground: CaseGround, q: Quantity, cue: str | None) -> bool:
    """The conversation states the value, or a fact the quantity may speak of does: "3
    business days ago" is not grounded by a fact of 3 business days left."""
    if any(equivalent(q, c) and _grounds(c, q, cue) for c in ground.conversation):
        return True
    return any(
        equivalent(q, f) and (cue is None or _fits(k, f, cue)) and _grounds(f, q, cue)
        for k, f in ground.facts
    )


def _grounds(known: Quantity, q: Quantity, cue: str | None) -> bool:
    """Whether a known quantity of another duration unit still grounds a time stated as
    elapsed or remaining: "ya han pasado 31 días" is a count of days, not the "1 month" a
    deadline gives (a month converts to 28 to 31 days, so it would ground any of them)."""
    return cue not in ("elapsed", "remaining") or known.kind != "duration" or known.same_unit(q)


def _named_elsewhere(
    case: Case,
    sent: SentenceAnalysis,
    q: Quantity,
    comparable: list[tuple[str, Quantity]],
    stated: list[Stated],
    index: PolicyIndex,
) -> bool:
    """Whether a quantity equal to a value the policy states is said of a fact by the words of
    the fact's own name, while the policy states it of another subject: "la diferencia de
    precio es de EUR 40" against `price_difference: EUR 60` when EUR 40 is the book's fee for
    a late check-out. The policy's value is only its own when its clause's subject (a concept
    near it, other than the kind of quantity) is said with the answer's quantity too."""
    others = [o for o in sent.quantities if (o.start, o.end) != (q.start, q.end)]
    window = _window(sent.folded, q)
    named = [
        w
        for k, f in comparable
        if f.same_unit(q)
        for w in _key_words(k, case.company, f.unit)
        if _names_near(w, window, q, [o for o in others if _could_state(f, o)])
    ]
    if not named:
        return False
    local = near(sent.mentions, q.start, q.end)
    if any((s.near - _KIND_CONCEPTS) & local for s in stated):
        return False
    # the policy says its value of the same words ("each 2,000 points take EUR 10" against
    # points_balance), or the sentence restates one of its rules: the policy's
    clause_words = {w for s in stated for w in _WORD.findall(fold(s.clause.text))}
    if any(same_word(w, c) for w in named for c in clause_words):
        return False
    return policy_relation(q, local, {m.concept for m in sent.mentions}, index) < RELATED


def _quantity_key(
    case: Case, sent: SentenceAnalysis, q: Quantity, index: PolicyIndex | None
) -> str | None:
    """The fact a quantity of the answer speaks of and contradicts, or None. (The tests that
    need the least come first: each of them alone leaves the quantity to the policy.)"""
    if q.unit in ("time", "immediate", "allday"):
        return None
    if bound_of(sent.text, q.start, q.end) == "lead":
        # a notice counted back from an event ("ask at least 5 days before the renewal")
        # states a rule of notice, never the time this case has left: the policy's to check
        return None
    ground = case_ground(case)
    comparable = [
        (k, f)
        for k, f in ground.facts
        if f.same_unit(q) or (q.kind == "duration" and f.kind == "duration")
    ]
    if not comparable or q.upper is not None:
        return None  # "3 to 9 business days": no one value to contradict
    folded = sent.folded
    cue = _unbound_cue(folded, q)  # `cue_of`, computed once
    if _is_bound(folded, q) and not (
        cue == "remaining"
        and any(_direction(k, f) == cue and f.same_unit(q) for k, f in comparable)
    ):
        # "more than 2 hours": no one value to contradict; but "nos quedan como máximo 4
        # días hábiles" still states the time left, which the case's fact of time left gives
        return None
    if _grounded(ground, q, cue):
        return None
    found = sent.mentions  # (read only for the quantities that get this far)
    # (only a comparable policy quantity can be equivalent)
    stated = (
        [s for s in book_tables(index).comparable(q) if equivalent(q, s.quantity)]
        if index is not None
        else []
    )
    if (
        stated
        and (
            cue is None
            or _IF.search(folded[_clause_start(folded, q.start) : q.start])
            or any(s.near & {m.concept for m in found if 0 <= m.start - q.end <= 5} for s in stated)
        )
        and not (index is not None and _named_elsewhere(case, sent, q, comparable, stated, index))
    ):
        # A value the policy states, not tied to this conversation, named right after it by
        # what the policy names it ("pasados los 3 días de gracia": the grace period, not the
        # 12 days this installment is late), or under a condition ("si la cuenta se bloquea 3
        # veces en 24 horas ya no se libera"): the policy's.
        return None
    before, after = _clause(folded, q.start, q.end, None)
    if _PROPOSAL.search(before) or _PROPOSAL.search(" ".join(after.split()[:CUE_WORDS])):
        return None  # "an extra 12% discount": an offer, the policy's to judge
    local = near(found, q.start, q.end)
    # "a 40-day window": a rule, so the policy guardrail's to judge, unless the words of a
    # fact's own name are said with it ("12 prestações de EUR 19.95" -> valor_prestacao)
    rule = (
        cue is None
        and index is not None
        and policy_relation(q, local, {m.concept for m in found}, index) >= RELATED
    )
    attached = " ".join(_clause(folded, q.start, q.end))
    if q.unit == "money" and (
        near(found, q.start, q.end, 25) & {"fee", "price"} or _PRICE_WORD.search(attached)
    ):
        # A fee or a price: the case's own when the fact is one, else the policy's to judge.
        comparable = [(k, f) for k, f in comparable if _FEE_KEY.search(fold(k))]
    per = _rate_of(folded, q)
    if per is not None:
        # A rate ("EUR 12.50 per remaining month") only restates a fact that is a rate of
        # the same thing (fee_per_line: "EUR 37.50 por línea").
        comparable = [
            (k, f)
            for k, f in comparable
            if any(_similar(w, n) for w in fold(k).split("_") for n in per)
        ]
    holder = _holder(folded, q)
    comparable = [
        (k, f)
        for k, f in comparable
        if _fits(k, f, cue)
        or (holder is not None and any(same_word(w, holder) for w in _key_words(k, case.company)))
    ]
    # The fact this quantity speaks of: one whose name shares a concept or a word with the
    # words around it ("refund of GBP 41.20" -> refund_amount, "purchases of EUR 102,000" ->
    # purchases_last_12_months), or, when the words say it is about this conversation
    # ("17 days left"), the one fact of that unit.
    others = [o for o in sent.quantities if (o.start, o.end) != (q.start, q.end)]
    own = {m.concept for m in near_mentions(found, q.start, q.end) if _nearest(m, q, others)}
    # (only a quantity that could state the fact stands nearer to its word: in "12 cuotas de
    # EUR 17.95" the cuotas are the amount's, the count cannot be an amount)
    window = _window(folded, q)
    related = [
        (k, f)
        for k, f in comparable
        if (not rule and _same_subject(k, own, f.unit))
        or any(
            _names_near(w, window, q, [o for o in others if _could_state(f, o)])
            for w in _key_words(k, case.company, f.unit)
        )
    ]
    if not related:
        if rule or cue not in ("elapsed", "remaining", "state"):
            return None
        related = [(k, f) for k, f in comparable if f.unit == q.unit]
    if cue in _COMPATIBLE:
        # "hace 11 días hábiles": of two business-day facts, the one counted since an event;
        # "ya han pasado 31 días" is about the case's fact of elapsed days, not about the
        # "1 month" deadline the same sentence names
        pointed = [(k, f) for k, f in comparable if _direction(k, f) == cue]
        if pointed:
            related = [x for x in related if x in pointed] or [
                (k, f) for k, f in pointed if f.unit == q.unit
            ]
        if not related:
            return None
    keys = list(dict.fromkeys(k for k, _ in related))
    if not keys or (len(keys) > 1 and not any(_same_subject(k, local) for k in keys)):
        return None  # two facts it may be about, and nothing says which
    return keys[0]


def _digits(value: float) -> str:
    return re.sub(r"\D", "", f"{value:.2f}")


def _transposed(a: float, b: float) -> bool:
    """Two different values written with the same digits in another order (EUR 120,000 as
    EUR 102,000; 520 as 250): a fact misstated, not another figure."""
    da, db = _digits(a), _digits(b)
    return da != db and sorted(da) == sorted(db) and len(set(da.strip("0"))) >= 2


def _transposed_key(
    case: Case, sent: SentenceAnalysis, q: Quantity, index: PolicyIndex | None
) -> str | None:
    """The one fact of the quantity's unit (and currency) whose value it writes with the
    digits swapped, when neither the conversation nor the policy gives the quantity and no
    bound or range comes with it. Named by nothing but its digits: an amount's words may be
    in another language than the fact's name ("a primeira noite, de BRL 250,00" against
    nightly_rate: BRL 520.00)."""
    if q.upper is not None or (q.unit not in ("money", "percent") and q.kind != "duration"):
        return None
    ground = case_ground(case)
    swapped = [
        k
        for k, f in ground.facts
        if f.same_unit(q) and f.upper is None and _transposed(q.value, f.value)
    ]
    if len(swapped) != 1 or _is_bound(sent.folded, q):
        return None
    if any(equivalent(q, c) for c in ground.conversation) or any(
        equivalent(q, f) for _, f in ground.facts
    ):
        return None
    if index is not None and any(
        equivalent(q, s.quantity) for s in book_tables(index).comparable(q)
    ):
        return None
    return swapped[0]


def _quantity_findings(case: Case, text: str, book: PolicyBook | None) -> list[Finding]:
    index = index_policy(book) if book else None
    findings: list[Finding] = []
    for sent in analyse(text, case.language).sentences:
        stated = sent.quantities
        if not stated:
            continue
        for q in stated:
            key = _quantity_key(case, sent, q, index) or _transposed_key(case, sent, q, index)
            if key is not None:
                start, end = sent.start + q.start, sent.start + q.end
                findings.append(_fact_finding(case, text, start, end, key, q.text))
    return findings


_YEAR = re.compile(
    rf"(?<!\w)(?:in|en|em|since|desde|during|durante|de|from|until|hasta|ate|of)\s+"
    rf"(?:(?P<mon>{MONTH_ALT})\s+(?:de\s+|of\s+)?)?(?P<y>(?:19|20)\d\d)(?!\w)"
    rf"|(?<!\w)(?P<mon2>{MONTH_ALT})\s+(?:de\s+|of\s+)?(?P<y2>(?:19|20)\d\d)(?!\w)"
)

_YEAR_DIGITS = re.compile(r"(?:19|20)\d\d")


def _partial_dates(folded: str) -> list[tuple[int, int, int, int | None]]:
    """(start, end, year, month or None) for a year or a month and year written without a day:
    "left in 2023", "em outubro de 2025"."""
    if _YEAR_DIGITS.search(folded) is None:
        return []  # (every form `_YEAR` reads has one: a cheaper test first)
    found = list(_YEAR.finditer(folded))
    if not found:
        return []  # (most sentences name no year: the full dates need not be read)
    full = [(s, e) for s, e, _ in dates_in(folded)]
    full += [(q.start, q.end) for q in quantities(folded)]  # "de 2000 euros" is no year
    out = []
    for m in found:
        year = m.group("y") or m.group("y2")
        mon = m.group("mon") or m.group("mon2")
        start = m.start("y") if m.group("y") else m.start("mon2")
        if mon and m.group("y"):
            start = m.start("mon")
        if any(s < m.end() and start < e for s, e in full):
            continue
        out.append((start, m.end(), int(year), MONTHS[mon] if mon else None))
    return out


def _date_findings(case: Case, text: str) -> list[Finding]:
    """A date the answer gives for a dated fact of this conversation that is another date:
    "dejó Velmora en 2023" when the facts date it 2025-10-31. The sentence must be about that
    fact (its name's words or concepts, or the person or thing another fact names, when the
    case has one dated fact), and a date the customer gave is never a contradiction."""
    dated = [(k, d) for k, v in case.facts.items() if isinstance(v, str) for d in [_iso(v)] if d]
    targets = [(k, d) for k, d in dated if fold(k) != "today"]
    if not targets:
        return []
    sentences = [
        (sent, stated)
        for sent in analyse(text, case.language).sentences
        for stated in [_partial_dates(sent.folded)]
        if stated
    ]
    if not sentences:
        return []  # (most answers write no year: the case's dates need not be read)
    said = " ".join(m.content for m in case.messages)
    said_years = {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", said)}
    # months a fact states in words ("first_bill: December 2026"): the case's own values
    stated_months = {
        (year, month)
        for v in case.facts.values()
        if isinstance(v, str) and _iso(v) is None
        for _, _, year, month in _partial_dates(fold(v))
    }
    entities = [
        fold(v)
        for v in case.facts.values()
        if isinstance(v, str) and _iso(v) is None and len(v) >= 5 and v[:1].isupper()
    ]
    findings: list[Finding] = []
    for sent, stated in sentences:
        folded = sent.folded
        local = concepts(sent.text)
        about = [
            (k, d)
            for k, d in targets
            if _key_concepts(k) & local
            or any(_names_word(w, folded) for w in _key_words(k, case.company))
        ]
        if not about and len(targets) == 1 and any(e in folded for e in entities):
            about = targets
        if len(about) != 1:
            continue
        key = about[0][0]
        for start, end, year, month in stated:
            if year in said_years or any(d[0] == year for _, d in dated if month is None):
                continue
            if month is not None and any(d[:2] == (year, month) for _, d in dated):
                continue
            if (year, month) in stated_months or (
                month is None and any(y == year for y, _ in stated_months)
            ):
                continue
            s, e = sent.start + start, sent.start + end
            findings.append(_fact_finding(case, text, s, e, key, text[s:e]))
    return findings


def _attached(folded: str, start: int, end: int) -> bool:
    """Whether a bound, a condition, an offer or a rate comes with the number at
    folded[start:end]: "up to 3 refunds", "if you miss 2 instalments", "another 2 months",
    "3 per year"."""
    clause_start = _clause_start(folded, start)
    before = folded[clause_start:start]
    words_before = " ".join(before.split()[-CUE_WORDS:])
    return bool(
        _BOUND.search(words_before)
        or _AFTER_BOUND.match(folded[end:].lstrip())
        or _IF.search(before)
        or _PROPOSAL.search(words_before)
        or _RATE.match(folded[end:])
        or re.match(r"\s+\w+\s+(?:per|por|each|every|cada|a|al|ao)\s", folded[end:])
    )


def _count_findings(case: Case, text: str, book: PolicyBook | None) -> list[Finding]:
    return [
        _fact_finding(case, text, c.start, c.end, c.key, text[c.start : c.end])
        for c in contradicted_counts(case, text, book.text if book else "", _attached)
    ]


def _near_miss(written: tuple[int | None, int, int], fact: tuple[int, int, int]) -> bool:
    """A written date that is a fact's date with only its year or only its month changed
    (2027-02-06 for 2027-01-06, 31 October 2024 for 2025-10-31): a misstated fact, not
    another date (a date that differs only in its day is as likely a new one: a callback
    two days from today)."""
    year, month, day = written
    if day != fact[2]:
        return False
    if year is None:
        return False
    return (year == fact[0]) != (month == fact[1])


def _full_date_findings(case: Case, text: str) -> list[Finding]:
    """A full date the answer gives that is a dated fact's with its year or its month
    changed, when nothing in the conversation or the facts gives that date."""
    dated = [(k, d) for k, v in case.facts.items() if isinstance(v, str) for d in [_iso(v)] if d]
    if not dated:
        return []
    # (the dates near a fact's, found first: most answers write none, and then the dates of
    # the conversation need not be read)
    candidates = [
        (start, end, written, missed)
        for start, end, written in _answer_dates(text)
        if not any(_same_date(written, d) for _, d in dated)
        for missed in [[k for k, d in dated if _near_miss(written, d)]]
        if len(missed) == 1
    ]
    if not candidates:
        return []
    said = " ".join(m.content for m in case.messages)
    said += " " + " ".join(str(v) for v in case.facts.values() if isinstance(v, str))
    known = {written for _, _, written in dates_in(said)}
    return [
        _fact_finding(case, text, start, end, missed[0], text[start:end])
        for start, end, written, missed in candidates
        if written not in known
    ]


def _other_contradictions(case: Case, text: str, book: PolicyBook | None) -> list[Finding]:
    return (
        _quantity_findings(case, text, book)
        + _count_findings(case, text, book)
        + exposure_findings(case, text)
        + _date_findings(case, text)
        + _full_date_findings(case, text)
        + _flag_findings(case, text)
    )


def _contradictions(case: Case, text: str, book: PolicyBook | None) -> list[Finding]:
    found = _other_contradictions(case, text, book)
    spans = [f.evidence.span for f in found if f.evidence.span is not None]
    # (a deadline another rule already found misdated is one finding, not two)
    return found + [
        _fact_finding(case, text, start, end, key, text[start:end])
        for key, start, end in misstated_deadlines(case, text, book)
        if not any(s.start < end and start < s.end for s in spans)
    ]


def _flag_findings(case: Case, text: str) -> list[Finding]:
    """Yes/no facts of a state (covered, included, eligible, approved) stated the other way."""
    return [
        contradiction(
            text,
            start,
            end,
            key,
            case.facts[key],
            f'The answer says "{text[start:end]}", but the case facts say {key}: '
            f"{str(case.facts[key]).lower()}.",
        )
        for key, start, end in [*contradicted_flags(case, text), *free_fees(case, text)]
    ]


def _missing(case: Case, text: str) -> list[Finding]:
    out = []

    def answer_q() -> tuple[Quantity, ...]:
        return tuple(whole_quantities(text))

    for key in case.expect.required_facts:
        value = case.facts[key]
        if _present(key, value, text, answer_q):
            continue
        out.append(
            Finding(
                guardrail=GUARDRAIL,
                code="facts.missing",
                severity="major",
                message=f"The answer does not state {key.replace('_', ' ')} ({value}), "
                "which this case requires.",
                evidence=Evidence(
                    checked_against=f"{key}: {value}",
                    source=f"facts.{key}",
                    note="required by expect.required_facts; not found in any form",
                ),
            )
        )
    return out


@register(GUARDRAIL)
def facts_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        return _contradictions(case, text, book) + _missing(case, text)

    return check
