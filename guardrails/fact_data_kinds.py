"""Kinds of personal data named in English, Spanish and Portuguese (the data file
`guardrails/lexicons/personal_data.yaml`), so a fact named in one language meets an answer's
word in another: `passwords_exposed` is about "contraseñas" and "senhas", `card_exposed` about
"tarjeta" and "cartão". Data protection vocabulary, the same in any industry."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from guardrails.fact_keys import same_word
from guardrails.text import fold

_SOURCE = "guardrails/lexicons/personal_data.yaml"
_LANGUAGES = ("en", "es", "pt")


class DataKindsError(ValueError):
    """The data file is malformed; the message names the file and the entry."""


@lru_cache(maxsize=1)
def kinds() -> tuple[tuple[str, frozenset[str]], ...]:
    """Every kind of personal data with its words in the three languages."""
    raw = yaml.safe_load(
        resources.files("guardrails").joinpath("lexicons", "personal_data.yaml").read_text("utf-8")
    )
    if not isinstance(raw, dict):
        raise DataKindsError(f"{_SOURCE}: expected a mapping of kinds")
    out = []
    for kind, by_language in raw.items():
        if not isinstance(by_language, dict):
            raise DataKindsError(f"{_SOURCE}: {kind}: expected words by language")
        words: set[str] = set()
        for language in _LANGUAGES:
            value = by_language.get(language)
            if not isinstance(value, str) or not value.split():
                raise DataKindsError(f"{_SOURCE}: {kind}.{language}: expected words")
            words.update(fold(value).split())
        out.append((str(kind), frozenset(words)))
    return tuple(out)


@lru_cache(maxsize=4096)
def same_kind(a: str, b: str) -> bool:
    """Whether two folded words name the same kind of personal data in any of the three
    languages (passwords / contraseñas / senha), or are the same word."""
    if same_word(a, b):
        return True
    return any(_of_kind(a, words) and _of_kind(b, words) for _, words in kinds())


def _of_kind(word: str, words: frozenset[str]) -> bool:
    return word in words or any(same_word(word, w) for w in words)
