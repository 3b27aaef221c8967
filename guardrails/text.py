"""Shared text analysis for the guardrails: sentences with offsets, folding for matching, and
quantities (durations, money, percentages, times of day, counts) with their units, in English,
Spanish and Portuguese.

Every span points into the original text: `text[start:end]` is the evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import _lru_cache_wrapper, lru_cache
from importlib import resources
from typing import Any, Generic, TypeVar, overload

import yaml

_T = TypeVar("_T")
#: The `cache_clear` of every cache of per-text analysis (see `per_text`).
_PER_TEXT: list[Callable[[], None]] = []


def per_text(maxsize: int = 4096) -> Callable[[Callable[..., _T]], _lru_cache_wrapper[_T]]:
    """`lru_cache` for an analysis of one text, forgotten with every other by `clear_caches`
    (so a benchmark pass that clears them pays for every text again)."""

    def wrap(function: Callable[..., _T]) -> _lru_cache_wrapper[_T]:
        cached = lru_cache(maxsize=maxsize)(function)
        _PER_TEXT.append(cached.cache_clear)
        return cached

    return wrap


def per_object(maxsize: int = 1024) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """A cache keyed on the identity of the arguments (cases, policy indexes: objects that are
    analysed many times but need not be hashable), emptied when full and by `clear_caches`.
    The arguments are kept with the result, so a recycled id() never returns another object's
    analysis."""
    return _identity_cache(maxsize, _PER_TEXT)


#: The `cache_clear` of every cache of a policy index's tables (see `per_policy`).
_PER_POLICY: list[Callable[[], None]] = []


def per_policy(maxsize: int = 64) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """`per_object` for the tables of one policy index (`grounding.index_policy`, itself cached
    per policy book): built once per policy book, whatever the answers, and so not forgotten
    by `clear_caches` (only by `clear_policy_caches`)."""
    return _identity_cache(maxsize, _PER_POLICY)


def clear_policy_caches() -> None:
    for clear in _PER_POLICY:
        clear()


def _identity_cache(
    maxsize: int, registry: list[Callable[[], None]]
) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    def wrap(function: Callable[..., _T]) -> Callable[..., _T]:
        cache: dict[tuple[int, ...], tuple[tuple[object, ...], _T]] = {}

        def cached(*args: object) -> _T:
            key = tuple(map(id, args))
            hit = cache.get(key)
            if hit is not None:
                # The same objects, not others at recycled addresses (one argument is the usual
                # case: a case or a policy index, asked for dozens of times per answer).
                kept = hit[0]
                if (
                    kept[0] is args[0]
                    if len(args) == 1
                    else all(a is b for a, b in zip(kept, args, strict=True))
                ):
                    return hit[1]
            value = function(*args)
            if len(cache) >= maxsize:
                cache.clear()
            cache[key] = (args, value)
            return value

        registry.append(cache.clear)
        return cached

    return wrap


class Lazy(Generic[_T]):
    """`functools.cached_property` without its lock: on Python 3.11 every first read of one
    takes an RLock, which was half the cost of reading a sentence's quantities or a quantity's
    kind. The values are computed from frozen data, so two threads that both compute one store
    equal values. Like `cached_property`, it writes the instance's `__dict__` (frozen
    dataclasses included) and is then out of the way."""

    def __init__(self, function: Callable[[Any], _T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Lazy[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object, owner: type | None = None) -> _T | Lazy[_T]:
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


# A sentence ends at . ! ? … followed by space, at a blank line, and at a line break that
# starts a list item or heading or follows a line ending in punctuation. Other line breaks
# are hard wrapping inside a sentence.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])\s+|\n\s*\n|\n(?=[ \t]*(?:[-*•#>]|\d+[.)]\s))|(?<=[:;.!?…])[ \t]*\n"
)
# A short line without final punctuation is a heading or a greeting ("Fee waiver",
# "Hola Ana"): it ends where its line ends.
_SHORT_LINE = re.compile(r"^[^\n.!?:;]{1,40}\n", re.MULTILINE)


def sentences(text: str) -> list[Sentence]:
    """Split into sentences (and list items / lines), keeping offsets."""
    return list(_sentences(text))


@lru_cache(maxsize=2048)
def _sentences(text: str) -> tuple[Sentence, ...]:
    """Split into sentences (and list items / lines), keeping offsets. Decimal points,
    abbreviations like 'p. ej.' are rare in support answers; a line break always ends one."""
    out: list[Sentence] = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        _add(out, text, pos, match.start())
        pos = match.end()
    _add(out, text, pos, len(text))
    return tuple(out)


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    newline = text.find("\n", start, end)
    if newline != -1 and (
        text.startswith("#", start) or _SHORT_LINE.match(text, start, newline + 1)
    ):  # a heading or a short unpunctuated line is a sentence of its own
        _add(out, text, start, newline)
        _add(out, text, newline + 1, end)
        return
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end, text[start:end]))


def _fold_char(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[0] if ch.isalpha() else ch
    low = base.lower()
    return low if len(low) == 1 else ch


# Latin letters with accents, folded once (`fold` replaces those an answer has).
_FOLD_TABLE = {cp: _fold_char(chr(cp)) for cp in range(0x80, 0x250) if chr(cp).isalpha()}


# Replacing each distinct character is translating: no replacement is itself replaced.
assert all(_FOLD_TABLE.get(ord(v), v) == v for v in _FOLD_TABLE.values())
_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lowercase without accents, same length as the input (so offsets survive)."""
    if text.isascii():
        return text.lower()  # the table has no ASCII character
    # `str.translate` looks every character up in the table, one at a time, and a callback
    # per run of accented letters costs a Python call each; an answer has a handful of
    # distinct accented letters, each replaced everywhere by one `str.replace`.
    folded = text
    for ch in set(_NON_ASCII_CHAR.findall(text)):
        plain = _FOLD_TABLE.get(ord(ch))
        if plain is not None:
            folded = folded.replace(ch, plain)
    folded = folded.lower()
    if len(folded) == len(text):
        return folded
    return "".join(_fold_char(ch) for ch in text)


