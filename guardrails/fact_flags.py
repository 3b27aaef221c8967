"""Yes/no facts of a state (covered, included, eligible, approved), asserted the other way
round in words: "o plano inclui a instalação" against `instalacao_incluida: false`, "your refund
was not approved" against `refund_approved: true`; and a fee or cost of this conversation said
to be free ("el traslado es gratuito" against `coste_traslado: EUR 22.00`). Part of the `facts`
guardrail.

A fact's name gives its state word and its subject words ("hospedagem_coberta": covered, of
hospedagem); a sentence that names the subject (by its Snowball stem, en/es/pt) and states the
state in the same clause, not negated, asserts it; negated, denies it. Questions and conditions
("si el taller está en la red, está cubierto") assert nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardrails.analysis import analyse
from guardrails.fact_exposure import affected_key
from guardrails.fact_keys import key_words, same_word
from guardrails.grounding import negated_before
from guardrails.records import Case
from guardrails.text import fold, quantities

# A state a yes/no fact's name can carry: the start of its word in the name, and how an answer
# says it (Portuguese "cobre" is Spanish "charges": that form only in Portuguese answers).
_STATES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^(?:cover|cubiert|cubierto|cobert)"),
        r"cover(?:s|ed|age)?|cubre|cubren|cubrimos|cubiert[oa]s?|cobertura",
        r"|cobre|cobrem|cobrimos|cobert[oa]s?",
    ),
    (re.compile(r"^(?:includ|inclu)"), r"includ\w*|inclu\w*", ""),
    (
        re.compile(r"^(?:eligib|elegib|elegiv)"),
        r"eligib\w*|elegib\w*|elegiv\w*|qualif\w*|califica\w*",
        "",
    ),
    (re.compile(r"^(?:approv|aprob|aprov)"), r"approv\w*|aprob\w*|aprov\w*", ""),
)
_CONDITION = re.compile(r"(?<!\w)(?:if|unless|whether|si|caso|en caso|no caso)(?!\w)")
_CONDITION_PT = re.compile(r"(?<!\w)(?:se|caso|no caso)(?!\w)")
# (not "e": the folded Portuguese "é" is "e")
_CLAUSE = re.compile(r"[,;:()]|(?<!\w)(?:but|pero|mas|porem|however|and|while|mientras)(?!\w)")


def _flags(case: Case) -> Iterator[tuple[str, bool, re.Pattern[str], list[str]]]:
    for key, value in case.facts.items():
        if not isinstance(value, bool) or affected_key(key):
            continue  # (what an incident touched is `fact_exposure`'s)
        words = key_words(key, case.company)
        for state, forms, pt_forms in _STATES:
            if not any(state.match(w) for w in words):
                continue
            subject = [w for w in words if not state.match(w)]
            if not subject:
                continue
            alts = forms + (pt_forms if case.language.lower().startswith("pt") else "")
            yield key, value, re.compile(rf"(?<!\w)(?:{alts})(?!\w)"), subject


def contradicted_flags(case: Case, text: str) -> list[tuple[str, int, int]]:
    """(key, start, end) of each state asserted against a yes/no fact: the span is the state
    word as the answer says it."""
    flags = list(_flags(case))
    if not flags:
        return []
    condition = _CONDITION_PT if case.language.lower().startswith("pt") else _CONDITION
    out: list[tuple[str, int, int]] = []
    for sent in analyse(text, case.language).sentences:
        folded = sent.folded
        if "?" in sent.text or condition.search(folded):
            continue
        for key, value, forms, subject in flags:
            for verb in forms.finditer(folded):
                left = max((m.end() for m in _CLAUSE.finditer(folded, 0, verb.start())), default=0)
                found = _CLAUSE.search(folded, verb.end())
                right = found.start() if found else len(folded)
                clause = folded[left:right]
                if not all(
                    any(same_word(w, c) for c in re.findall(r"[a-z]+", clause)) for w in subject
                ):
                    continue
                denied = negated_before(folded, verb.start(), case.language, 4)
                if denied == value:  # asserted when false, denied when true
                    out.append((key, sent.start + verb.start(), sent.start + verb.end()))
                break
    return out


# A fee or cost in a fact's name, and "free" as answers say it.
_FEE_WORD = re.compile(r"^(?:fee|cost|coste|costo|custo|charge|cargo|price|precio|preco|taxa)")
_FREE = re.compile(
    r"(?<!\w)(?:free(?:\s+of\s+charge)?|no\s+(?:cost|charge|fee)|gratis|gratuit[oa]s?|"
    r"sin\s+(?:coste|costo|cargo)|sem\s+(?:custo|taxa|encargos?)|gratis)(?!\w)"
)
_RATE = re.compile(r"(?<!\w)(?:cada|every|each|per|por|a cada|ao|al)(?!\w)")
_ORDINAL = re.compile(
    r"(?<!\w)(?:first|primer|primera|primeiro|primeira|1st|1er|1a|1o|next|proxim\w*)(?!\w)"
)


def free_fees(case: Case, text: str) -> list[tuple[str, int, int]]:
    """(key, start, end) where the answer calls free what a fee fact of this conversation
    charges: the fact's other name words in the same clause as "free", no amount in it, no
    condition or ordinal ("the first change is free" is a rule of the first)."""
    sentences = analyse(text, case.language).sentences
    if not any(_FREE.search(sent.folded) for sent in sentences):
        return []  # (most answers call nothing free: the case's fees need not be read)
    fees = []
    for key, value in case.facts.items():
        if not isinstance(value, str):
            continue
        amounts = [q for q in quantities(value) if q.unit == "money" and q.value > 0]
        words = key_words(key, case.company)
        subject = [w for w in words if not _FEE_WORD.match(w)]
        named = re.findall(r"[a-z]+", fold(key))
        if amounts and subject and any(_FEE_WORD.match(w) for w in named):
            fees.append((key, subject))
    if not fees:
        return []
    condition = _CONDITION_PT if case.language.lower().startswith("pt") else _CONDITION
    out: list[tuple[str, int, int]] = []
    for sent in sentences:
        folded = sent.folded
        if "?" in sent.text or condition.search(folded) or _ORDINAL.search(folded):
            continue
        for free in _FREE.finditer(folded):
            left = max((m.end() for m in _CLAUSE.finditer(folded, 0, free.start())), default=0)
            found = _CLAUSE.search(folded, free.end())
            right = found.start() if found else len(folded)
            clause = folded[left:right]
            if any(q.unit == "money" for q in quantities(clause)) or _RATE.search(clause):
                continue  # an amount said with it, or a rule: "un traslado gratis cada 6 meses"
            if negated_before(folded, free.start(), case.language, 4):
                continue  # "no es gratuito"
            clause_words = re.findall(r"[a-z]+", clause)
            stated = {round(q.value, 2) for q in quantities(sent.text) if q.unit == "money"}
            for key, subject in fees:
                if stated & {round(q.value, 2) for q in quantities(str(case.facts[key]))}:
                    continue  # the sentence states the fee itself
                if all(any(same_word(w, c) for c in clause_words) for w in subject):
                    out.append((key, sent.start + free.start(), sent.start + free.end()))
                    break
    return out
