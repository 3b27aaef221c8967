"""Contact details in text: e-mail addresses, web addresses, phone numbers, street addresses and
the names of people, with character offsets.

Shared by the `privacy`, `handoff` and `language` guardrails. Everything works on the shape of
the text (no word lists of real names), in Spanish, English and Portuguese.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from guardrails.folding import fast_fold, word_set, wordlist


@dataclass(frozen=True)
class Item:
    """A contact detail found in a text: `kind` is email, url, phone, address or name."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        """A normalised form for comparing the same detail written differently."""
        return normalise(self.kind, self.text)


def normalise(kind: str, text: str) -> str:
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        return digits[-9:]  # the subscriber part: with or without the country code
    return fast_fold(text).strip().rstrip(".,;:")


EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\"']+"
    r"|(?<![\w@.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|es|mx|br|pt|ar|co|uk|us|info)"
    r"(?:\.[a-z]{2})?(?:/[^\s<>()\"']*)?(?![\w@-])",
    re.IGNORECASE,
)
# A run of digits and separators, validated afterwards (see `phones`).
_DIGIT_RUN = re.compile(r"[+(\d][\d \-.()\u00a0]{7,}\d")
_PHONE_SHAPE = re.compile(r"\+?\s?\(?\d{1,5}\)?(?:[ .\-\u00a0]{1,2}\(?\d{1,5}\)?){0,6}")
_GROUP = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
# Street addresses: "418 Elm Street", "Rua das Flores 210", "calle Mayor 5", "Av. Paulista,
# 1000". The street's own name is capitalised, so "30 days of the close" is no address.
_CAP = "[A-ZÁÉÍÓÚÑÇÂÊÔÃÕÀÜ][\\w'’-]*"
_STREET_EN = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court"
    r"|Ct\.?|Place|Pl\.?|Terrace|Close|Crescent|Square|Highway|Hwy\.?"
)
_STREET_ROMANCE = (
    r"rua|r\.|avenida|av\.|avda\.|calle|c/|travessa|tv\.|pra[cç]a|largo|alameda|rodovia"
    r"|estrada|paseo|plaza|camino|carrera|calzada|ronda|rambla|via"
)
_PARTICLE = r"(?:de|da|do|das|dos|del|la|las|los|el|of|the)"
ADDRESS = re.compile(
    rf"(?<![\w-])\d{{1,5}}[A-Za-z]?\s+(?:{_CAP}\s+){{1,3}}(?:{_STREET_EN})(?![\w])"
    rf"|(?<![\w-])(?i:{_STREET_ROMANCE})\s+(?:{_PARTICLE}\s+){{0,2}}{_CAP}"
    rf"(?:\s+(?:{_PARTICLE}|{_CAP})){{0,3}},?\s+(?:n[o.º°]\s*)?\d{{1,5}}(?![\w])"
)
# Two to four capitalised words (particles allowed inside): "Sonia Pérez Molina", "Mark Fenton".
_UPPER = "A-ZÁÉÍÓÚÑÇÂÊÔÃÕÀÜ"
_LOWER = "a-záéíóúñçâêôãõàüï"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:['’-][{_UPPER}][{_LOWER}]+)?"
NAME = re.compile(
    rf"(?<![\w@.])(?:{_NAME_WORD})(?:\s(?:(?:de|da|do|das|dos|del|de la|van|von|e|y)\s)?"
    rf"{_NAME_WORD}){{1,3}}(?![\w@])"
)
# A single capitalised word with an English possessive: "Karen's".
POSSESSIVE_NAME = re.compile(rf"(?<![\w@.])(?:{_NAME_WORD})['’]s(?!\w)")


_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*$")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@lru_cache(maxsize=256)
def emails(text: str) -> tuple[Item, ...]:
    """E-mail addresses, found from each "@" outwards (no scan of the whole text)."""
    out = []
    floor = 0  # an address never starts inside the previous one
    at = text.find("@")
    while at != -1:
        local = _LOCAL.search(text, max(floor, at - 64), at)
        domain = _DOMAIN.match(text, at + 1)
        if local is not None and domain is not None:
            start = local.start()
            while start < at and text[start] in "._%+-":
                start += 1
            end = domain.end()
            if start < at and (start == 0 or not text[start - 1].isalnum()):
                out.append(Item("email", start, end, text[start:end]))
            floor = end
            at = text.find("@", end)
        else:
            at = text.find("@", at + 1)
    return tuple(out)


_TLD_HINTS = (
    ".com",
    ".net",
    ".org",
    ".io",
    ".es",
    ".mx",
    ".br",
    ".pt",
    ".ar",
    ".co",
    ".uk",
    ".us",
    ".info",
    "www.",
    "http",
)


def urls(text: str) -> list[Item]:
    low = text.lower()
    if not any(hint in low for hint in _TLD_HINTS):
        return []
    taken = [(e.start, e.end) for e in emails(text)]
    return [
        Item("url", m.start(), m.end(), m.group(0).rstrip(".,;:"))
        for m in URL.finditer(text)
        if not any(s <= m.start() < e for s, e in taken)
    ]


@lru_cache(maxsize=256)
def phones(text: str) -> tuple[Item, ...]:
    """Phone numbers: 8 to 15 digits in groups ("+52 55 4170 2020", "900 100 200",
    "614-555-0143", "(11) 4003-2020"), not dates, amounts, references or ids. A run of digits
    that runs on into what follows the number ("900 100 200 (24h)", "call 900 100 200 - 8
    lines") is cut back group by group to the longest part that is a number to dial."""
    out = []
    for m in _DIGIT_RUN.finditer(text):
        start = m.start()
        ends = [start + g.end() for g in _GROUP.finditer(m.group(0))]
        for end in reversed(ends):
            if _is_phone(text, start, end):
                out.append(Item("phone", start, end, text[start:end]))
                break
    return tuple(out)


def _is_phone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] (a run of digits and separators) is a number to dial."""
    raw = text[start:end]
    groups = _GROUP.findall(raw)
    digits = sum(map(len, groups))
    if not 8 <= digits <= 15:
        return False
    n = len(text)
    before = text[start - 1] if start else " "
    after = text[end] if end < n else " "
    if before.isalnum() or before in "-/.,:_#@":
        return False  # MC-2207-4415, an id or a decimal part
    if (
        after.isalnum()
        or after in "/:%@"
        or (after in ".," and end + 1 < n and text[end + 1].isdigit())
    ):
        return False
    if _DATE_LIKE.match(raw) or not _PHONE_SHAPE.fullmatch(raw):
        return False
    if raw.count("(") != raw.count(")"):
        return False  # "900 100 200 (24 hours)": the bracket opens what follows the number
    if len(groups) == 1 and digits > 11:
        return False  # a long bare id, not a number to dial
    if (
        "." in raw
        and len(groups) > 1
        and all(len(g) == 3 for g in groups[1:])
        and len(groups[0]) <= 3
        and not raw.startswith("+")
    ):
        return False  # 12.345.678: an amount with thousands separators
    # 10 20 30 40: a list of numbers (01 23 45 67 89 is a number to dial)
    return raw.startswith(("+", "(", "0")) or max(len(g) for g in groups) >= 3


_STREET_WORDS = wordlist(
    "street st avenue ave road rd lane ln drive dr boulevard blvd way court ct place pl terrace "
    "close crescent square highway hwy rua r avenida av avda calle c travessa tv praca pc largo "
    "alameda rodovia estrada paseo pso plaza pza camino carrera cra calzada ronda rambla via"
)


def addresses(text: str) -> list[Item]:
    if not (word_set(text) & _STREET_WORDS) or _DIGIT.search(text) is None:
        return []
    return [Item("address", m.start(), m.end(), m.group(0)) for m in ADDRESS.finditer(text)]


def names(text: str) -> list[Item]:
    """Capitalised word sequences that may be people's names (the caller filters out the
    company's own vocabulary, greetings and the customer's name)."""
    out = [Item("name", m.start(), m.end(), m.group(0)) for m in NAME.finditer(text)]
    out += [
        Item("name", m.start(), m.end() - 2, m.group(0)[:-2])
        for m in POSSESSIVE_NAME.finditer(text)
    ]
    return out


def details(text: str) -> list[Item]:
    """Every email, url, phone number and street address, sorted by position."""
    found = [*emails(text), *urls(text), *phones(text), *addresses(text)]
    return sorted(found, key=lambda i: i.start)


def known_keys(texts: Iterable[str]) -> set[str]:
    """Normalised contact details (emails, phones, addresses, urls) found in `texts`."""
    keys: set[str] = set()
    for text in texts:
        for item in details(text):
            keys.add(item.key)
    return keys


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")
