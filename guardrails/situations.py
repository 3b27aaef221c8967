"""When a conversation needs a person, read from the customer's own words.

A case that says nothing about handoff (no `expect`, as in production transcripts, or
`expect.handoff` unset) still needs a path to a person when the customer asks for one ("quiero
que me atienda un humano", "can I speak to a real person", "posso falar com alguém?") or is
in a situation no bot should handle alone: a bereavement, a serious illness, a data leak or a
hacked account, a legal threat or a complaint to a regulator, a vulnerable customer, a
customer nobody has answered ("llevo días sin que nadie conteste", "no one ever got back to
me"); and whenever the case is a crisis (`kind: crisis`).

The words are data, one YAML file per concept under `guardrails/lexicons/handoff/` (their
README describes the format): patterns of words in order, with slots shared between patterns,
compared after folding and Snowball stemming in the case's language, with a negation just
before a match cancelling it ("no quiero hablar con nadie"). Only the customer's messages are
read, and only a bounded amount of them.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
import yaml

from guardrails.records import Case
from guardrails.text import fold

LANGUAGES = ("es", "en", "pt")
_STEMMER_NAMES = {"es": "spanish", "en": "english", "pt": "portuguese"}
#: Concepts in the order they are looked for; the first that matches is reported.
CONCEPTS = (
    "request",
    "urgent",
    "bereavement",
    "illness",
    "data_breach",
    "legal",
    "vulnerable",
    "unanswered",
)
_LEXICON_DIR = ("lexicons", "handoff")

# Bounds: a customer message is read up to this many characters, and only the last messages.
MAX_CHARS = 20_000
MAX_MESSAGES = 20

_TOKEN = re.compile(r"[a-z0-9]+|[.!?\n]|[,;:()]")
_SENTENCE_END = frozenset(".!?\n")


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Slot:
    exact: frozenset[str]
    stems: frozenset[str]

    def hits(self, word: str, stem: str) -> bool:
        return word in self.exact or stem in self.stems


@dataclass(frozen=True)
class Pattern:
    text: str
    slots: tuple[Slot, ...]
    gap: int
    negatable: bool = True
    #: a word of the concept's `over` list just before the match says the situation is over
    #: ("fiquei internado", "I was in hospital"): it cancels the match like a negation
    over: bool = False


@dataclass(frozen=True)
class Concept:
    name: str
    reason: str
    patterns: Mapping[str, tuple[Pattern, ...]]
    #: per language, the words that say a situation is over (for patterns with `over`)
    over: Mapping[str, frozenset[str]]
    #: per language, every word that can open one of its patterns: a text is only searched
    #: from the positions of these
    heads: Mapping[str, Slot]


def _heads(patterns: tuple[Pattern, ...]) -> Slot:
    return Slot(
        frozenset().union(*(p.slots[0].exact for p in patterns)),
        frozenset().union(*(p.slots[0].stems for p in patterns)),
    )


@dataclass(frozen=True)
class Need:
    """Why the conversation needs a person: the concept, its reason, the customer's words."""

    concept: str
    reason: str
    quote: str


# --- stemming ---------------------------------------------------------------------------------

_STEM_LOCK = threading.Lock()  # a Snowball stemmer keeps state between calls
_STEMMERS: dict[str, Any] = {}


@lru_cache(maxsize=65_536)
def stem(language: str, word: str) -> str:
    with _STEM_LOCK:
        stemmer = _STEMMERS.get(language)
        if stemmer is None:
            stemmer = _STEMMERS[language] = snowballstemmer.stemmer(_STEMMER_NAMES[language])
        return str(stemmer.stemWord(word))


# --- loading ----------------------------------------------------------------------------------


def _words_of(value: Any, where: str) -> list[str]:
    if not isinstance(value, str) or not value.split():
        raise LexiconError(f"{where}: expected a string of space-separated words")
    return fold(value).split()


def _slot(spec: str, language: str, slots: Mapping[str, tuple[str, ...]], where: str) -> Slot:
    exact: set[str] = set()
    stems: set[str] = set()
    for choice in spec.split("|"):
        if choice.startswith("@"):
            if choice[1:] not in slots:
                raise LexiconError(f"{where}: unknown slot {choice}")
            words = list(slots[choice[1:]])
        else:
            words = [choice]
        for word in words:
            if word.startswith("="):
                exact.add(word[1:])
            elif word:
                stems.add(stem(language, word))
    if not exact and not stems:
        raise LexiconError(f"{where}: an empty word in the pattern")
    return Slot(frozenset(exact), frozenset(stems))


