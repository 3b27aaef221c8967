"""One analysis per answer: its sentences, each with its folded text, its quantities and its
concept mentions (with their polarity in the case's language), computed once and read by every
check that walks the answer sentence by sentence (`policy`, `facts`).

Each part is computed when a check first asks for it and kept for the others: a check that
never reads a sentence's mentions does not pay for them. The analysis of a text is forgotten
with every other per-text cache (`guardrails.text.clear_caches`).
"""

from __future__ import annotations

from dataclasses import dataclass

from guardrails.grounding import Mention, mentions
from guardrails.lexicon import Lexicon, active
from guardrails.text import Lazy, Quantity, fold, per_text, quantities, sentences


@dataclass(frozen=True)
class SentenceAnalysis:
    """A sentence of the answer (`text` is `answer[start:end]`) and what the checks read of it;
    offsets of its quantities and mentions index `text`."""

    start: int
    end: int
    text: str
    language: str | None
    #: The concepts its mentions are read with (those of the case's policy book).
    lexicon: Lexicon

    @Lazy
    def folded(self) -> str:
        return fold(self.text)

    @Lazy
    def quantities(self) -> tuple[Quantity, ...]:
        return tuple(quantities(self.text))

    @Lazy
    def mentions(self) -> tuple[Mention, ...]:
        return tuple(mentions(self.text, self.language, self.lexicon))


@dataclass(frozen=True)
class Analysis:
    text: str
    language: str | None
    sentences: tuple[SentenceAnalysis, ...]


def analyse(text: str, language: str | None, lexicon: Lexicon | None = None) -> Analysis:
    """The analysis of an answer read in `language` (a BCP-47 tag or None), its concepts those
    of `lexicon` (by default the active one: the case's, while a check runs)."""
    return _analyse(text, language, lexicon or active())


@per_text(256)
def _analyse(text: str, language: str | None, lexicon: Lexicon) -> Analysis:
    return Analysis(
        text,
        language,
        tuple(SentenceAnalysis(s.start, s.end, s.text, language, lexicon) for s in sentences(text)),
    )
