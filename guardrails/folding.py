"""Word lists of folded text for hot paths, shared by the guardrails that scan answers word by
word (privacy, handoff, language). Folding itself is `guardrails.text.fold` (cached there)."""

from __future__ import annotations

import re
from functools import lru_cache

from guardrails.text import fold

#: Kept as a name for the modules that fold on their hot path; it is `text.fold`.
fast_fold = fold


_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=256)
def folded_words(text: str) -> tuple[str, ...]:
    """The folded Latin-script words of `text` ("can't" is "can" and "t"), computed once per
    text and shared by the guardrails that gate their patterns on the words present."""
    return tuple(_WORD.findall(fast_fold(text)))


@lru_cache(maxsize=256)
def word_set(text: str) -> frozenset[str]:
    return frozenset(folded_words(text))


def wordlist(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (easier to read and review)."""
    return frozenset(words.split())


def word_positions(folded: str, words: frozenset[str] | set[str]) -> list[tuple[int, int]]:
    """(start, end) of every whole-word occurrence of `words` in folded text, sorted. Uses
    `str.find` (fast) and checks the word boundaries by hand."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    for word in words:
        size = len(word)
        i = folded.find(word)
        while i != -1:
            end = i + size
            before_ok = i == 0 or not _is_letter(folded[i - 1])
            if before_ok and (end == n or not _is_letter(folded[end])):
                out.append((i, end))
            i = folded.find(word, i + 1)
    out.sort()
    return out


def _is_letter(ch: str) -> bool:
    return ch.isalpha() or ch == "'"
