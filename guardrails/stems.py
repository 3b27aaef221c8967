"""The words an answer's sentence shares with a policy clause, compared by their Snowball stems.

The concept lexicon names the subjects of support language (refunds, fees, windows); a policy of
a new industry speaks of things it has no concept for ("meter check", "frame repair"). Two texts
that use the same word, in any inflection, speak of the same thing: the sentence's words are
stemmed with the stemmer of the answer's language, and so are each clause's, so "meters" meets
"meter" and "reparaciones" meets "reparación".

Words most clauses of a book use ("the", "customer", the company's name) tie nothing to
anything: a stem found in more than a quarter of the clauses (and more than 3) is generic for
that book and never counts, the way `PolicyIndex.generic` drops concepts every clause names.
No stop-word list: the book itself says which words are common.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property

from guardrails.fact_keys import stems
from guardrails.grounding import Clause, PolicyIndex
from guardrails.text import fold, per_policy
from guardrails.translation import language_of, translate

#: Words shorter than this say too little ("in", "de", "and").
MIN_WORD = 4
_WORD = re.compile(r"[a-z]+")
_LANGUAGES = ("en", "es", "pt")


def _slot(language: str | None) -> int | None:
    # (a handful of language tags, each read thousands of times per run)
    found = _SLOTS.get(language, -1)
    if found == -1:
        lang = (language or "").split("-")[0].lower()
        found = _LANGUAGES.index(lang) if lang in _LANGUAGES else None
        if len(_SLOTS) < 256:
            _SLOTS[language] = found
    return found


_SLOTS: dict[str | None, int | None] = {}


def text_stems(text: str, language: str | None) -> frozenset[str]:
    """The stems of a text's words in `language` (all three languages' when unknown)."""
    slot = _slot(language)
    out: set[str] = set()
    for word in _WORD.findall(fold(text)):
        if len(word) < MIN_WORD:
            continue
        found = stems(word)
        out.update(found if slot is None else (found[slot],))
    return frozenset(out)


@dataclass(frozen=True)
class BookStems:
    """Each clause's stems in each language, and the stems too common in the book to count."""

    by_clause: dict[int, tuple[frozenset[str], ...]]  # id(clause) -> stems per language
    generic: tuple[frozenset[str], ...]  # per language

    @cached_property
    def _specific(self) -> dict[int, tuple[frozenset[str], ...]]:
        """Each clause's stems without the book's generic ones, per language: taken away once
        per book rather than from every sentence's shared stems (the same count, as
        `(sentence & own) - generic` is `sentence & (own - generic)`)."""
        return {
            key: tuple(s - g for s, g in zip(own, self.generic, strict=True))
            for key, own in self.by_clause.items()
        }

    def shared(self, clause: Clause, sentence: frozenset[str], language: str | None) -> int:
        """How many specific stems a sentence (`text_stems` in `language`) shares with a
        clause."""
        own = self._specific.get(id(clause))
        if own is None:
            return 0
        slot = _slot(language)
        if slot is None:
            return max(len(sentence & s) for s in own)
        return len(sentence & own[slot])


@per_policy()
def book_stems(index: PolicyIndex) -> BookStems:
    """The stems of a policy index's clauses, built once per book."""
    return _table(index, [c.text for c in index.clauses])


@per_policy()
def book_language(index: PolicyIndex) -> str | None:
    """The language a policy book is written in (es, en, pt), identified once per book."""
    return language_of(index.book.text)


def translated_stems(index: PolicyIndex, language: str | None) -> TranslatedStems | None:
    """The stems of a book's clauses translated into `language` (`guardrails.translation`),
    each under its original clause; None when the book is in that language already or the
    translation is unavailable."""
    slot = _slot(language)
    source = book_language(index)
    if slot is None or source is None or source == _LANGUAGES[slot]:
        return None
    return _translated(index, _LANGUAGES[slot])


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_PART_BREAK = re.compile(r"(?<=[.;!?])\s+")


def _numbers(text: str) -> frozenset[float]:
    out: set[float] = set()
    for token in _NUMBER.findall(text):
        plain = re.sub(r"[.,]", "", token) if _THOUSANDS.fullmatch(token) else token
        try:
            out.add(float(plain.replace(",", ".")))
        except ValueError:
            continue
    return frozenset(out)


