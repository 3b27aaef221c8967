"""The tokens of an answer as the `tone` rules read it: words and the marks that end a sentence
or a clause, with character offsets computed only when evidence needs them.

Tokens are words (letters and digits; "150.00", "8:00" and "example.com" stay whole) and the
marks that end a sentence or a clause, each a token of its own. Every sentence end (. ! ? …
and a line break) is the token "."; "¿", "¡", ":", "," and ";" are tokens as themselves. The
answer is lowercased with its length kept, so offsets into the lowercased text are offsets
into the answer.
"""

from __future__ import annotations

import re
import unicodedata

from guardrails.records import Span

#: Tokens that end a sentence ("." stands for every sentence end), and those that end a clause.
SENTENCE_MARKS = ".¿¡:"
CLAUSE_MARKS = SENTENCE_MARKS + ",;"

# Built with bytes operations (a handful of C-level passes) rather than a regular expression
# over every character; text with characters outside the Basic Multilingual Plane (emoji) goes
# through the equivalent regex.
_PUNCT = b"\"#$%&'()*+-/<=>@[\\]^_`{|}~"
_ASCII_PUNCT = bytes.maketrans(_PUNCT, b" " * len(_PUNCT))
_BLANKED = [q.encode() for q in "«»“”‘’—–´"]
_PADDED = [
    (b"\n", b" . "),
    (b". ", b" . "),
    (b"!", b" . "),
    (b"?", b" . "),
    ("…".encode(), b" . "),
    (b", ", b" , "),
    (b": ", b" : "),
    (b"; ", b" ; "),
    ("¿".encode(), " ¿ ".encode()),
    ("¡".encode(), " ¡ ".encode()),
]
_TOKEN = re.compile(r"[^\W_]+(?:[.,:][^\W_]+)*|[.!?…:,;¿¡\n]")
_ENDS = frozenset("!?…\n")
_END_CHAR = re.compile(r"[.!?…\n]")


def tokenize(low: str) -> tuple[list[str], str]:
    """The tokens of lowercased text, and the same tokens as one space-separated string."""
    data = low.encode("utf-8", "surrogatepass")
    if b"\xf0" in data or b"\xed" in data:
        toks = ["." if t in _ENDS else t for t in _TOKEN.findall(low)]
        return toks, " ".join(toks) + " "
    data = data.translate(_ASCII_PUNCT) + b" "
    if not low.isascii():
        for mark in _BLANKED:
            if mark in data:
                data = data.replace(mark, b" ")
    for mark, padded in _PADDED:
        if mark in data:
            data = data.replace(mark, padded)
    flat = data.decode("utf-8")
    return flat.split(), flat


def strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def lower(text: str) -> str:
    """Lowercase, keeping the length (so offsets into it are offsets into `text`)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class Tokens:
    """The answer's tokens, with character offsets computed only when evidence needs them."""

    __slots__ = ("_spans", "flat", "low", "text", "toks")

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = lower(text)
        self.toks, self.flat = tokenize(self.low)
        self._spans: list[tuple[int, int]] | None = None

    def span(self, first: int, last: int) -> Span:
        """The characters from token `first` to token `last` (inclusive)."""
        if self._spans is None:
            # Every token is a substring of the lowercased text, in order ("." stands for any
            # sentence end).
            spans, pos, low = [], 0, self.low
            for tok in self.toks:
                if tok == ".":
                    m = _END_CHAR.search(low, pos)
                    at, size = (m.start(), 1) if m else (pos, 0)
                else:
                    at, size = low.find(tok, pos), len(tok)
                    at = pos if at < 0 else at
                spans.append((at, at + size))
                pos = at + size
            self._spans = spans
        start, end = self._spans[first][0], self._spans[last][1]
        return Span(start=start, end=end, text=self.text[start:end])
