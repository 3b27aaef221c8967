"""The phrase index of the `tone` guardrail: every phrase of every tone lexicon
(`guardrails/lexicons/tone/*.yaml`, format in the README there) in one index keyed by its least
common word, so that one C-speed pass over an answer's tokens finds the few places worth a
closer look.

A phrase is written as space-separated elements: `a|b|c` matches one of these words,
`lee*|revis*` a word starting with one of these, `*amos|*emos` a word ending with one of these,
`_` any word, and a leading `?` makes the element optional. Words match with or without their
accents unless written with a leading `=` ("=estás": "estas" is a demonstrative). Each phrase
is indexed under its least common literal element (its anchor), so that frequent words such as
"de" or "you" are never looked up: a phrase is checked only where its anchor occurs, outwards
from it. A match is a hit (first token, last token, weight), kept per category.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import compress
from typing import Any

import yaml

from guardrails.records import Span
from guardrails.tone_tokens import CLAUSE_MARKS, SENTENCE_MARKS, Tokens, strip_accents

#: The lexicon files whose `entries` are phrases, in the order they are indexed.
PHRASE_FILES = (
    "apology",
    "blame",
    "greetings",
    "sensitive",
    "register_es",
    "register_pt",
    "register_en",
)

Element = tuple[str, frozenset[str] | tuple[str, ...] | None]
#: (first token, last token, weight)
Hit = tuple[int, int, int]

_CLAUSE_WORDS = frozenset({"o", "ou", "or"})
#: `where` in a lexicon entry -> the code kept in a rule: "" anywhere; "S" sentence start; "C"
#: sentence or clause start (after , ;); "O" sentence start or after "o"/"or"/"ou".
_WHERE = {"anywhere": "", "sentence": "S", "clause": "C", "option": "O"}
_ENTRY_KEYS = frozenset({"category", "phrases", "words", "forms", "weight", "where", "not_after"})
_MACRO = re.compile(r"\{([A-Z_]+)\}")


class LexiconError(ValueError):
    """A tone lexicon file is malformed; the message names the file and the entry."""


def words(spec: str) -> list[str]:
    """Word lists are written as space-separated words."""
    return spec.split()


@cache
def lexicon(name: str) -> dict[str, Any]:
    """The parsed file `guardrails/lexicons/tone/<name>.yaml`."""
    resource = resources.files("guardrails").joinpath("lexicons", "tone", f"{name}.yaml")
    data = yaml.load(resource.read_text(encoding="utf-8"), Loader=_LOADER)
    if not isinstance(data, dict):
        raise LexiconError(f"guardrails/lexicons/tone/{name}.yaml: expected a mapping")
    return data


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def word_list(name: str, key: str) -> list[str]:
    """A plain word list of a lexicon file (a string of space-separated words)."""
    value = lexicon(name).get(key)
    if not isinstance(value, str):
        raise LexiconError(f"guardrails/lexicons/tone/{name}.yaml: `{key}` must be a string")
    return words(value)


@dataclass(frozen=True)
class Rule:
    category: str
    weight: int
    where: str  # a code of `_WHERE`
    before: tuple[Element, ...]  # elements before the anchor, nearest first
    after: tuple[Element, ...]  # elements after the anchor
    not_after: frozenset[str]
    trivial: bool  # a single word with no condition on its neighbours


def _variants(word: str) -> set[str]:
    if word.startswith("="):
        return {word[1:]}
    return {word, strip_accents(word)}


def _element(raw: str) -> Element:
    if raw == "_":
        return ("any", None)
    alts = raw.split("|")
    if all(a.startswith("*") for a in alts):
        suffixes = {v for a in alts for v in _variants(a[1:])}
        return ("suffix", tuple(sorted(suffixes)))
    if any(a.endswith("*") for a in alts):
        prefixes = {v for a in alts for v in _variants(a.rstrip("*"))}
        return ("prefix", tuple(sorted(prefixes)))
    return ("word", frozenset(v for a in alts for v in _variants(a)))


def _expand(elements: list[str]) -> list[list[str]]:
    """Every combination of the optional (`?`) elements present or absent."""
    out: list[list[str]] = [[]]
    for el in elements:
        if el.startswith("?"):
            out = [[*o, el[1:]] for o in out] + [list(o) for o in out]
        else:
            out = [[*o, el] for o in out]
    return out


def _anchor(elements: list[Element], common: frozenset[str]) -> int:
    """The position of the least common literal element."""
    best, best_score = -1, 2
    for pos, (kind, arg) in enumerate(elements):
        if kind != "word":
            continue
        assert isinstance(arg, frozenset)
        score = 1 if arg & common else 0
        if score < best_score:
            best, best_score = pos, score
    if best < 0:
        raise ValueError("a phrase needs at least one literal element")
    return best


def _add(
    index: dict[str, list[Rule]],
    common: frozenset[str],
    category: str,
    phrases: Iterable[str],
    *,
    weight: int,
    where: str,
    not_after: Iterable[str],
) -> None:
    for phrase in phrases:
        for raw in _expand(phrase.split()):
            elements = [_element(e) for e in raw]
            at = _anchor(elements, common)
            before, after = tuple(reversed(elements[:at])), tuple(elements[at + 1 :])
            avoid = frozenset(not_after)
            trivial = not (before or after or where or avoid)
            rule = Rule(category, weight, where, before, after, avoid, trivial)
            anchor = elements[at][1]
            assert isinstance(anchor, frozenset)
            for key in anchor:
                index.setdefault(key, []).append(rule)


def _entry_phrases(entry: dict[str, Any], macros: dict[str, str], where: str) -> list[str]:
    def expand(spec: str) -> str:
        def macro(m: re.Match[str]) -> str:
            if m.group(1) not in macros:
                raise LexiconError(f"{where}: unknown macro {{{m.group(1)}}}")
            return macros[m.group(1)]

        return _MACRO.sub(macro, spec)

    phrases = [expand(str(p)) for p in entry.get("phrases", [])]
    if "words" in entry:
        phrases += words(expand(str(entry["words"])))
    if "forms" in entry:
        forms = entry["forms"]
        phrases += [s + e for s in words(forms["stems"]) for e in words(forms["endings"])]
    return phrases


def build_index(read: Callable[[str], dict[str, Any]] = lexicon) -> dict[str, list[Rule]]:
    """The phrase index of the lexicon files `read` returns by name (the shipped ones by
    default); a malformed entry is a `LexiconError` naming its file and entry."""
    common = frozenset(words(str(read("common_words").get("common", ""))))
    index: dict[str, list[Rule]] = {}
    for name in PHRASE_FILES:
        data = read(name)
        macros = {k: " ".join(str(v).split()) for k, v in (data.get("macros") or {}).items()}
        for n, entry in enumerate(data.get("entries") or []):
            where = f"guardrails/lexicons/tone/{name}.yaml, entry {n + 1}"
            if not isinstance(entry, dict) or not isinstance(entry.get("category"), str):
                raise LexiconError(f"{where}: an entry needs a `category`")
            unknown = set(entry) - _ENTRY_KEYS
            if unknown:
                raise LexiconError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            if entry.get("where", "anywhere") not in _WHERE:
                raise LexiconError(f"{where}: `where` must be one of {', '.join(_WHERE)}")
            if not isinstance(entry.get("forms", {}), dict):
                raise LexiconError(f"{where}: `forms` needs `stems` and `endings`")
            try:
                _add(
                    index,
                    common,
                    entry["category"],
                    _entry_phrases(entry, macros, where),
                    weight=int(entry.get("weight", 2)),
                    where=_WHERE[entry.get("where", "anywhere")],
                    not_after=words(str(entry.get("not_after", ""))),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise LexiconError(f"{where}: {exc}") from exc
    return index


INDEX: dict[str, list[Rule]] = build_index()


@dataclass
class Scan:
    """An answer's tokens and the lexicon phrases found in them, per category."""

    tokens: Tokens
    hits: dict[str, list[Hit]] = field(default_factory=dict)

    def span(self, hit: Hit) -> Span:
        return self.tokens.span(hit[0], hit[1])