@dataclass(frozen=True)
class TranslatedStems:
    """A book's clauses translated into one language: the stems of each sentence of each
    translated clause with the numbers it states, and the stems too common to count."""

    language: str
    by_clause: dict[int, tuple[tuple[frozenset[float], frozenset[str]], ...]]
    generic: frozenset[str]

    @cached_property
    def _specific(self) -> dict[int, _TranslatedClause]:
        """Each clause's parts without the generic stems, once per book and language."""
        out = {}
        for key, parts in self.by_clause.items():
            by_number: dict[float, list[frozenset[str]]] = {}
            for stated, found in parts:
                for n in stated:
                    by_number.setdefault(n, []).append(found - self.generic)
            out[key] = _TranslatedClause(
                tuple(sorted(by_number)),
                {n: tuple(specific) for n, specific in by_number.items()},
                frozenset().union(*(found for _, found in parts)) - self.generic,
            )
        return out

    def shared(self, clause: Clause, value: float, sentence: frozenset[str]) -> int:
        """How many specific stems a sentence shares with the part of the translated clause
        that states `value` (the whole clause when no part shows it): a clause stating two
        values ("points arrive within 3 days; a missing stay is claimed within 6 months")
        ties each to its own words."""
        own = self._specific.get(id(clause))
        if own is None:
            return 0
        numbers = own.numbers
        # (most values lie outside the few numbers a clause states: no bisection for them)
        if not numbers or not numbers[0] - 2 * STATED <= value <= numbers[-1] + 2 * STATED:
            return len(sentence & own.whole)
        stating = own.stating(value)
        if not stating:
            return len(sentence & own.whole)
        return max(len(sentence & found) for n in stating for found in own.by_number[n])


#: How close a number of a translated clause must be to a value to state it.
STATED = 1e-9


@dataclass(frozen=True)
class _TranslatedClause:
    """A translated clause, read once per book: its numbers (sorted), the specific stems of
    each part stating each number, and the specific stems of the whole clause."""

    numbers: tuple[float, ...]
    by_number: dict[float, tuple[frozenset[str], ...]]
    whole: frozenset[str]

    def stating(self, value: float) -> list[float]:
        """The clause's numbers that state `value` (within `STATED` of it): a bisection finds
        those near it, each then compared as a part's numbers are."""
        numbers = self.numbers
        at = bisect_left(numbers, value - 2 * STATED)
        out = []
        while at < len(numbers) and numbers[at] <= value + 2 * STATED:
            if abs(numbers[at] - value) < STATED:
                out.append(numbers[at])
            at += 1
        return out


@per_policy()
def _translated(index: PolicyIndex, target: str) -> TranslatedStems | None:
    """(`target` is one of `_LANGUAGES`' own strings, so the identity cache holds.)"""
    source = book_language(index)
    texts = None if source is None else translate([c.text for c in index.clauses], source, target)
    if texts is None:
        return None
    by_clause = {
        id(c): tuple(
            (_numbers(part), text_stems(part, target))
            for part in _PART_BREAK.split(text)
            if part.strip()
        )
        for c, text in zip(index.clauses, texts, strict=True)
    }
    limit = max(3, len(index.clauses) // 4)
    counts: dict[str, int] = {}
    for parts in by_clause.values():
        for stem in frozenset().union(*(found for _, found in parts)):
            counts[stem] = counts.get(stem, 0) + 1
    generic = frozenset(s for s, n in counts.items() if n > limit)
    return TranslatedStems(target, by_clause, generic)


def _table(index: PolicyIndex, texts: list[str] | tuple[str, ...]) -> BookStems:
    by_clause = {
        id(c): tuple(text_stems(text, lang) for lang in _LANGUAGES)
        for c, text in zip(index.clauses, texts, strict=True)
    }
    limit = max(3, len(index.clauses) // 4)
    generic = []
    for slot in range(len(_LANGUAGES)):
        counts: dict[str, int] = {}
        for per_language in by_clause.values():
            for stem in per_language[slot]:
                counts[stem] = counts.get(stem, 0) + 1
        generic.append(frozenset(s for s, n in counts.items() if n > limit))
    return BookStems(by_clause, tuple(generic))
