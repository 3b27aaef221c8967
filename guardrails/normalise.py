"""What the guardrails read: an answer with its disguises taken off, and the way back to it.

An answer can hide a word from every rule without changing what the customer sees: a zero-width
space or a soft hyphen inside "reembolso", or a Cyrillic "о" in "refund". `normalise` gives the
rules the text a reader sees, and `Normalised.restore` maps every finding's evidence back into
the original answer, so `span.text == original[span.start:span.end]` still holds.

Three steps, each keeping the offset of every character in the original:

1. Invisible characters are removed: Unicode's default-ignorable code points (zero-width space,
   joiners, word joiner, BOM, soft hyphen, variation selectors, Hangul fillers, tags, ...) and
   every other format character (category Cf: bidi controls and the like).
2. Letters of another script that look like a Latin letter (Unicode TR39 confusables, from the
   data the `confusable_homoglyphs` package ships) become that Latin letter, but only inside a
   word that is otherwise Latin: a Greek or Cyrillic word is left as it is, and so are digits
   and every Latin letter (accents survive: "días", "não").
3. NFKC, per character with its combining marks (full-width and mathematical letters, ligatures,
   compatibility spaces; a Cyrillic "а" with a combining acute composes to "á" after step 2),
   except for a few characters of ordinary text whose NFKC form is another spelling that the
   rules read differently: "…" (NFKC "..." turned an apology into none for the tone rules),
   "º" and "ª" (Spanish and Portuguese ordinals), "™" and "℠" (NFKC glues "TM" to the word) and
   the fractions "½", "¼", "¾" (NFKC "1⁄2" reads as two numbers).

Most answers need none of it: plain ASCII, or NFKC text with no invisible character and no
letter outside the Latin script, is returned as it is at the cost of one search.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import regex

from guardrails.records import Finding, Span

#: Characters no reader sees, and letters outside the Latin script: a text with none of them
#: (and already NFKC) is what the rules read as it is.
_SUSPECT = regex.compile(r"(?V1)[\p{Default_Ignorable_Code_Point}\p{Cf}[\p{L}--\p{Script=Latin}]]")
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")
_WORD = regex.compile(r"[\p{L}\p{M}]+")
#: Characters NFKC would respell that the rules read as they are written (see the docstring).
KEPT = "…ºª™℠½¼¾"
_WITHOUT_KEPT = str.maketrans("", "", KEPT)
_LATIN_LETTER = regex.compile(r"\p{Script=Latin}")
_OTHER_LETTER = regex.compile(r"(?V1)[\p{L}--\p{Script=Latin}]")


@lru_cache(maxsize=1)
def confusable_letters() -> dict[str, str]:
    """Letters of other scripts (Greek, Cyrillic, Armenian, Cherokee, ...) that TR39 lists as
    confusable with one ASCII letter, mapped to it. An upper-case letter maps to an upper-case
    one (TR39 lists Greek capital iota as a look-alike of "l"; a reader sees "I")."""
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table: dict[str, list[dict[str, str]]] = json.loads(data)

    def ascii_letter(char: str) -> str | None:
        for entry in table.get(char, ()):
            target = entry["c"]
            if len(target) == 1 and target.isascii() and target.isalpha():
                return target
        return None

    out: dict[str, str] = {}
    for char in table:
        if len(char) != 1 or not _OTHER_LETTER.match(char):
            continue
        target = ascii_letter(char)
        if target is not None and char.isupper() and not target.isupper():
            lower = ascii_letter(char.lower()) if len(char.lower()) == 1 else None
            target = lower.upper() if lower is not None else None
        if target is not None and char.isupper() == target.isupper():
            out[char] = target
    return out


@dataclass(frozen=True)
class Normalised:
    """The text the guardrails read, and for each of its characters the part of the original
    it came from (`None` when nothing changed)."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    @property
    def changed(self) -> bool:
        return self.starts is not None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original of `text[start:end]` (every character it came from,
        including invisible ones removed between them)."""
        if self.starts is None or self.ends is None:
            return start, end
        size = len(self.text)
        if start <= 0 and end >= size:  # the whole text is the whole original
            return 0, len(self.original)
        start = min(max(start, 0), size)
        end = min(max(end, start), size)
        begin = self.starts[start] if start < size else len(self.original)
        finish = self.ends[end - 1] if end > start else begin
        return begin, finish

    def restore(self, findings: list[Finding]) -> list[Finding]:
        """The findings with their evidence spans moved back into the original answer. A span
        that does not quote the normalised text (it points elsewhere) is left alone."""
        if not self.changed:
            return findings
        out: list[Finding] = []
        for finding in findings:
            span = finding.evidence.span
            if span is None or self.text[span.start : span.end] != span.text:
                out.append(finding)
                continue
            start, end = self.original_span(span.start, span.end)
            moved = Span(start=start, end=end, text=self.original[start:end])
            evidence = finding.evidence.model_copy(update={"span": moved})
            out.append(finding.model_copy(update={"evidence": evidence}))
        return out


def normalise(text: str) -> Normalised:
    """`text` as the guardrails read it (see the module's docstring)."""
    if text.isascii() or (_is_nfkc(text) and _SUSPECT.search(text) is None):
        return Normalised(text, text)
    hidden = {match.start() for match in _INVISIBLE.finditer(text)}
    origin = [i for i in range(len(text)) if i not in hidden] if hidden else list(range(len(text)))
    chars = [text[i] for i in origin]
    _unmask_words(chars)
    unmasked = "".join(chars)
    if _is_nfkc(unmasked):  # e.g. only invisible characters, look-alikes
        if unmasked == text:
            return Normalised(text, text)
        return Normalised(text, unmasked, tuple(origin), tuple(i + 1 for i in origin))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, size = 0, len(chars)
    while i < size:
        j = i + 1
        while j < size and unicodedata.combining(chars[j]):
            j += 1
        piece = chars[i] if j == i + 1 else "".join(chars[i:j])
        keep = piece.isascii() or piece in KEPT
        normal = piece if keep else unicodedata.normalize("NFKC", piece)
        out.append(normal)
        starts.extend([origin[i]] * len(normal))
        ends.extend([origin[j - 1] + 1] * len(normal))
        i = j
    result = "".join(out)
    if result == text:
        return Normalised(text, text)
    return Normalised(text, result, tuple(starts), tuple(ends))


def _is_nfkc(text: str) -> bool:
    """NFKC already, apart from the characters kept as written."""
    return unicodedata.is_normalized("NFKC", text.translate(_WITHOUT_KEPT))


def _unmask_words(chars: list[str]) -> None:
    """Replace, in place, the look-alike letters of every word that is Latin apart from them."""
    table = confusable_letters()
    joined = "".join(chars)
    if _OTHER_LETTER.search(joined) is None:
        return
    for word in _WORD.finditer(joined):
        letters = word.group()
        if not _LATIN_LETTER.search(letters) or not any(c in table for c in letters):
            continue
        if any(_OTHER_LETTER.match(c) and c not in table for c in letters):
            continue  # a letter with no Latin twin: not a disguised Latin word
        for k in range(word.start(), word.end()):
            chars[k] = table.get(chars[k], chars[k])
