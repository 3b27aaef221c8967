"""Kinds of personal data named in English, Spanish and Portuguese (the data file
`guardrails/lexicons/personal_data.yaml`), so a fact named in one language meets an answer's
word in another: `passwords_exposed` is about "contraseñas" and "senhas", `card_exposed` about
"tarjeta" and "cartão". Data protection vocabulary, the same in any industry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import yaml

from guardrails.fact_keys import same_word, stems
from guardrails.text import fold

_SOURCE = "guardrails/lexicons/personal_data.yaml"
_LANGUAGES = ("en", "es", "pt")
_DOUBLE = re.compile(r"([a-z])\1")


class DataKindsError(ValueError):
    """The data file is malformed; the message names the file and the entry."""


def _keys(word: str) -> set[str]:
    """What a folded word is looked up by: itself and its stems in the three languages, also
    with doubled letters written once (address / dirección is no match, but passwords /
    password is)."""
    single = _DOUBLE.sub(r"\1", word)
    return {word, *stems(word), *stems(single)}


@lru_cache(maxsize=1)
def data_kinds() -> Mapping[str, frozenset[str]]:
    """Every kind of personal data, indexed by the words and stems that name it."""
    raw = yaml.safe_load(
        resources.files("guardrails").joinpath("lexicons", "personal_data.yaml").read_text("utf-8")
    )
    if not isinstance(raw, dict):
        raise DataKindsError(f"{_SOURCE}: expected a mapping of kinds")
    index: dict[str, set[str]] = {}
    for kind, by_language in raw.items():
        if not isinstance(by_language, dict):
            raise DataKindsError(f"{_SOURCE}: {kind}: expected words by language")
        for language in _LANGUAGES:
            value = by_language.get(language)
            if not isinstance(value, str) or not value.split():
                raise DataKindsError(f"{_SOURCE}: {kind}.{language}: expected words")
            for word in fold(value).split():
                for key in _keys(word):
                    if len(key) >= 3:
                        index.setdefault(key, set()).add(str(kind))
    return {k: frozenset(v) for k, v in index.items()}


def kinds_of(word: str) -> frozenset[str]:
    """The kinds of personal data a folded word names (none for most words)."""
    index = data_kinds()
    found: set[str] = set()
    for key in _keys(word):
        found |= index.get(key, frozenset())
    return frozenset(found)


def same_kind(a: str, b: str) -> bool:
    """Whether two folded words name the same kind of personal data in any of the three
    languages (passwords / contraseñas / senha), or are the same word."""
    return same_word(a, b) or bool(kinds_of(a) & kinds_of(b))
