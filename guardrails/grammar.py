"""Grammar tables of support language, read from data files under `guardrails/lexicons/`.

Word lists and the patterns compiled from them are data of the language, not analysis of one
text: they are built once per process and kept for its life (a benchmark that empties every
per-text `functools` cache to time cold answers leaves them warm, as a long scan would).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import yaml

_T = TypeVar("_T")
#: The languages the grammar tables cover, in the order of `fact_keys.stems` results.
LANGUAGES = ("en", "es", "pt")
_TABLES: dict[tuple[str, str, tuple[object, ...]], object] = {}


def grammar_table(build: Callable[..., _T]) -> Callable[..., _T]:
    """`build(*args)` computed once per process and argument tuple."""

    def get(*args: object) -> _T:
        key = (build.__module__, build.__qualname__, args)
        if key not in _TABLES:
            _TABLES[key] = build(*args)
        return _TABLES[key]  # type: ignore[return-value]

    return get


@grammar_table
def lexicon(name: str) -> Any:
    """The YAML file `guardrails/lexicons/<name>.yaml`, parsed."""
    text = resources.files("guardrails").joinpath("lexicons", f"{name}.yaml").read_text()
    return yaml.safe_load(text)


def grammar_language(language: str | None) -> str | None:
    """The grammar tables' language of a case language tag ("es-MX" -> "es"), or None."""
    lang = (language or "").split("-")[0].lower()
    return LANGUAGES[LANGUAGES.index(lang)] if lang in LANGUAGES else None


def alternation(words: list[str]) -> str:
    """A regex alternation of literal words, longest first (so "or older" wins over "or")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
