"""Opening hours in policy values: "24 hours" that says a service is open round the clock (not a
24-hour window), checked against the schedule the policy gives that service; a clock time
written as hours ("hasta las 15 h"); a range of hours the policy states with times."""

from __future__ import annotations

import re
from dataclasses import replace

from guardrails.grounding import Clause, PolicyIndex
from guardrails.policy_quantities import contradicted
from guardrails.policy_tables import book_tables
from guardrails.policy_wording import Words
from guardrails.records import Finding, Span
from guardrails.stems import book_stems, translated_stems
from guardrails.text import Quantity, fold


def clock_range_stated(q: Quantity, index: PolicyIndex) -> bool:
    """Whether a range of hours ("de lunes a sábado 9-18 h") is a span of the clock that the
    policy states with times ("9:00 to 18:00"): both ends are times of the policy."""
    if q.unit != "hour" or q.upper is None or not 0 <= q.value < q.upper <= 24:
        return False
    times = {s.quantity.value for s in book_tables(index).by_unit.get("time", ())}
    return q.value in times and q.upper in times


# "available 24 hours", "disponible 24 horas", "24 horas al día", "open all day and night": a
# service open round the clock, not a time limit of 24 hours.
_AVAILABLE_BEFORE = re.compile(
    r"(?<!\w)(?:available|open|staffed|disponible|disponibles|abierto|abierta|atiende|atendemos|"
    r"disponivel|disponiveis|aberto|aberta|atende|atendemos)\s+(?:(?:las|as|the)\s+)?$"
)
_A_DAY_AFTER = re.compile(r"^\s*(?:a day|per day|al dia|por dia|ao dia|diarias|por dia)(?!\w)")


# A policy's label with its hours: "Claims line, 24 hours: ...".
_LABEL_BEFORE = re.compile(r"(?:\w[,:]|\()\s*$")
# A service's hours in brackets after its name or number, or set off by commas after its
# number: "call 900 100 200 (24 hours)", "ligue para 0800 591 2000, 24 horas, que...".
_BRACKETED = re.compile(r"\w\s*\(\s*$")
_BRACKET_CLOSE = re.compile(r"^\s*\)")
_AFTER_NUMBER = re.compile(r"\d\s*,\s*$")
_ASIDE_CLOSE = re.compile(r"^\s*[,;.)]")


def round_the_clock(text: str, q: Quantity, labels: bool = False) -> bool:
    """Whether 24 hours at `q` says that a service is open round the clock (with `labels`, as a
    label's attribute too: "Claims line, 24 hours")."""
    if q.unit != "hour" or q.value != 24 or q.upper is not None:
        return False
    before = fold(text[max(0, q.start - 30) : q.start])
    return bool(
        _AVAILABLE_BEFORE.search(before)
        or _A_DAY_AFTER.match(fold(text[q.end :]))
        or (labels and _LABEL_BEFORE.search(before))
        or (_BRACKETED.search(before) and _BRACKET_CLOSE.match(text[q.end :]))
        or (_AFTER_NUMBER.search(before) and _ASIDE_CLOSE.match(text[q.end :]))
    )


# A preposition with the article of a clock time: "a las 15 h", "hasta las 16 horas", "desde
# la 1 h", "até às 14h" ("las 24 horas del día", "en las 12 horas siguientes" and "dentro das
# 12 horas" are spans of time, not the clock). Matched unfolded: "às" is not "as".
_CLOCK_ARTICLE = re.compile(
    r"(?<!\w)(?:(?:a|hasta|desde|antes de|despu[eé]s de|pasadas)\s+las?|às|até as|até à|"
    r"após as|antes das|depois das)\s+$",
    re.IGNORECASE,
)


def clock_time(text: str, q: Quantity) -> Quantity:
    """A number of hours written as a time of day ("hasta las 15 h" is 15:00, not a 15-hour
    window): the article before it marks the hour of the clock, compared with the policy's
    times."""
    if q.unit != "hour" or q.upper is not None or not 0 <= q.value < 24:
        return q
    if not _CLOCK_ARTICLE.search(text[max(0, q.start - 14) : q.start]):
        return q
    return replace(q, unit="time")


def _all_day(index: PolicyIndex) -> list[Clause]:
    """The policy's clauses that keep a service open round the clock (24 hours, 24/7)."""
    tables = book_tables(index)
    return [s.clause for s in tables.by_unit.get("allday", ())] + [
        s.clause for s in tables.durations if round_the_clock(s.clause.text, s.quantity, True)
    ]


_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def _phones(text: str) -> set[str]:
    """The digits of each phone number in a text."""
    return {re.sub(r"\D", "", m.group(0)) for m in _PHONE.finditer(text)}


#: Characters before "24 hours" within which the answer names the service that is open.
SERVICE_NAME_RADIUS = 40


def round_the_clock_finding(
    q: Quantity, topic: set[str], index: PolicyIndex, text: str = "", words: Words | None = None
) -> Finding | None:
    """A service said to be open round the clock where the policy's clause on it states clock
    hours ("chat with an agent, 9:00 to 21:00") and no clause on it says 24 hours."""
    timed = book_tables(index).by_unit.get("time", ())
    about = [s.clause for s in timed if index.related(s.clause, topic)]
    if not about:
        return None
    table = book_stems(index)
    translated = None if words is None else translated_stems(index, words.language)
    # the words right before the value name the service ("la recepción, abierta 24 horas,
    # le llama un taxi" names "Front desk: 24 hours"), in the book's words or translated
    named = text[max(0, q.start - SERVICE_NAME_RADIUS) : q.start]
    own = None if words is None else Words(named, words.language).stems

    def score(clause: Clause) -> tuple[int, int]:
        # the service's name first, then the concepts of the whole sentence
        shared = 0
        if own is not None and words is not None:
            shared = table.shared(clause, own, words.language)
            if translated is not None:
                shared = max(shared, translated.shared(clause, 24, own))
        return shared, len((clause.concepts & topic) - index.generic)

    clause = max(about, key=score)  # the first of the closest
    # A service the policy keeps open all day that is as close to the sentence, or whose
    # number the sentence gives, decides for it.
    phones = _phones(text)
    if any(score(c) >= score(clause) or phones & _phones(c.text) for c in _all_day(index)):
        return None
    return contradicted(q, Span(start=q.start, end=q.end, text=q.text), index, clause)


def states_round_the_clock(index: PolicyIndex) -> bool:
    """Whether the policy keeps any service open round the clock."""
    return bool(_all_day(index))
