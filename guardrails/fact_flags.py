"""Yes/no facts of a state (covered, included, eligible, approved, active), asserted the other
way round in words: "o seguro cobre hospedagem" against `hospedagem_coberta: false`, "your
plan is not active" against `plan_active: true`. Part of the `facts` guardrail.

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
_CLAUSE = re.compile(r"[,;:()]|(?<!\w)(?:but|pero|mas|porem|however|and|y|e)(?!\w)")


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
