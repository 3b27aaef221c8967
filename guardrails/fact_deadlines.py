"""A deadline of this conversation given as another date: "you can send it back until 15
February" against `return_deadline: 2026-01-31`. Part of the `facts` guardrail.

The case's deadline is its one dated fact whose name says it is a limit, in any of en/es/pt
(`deadline`, `due`, `until`, `expires`, `vence`, `plazo`, `prazo`, `limite`); the answer's
deadline is a date with a limit word right before it ("until", "by", "no later than", "hasta
el", "antes del", "a más tardar el", "até"). A date the conversation, the facts or the policy
book give is theirs, not a misstated deadline, nor is one the answer computes from a known
date and a number of days it states ("10 days after the due date, so until 11 July"), and a
date under a condition ("if it arrives by ...") is no deadline of this case.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from guardrails.dates import dates_in
from guardrails.records import Case, PolicyBook
from guardrails.text import fold, quantities

# A fact's name that says its date is a limit (words of the name, folded).
_LIMIT_KEY = re.compile(
    r"(?:^|_)(?:deadline|due|until|expir\w*|cutoff|limit\w*|vence\w*|vencimiento|plazo|prazo|"
    r"hasta|ate|last_day|ultimo_dia)(?:_|$)"
)
# Words right before a date that make it a limit.
_LIMIT_CUE = re.compile(
    r"(?<!\w)(?:until|till|by|no later than|before|deadline is|hasta(?: el)?|antes del?|"
    r"a mas tardar(?: el)?|como tarde(?: el)?|ate(?: o dia| dia| o)?|no maximo ate(?: o)?|"
    r"o mais tardar(?: ate)?(?: o)?|prazo(?: e| ate)?(?: o)?|plazo(?: es| hasta)?(?: el)?)"
    r"(?:\s+(?:the|el|o|dia|day))?\s+$"
)
_IF = re.compile(r"(?<!\w)(?:if|si|se|caso|unless|when|cuando|quando)(?!\w)")
_CLAUSE = re.compile(r"[.;:!?\n]|,\s")


def _iso(value: object) -> tuple[int, int, int] | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return None
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return d.year, d.month, d.day


def misstated_deadlines(
    case: Case, text: str, book: PolicyBook | None
) -> list[tuple[str, int, int]]:
    """(key, start, end) of each limit date of the answer that is not the case's deadline."""
    limits = [
        (k, d) for k, v in case.facts.items() for d in [_iso(v)] if d and _LIMIT_KEY.search(fold(k))
    ]
    if len(limits) != 1:
        return []  # none, or several and nothing says which
    key, deadline = limits[0]
    found = dates_in(text)
    if not found:
        return []
    folded = fold(text)
    candidates = []
    for start, end, (year, month, day) in found:
        if (month, day) == deadline[1:] and year in (None, deadline[0]):
            continue
        opened = max((m.end() for m in _CLAUSE.finditer(folded, 0, start)), default=0)
        before = folded[opened:start]
        if _LIMIT_CUE.search(before) and not _IF.search(before):
            candidates.append((start, end, month, day))
    if not candidates:
        return []  # (most answers state no other limit date: the known ones need not be read)
    known_text = " ".join(
        [m.content for m in case.messages]
        + [str(v) for v in case.facts.values() if isinstance(v, str)]
        + ([book.text] if book is not None else [])
    )
    known = {(m, d) for _, _, (_, m, d) in dates_in(known_text)}
    known |= {(d[1], d[2]) for v in case.facts.values() for d in [_iso(v)] if d}
    # dates the answer computes from a known date and a number of days it states ("10 días
    # después del vencimiento, es decir, hasta el 11 de julio"): arithmetic, not a misstatement
    days = {round(q.value) for q in quantities(text) if q.unit == "day" and q.upper is None}
    computed = {
        ((base + timedelta(days=sign * n)).month, (base + timedelta(days=sign * n)).day)
        for v in case.facts.values()
        for d in [_iso(v)]
        if d
        for base in [date(*d)]
        for n in days
        if 0 < n <= 3660
        for sign in (1, -1)
    }
    return [
        (key, start, end)
        for start, end, month, day in candidates
        if (month, day) not in known and (month, day) not in computed
    ]
