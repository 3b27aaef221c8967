"""Dates written in English, Spanish or Portuguese ("15 January", "15 de enero de 2026",
"January 15, 2026", "2026-01-15", "15/01"), with character offsets. Shared by the `facts` and
`policy` guardrails."""

from __future__ import annotations

import re

from guardrails.text import fold

MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    # es
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    # pt
    "janeiro": 1, "fevereiro": 2, "marco": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12,
}  # fmt: skip
MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2,4}))?(?![\d/])"),
    re.compile(
        rf"(?<!\w)(?P<d>\d{{1,2}})(?:º|o|st|nd|rd|th)?\s+(?:de\s+)?(?P<mon>{MONTH_ALT})"
        rf"(?:\s+(?:de\s+|of\s+)?(?P<y>\d{{4}}))?(?!\w)"
    ),
    re.compile(
        rf"(?<!\w)(?P<mon>{MONTH_ALT})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?"
        rf"(?!\w)"
    ),
)


_DIGIT = re.compile(r"\d")


def dates_in(text: str) -> list[tuple[int, int, tuple[int | None, int, int]]]:
    """(start, end, (year or None, month, day)) for every date written in en/es/pt."""
    if not _DIGIT.search(text):
        return []  # every written form has a digit
    folded = fold(text)
    out = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(folded):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            groups = m.groupdict()
            month = MONTHS[groups["mon"]] if groups.get("mon") else int(groups["m"])
            day = int(groups["d"])
            year = int(groups["y"]) if groups.get("y") else None
            if year is not None and year < 100:
                year += 2000
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            taken.append((m.start(), m.end()))
            out.append((m.start(), m.end(), (year, month, day)))
    return out
