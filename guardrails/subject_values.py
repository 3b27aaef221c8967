"""`policy.contradicted`: a value the book gives another subject, where it gives the answer's
subject a different one.

A book often states several values in one breath, each after the words that name its subject:
"repairs: bikes within 3 days, scooters within 5 days"; "arrives: card, 4 to 8 business days;
wallet, 1 business day". An answer that names one subject and gives another's value ("your
scooter will be ready within 3 days") reads one label and the other value.

Each value of the book is read with its label: the words between the separator before it (or
the value before it) and the value ("scooters within"), extended to the separator before that
when the stretch names nothing ("card, 4 to 8 business days"). The answer's value is read with
its own label in the same way, and the words after it up to the next separator. Labels are
compared by Snowball stems in the answer's language (the book translated by Apertium where it is
in another language, `guardrails.translation`), without the book's common words and the units.

The answer's value is contradicted when a label stating another value of a comparable unit
shares more words with the answer's label than any label stating the answer's value, and all
the labels it ties with give that same other value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails.grammar import LANGUAGES, grammar_language, lexicon
from guardrails.grounding import Clause, PolicyIndex, equivalent, policy_finding
from guardrails.lexicon import concepts
from guardrails.policy_tables import comparable_units
from guardrails.records import Finding, Span
from guardrails.stems import book_language, book_stems, text_stems, translated_stems
from guardrails.text import Quantity, fold, per_policy, quantities
from guardrails.translation import translate


def _grammar() -> dict[str, dict[str, list[str]]]:
    loaded: dict[str, dict[str, list[str]]] = lexicon("value_labels")
    return loaded


def grammar_words(kind: str, language: str) -> frozenset[str]:
    """Grammar words of `guardrails/lexicons/value_labels.yaml` in `language`."""
    return frozenset(_grammar().get(kind, {}).get(language, []))


#: A separator between the labelled values of a clause, or between the parts of a sentence.
_SEPARATOR = re.compile(r"[,;:()\n]|(?<=[.!?])\s")
#: Specific words an answer's label must share with another value's label to be read as its
#: subject.
SHARED_WORDS = 1
#: Labels a word appears in to be too common to name a subject.
COMMON_LABELS = 3


@dataclass(frozen=True)
class Labelled:
    """A value of the book and the stems of the words that name its subject."""

    clause: Clause
    quantity: Quantity
    label: frozenset[str]
    #: The stems of its whole clause.
    whole: frozenset[str]
    #: Whether words that may label it follow it ("10 days in Chile").
    trailing: bool


def _label_span(text: str, start: int, floor: int) -> tuple[int, int]:
    """The stretch of `text` before `start` that names a value's subject: from the separator
    before it (not before `floor`), or from the one before that when the stretch has no word."""
    cuts = [m.end() for m in _SEPARATOR.finditer(text, floor, start)]
    left = max([floor, *cuts])
    if not re.search(r"[^\W\d_]{3,}", text[left:start]) and cuts:
        earlier = [c for c in cuts if c < left - 1]
        left = max([floor, *earlier])
    return left, start


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _number(token: str) -> float | None:
    plain = token.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", token) else token
    try:
        return float(plain.replace(",", "."))
    except ValueError:
        return None


def _labels(
    stated: tuple[Quantity, ...], text: str, language: str
) -> list[tuple[Quantity, frozenset[str], frozenset[str], bool]]:
    """Each of a clause's quantities (read in its own words) with its label and the whole
    clause's stems, read in `text` (the clause or its translation, where each value is found
    by its number in the same order)."""
    out = []
    floor = 0
    whole = text_stems(text, language)
    for q in stated:
        found = next(
            (
                m
                for m in _NUMBER.finditer(text, floor)
                if (n := _number(m.group(0))) is not None and abs(n - q.value) < 1e-9
            ),
            None,
        )
        if found is None:
            continue
        left, right = _label_span(text, found.start(), floor)
        out.append(
            (
                q,
                text_stems(text[left:right], language),
                whole,
                _trailing(text, found.end(), language),
            )
        )
        floor = found.end()
    return out


def _trailing(text: str, end: int, language: str) -> bool:
    """Whether words that may label a value follow it before the next separator ("10 days in
    Chile"), rather than an anchor of the value ("10 days of the request") or nothing."""
    after = _SEPARATOR.search(text, end)
    stretch = text[end : after.start() if after is not None else len(text)]
    words = [
        w
        for w in re.findall(r"[^\W\d_]+", fold(stretch))
        if w not in grammar_words("unit_words", language)
    ]
    if not words:
        return False
    return words[0] not in grammar_words("value_anchor", language)


def _noise(language: str) -> frozenset[str]:
    return grammar_words("label_noise", language)


@dataclass(frozen=True)
class BookLabels:
    values: tuple[Labelled, ...]
    #: Stems too common in the book to name a subject.
    generic: frozenset[str]
    #: Stems in the labels of several values ("within", "every"): they name no one subject.
    common: frozenset[str]


def book_labels(index: PolicyIndex, language: str) -> BookLabels | None:
    """The book's values with their labels, read in `language` (one of `LANGUAGES`)."""
    return _book_labels(index, LANGUAGES[LANGUAGES.index(language)])


@per_policy()
def _book_labels(index: PolicyIndex, language: str) -> BookLabels | None:
    source = book_language(index) or language
    texts: tuple[str, ...] = tuple(c.text for c in index.clauses)
    if source == language:
        generic = book_stems(index).generic[LANGUAGES.index(language)]
    else:
        translated = translate(texts, source, language)
        table = translated_stems(index, language)
        if translated is None or table is None:
            return None  # no translation: nothing to read the labels with
        texts = tuple(t.replace("*", "").replace("#", "") for t in translated)
        generic = table.generic
    noise = frozenset(text_stems(" ".join(_noise(language)), language))
    values = tuple(
        Labelled(clause, q, label - noise, whole - noise, trailing)
        for clause, text in zip(index.clauses, texts, strict=True)
        for q, label, whole, trailing in _labels(clause.quantities, text, language)
        if q.kind != "time"
    )
    counts: dict[str, int] = {}
    for v in values:
        for stem in v.label:
            counts[stem] = counts.get(stem, 0) + 1
    common = frozenset(s for s, n in counts.items() if n >= COMMON_LABELS)
    return BookLabels(values, generic | noise, common)


def _answer_label(text: str, q: Quantity, language: str) -> frozenset[str]:
    """The stems of the words naming the subject of an answer's value: its label (from the
    value before it at most), and the words after it up to the next separator."""
    floor = max((p.end for p in quantities(text) if p.end <= q.start), default=0)
    left, right = _label_span(text, q.start, floor)
    after = _SEPARATOR.search(text, q.end)
    end = after.start() if after is not None else len(text)
    return text_stems(text[left:right] + " " + text[q.end : end], language)


def subject_value_finding(
    q: Quantity, text: str, index: PolicyIndex, language: str | None
) -> Finding | None:
    """The answer's value `q` (offsets index the sentence `text`) against the book's values of
    the same subject: `policy.contradicted` with the clause whose label it reads, when that
    label gives another value."""
    lang = grammar_language(language)
    if lang is None or q.kind != "duration":
        # (lists of percentages and amounts are tiers and price lists, read elsewhere)
        return None
    table = book_labels(index, lang)
    if table is None:
        return None
    own = _answer_label(text, q, lang) - table.generic - text_stems(q.text, lang)
    if not own:
        return None

    def shared(v: Labelled) -> int:
        return len((own & v.label) - text_stems(v.quantity.text, lang))

    comparable = [v for v in table.values if comparable_units(q, v.quantity)]
    if any(_same(q, v.quantity) and shared(v) for v in comparable):
        return None  # a label of the answer's subject gives the answer's value
    for clause in dict.fromkeys(v.clause for v in comparable):
        siblings = [v for v in comparable if v.clause is clause]
        named = [v for v in siblings if shared(v) >= SHARED_WORDS]
        if len(siblings) < 2 or len(named) != 1 or _same(q, named[0].quantity):
            continue
        if any(v.trailing for v in siblings):
            continue  # labels after the values: the words before a value are not its own
        # one value of a list, named by the answer's words, and another value stated
        other = named[0]
        if not any(not _same(other.quantity, v.quantity) for v in siblings):
            continue
        # a clause elsewhere stating the answer's value, as close to the sentence's words or
        # to its concepts (where the translation misses a word the lexicon knows)
        closeness = len(own & other.whole)
        about = concepts(text) - index.generic
        near = len(about & clause.concepts)
        if any(
            _same(q, v.quantity)
            and v.clause is not clause
            and (len(own & v.whole) >= closeness or len(about & v.clause.concepts) >= max(near, 1))
            for v in comparable
        ):
            continue
        stated = " ".join(other.quantity.text.split())
        return policy_finding(
            "policy.contradicted",
            f"The answer states {q.text}, but the policy states {stated} for "
            "what the sentence speaks of.",
            Span(start=q.start, end=q.end, text=q.text),
            index,
            "the policy's value for the subject the sentence names is another",
            clause,
        )
    return None


def _same(q: Quantity, p: Quantity) -> bool:
    return equivalent(q, p) or _same_range(q, p)


def _same_range(q: Quantity, p: Quantity) -> bool:
    return (
        q.upper is not None
        and p.upper is not None
        and p.same_unit(q)
        and (q.value, q.upper) == (p.value, p.upper)
    )
