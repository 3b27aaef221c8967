"""Opening days: an answer that says a channel is open on days the policy does not give it.

"Our phone agents work every day, Sundays included" against "Phone, Monday to Saturday" is a
fabricated policy: a customer who calls on Sunday finds nobody. The days are read from ranges
("Monday to Saturday", "de lunes a viernes", "de segunda a sexta"), from every-day forms
("every day", "todos los días", "24/7") and from habitual days ("on Sundays", "los domingos",
"aos domingos", "weekends"); a single past day ("el domingo no pude...") states no schedule.

A stated schedule is compared with the policy's schedules for the channels its sentence names
(phone, chat, store, e-mail): when the answer opens a channel on a day that none of those
schedules has, the finding is `policy.contradicted`, with the clause. A sentence that names no
channel, or channels the policy gives no days for, is left alone; so is a negated schedule
("no atendemos los domingos"). These findings belong to the `policy` family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails.grounding import PolicyIndex, negated_before, policy_finding
from guardrails.records import Finding, Span
from guardrails.text import fold, per_policy

ALL_DAYS = frozenset(range(7))  # 0 = Monday ... 6 = Sunday

_DAY_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    [
        ("monday", "lunes", "segunda", "segunda-feira", "segundas", "segundas-feiras"),
        ("tuesday", "martes", "terca", "terca-feira", "tercas", "tercas-feiras"),
        ("wednesday", "miercoles", "quarta", "quarta-feira", "quartas", "quartas-feiras"),
        ("thursday", "jueves", "quinta", "quinta-feira", "quintas", "quintas-feiras"),
        ("friday", "viernes", "sexta", "sexta-feira", "sextas", "sextas-feiras"),
        ("saturday", "saturdays", "sabado", "sabados"),
        ("sunday", "sundays", "domingo", "domingos"),
    ]
):
    for _name in _names:
        _DAY_NAMES[_name] = _number
_DAY = "(?:" + "|".join(sorted(map(re.escape, _DAY_NAMES), key=len, reverse=True)) + ")"

# "Monday to Saturday", "de lunes a viernes", "segunda a sexta", "Mon-Fri" is not read.
_RANGE = re.compile(
    rf"(?<![\w-])({_DAY})\s*(?:to|through|thru|a|al|hasta|ate|-|–)\s*({_DAY})(?![\w-])"
)
_EVERY_DAY = re.compile(
    r"(?<!\w)(?:every day|everyday|daily|7 days a week|seven days a week|all week|24/7|"
    r"todos los dias|los 7 dias|7 dias a la semana|siete dias a la semana|diariamente|"
    r"todos os dias|7 dias por semana|sete dias por semana)(?!\w)"
)
# Habitual days: "on Sundays", "los domingos", "aos domingos", "including Sunday(s)",
# "incluidos los domingos", "inclusive aos domingos", "sábados y domingos".
_HABITUAL = re.compile(
    r"(?<!\w)(?:on|los|aos|nos|including|incluidos?|incluso|inclusive|even)\s+"
    rf"(?:(?:los|el|aos|os|o|on)\s+)?({_DAY})(?![\w-])"
)
# A day joined to a habitual one: "los sábados y domingos", "on Saturdays and Sundays".
_AND_DAY = re.compile(rf"\s*(?:y|e|and|or|o|ou|,)\s+(?:(?:los|aos|os|on)\s+)?({_DAY})(?![\w-])")
_WEEKEND = re.compile(
    r"(?<!\w)(?:weekends?|on the weekend|fines de semana|fin de semana|fins de semana|"
    r"fim de semana|finde)(?!\w)"
)

# The channels a schedule is for.
_CHANNELS = {
    "phone": re.compile(
        r"(?<!\w)(?:phone|telephone|call\w*|llam\w*|telefon\w*|ligu\w*|ligar|ligacao|ligacoes|"
        r"linea|linha|hotline)(?!\w)"
    ),
    "chat": re.compile(r"(?<!\w)(?:chat\w*|live chat|whatsapp)(?!\w)"),
    "store": re.compile(r"(?<!\w)(?:stores?|tiendas?|lojas?|shops?)(?!\w)"),
    "email": re.compile(r"(?<!\w)(?:e-?mail\w*|correo\w*)(?!\w)"),
}


# Closed, after the days: "on Sundays our phone agents are off", "los domingos no atendemos".
_CLOSED_AFTER = re.compile(
    r"(?<!\w)(?:off|closed|shut|unavailable|not|no|nao|don't|do not|aren't|isn't|never|nunca|"
    r"cerrad\w*|fechad\w*)(?!\w)"
)
_CLAUSE_END = re.compile(r"[.;:!?]|,\s*(?:but|pero|mas|and|y|e)(?!\w)")


def _closed_after(folded: str, end: int) -> bool:
    stop = _CLAUSE_END.search(folded, end)
    after = folded[end : stop.start() if stop is not None else len(folded)]
    return bool(_CLOSED_AFTER.search(" ".join(after.split()[:6])))


@dataclass(frozen=True)
class Schedule:
    days: frozenset[int]
    start: int
    end: int


# The words a schedule needs one of: most sentences have none, and a set test rules them out
# (a regex search per sentence cost as much as reading the schedules).
_GATE = frozenset(_DAY_NAMES) | {
    "every",
    "everyday",
    "daily",
    "week",
    "todos",
    "semana",
    "diariamente",
    "24/7",
    "7",  # "los 7 días"
    "weekend",
    "weekends",
    "fin",
    "fines",
    "fim",
    "fins",
    "finde",
}
_WORD = re.compile(r"[a-z0-9/-]+")


def schedules(folded: str) -> list[Schedule]:
    """The opening days a folded text states, with their offsets."""
    if _GATE.isdisjoint(_WORD.findall(folded)):
        return []
    out: list[Schedule] = []
    for m in _RANGE.finditer(folded):
        first, last = _DAY_NAMES[m.group(1)], _DAY_NAMES[m.group(2)]
        span = (last - first) % 7
        out.append(
            Schedule(frozenset((first + k) % 7 for k in range(span + 1)), m.start(), m.end())
        )
    for m in _EVERY_DAY.finditer(folded):
        out.append(Schedule(ALL_DAYS, m.start(), m.end()))
    taken = [(s.start, s.end) for s in out]
    for m in _HABITUAL.finditer(folded):
        if any(a <= m.start(1) < b for a, b in taken):
            continue  # the end of a range ("lunes a sábado")
        days, end = {_DAY_NAMES[m.group(1)]}, m.end()
        while (more := _AND_DAY.match(folded, end)) is not None:
            days.add(_DAY_NAMES[more.group(1)])
            end = more.end()
        out.append(Schedule(frozenset(days), m.start(1), end))
    for m in _WEEKEND.finditer(folded):
        out.append(Schedule(frozenset({5, 6}), m.start(), m.end()))
    return out


def channels(folded: str) -> frozenset[str]:
    return frozenset(name for name, pattern in _CHANNELS.items() if pattern.search(folded))


def with_channels(folded: str) -> list[tuple[Schedule, frozenset[str]]]:
    """Each stated schedule with the channels it is for: those named between the previous
    schedule and this one ("Phone, Monday to Saturday. Chat: every day"), or else those of the
    whole text."""
    found = sorted(schedules(folded), key=lambda s: s.start)
    if not found:
        return []
    everywhere = channels(folded)
    out, after = [], 0
    for schedule in found:
        own = channels(folded[after : schedule.end])
        out.append((schedule, own or everywhere))
        after = schedule.end
    return out


@dataclass(frozen=True)
class _BookSchedule:
    days: frozenset[int]
    channels: frozenset[str]
    clause_at: int


@per_policy()
def book_schedules(index: PolicyIndex) -> tuple[_BookSchedule, ...]:
    """The policy's schedules with their channels and clause (once per policy index)."""
    return tuple(
        _BookSchedule(schedule.days, named, at)
        for at, clause in enumerate(index.clauses)
        for schedule, named in with_channels(fold(clause.text))
    )


def schedule_findings(
    text: str, offset: int, language: str | None, index: PolicyIndex
) -> list[Finding]:
    """Findings for the opening days one sentence `text` (at `offset` in the answer) states."""
    folded = fold(text)
    for schedule, named in with_channels(folded):
        about = [b for b in book_schedules(index) if b.channels & named]
        if not about:
            continue  # no channel named, or none the policy gives days for
        extra = schedule.days - frozenset().union(*(b.days for b in about))
        if (
            not extra
            or negated_before(folded, schedule.start, language, 6)
            or _closed_after(folded, schedule.end)
        ):
            continue
        clause = index.clauses[about[0].clause_at]
        span = Span(
            start=offset + schedule.start,
            end=offset + schedule.end,
            text=text[schedule.start : schedule.end],
        )
        return [
            policy_finding(
                "policy.contradicted",
                f"The answer says this channel is open '{span.text}', but the policy gives it "
                "no such day.",
                span,
                index,
                "the policy's opening days for this channel",
                clause,
            )
        ]
    return []
