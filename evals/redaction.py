"""Credentials never reach a file, a log or a report: every text that is written passes here.

A provider or proxy may repeat the request's `Authorization` header in its error body, so an
error text can carry the API key. `redact` replaces, in any text:

- the value of every credential variable set in the environment: the variables litellm reads
  keys from, any variable whose name ends like a credential (`_API_KEY`, `_TOKEN`, ...; both
  lists in `evals/data/key_variables.yaml`), and each target's own `api_key_env` (`watch`);
- a token (8 characters or more, with a digit) after `Bearer ` (the header as a provider
  echoes it) or as the value of an `api-key:` / `x-api-key=` field, known variable or not.

Values shorter than the file's `min_length` are left alone: a 1-character "key" would erase every
such character from every report.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import yaml
from pydantic import BaseModel

REDACTED = "[REDACTED]"

KEY_VARIABLES_PATH = Path(__file__).resolve().parent / "data" / "key_variables.yaml"


@dataclass(frozen=True)
class KeyVariables:
    names: frozenset[str]
    suffixes: tuple[str, ...]
    min_length: int

    def is_credential(self, name: str) -> bool:
        upper = name.upper()
        return upper in self.names or upper.endswith(self.suffixes)


@functools.cache
def key_variables() -> KeyVariables:
    data = yaml.safe_load(KEY_VARIABLES_PATH.read_text(encoding="utf-8"))
    return KeyVariables(
        names=frozenset(str(n).upper() for n in data["names"]),
        suffixes=tuple(str(s).upper() for s in data["suffixes"]),
        min_length=int(data["min_length"]),
    )


#: Variables named by targets (`api_key_env`) in this process, whatever their names look like.
_watched: set[str] = set()


def watch(names: Iterable[str | None]) -> None:
    """Treat these environment variables as credentials from now on (a target's api_key_env)."""
    _watched.update(n for n in names if n)


def secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The credential values set in the environment (`os.environ` unless `environ` is given),
    longest first (so a key that contains another is replaced whole), each also as it appears
    URL-encoded. Read afresh on every call, so a key set or changed at any time is redacted."""
    watched = frozenset(_watched)
    if environ is not None:
        return _secrets(tuple(environ.items()), watched)
    # Decoding every value of os.environ costs a few hundred microseconds (once per stored
    # result); its names cost a few, and only the few credential variables' values are read.
    names = _credential_names(tuple(os.environ), watched)
    return _secrets(tuple((name, os.environ.get(name, "")) for name in names), watched)


@functools.lru_cache(maxsize=16)
def _credential_names(names: tuple[str, ...], watched: frozenset[str]) -> tuple[str, ...]:
    """Which of these environment variables hold credentials (cached per set of names)."""
    spec = key_variables()
    return tuple(n for n in names if n in watched or spec.is_credential(n))


@functools.lru_cache(maxsize=64)
def _secrets(items: tuple[tuple[str, str], ...], watched: frozenset[str]) -> list[str]:
    spec = key_variables()
    found: set[str] = set()
    for name, value in items:
        value = value.strip()
        if len(value) < spec.min_length:
            continue
        if name in watched or spec.is_credential(name):
            found.add(value)
            found.add(quote(value, safe=""))
    return sorted(found, key=len, reverse=True)


# The token after "Bearer " (an echoed Authorization header), and an api-key field's value. A
# token has a digit and 8 characters or more, so prose ("bearer instruments") is left alone.
_TOKEN = r"(?=[A-Za-z0-9._~+/=:-]*\d)[A-Za-z0-9._~+/=:-]{8,}"
_BEARER = re.compile(rf"(?i)(\bbearer\s+){_TOKEN}")
_KEY_FIELD = re.compile(rf"""(?i)(\b(?:x-)?api[-_]?key["']?\s*[:=]\s*["']?){_TOKEN}""")


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every credential replaced by [REDACTED]."""
    for value in secrets(environ):
        if value in text:
            text = text.replace(value, REDACTED)
    lowered = text.lower()  # the patterns are slow on long texts; most texts have neither word
    if "bearer" in lowered:
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    if "key" in lowered:
        text = _KEY_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def redact_data(value: Any) -> Any:
    """A JSON-like value with every string in it redacted (keys too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


Model = TypeVar("Model", bound=BaseModel)


def redact_record(record: Model) -> Model:
    """The record itself when nothing in it is a credential (the usual case: one dump and a
    scan), else a copy with every string field redacted."""
    dumped = record.model_dump_json()
    if redact(dumped) == dumped:
        return record
    return type(record).model_validate(redact_data(record.model_dump(mode="json")))


class RedactingFilter(logging.Filter):
    """Redacts a log record's message (with its arguments merged in) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if redact(text) != text:  # the traceback would print the key: keep the message only
                record.msg = f"{clean} ({type(record.exc_info[1]).__name__}: {redact(text)})"
                record.args, record.exc_info, record.exc_text = None, None, None
        return True


def redact_logs(*logger_names: str) -> None:
    """Install the filter on these loggers and on each of their handlers (records propagated
    from child loggers reach handlers without passing their parents' logger filters)."""
    names = logger_names or ("",)
    for name in names:
        logger = logging.getLogger(name)
        _add_filter(logger)
        for handler in logger.handlers:
            _add_filter(handler)


def _add_filter(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