def parse_concept(name: str, data: Any, source: str) -> Concept:
    """A concept from a lexicon file's parsed YAML; `source` names the file in errors."""
    if not isinstance(data, dict):
        raise LexiconError(f"{source}: expected a mapping with reason and patterns")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason:
        raise LexiconError(f"{source}: field reason: expected a sentence")
    default_gap = data.get("gap", 2)
    raw_slots = data.get("slots") or {}
    raw_patterns = data.get("patterns")
    raw_over = data.get("over") or {}
    if (
        not isinstance(raw_slots, dict)
        or not isinstance(raw_patterns, dict)
        or not isinstance(raw_over, dict)
    ):
        raise LexiconError(f"{source}: slots, patterns and over must be mappings by language")
    over = {
        language: frozenset(_words_of(raw_over[language], f"{source}: over.{language}"))
        for language in LANGUAGES
        if language in raw_over
    }
    patterns: dict[str, tuple[Pattern, ...]] = {}
    for language in LANGUAGES:
        slots = {
            slot: tuple(_words_of(by_lang.get(language), f"{source}: slots.{slot}.{language}"))
            for slot, by_lang in raw_slots.items()
            if isinstance(by_lang, dict) and language in by_lang
        }
        compiled = []
        for i, entry in enumerate(raw_patterns.get(language) or ()):
            where = f"{source}: patterns.{language}[{i}]"
            if isinstance(entry, dict):
                spec, gap = entry.get("words"), entry.get("gap", default_gap)
                negatable, ended = entry.get("negatable", True), entry.get("over", False)
            else:
                spec, gap, negatable, ended = entry, default_gap, True, False
            if not isinstance(negatable, bool):
                raise LexiconError(f"{where}: field negatable: expected true or false")
            if not isinstance(ended, bool):
                raise LexiconError(f"{where}: field over: expected true or false")
            if ended and language not in over:
                raise LexiconError(f"{where}: field over: the file has no over.{language} words")
            if not isinstance(gap, int) or gap < 0 or gap > 6:
                raise LexiconError(f"{where}: field gap: expected a whole number from 0 to 6")
            parts = _words_of(spec, where)
            compiled.append(
                Pattern(
                    str(spec),
                    tuple(_slot(p, language, slots, where) for p in parts),
                    gap,
                    negatable,
                    ended,
                )
            )
        patterns[language] = tuple(compiled)
    heads = {lang: _heads(p) for lang, p in patterns.items()}
    return Concept(name, reason, patterns, over, heads)


