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
from dataclasses import dataclass

from guardrails.fact_keys import stems
from guardrails.grounding import Clause, PolicyIndex
from guardrails.text import fold, per_policy
from guardrails.translation import language_of, translate

#: Words shorter than this say too little ("in", "de", "and").
MIN_WORD = 4
_WORD = re.compile(r"[a-z]+")
_LANGUAGES = ("en", "es", "pt")


def _slot(language: str | None) -> int | None:
    lang = (language or "").split("-")[0].lower()
    return _LANGUAGES.index(lang) if lang in _LANGUAGES else None


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

    def shared(self, clause: Clause, sentence: frozenset[str], language: str | None) -> int:
        """How many specific stems a sentence (`text_stems` in `language`) shares with a
        clause."""
        slot = _slot(language)
        own = self.by_clause.get(id(clause))
        if own is None:
            return 0
        if slot is None:
            return max(len((sentence & s) - g) for s, g in zip(own, self.generic, strict=True))
        return len((sentence & own[slot]) - self.generic[slot])


@per_policy()
def book_stems(index: PolicyIndex) -> BookStems:
    """The stems of a policy index's clauses, built once per book."""
    return _table(index, [c.text for c in index.clauses])


@per_policy()
def book_language(index: PolicyIndex) -> str | None:
    """The language a policy book is written in (es, en, pt), identified once per book."""
    return language_of(index.book.text)


def translated_stems(index: PolicyIndex, language: str | None) -> BookStems | None:
    """The stems of a book's clauses translated into `language` (`guardrails.translation`),
    each under its original clause; None when the book is in that language already or the
    translation is unavailable."""
    slot = _slot(language)
    source = book_language(index)
    if slot is None or source is None or source == _LANGUAGES[slot]:
        return None
    return _translated(index, _LANGUAGES[slot])


@per_policy()
def _translated(index: PolicyIndex, target: str) -> BookStems | None:
    """(`target` is one of `_LANGUAGES`' own strings, so the identity cache holds.)"""
    source = book_language(index)
    texts = None if source is None else translate([c.text for c in index.clauses], source, target)
    return None if texts is None else _table(index, texts)


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
