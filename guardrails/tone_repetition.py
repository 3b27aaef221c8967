"""`tone.repetition`: a sentence said twice in one answer.

A sentence is repeated, or nearly repeated (at least five words, 80% or more of its distinct
words shared with an earlier sentence, and not two sentences that differ in a number, such as
two phone lines), or comes back whole inside a longer sentence, or is restated (seven distinct
words or more, 80% of them inside another sentence), or restated in other words (five content
words or more -- words of four letters or more, compared by their Snowball stem in the case's
language, so "devolvido" meets "devolvidos" -- 80% of them in another sentence, both
sentences negated or neither, and not two sentences that differ in a number). Sentences are
compared pairwise, on at most 300 sentences.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardrails.fact_keys import stems as stems_of
from guardrails.records import Case, Finding, Span
from guardrails.tone_phrases import word_list
from guardrails.tone_rule import Answer, finding, quote
from guardrails.tone_tokens import Tokens, strip_accents


def repetition(case: Case, answer: Answer) -> list[Finding]:
    """The rule: one finding per sentence that repeats an earlier one."""
    return _repetition(answer.scan.tokens, case.language.split("-")[0].lower())


#: A sentence with this many content words, this much of them in another sentence, restates it
#: in other words.
REWORDED_MIN_WORDS = 5
REWORDED_SHARE = 0.8
#: Content words are at least this long: shorter ones are function words ("de", "the", "não").
CONTENT_WORD = 4
#: The stems of `guardrails.fact_keys.stems` (en, es, pt), by language.
_STEM_SLOT = {"en": 0, "es": 1, "pt": 2}
_NEGATORS = frozenset(word_list("common_words", "negators"))


#: Word -> stem, per language: a plain dict (the lookup is the hot loop of the rule), emptied
#: when it grows past `_STEMS_MAX` words so memory stays bounded.
_STEMS: dict[str, dict[str, str]] = {language: {} for language in _STEM_SLOT}
_STEMS_MAX = 1 << 16


def stem(language: str, word: str) -> str:
    """A lowercase word's Snowball stem in `language` (one of `_STEM_SLOT`), accents folded."""
    known = _STEMS[language]
    found = known.get(word)
    if found is None:
        if len(known) >= _STEMS_MAX:
            known.clear()
        found = known[word] = stems_of(strip_accents(word))[_STEM_SLOT[language]]
    return found


@dataclass(frozen=True)
class _Content:
    """A sentence's content words (stems) and whether it is negated."""

    stems: frozenset[str]
    negated: bool


def _content(words: Iterable[str], language: str) -> _Content:
    words = [w for w in words if w.isalpha()]
    known = _STEMS[language]
    stems = frozenset(known.get(w) or stem(language, w) for w in words if len(w) >= CONTENT_WORD)
    return _Content(stems, not _NEGATORS.isdisjoint(words))


def _reworded(a: _Content, b: _Content) -> bool:
    """Whether two sentences say the same thing in other words: 80% of the content words of the
    one with fewer (five or more) in the other, and both negated or neither."""
    small = min(len(a.stems), len(b.stems))
    if small < REWORDED_MIN_WORDS or a.negated != b.negated:
        return False
    return len(a.stems & b.stems) / small >= REWORDED_SHARE


def _any_reworded(chunks: list[str], language: str) -> bool:
    if language not in _STEM_SLOT:
        return False
    contents = [(c, frozenset(c.split())) for c in chunks[:300]]
    found = [(_content(words, language), words) for _, words in contents]
    found = [(c, w) for c, w in found if len(c.stems) >= REWORDED_MIN_WORDS]
    return any(
        _reworded(a, b) and not (_has_number(wa - wb) and _has_number(wb - wa))
        for i, (a, wa) in enumerate(found)
        for b, wb in found[i + 1 :]
    )


def _repetition(tokens: Tokens, language: str) -> list[Finding]:
    """A cheap pass on the space-separated tokens; the precise one (with offsets, on the same
    chunks and words) runs only if the cheap one finds a repeated sentence. A chunk is what
    lies between two sentence ends; its words are all its tokens."""
    # Chunks with at least four spaces (so possibly five words); identical sentences give
    # identical chunk strings, so an exact repeat is a repeated string.
    chunks = [c for c in (c.strip() for c in tokens.flat.split(" . ")) if c.count(" ") >= 4]
    if len(chunks) < 2:
        return []
    if (
        len(set(chunks)) == len(chunks)
        and not _near_duplicates(chunks)
        and not _contained(chunks)
        and not _restated(chunks)
        and not _any_reworded(chunks, language)
    ):
        return []
    return _repetition_findings(tokens, language)


#: A sentence this long (distinct words) whose words are this much inside another sentence
#: restates it ("Tu reembolso de 30 euros ya está en camino." after "Tu reembolso de 30 euros
#: del pedido 4471 ya está en camino.").
RESTATED_MIN_WORDS = 7
RESTATED_SHARE = 0.8