def _read(name: str) -> Any:
    resource = resources.files("guardrails").joinpath(*_LEXICON_DIR, f"{name}.yaml")
    return yaml.safe_load(resource.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def concepts() -> tuple[Concept, ...]:
    return tuple(
        parse_concept(n, _read(n), f"guardrails/lexicons/handoff/{n}.yaml") for n in CONCEPTS
    )


@lru_cache(maxsize=1)
def _emergency() -> Concept:
    name = "emergency"
    return parse_concept(name, _read(name), f"guardrails/lexicons/handoff/{name}.yaml")


def _last_words(concept: Concept) -> re.Pattern[str]:
    """A pattern of the first and last words (or stems) of a concept's patterns, as far apart
    as the pattern allows within a sentence: a text without any cannot match, and is not
    stemmed at all. (Only for concepts whose stems start their words, as those of
    `beyond_competence` and `urgent` do; "dying" -> "die" would not.)"""

    def alts(slot: Slot) -> str:
        return "|".join(sorted(map(re.escape, slot.stems | slot.exact)))

    shapes = set()
    for patterns in concept.patterns.values():
        for p in patterns:
            if len(p.slots) == 1:
                shapes.add(rf"(?<![a-z0-9])(?:{alts(p.slots[0])})")
                continue
            between = p.gap * (len(p.slots) - 1) + len(p.slots) - 2
            shapes.add(
                rf"(?<![a-z0-9])(?:{alts(p.slots[0])})[a-z0-9]*"
                rf"(?:[^a-z0-9.!?\n]+[a-z0-9]+){{0,{between}}}?"
                rf"[^a-z0-9.!?\n]+(?:{alts(p.slots[-1])})"
            )
    return re.compile("|".join(sorted(shapes)))


@lru_cache(maxsize=1)
def _beyond() -> tuple[Concept, re.Pattern[str]]:
    name = "beyond_competence"
    concept = parse_concept(name, _read(name), f"guardrails/lexicons/handoff/{name}.yaml")
    return concept, _last_words(concept)


@lru_cache(maxsize=1)
def _urgent_gate() -> re.Pattern[str]:
    return _last_words(next(c for c in concepts() if c.name == "urgent"))


def urgent_now(case: Case) -> Need | None:
    """`reported(case, "urgent")`, with the customer's messages first searched for the words
    an emergency is told with (most conversations have none, and are not stemmed)."""
    gate = _urgent_gate()
    if not any(gate.search(fold(m)) for m in customer_messages(case)):
        return None
    return reported(case, "urgent")


def beyond_competence(text: str, language: str) -> str | None:
    """The words of an answer that decline a question as beyond what it can judge ("no puedo
    interpretar resultados", "I can't give medical advice"), or None."""
    concept, gate = _beyond()
    if gate.search(fold(text[:MAX_CHARS])) is None:
        return None
    for lang in _languages(language):
        quote = find(concept, text, lang)
        if quote is not None:
            return quote
    return None


def emergency_service(text: str) -> tuple[int, int] | None:
    """Where `text` (an answer) sends the reader to emergency services ("llame al 112",
    "go to the emergency room"), in any of the languages, or None; a negated mention ("no hace
    falta llamar al 112") does not count."""
    concept = _emergency()
    for language in LANGUAGES:
        quote = find(concept, text, language)
        if quote is not None:
            at = text.find(quote)
            return (at, at + len(quote)) if at >= 0 else (0, 0)
    return None


@lru_cache(maxsize=1)
def negations() -> tuple[int, Mapping[str, frozenset[str]]]:
    data = _read("negation")
    where = "guardrails/lexicons/handoff/negation.yaml"
    words = data.get("words") if isinstance(data, dict) else None
    window = data.get("window") if isinstance(data, dict) else None
    if not isinstance(words, dict) or not isinstance(window, int):
        raise LexiconError(f"{where}: expected window (a number) and words by language")
    return window, {
        lang: frozenset(_words_of(words.get(lang), f"{where}: words.{lang}")) for lang in LANGUAGES
    }


@lru_cache(maxsize=1)
def _otherwise() -> Mapping[str, frozenset[str]]:
    """Per language, the words that make the negation right after them an "otherwise" ("si
    no, quiero hablar con alguien"): it cancels nothing."""
    data = _read("negation")
    where = "guardrails/lexicons/handoff/negation.yaml"
    found = data.get("otherwise") or {}
    if not isinstance(found, dict):
        raise LexiconError(f"{where}: otherwise: expected words by language")
    return {
        lang: frozenset(_words_of(found[lang], f"{where}: otherwise.{lang}"))
        for lang in LANGUAGES
        if lang in found
    }


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tokens:
    text: str  # the original text, for quotes
    words: tuple[str, ...]
    stems: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    sentence: tuple[int, ...]  # sentence number of each word
    clause: tuple[int, ...]  # clause number of each word


@lru_cache(maxsize=64)  # every concept reads the same messages
def _tokens(text: str, language: str) -> _Tokens:
    folded = fold(text)
    words, starts, ends, sentence, clause = [], [], [], [], []
    s = c = 0
    for m in _TOKEN.finditer(folded):
        tok = m.group(0)
        if tok in _SENTENCE_END:
            s += 1
            c += 1
            continue
        if not tok[0].isalnum():
            c += 1
            continue
        words.append(tok)
        starts.append(m.start())
        ends.append(m.end())
        sentence.append(s)
        clause.append(c)
    stems = tuple(stem(language, w) for w in words)
    return _Tokens(text, tuple(words), stems, tuple(starts), tuple(ends), tuple(sentence),
                   tuple(clause))  # fmt: skip


def _match_from(tokens: _Tokens, pattern: Pattern, first: int) -> list[int] | None:
    """Token indices of `pattern` matched with its first word at `first`, or None."""
    found = [first]

    def extend(k: int) -> bool:
        if k == len(pattern.slots):
            return True
        prev = found[-1]
        last = min(len(tokens.words) - 1, prev + 1 + pattern.gap)
        for j in range(prev + 1, last + 1):
            if tokens.sentence[j] != tokens.sentence[first]:
                break
            if pattern.slots[k].hits(tokens.words[j], tokens.stems[j]):
                found.append(j)
                if extend(k + 1):
                    return True
                found.pop()
        return False

    return found if extend(1) else None


def _negated(
    tokens: _Tokens,
    matched: list[int],
    window: int,
    negs: frozenset[str],
    otherwise: frozenset[str] = frozenset(),
) -> bool:
    first, last = matched[0], matched[-1]
    lo = first
    while lo > 0 and first - lo < window and tokens.clause[lo - 1] == tokens.clause[first]:
        lo -= 1
    taken = set(matched)
    return any(
        tokens.words[i] in negs
        and not (
            i > 0
            and tokens.words[i - 1] in otherwise
            and tokens.clause[i - 1] == tokens.clause[i]  # "sí, no quiero ...": a yes
        )
        for i in range(lo, last + 1)
        if i not in taken
    )


def find(concept: Concept, text: str, language: str) -> str | None:
    """The customer's words in `text` that match `concept`, or None."""
    patterns = concept.patterns.get(language, ())
    if not patterns:
        return None
    tokens = _tokens(text[:MAX_CHARS], language)
    heads = concept.heads[language]
    starts = [
        i
        for i, (word, st) in enumerate(zip(tokens.words, tokens.stems, strict=True))
        if heads.hits(word, st)
    ]
    if not starts:
        return None
    window, negs = negations()
    for pattern in patterns:
        head = pattern.slots[0]
        for i in starts:
            if not head.hits(tokens.words[i], tokens.stems[i]):
                continue
            matched = _match_from(tokens, pattern, i)
            if matched is None:
                continue
            if pattern.negatable and _negated(
                tokens, matched, window, negs[language], _otherwise().get(language, frozenset())
            ):
                continue
            if pattern.over and _negated(tokens, matched, window, concept.over[language]):
                continue  # "fiquei internado de quarta a quinta": an episode that is over
            return tokens.text[tokens.starts[matched[0]] : tokens.ends[matched[-1]]]
    return None


def _languages(tag: str) -> tuple[str, ...]:
    language = tag.split("-")[0].lower()
    return (language,) if language in LANGUAGES else LANGUAGES


def _need(kind: str, tag: str, messages: tuple[str, ...]) -> Need | None:
    for concept in concepts():
        for language in _languages(tag):
            for message in messages:
                quote = find(concept, message, language)
                if quote is not None:
                    return Need(concept.name, concept.reason, quote)
    if kind == "crisis":
        return Need("crisis", "the case is a crisis (kind: crisis)", "")
    return None


def customer_messages(case: Case) -> tuple[str, ...]:
    """The customer's messages, the last `MAX_MESSAGES`, each cut at `MAX_CHARS`."""
    said: Sequence[str] = [m.content[:MAX_CHARS] for m in case.messages if m.role == "user"]
    return tuple(said[-MAX_MESSAGES:])


# Every sample of a case reads the same conversation: its verdict is kept, keyed by a digest
# (not by the messages, which may be long), for the most recent conversations only.
_SEEN: OrderedDict[tuple[str, str, bytes], Need | None] = OrderedDict()
_SEEN_MAX = 1024
_SEEN_LOCK = threading.Lock()


def needs_person(case: Case) -> Need | None:
    """Why the conversation needs a person, from the customer's words and the case's kind; None
    when nothing in it calls for one."""
    messages = customer_messages(case)
    digest = hashlib.blake2b("\x00".join(messages).encode("utf-8", "surrogatepass")).digest()
    key = (case.kind, case.language, digest)
    with _SEEN_LOCK:
        if key in _SEEN:
            _SEEN.move_to_end(key)
            return _SEEN[key]
    need = _need(case.kind, case.language, messages)
    with _SEEN_LOCK:
        _SEEN[key] = need
        while len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)
    return need


def reported(case: Case, name: str) -> Need | None:
    """Whether the customer's own words report the situation `name` (one of `CONCEPTS`),
    whatever else they report first."""
    concept = next((c for c in concepts() if c.name == name), None)
    if concept is None:
        raise ValueError(f"unknown situation {name!r}; known: {', '.join(CONCEPTS)}")
    for language in _languages(case.language):
        for message in customer_messages(case):
            quote = find(concept, message, language)
            if quote is not None:
                return Need(concept.name, concept.reason, quote)
    return None
