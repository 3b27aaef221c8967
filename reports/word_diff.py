"""A word diff of two answers: what the candidate dropped and added, in reading order.

The answers are split into words, each with the whitespace after it, and
`difflib.SequenceMatcher` aligns the word sequences (the standard library does this well; no
dependency needed). Each piece is kept, deleted or inserted. The terminal marks it
`[-old-]{+new+}` (git's plain word diff), coloured only on a terminal; the HTML comparison uses
`<del>` and `<ins>`.

Model text is untrusted: for the terminal, control characters (an ANSI escape could recolour or
rewrite the screen) and bidirectional overrides (which reorder what is shown) are printed as
escapes; the HTML renderer escapes everything.

Long answers are bounded: past `MAX_TOKENS` words on a side, the diff is the whole old answer
deleted and the whole new one inserted, so a pathological pair cannot stall the comparison
(the alignment is quadratic in the worst case).
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

Op = Literal["same", "del", "ins"]

#: Words on one side beyond which the alignment is not attempted (2,000 words of unrelated text
#: align in about 0.2 s; support answers are far shorter).
MAX_TOKENS = 2000

_TOKEN = re.compile(r"^\s+|\S+\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[0m"


def tokens(text: str) -> list[str]:
    """Words, each with the whitespace after it (and any leading whitespace alone); joined back
    they are the text. Whitespace is not a token of its own: a space matches every other space
    and would make the alignment slow and the diff choppy."""
    return _TOKEN.findall(text)


def _common_space_suffix(old: str, new: str) -> str:
    if not (old and new):
        return ""
    a, b = old[len(old.rstrip()) :], new[len(new.rstrip()) :]
    return a if a == b else ""


def word_diff(before: str, after: str) -> list[tuple[Op, str]]:
    """(op, text) pieces: 'same' text is in both answers, 'del' only before, 'ins' only after.

    Joining the 'same' and 'del' pieces gives `before`; 'same' and 'ins' give `after`."""
    a, b = tokens(before), tokens(after)
    if len(a) > MAX_TOKENS or len(b) > MAX_TOKENS:
        whole: list[tuple[Op, str]] = [("del", before), ("ins", after)]
        return [(op, text) for op, text in whole if text]
    out: list[tuple[Op, str]] = []

    def add(op: Op, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", "".join(a[i1:i2]))
        else:
            old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
            # whitespace both sides end with is unchanged: show it outside the marks
            tail = _common_space_suffix(old, new)
            add("del", old[: len(old) - len(tail)])
            add("ins", new[: len(new) - len(tail)])
            add("same", tail)
    return out


def printable(text: str) -> str:
    """`text` with control characters (but newlines and tabs) and bidirectional overrides shown
    as `\\xNN` or `\\uNNNN`."""

    def shown(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(shown, text)


def terminal_diff(before: str, after: str, *, colour: bool = False) -> str:
    """The word diff as text: `[-deleted-]{+inserted+}`, optionally coloured red and green."""
    parts = []
    for op, text in word_diff(before, after):
        shown = printable(text)
        if op == "same":
            parts.append(shown)
        elif op == "del":
            parts.append(f"{RED}[-{shown}-]{RESET}" if colour else f"[-{shown}-]")
        else:
            parts.append(f"{GREEN}{{+{shown}+}}{RESET}" if colour else f"{{+{shown}+}}")
    return "".join(parts)
