"""JSON from users' files (JSONL cases, transcripts, cassettes, JSON cells of CSV/Parquet) with
bounds, so a hostile or broken line gives an error naming it instead of a traceback.

- nesting deeper than `MAX_DEPTH` is refused before parsing: the standard parser is recursive
  (200,000 levels raise RecursionError) and so is everything that later walks the data;
- an integer longer than `MAX_INT_DIGITS` digits is refused while parsing: Python refuses to
  convert more than 4,300 digits (a ValueError), and no field of ours needs more than a few.

Lines of JSONL are read with a length bound too (`read_lines`), so one endless line cannot
exhaust memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any, Protocol

#: Deepest nesting of arrays and objects accepted in one JSON value.
MAX_DEPTH = 100
#: Longest integer (in digits) accepted; real counts, ids and amounts are far shorter.
MAX_INT_DIGITS = 64
#: Longest line of a JSONL file accepted, in bytes.
MAX_LINE_BYTES = 16 * 1024 * 1024

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_KEY_BEFORE_NUMBER = re.compile(rf'"([^"\\]{{1,80}})"\s*:\s*-?\d{{{MAX_INT_DIGITS + 1},}}')


class BadJSON(ValueError):
    """One JSON value that cannot be accepted; `field` names the key when it is known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def nesting_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit`, in one linear pass."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise BadJSON(f"integer with {digits} digits (at most {MAX_INT_DIGITS} are accepted)")
    return int(text)


def loads(text: str) -> Any:
    """Parse one JSON value or raise BadJSON saying what is wrong."""
    if nesting_depth_exceeds(text):
        raise BadJSON(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_parse_int)
    except BadJSON as exc:
        key = _KEY_BEFORE_NUMBER.search(text)
        raise BadJSON(exc.message, key.group(1) if key else None) from None
    except json.JSONDecodeError as exc:
        raise BadJSON(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except (RecursionError, ValueError) as exc:  # belt and braces: whatever else json refuses
        raise BadJSON(f"invalid JSON: {exc}") from None


class Lines(Protocol):
    """A binary stream read line by line: an open file, a gzip file."""

    def readline(self, size: int = -1, /) -> bytes: ...


#: What a line over the limit is reported as.
TOO_LONG = f"line longer than {MAX_LINE_BYTES:,} bytes"


def raw_lines(handle: Lines) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line of a binary stream, or (line number, None) for a line
    longer than `MAX_LINE_BYTES` (the rest of that line is skipped, so memory stays bounded)."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, raw


def read_lines(handle: IO[bytes]) -> Iterator[tuple[int, str | BadJSON]]:
    """(line number, text) for each line of a binary stream, or (line number, BadJSON) for a
    line that is not UTF-8 or longer than `MAX_LINE_BYTES`."""
    for number, raw in raw_lines(handle):
        if raw is None:
            yield number, BadJSON(TOO_LONG)
            continue
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, BadJSON(f"not UTF-8 text: {exc.reason} at byte {exc.start}")