def _matches(tok: str, element: Element) -> bool:
    kind, arg = element
    if kind == "word":
        return tok in arg  # type: ignore[operator]
    if not tok[0].isalnum():
        return False
    if kind == "any":
        return True
    if kind == "prefix":
        return tok.startswith(arg)  # type: ignore[arg-type]
    return tok.endswith(arg)  # type: ignore[arg-type]


def _phrase_at(toks: list[str], i: int, rule: Rule) -> tuple[int, int] | None:
    """(first, last) token of the phrase whose anchor is token `i`, or None."""
    first = i
    for element in rule.before:
        first -= 1
        if first < 0 or not _matches(toks[first], element):
            return None
    last = i
    n = len(toks)
    for element in rule.after:
        last += 1
        if last >= n or not _matches(toks[last], element):
            return None
    prev = toks[first - 1] if first else "."
    where = rule.where
    if where:
        if where == "S":
            ok = prev[0] in SENTENCE_MARKS
        elif where == "C":
            ok = prev[0] in CLAUSE_MARKS
        else:
            ok = prev[0] in SENTENCE_MARKS or prev in _CLAUSE_WORDS
        if not ok:
            return None
    if rule.not_after and prev in rule.not_after:
        return None
    return first, last


@lru_cache(maxsize=64)
def _index_for(categories: frozenset[str]) -> tuple[dict[str, list[Rule]], frozenset[str]]:
    """The phrase index restricted to the categories a case needs, and its keys."""
    index: dict[str, list[Rule]] = {}
    for key, rules in INDEX.items():
        kept = [r for r in rules if r.category in categories]
        if kept:
            index[key] = kept
    return index, frozenset(index)


def scan(text: str, categories: frozenset[str]) -> Scan:
    """The phrases of `categories` in `text`: per category, at most one hit per first token
    (the strongest, then the longest), in order."""
    tokens = Tokens(text)
    toks = tokens.toks
    index, keys = _index_for(categories)
    by_first: dict[str, dict[int, Hit]] = {}  # one hit per category and first token
    # Positions of the tokens that anchor a phrase, found at C speed.
    for i in compress(range(len(toks)), map(keys.__contains__, toks)):
        for rule in index[toks[i]]:
            if rule.trivial:
                hit = (i, i, rule.weight)
            else:
                found = _phrase_at(toks, i, rule)
                if found is None:
                    continue
                hit = (found[0], found[1], rule.weight)
            listed = by_first.setdefault(rule.category, {})
            known = listed.get(hit[0])
            # keep the strongest, then the longest, phrase starting at a token
            if known is None or (hit[2], hit[1]) > (known[2], known[1]):
                listed[hit[0]] = hit
    hits = {category: sorted(found.values()) for category, found in by_first.items()}
    return Scan(tokens, hits)
