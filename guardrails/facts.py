"""`facts`: the answer gets this conversation's facts wrong, or leaves out one it must state.

Codes:

- `facts.contradiction` (critical): the answer states a number, amount, duration, percentage
  or date that contradicts the case facts (an outage of 5 hours reported as 2, a refund of
  USD 89.99 stated as USD 98.99, "16 days left" when 6 are left), or says that something the
  facts list as not exposed / not affected was exposed or affected.
- `facts.missing` (major): a fact the case requires (`expect.required_facts`) is absent: its
  value is not stated in any form (amounts and durations are compared by value and unit,
  so "EUR 45.60" matches "45,60 EUR"; dates match in ISO or written form in en/es/pt).

A quantity is only compared with facts of the same unit and subject, and a value the policy
itself states is left to the `policy` guardrail, so one wrong number is one finding.
"""

from __future__ import annotations

import re
from datetime import date

from evals.records import Case, Evidence, FactValue, Finding, PolicyBook, Span
from guardrails.grounding import (
    case_ground,
    equivalent,
    fact_quantities,
    index_policy,
    mentions,
    near,
    negated_before,
    negation_for,
)
from guardrails.lexicon import concepts
from guardrails.policy import RELATED, policy_relation
from guardrails.registry import Check, GuardrailContext, register
from guardrails.text import Quantity, fold, quantities, sentences

GUARDRAIL = "facts"

_MONTHS = {
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
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2,4}))?(?![\d/])"),
    re.compile(
        rf"(?<!\w)(?P<d>\d{{1,2}})(?:º|o|st|nd|rd|th)?\s+(?:de\s+)?(?P<mon>{_MONTH_ALT})"
        rf"(?:\s+(?:de\s+|of\s+)?(?P<y>\d{{4}}))?(?!\w)"
    ),
    re.compile(
        rf"(?<!\w)(?P<mon>{_MONTH_ALT})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?"
        rf"(?!\w)"
    ),
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "from",
        "que",
        "con",
        "los",
        "las",
        "del",
        "por",
        "para",
        "una",
        "uno",
        "dos",
        "de",
        "da",
        "do",
        "das",
        "em",
        "no",
        "na",
        "nos",
        "nas",
        "el",
        "la",
    }
)
# Words that make a quantity about this conversation: "7 days ago", "6 days left".
_CASE_CUE = re.compile(
    r"(?<!\w)(ago|hace|ha|left|remaining|remain|quedan|queda|restan|resta|faltan|falta|"
    r"faltam|restam|lasted|lasting|duro|durou|dura|lleva|llevamos|leva|levamos|overdue|"
    r"vencid\w*|atrasad\w*|already|ya|ja|so far|pasados|passados)(?!\w)"
)
# Keys whose list names what was NOT affected: stating one of them as affected contradicts.
_NOT_KEY = re.compile(r"(^|_)(not|no|non|sin|nao)_|_not$|unaffected|not_exposed|safe")
# Keys holding lists of what an incident did or did not touch.
_LIST_OF_AFFECTED = re.compile(r"expos|affect|leak|breach|compromis|involv|stolen|accessed")
_AFFECTED = re.compile(
    r"(?<!\w)(expos\w*|expus\w*|expuest\w*|expost\w*|leak\w*|filtr\w*|vaza\w*|"
    r"compromet\w*|affected|afectad\w*|afetad\w*|accessed|acced\w*|acessad\w*|robad\w*|"
    r"stolen|roubad\w*|involved|involucrad\w*|envolvid\w*|incluid\w*|included|breached)(?!\w)"
)


def dates_in(text: str) -> list[tuple[int, int, tuple[int | None, int, int]]]:
    """(start, end, (year or None, month, day)) for every date written in en/es/pt."""
    folded = fold(text)
    out = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(folded):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            groups = m.groupdict()
            month = _MONTHS[groups["mon"]] if groups.get("mon") else int(groups["m"])
            day = int(groups["d"])
            year = int(groups["y"]) if groups.get("y") else None
            if year is not None and year < 100:
                year += 2000
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            taken.append((m.start(), m.end()))
            out.append((m.start(), m.end(), (year, month, day)))
    return out


def _iso(value: str) -> tuple[int, int, int] | None:
    if not _ISO.match(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return parsed.year, parsed.month, parsed.day


def _same_date(written: tuple[int | None, int, int], fact: tuple[int, int, int]) -> bool:
    year, month, day = written
    return (month, day) == fact[1:] and (year is None or year == fact[0])


def _tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(fold(text)) if len(t) >= 3 and t not in _STOP]


def _text_present(value: str, folded_answer: str, answer_tokens: set[str]) -> bool:
    folded = fold(value).strip()
    if not folded:
        return True
    if re.search(r"(?<!\w)" + re.escape(folded) + r"(?!\w)", folded_answer):
        return True
    wanted = _tokens(value)
    return bool(wanted) and all(t in answer_tokens for t in wanted)


