"""A word diff of two answers: what the candidate dropped and added, in reading order.

The answers are split into words and the whitespace between them, and `difflib.SequenceMatcher`
aligns the word sequences (the standard library does this well; no dependency needed). Each
piece is kept, deleted or inserted. The terminal marks it `[-old-]{+new+}` (git's plain word
diff), coloured only on a terminal; the HTML comparison uses `<del>` and `<ins>`.

Model text is untrusted: for the terminal, control characters (an ANSI escape could recolour or
rewrite the screen) are shown as `\\xNN` escapes; the HTML renderer escapes everything.
Long answers are bounded: past `MAX_TOKENS` pieces on a side, the diff is the whole old answer
deleted and the whole new one inserted, so a pathological pair cannot stall the comparison
(the alignment is quadratic in the worst case).
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

Op = Literal["same", "del", "ins"]

#: Words plus whitespace runs on one side beyond which the alignment is not attempted.
MAX_TOKENS = 6000

_TOKEN = re.compile(r"\s+|[^\s]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[0m"


def tokens(text: str) -> list[str]:
    """Words and the whitespace between them; joined back they are the text."""
    return _TOKEN.findall(text)


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
            add("del", "".join(a[i1:i2]))
            add("ins", "".join(b[j1:j2]))
    return out


def printable(text: str) -> str:
    """`text` with control characters (but newlines and tabs) shown as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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