# --- numbers -----------------------------------------------------------------------------

NUMBER_WORDS: dict[str, int] = {
    # English
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "sixty": 60,
    "ninety": 90,
    "a hundred": 100,
    # Spanish
    "un": 1,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "doce": 12,
    "quince": 15,
    "veinte": 20,
    "treinta": 30,
    "cuarenta": 40,
    "cuarenta y cinco": 45,
    "sesenta": 60,
    "noventa": 90,
    "cien": 100,
    # Portuguese
    "um": 1,
    "uma": 1,
    "duas": 2,
    "quatro": 4,
    "sete": 7,
    "oito": 8,
    "nove": 9,
    "dez": 10,
    "onze": 11,
    "doze": 12,
    "quinze": 15,
    "vinte": 20,
    "trinta": 30,
    "quarenta": 40,
    "quarenta e cinco": 45,
    "sessenta": 60,
    "cem": 100,
}
_NUMBER_WORDS = NUMBER_WORDS  # the same words in es and pt are listed once


def trie_pattern(words: list[str] | set[str] | tuple[str, ...]) -> str:
    """One regex alternation for many literal words, as a prefix tree: the engine rejects a
    position on its first character instead of trying every word (a space matches any run of
    whitespace; longer words are preferred)."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        alts = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(trie) + ")"


_WORD_ALTS = trie_pattern(list(_NUMBER_WORDS))

# 1,250.00 / 1.250,00 / 150 / 49.90 / 3,5 / 1 250
_DIGITS = r"\d{1,3}(?:[.,\u00a0 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"


def parse_number(raw: str) -> float | None:
    """'1,250.00' -> 1250.0, '1.250,00' -> 1250.0, '3,5' -> 3.5, 'treinta' -> 30."""
    raw = raw.strip()
    folded = fold(raw)
    if folded in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[folded])
    s = raw.replace("\u00a0", "").replace(" ", "")
    if not s or not s[0].isdigit():
        return None
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        s = s.replace(thousands, "").replace(decimal, ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = s.replace(",", "") if len(tail) == 3 and head else s.replace(",", ".")
    elif s.count(".") > 1 or (s.count(".") == 1 and len(s.rpartition(".")[2]) == 3 and len(s) > 4):
        s = s.replace(".", "")
    try:
        return float(s)
    except ValueError:
        return None


# --- units ---------------------------------------------------------------------------------

# unit name -> (kind, folded surface forms)
_UNITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "business_day": (
        "duration",
        (
            "business days",
            "business day",
            "working days",
            "working day",
            "dias habiles",
            "dia habil",
            "dias laborables",
            "dia laborable",
            "dias uteis",
            "dia util",
            "dias laborais",
            "days business",
        ),
    ),
    "day": (
        "duration",
        ("calendar days", "days", "day", "dias naturales", "dias corridos", "dias", "dia", "d"),
    ),
    "hour": ("duration", ("hours", "hour", "hrs", "hr", "horas", "hora", "h")),
    "minute": ("duration", ("minutes", "minute", "mins", "min", "minutos", "minuto")),
    "week": ("duration", ("weeks", "week", "semanas", "semana")),
    "month": ("duration", ("months", "month", "meses", "mes", "mês")),
    "year": ("duration", ("years", "year", "anos", "ano", "anos", "años", "año")),
    "percent": ("percent", ("%", "percent", "per cent", "por ciento", "por cento")),
}
_CURRENCY_CODES = {
    "usd": "USD",
    "us$": "USD",
    "dollars": "USD",
    "dolares": "USD",
    "dollar": "USD",
    "eur": "EUR",
    "€": "EUR",
    "euros": "EUR",
    "euro": "EUR",
    "mxn": "MXN",
    "pesos": "MXN",
    "peso": "MXN",
    "mx$": "MXN",
    "brl": "BRL",
    "r$": "BRL",
    "reais": "BRL",
    "real": "BRL",
    "gbp": "GBP",
    "£": "GBP",
    "ars": "ARS",
    "cop": "COP",
    "clp": "CLP",
    "$": "$",
}

_unit_alts = sorted({form for _, forms in _UNITS.values() for form in forms}, key=len, reverse=True)
_UNIT_RE = trie_pattern(_unit_alts)
_CUR_ALTS = trie_pattern(list(_CURRENCY_CODES))

_QUANTITY = re.compile(
    rf"""
    (?P<cur1>(?<![\w$€£])(?:{_CUR_ALTS}))?\s?
    (?P<num>(?<![\w.,])(?:{_DIGITS}|(?:{_WORD_ALTS})(?=\s)(?!\s+(?:{_CUR_ALTS})(?![a-z]))))
    (?:\s?(?:-|–|to|a|al|e|y|and|ou|or|o)\s?(?P<num2>{_DIGITS}))?
    (?P<tail>(?:\s{{0,4}}|-(?=[a-z]))(?:(?P<cur2>(?:{_CUR_ALTS}))(?![a-z])
                |(?:(?:more|extra|additional|further|full|calendar|mas|mais|adicionales|
                    adicionais|extra|completos|seguidos|consecutive|consecutivos)\s)?
                 (?P<unit>(?:{_UNIT_RE}))(?![a-z])))?
    """,
    re.VERBOSE | re.IGNORECASE,
)

_TIME = re.compile(
    r"(?<![\d:])([01]?\d|2[0-4])[:h]([0-5]\d)(?!:?\d)|(?<!\w)(\d{1,2})\s?(a\.?m\.?|p\.?m\.?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    """A number with its unit, as written. `unit` is one of: business_day, day, hour, minute,
    week, month, year, percent, money, time, or count:<what> (count:installment, count:times...)."""

    value: float
    unit: str
    start: int
    end: int
    text: str
    currency: str | None = None
    upper: float | None = None  # the top of a range: 5-7 business days

    @Lazy
    def kind(self) -> str:
        """Computed once per quantity: the policy check compares every quantity of an answer
        with every quantity of the policy book by kind."""
        if self.unit in ("money", "percent", "time", "immediate", "allday", "number") or (
            self.unit.startswith("count:")
        ):
            return self.unit.split(":")[0]
        return "duration"

    def same_unit(self, other: Quantity) -> bool:
        if self.unit != other.unit:
            return False
        if self.unit == "money":
            return (
                self.currency == other.currency
                or "$" in (self.currency, other.currency)
                or None in (self.currency, other.currency)
            )
        return True

    def matches(self, other: Quantity) -> bool:
        """Same unit and the same value (or the value falls inside the other's range)."""
        # `same_unit`, inlined: every answer's quantities are matched against every quantity
        # of its case and its policy book.
        unit = self.unit
        if unit != other.unit:
            return False
        if unit == "money" and not (
            self.currency == other.currency
            or "$" in (self.currency, other.currency)
            or None in (self.currency, other.currency)
        ):
            return False
        lo, hi = other.value, other.upper if other.upper is not None else other.value
        if lo <= self.value <= hi and (self.upper is None or lo <= self.upper <= hi):
            return True
        return abs(self.value - other.value) < 1e-6 and self.upper == other.upper


# Every surface form of a unit, as written and folded, to its unit (the first unit listing it).
_UNIT_OF_FORM: dict[str, str] = {}
for _name, (_, _forms) in _UNITS.items():
    for _form in _forms:
        _UNIT_OF_FORM.setdefault(_form, _name)
        _UNIT_OF_FORM.setdefault(fold(_form), _name)
_SPACES = re.compile(r"\s+")


def _unit_of(raw: str) -> str | None:
    return _UNIT_OF_FORM.get(_SPACES.sub(" ", fold(raw).strip()))


@dataclass(frozen=True)
class _Counted:
    """The nouns a number counts ("3 installments", "2 devices"), each to its unit, and the
    pattern of a number followed by one of them."""

    forms: dict[str, str]
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _counted() -> _Counted:
    """The counted nouns of the core pack and of every known pack (`guardrails.packs`, field
    `counted`; the first pack listing a noun gives its unit): a text's quantities are read the
    same under any policy book, as its units and currencies are. Rebuilt when a pack is
    registered."""
    from guardrails import packs  # (packs reads `fold` from here)

    forms: dict[str, str] = {}
    for loaded in (packs.core(), *(p for _, p in sorted(packs.known().items()))):
        for unit, nouns in loaded.pack.counted.items():
            for noun in nouns:
                forms.setdefault(fold(noun), unit)
    noun = trie_pattern(list(forms)) if forms else r"(?!)"
    return _Counted(
        forms,
        re.compile(
            rf"(?<![\w.,$€£])(?P<num>\d{{1,3}}|{_WORD_ALTS})\s+(?:\w+\s+)?(?P<noun>{noun})\b"
        ),
    )


def packs_changed() -> None:
    """Read counted nouns again (a pack was registered: `guardrails.packs.on_change`)."""
    _counted.cache_clear()
    clear_caches()  # quantities read with the nouns known before


# Durations stated without a number ("immediately": unit `immediate`; "around the clock":
# unit `allday`), read from `guardrails/lexicons/worded_durations.yaml`.
_WORDED: dict[str, tuple[str, ...]] = {
    unit: tuple(forms)
    for unit, forms in yaml.safe_load(
        resources.files("guardrails")
        .joinpath("lexicons", "worded_durations.yaml")
        .read_text(encoding="utf-8")
    ).items()
}
_WORDED_RE = re.compile(
    r"(?<![\w/])(?:"
    + "|".join(rf"(?P<{unit}>{trie_pattern(forms)})" for unit, forms in _WORDED.items())
    + r")(?![\w/])"
)


def quantities(text: str) -> list[Quantity]:
    """Every quantity with a unit; see `_quantities_of`."""
    return list(_quantities_of(text))


def whole_quantities(text: str) -> list[Quantity]:
    """`quantities(text)`, for an answer whose sentences the checks analyse one by one: put
    together from its sentences' quantities (already computed) when that gives the same
    result, which `_chainable` makes sure of; else computed on the whole text."""
    return list(_whole_quantities(text))


# The last character of a sentence that no quantity pattern can continue past: no pattern
# element that ends with it (a number, a currency, a unit, a connector, a word) is followed by
# whitespace, so no match crosses the gap after it, and the lookarounds at its end and at the
# next sentence's start see the same (whitespace or the text's edge).
def _ends_safely(ch: str) -> bool:
    return not (ch.isalnum() or ch == "_" or ch in "$€£%-–/")


def _chainable(text: str, folded: str, parts: tuple[Sentence, ...]) -> bool:
    """Whether the quantities of `text` are those of its sentences, shifted: the sentences
    fold as the whole text does, are separated by whitespace, each one followed by some
    ends safely, and a sentence with no number (whose patterns `_quantities_of` skips) has no
    place where the whole text's number patterns could start."""
    whole_numberish = _NUMBERISH.search(folded) is not None
    previous_end = 0
    for part in parts:
        gap = text[previous_end : part.start]
        if part.start < previous_end or (previous_end and not gap) or (gap and not gap.isspace()):
            return False
        own = fold(part.text)
        if folded[part.start : part.end] != own:
            return False
        tail = text[part.end : part.end + 1]
        if tail and not _ends_safely(part.text[-1]):
            return False
        if (
            whole_numberish
            and not own.isascii()
            and _NUMBERISH.search(own) is None
            and _NUMBER_START.search(own) is not None
        ):
            return False  # (a case-insensitive number word the sentence alone would skip)
        previous_end = part.end
    return text[previous_end:].isspace() or previous_end == len(text)


@per_text(2048)
def _whole_quantities(text: str) -> tuple[Quantity, ...]:
    parts = _sentences(text)
    folded = fold(text)
    if len(parts) < 2 or not _chainable(text, folded, parts):
        return _quantities_of(text)
    return tuple(
        Quantity(
            q.value,
            q.unit,
            q.start + part.start,
            q.end + part.start,
            q.text,
            q.currency,
            q.upper,
        )
        for part in parts
        for q in _quantities_of(part.text)
    )


# Without a digit or a number word a text has no quantity with a number: skip those patterns.
_NUMBERISH = re.compile(rf"\d|(?<!\w){_WORD_ALTS}(?!\w)")

# Where a number of `_QUANTITY` or of a count (`_counted`) can start: a digit, or a number word
# followed by a space, after neither a word character nor a separator; and where a `_TIME` can
# start: a digit after a non-digit (the start of a run of digits). The big patterns are tried only
# at or just before these positions (see `_anchored`): a support answer has a handful of them in
# hundreds of characters, and trying the patterns at every character was most of the analysis time.
_NUMBER_START = re.compile(rf"(?<![\w.,])(?=\d|(?:{_WORD_ALTS})\s)", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d+")  # its starts are the `(?<!\d)\d` positions, found faster
# The same in ASCII text (most folded answers), where \d is [0-9]: twice as fast again.
_ASCII_DIGIT_RUN = re.compile(r"[0-9]+")
# A `_QUANTITY` match starts at most this far before its number (an optional currency, then
# an optional whitespace character). `_QUANTITY_NEAR` matched at a position finds the first
# `_QUANTITY` match starting within that distance of it, as group `q`, with the same groups.
assert not any(c.isspace() for c in _CURRENCY_CODES)
_QUANTITY_REACH = max(map(len, _CURRENCY_CODES)) + 1
_QUANTITY_NEAR = re.compile(
    rf"[\s\S]{{0,{_QUANTITY_REACH}}}?(?P<q>{_QUANTITY.pattern})", _QUANTITY.flags
)


def _anchored(pattern: re.Pattern[str], anchors: list[int], text: str) -> Iterator[re.Match[str]]:
    """The matches `pattern.finditer(text)` gives, for a pattern whose matches are never empty
    and start only at `anchors` (ascending): only those positions are tried, in order."""
    pos = 0  # the end of the last match: finditer never looks before it again
    for at in anchors:
        if at >= pos and (found := pattern.match(text, at)) is not None:
            yield found
            pos = found.end()


# Folded text is lowercase, so the IGNORECASE patterns above (whose letters are lowercase)
# match it as their case-sensitive copies do, which are faster, unless it has a character that
# IGNORECASE equates with an ASCII letter: dotless i and long s (lowercase, kept by `fold`), or
# dotted I and the Kelvin sign (which `fold` never leaves). `case_sensitive` picks the pair.
_CASE_ODD = re.compile("[\u0130\u0131\u017f\u212a]")
_NUMBER_START_CS = re.compile(_NUMBER_START.pattern)
_QUANTITY_NEAR_CS = re.compile(_QUANTITY_NEAR.pattern, re.VERBOSE)


def case_sensitive(folded: str) -> bool:
    """Whether the case-sensitive copies of the quantity patterns match `folded` (a folded
    text) as the IGNORECASE originals do."""
    return folded.isascii() or _CASE_ODD.search(folded) is None


def _quantity_matches(
    folded: str, anchors: list[int], near: re.Pattern[str] = _QUANTITY_NEAR
) -> Iterator[re.Match[str]]:
    """The matches of `_QUANTITY.finditer(folded)` (as group `q` of `_QUANTITY_NEAR`): a
    match starts at most `_QUANTITY_REACH` characters before a number start (`anchors`), so
    only those stretches are tried, each position once and in order."""
    pos = 0  # the end of the last match
    tried = 0  # every position before this one has been tried
    for at in anchors:
        # Until a match ends past this number or every position up to it has failed. Each
        # round tries the positions from `start` on, so no match can start before it.
        while at >= pos and at >= tried:
            start = max(pos, tried, at - _QUANTITY_REACH)
            found = near.match(folded, start)
            if found is None:
                tried = start + _QUANTITY_REACH + 1
            else:
                yield found
                pos = found.end()


@lru_cache(maxsize=8192)
def _quantities_of(text: str) -> tuple[Quantity, ...]:
    """Every quantity with a unit (money, duration, percentage, counts of installments,
    times, devices, lines, fees), every time of day, and worded durations ("immediately",
    "24/7"). Matching runs on the folded text (same length), so spans index the original."""
    folded = fold(text)
    runs = _ASCII_DIGIT_RUN if folded.isascii() else _DIGIT_RUN
    digit_runs = [m.start() for m in runs.finditer(folded)]
    numberish = bool(digit_runs) or _NUMBERISH.search(folded) is not None
    exact = case_sensitive(folded)
    starts = (
        [m.start() for m in (_NUMBER_START_CS if exact else _NUMBER_START).finditer(folded)]
        if numberish
        else []
    )
    near = _QUANTITY_NEAR_CS if exact else _QUANTITY_NEAR
    out = _quantities(folded, text, starts, digit_runs, near) if numberish else []
    for m in _WORDED_RE.finditer(folded):
        if not any(s < m.end() and m.start() < e for s, e in ((q.start, q.end) for q in out)):
            unit = m.lastgroup or "immediate"
            out.append(Quantity(0.0, unit, m.start(), m.end(), text[m.start() : m.end()]))
    taken = [(q.start, q.end) for q in out]
    counted = _counted()
    for m in _anchored(counted.pattern, starts, folded):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        value = parse_number(m.group("num"))
        # "un cargo", "a fee": an article, not a count
        if value is not None and (value != 1 or m.group("num")[0].isdigit()):
            concept = counted.forms[m.group("noun")]
            out.append(
                Quantity(value, f"count:{concept}", m.start(), m.end(), text[m.start() : m.end()])
            )
    return tuple(sorted(out, key=lambda q: q.start))


def _quantities(
    folded: str,
    text: str,
    starts: list[int],
    digit_runs: list[int],
    near: re.Pattern[str] = _QUANTITY_NEAR,
) -> list[Quantity]:
    out: list[Quantity] = []
    for m in _quantity_matches(folded, starts, near):
        cur = m.group("cur1") or m.group("cur2")
        unit_raw = m.group("unit")
        if not cur and not unit_raw:
            continue  # a bare number: not a quantity (tested first: it is the usual case)
        value = parse_number(m.group("num"))
        if value is None:
            continue
        if value == 1 and not m.group("num")[0].isdigit():
            continue  # "una hora concreta", "a day": an article, not a stated quantity
        upper = parse_number(m.group("num2")) if m.group("num2") else None
        if cur:
            code = _CURRENCY_CODES.get(fold(cur).strip(), "$")
            unit, currency = "money", code
        elif unit_raw:
            found = _unit_of(unit_raw)
            if found is None:
                continue
            if (
                found in ("day", "hour")
                and fold(unit_raw).strip() in ("d", "h")
                and (m.group("num") and not m.group("num")[0].isdigit())
            ):
                continue
            unit, currency = found, None
        else:
            continue
        if not m.group("num")[0].isdigit() and unit == "money":
            continue  # "dos BRL" in Portuguese is "of the BRL": amounts are written in digits
        start, end = m.start("q"), m.end("q")
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        out.append(Quantity(value, unit, start, end, text[start:end], currency, upper))
    for m in _anchored(_TIME, digit_runs, folded):
        if m.group(1) is not None:
            value = int(m.group(1)) + int(m.group(2)) / 60
        else:
            hour = int(m.group(3)) % 12
            value = hour + (12 if m.group(4).lower().startswith("p") else 0)
        out.append(Quantity(float(value), "time", m.start(), m.end(), text[m.start() : m.end()]))
    return out


_BARE = re.compile(r"(?<![\w.,+/#:-])(?<!\d\s)\d{1,3}(?![\w.,/:%-]|\s?\d)")


def bare_numbers(text: str) -> list[Quantity]:
    """Small integers that are not part of a quantity, a phone number, a time or an id:
    '5 failed sign-in attempts', 'after 3 locks'."""
    taken = [(q.start, q.end) for q in quantities(text)]
    out = []
    for m in _BARE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        out.append(Quantity(float(m.group(0)), "number", m.start(), m.end(), m.group(0)))
    return out


def clear_caches() -> None:
    """Forget every text analysed so far (benchmarks call this so each pass does the work)."""
    for cached in (fold, _sentences, _quantities_of):
        cached.cache_clear()
    for clear in _PER_TEXT:
        clear()