def _present(key: str, value: FactValue, text: str, answer_q: list[Quantity]) -> bool:
    if isinstance(value, bool):
        return True  # a yes/no fact has no surface form to look for
    if isinstance(value, list):
        return all(_present(key, item, text, answer_q) for item in value)
    folded_answer = fold(text)
    if isinstance(value, int | float):
        for fq in fact_quantities(key, value):
            if fq.unit != "number" and any(equivalent(a, fq) for a in answer_q):
                return True
        number = f"{value:g}"
        return bool(re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", text))
    iso = _iso(value.strip())
    if iso is not None:
        return any(_same_date(d, iso) for _, _, d in dates_in(text)) or value in text
    wanted = quantities(value)
    if wanted:
        return all(any(equivalent(a, w) for a in answer_q) for w in wanted)
    return _text_present(value, folded_answer, set(_WORD.findall(folded_answer)))


def _key_concepts(key: str) -> set[str]:
    return concepts(key.replace("_", " "))


def _contradictions(case: Case, text: str, book: PolicyBook | None) -> list[Finding]:
    ground = case_ground(case)
    facts = [(key, q) for key, q in ground.facts]
    index = index_policy(book) if book else None
    policy_quantities = [p for c in index.clauses for p in c.quantities] if index else []
    findings: list[Finding] = []
    for sent in sentences(text):
        found = mentions(sent.text, case.language)
        folded = fold(sent.text)
        for q in quantities(sent.text):
            if q.unit in ("time", "immediate", "allday") or ground.grounds(q):
                continue
            comparable = [
                (k, f)
                for k, f in facts
                if f.same_unit(q) or (q.kind == "duration" and f.kind == "duration")
            ]
            if not comparable:
                continue
            if any(equivalent(q, p) for p in policy_quantities):
                continue  # a value the policy states: the policy guardrail's to judge
            local = near(found, q.start, q.end)
            # The fact this quantity speaks of: one whose name shares a concept with the
            # words around it ("refund of USD 98.99" -> refund_amount), or, when the words
            # say it is about this conversation ("16 days left"), the one fact of that unit.
            window = fold(sent.text[max(0, q.start - 40) : q.end + 40])
            about_case = bool(_CASE_CUE.search(window))
            if (
                not about_case
                and index is not None
                and policy_relation(q, local, {m.concept for m in found}, index) >= RELATED
            ):
                continue  # "a 45-day window": a rule, so the policy guardrail's to judge
            related = [(k, f) for k, f in comparable if _key_concepts(k) & local]
            if not related:
                same = [(k, f) for k, f in comparable if f.unit == q.unit]
                if len(same) == 1 and about_case:
                    related = same
                else:
                    continue
            key = related[0][0]
            start, end = sent.start + q.start, sent.start + q.end
            findings.append(
                Finding(
                    guardrail=GUARDRAIL,
                    code="facts.contradiction",
                    severity="critical",
                    message=f"The answer states {q.text}, but the case facts say "
                    f"{case.facts[key]} ({key.replace('_', ' ')}).",
                    evidence=Evidence(
                        span=Span(start=start, end=end, text=text[start:end]),
                        checked_against=f"{key}: {case.facts[key]}",
                        source=f"facts.{key}",
                    ),
                )
            )
        # What the facts list as (not) exposed/affected, stated the other way round.
        if not _AFFECTED.search(folded):
            continue
        negation = negation_for(case.language)
        for key, value in case.facts.items():
            if not isinstance(value, list) or not _LIST_OF_AFFECTED.search(key):
                continue
            listed_as_not = bool(_NOT_KEY.search(key))
            for item in value:
                item_folded = fold(str(item)).strip()
                if not item_folded:
                    continue
                for m in re.finditer(r"(?<!\w)" + re.escape(item_folded) + r"(?!\w)", folded):
                    # "no se expusieron las contraseñas" / "las contraseñas no se vieron
                    # afectadas"; a negation after an exposed item usually opens the list of
                    # what was not touched, so only one before it counts there.
                    # (an exposed item counts as denied only right after a negation)
                    said_not = negated_before(
                        folded, m.start(), case.language, None if listed_as_not else 4
                    ) or (listed_as_not and bool(negation.search(folded[m.end() : m.end() + 40])))
                    if said_not == listed_as_not:
                        continue  # stated as the facts say
                    start, end = sent.start + m.start(), sent.start + m.end()
                    stated = "not affected" if said_not else "affected"
                    findings.append(
                        Finding(
                            guardrail=GUARDRAIL,
                            code="facts.contradiction",
                            severity="critical",
                            message=f"The answer says {text[start:end]} were {stated}, but "
                            f"the case facts say otherwise ({key}).",
                            evidence=Evidence(
                                span=Span(start=start, end=end, text=text[start:end]),
                                checked_against=f"{key}: {value}",
                                source=f"facts.{key}",
                            ),
                        )
                    )
    return findings


def _missing(case: Case, text: str) -> list[Finding]:
    answer_q = quantities(text)
    out = []
    for key in case.expect.required_facts:
        value = case.facts[key]
        if _present(key, value, text, answer_q):
            continue
        out.append(
            Finding(
                guardrail=GUARDRAIL,
                code="facts.missing",
                severity="major",
                message=f"The answer does not state {key.replace('_', ' ')} ({value}), "
                "which this case requires.",
                evidence=Evidence(
                    checked_against=f"{key}: {value}",
                    source=f"facts.{key}",
                    note="required by expect.required_facts; not found in any form",
                ),
            )
        )
    return out


@register(GUARDRAIL, version="1")
def facts_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        return _contradictions(case, text, book) + _missing(case, text)

    return check