def _restated(chunks: list[str]) -> bool:
    sets = [w for w in (frozenset(c.split()) for c in chunks[:300]) if len(w) >= RESTATED_MIN_WORDS]
    return any(_restates(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :])


def _restates(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether the smaller of two sentences has 80% of its distinct words in the other, and
    they do not differ in a number (two phone lines, two prices)."""
    small = min(len(a), len(b))
    if small < RESTATED_MIN_WORDS:
        return False
    if len(a & b) / small < RESTATED_SHARE:
        return False  # (the cheap test first: most pairs share few words)
    return not (_has_number(a - b) and _has_number(b - a))


def _contained(chunks: list[str]) -> bool:
    """Whether a whole sentence comes back inside a longer one ("A loja não cobra juros."
    and later "A loja não cobra juros, e nada é somado por dia.")."""
    padded = [f" {c} " for c in chunks[:300]]
    return any(a != b and a in b for a in padded for b in padded if len(a) < len(b))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _near_duplicates(chunks: list[str]) -> bool:
    """Whether two chunks share 80% of their distinct words. Only chunks with a similar number
    of distinct words can, so chunks are compared in order of size within that window."""
    sets = sorted((frozenset(c.split()) for c in chunks[:300]), key=len)
    for j in range(1, len(sets)):
        b = sets[j]
        size_b = len(b)
        for i in range(j - 1, -1, -1):
            a = sets[i]
            size_a = len(a)
            if size_a < 0.8 * size_b:
                break
            # `_overlap(a, b) >= 0.8`, inlined: this is the hot loop of the repetition check
            if size_a >= 5 and (common := len(a & b)) / (size_a + size_b - common) >= 0.8:
                return True
    return False


def _with_end_mark(tokens: Tokens, first: int, last: int) -> Span:
    """The span of a sentence's words and the punctuation that ends it."""
    span = tokens.span(first, last)
    text, end = tokens.text, span.end
    while end < len(text) and text[end] in ".!?…":
        end += 1
    return Span(start=span.start, end=end, text=text[span.start : end])


def _has_number(words: frozenset[str]) -> bool:
    return any(w[0].isdigit() for w in words)


def _inside(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one sentence's words come back, in order and together, inside the other."""
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(short) == len(long):
        return False
    n = len(short)
    return any(long[k : k + n] == short for k in range(len(long) - n + 1))


_ALMOST = " almost word for word"


def _repetition_findings(tokens: Tokens, language: str) -> list[Finding]:
    toks = tokens.toks
    chunks: list[tuple[int, int, tuple[str, ...]]] = []  # first token, last token, words
    first, words = -1, list[str]()
    for i, tok in enumerate(toks):
        if tok == ".":
            if words:
                chunks.append((first, i - 1, tuple(words)))
            first, words = -1, list[str]()
        else:
            if first < 0:
                first = i
            words.append(tok)
    if words:
        chunks.append((first, len(toks) - 1, tuple(words)))
    chunks = [c for c in chunks if len(c[2]) >= 5][:300]
    sets = [frozenset(c[2]) for c in chunks]
    contents: list[_Content | None] = [None] * len(chunks)  # computed when first needed
    findings = []
    for j in range(1, len(chunks)):
        b = sets[j]
        for i in range(j):
            exact = chunks[i][2] == chunks[j][2]
            a = sets[i]
            overlap = _overlap(a, b)
            # Sentences with a different number on each side state different facts ("call
            # 800 555 020" / "call 800 555 010"): only an exact repeat counts then.
            inside = _inside(chunks[i][2], chunks[j][2]) or _restates(a, b)
            numbers_differ = _has_number(a - b) and _has_number(b - a)
            near = overlap >= 0.8 and not numbers_differ
            reworded = False
            if not (exact or inside or near or numbers_differ) and language in _STEM_SLOT:
                for k in (i, j):
                    if contents[k] is None:
                        contents[k] = _content(chunks[k][2], language)
                first_content, second_content = contents[i], contents[j]
                assert first_content is not None and second_content is not None
                reworded = _reworded(first_content, second_content)
            if exact or inside or near or reworded:
                relation = (
                    "same words as"
                    if exact
                    else "inside or around"
                    if inside
                    else f"{overlap:.0%} word overlap with"
                    if near
                    else "the same content words as"
                )
                span = _with_end_mark(tokens, chunks[j][0], chunks[j][1])
                earlier = _with_end_mark(tokens, chunks[i][0], chunks[i][1])
                findings.append(
                    finding(
                        "repetition",
                        "major",
                        "The answer repeats a sentence"
                        + (
                            ""
                            if exact
                            else " in other words"
                            if reworded
                            else " almost word for word"
                        )
                        + f': "{quote(span.text)}".',
                        span,
                        earlier.text,
                        f"{relation} the sentence at character {earlier.start}",
                    )
                )
                break
    return findings
