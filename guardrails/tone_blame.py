"""`tone.blame`: the answer blames the customer.

"You should have read the terms", "had you checked...", "es culpa tuya", "si hubieras
leído", "você deveria ter lido", "por sua culpa". What the customer "should have" done must
be a duty (read, check, pay, include, claim...): "you should have received an email" is not
blame, and neither is a negated phrase ("no es tu culpa"). Counterfactuals of the customer's
conduct blame too ("lo mejor habría sido llamarnos antes", "a responsabilidade era tua"); "un
accidente con culpa suya" describes an at-fault claim. The phrases are data:
`guardrails/lexicons/tone/blame.yaml`.
"""

from __future__ import annotations

from guardrails.records import Case, Finding
from guardrails.tone_phrases import word_list
from guardrails.tone_rule import Answer, finding

_APOLOGY_WORDS = frozenset(word_list("blame", "apology_words"))
# Not blame: a blame phrase under a negation, within three words before it in the same clause.
_NEGATORS = frozenset(word_list("common_words", "negators"))


def _apology_for(toks: list[str], first: int) -> bool:
    """'Le pedimos disculpas por la espera y por no haber respondido': a 'por no haber...'
    after an apology in the same sentence is what the company apologises for."""
    if toks[first] != "por":
        return False
    for t in reversed(toks[:first]):
        if t == ".":
            return False
        if t in _APOLOGY_WORDS:
            return True
    return False


def _negated(toks: list[str], first: int) -> bool:
    """'No es tu culpa', "it isn't your fault": a blame phrase under a negation (within three
    words before it, in the same clause: "No, debiste llamar antes" is still blame)."""
    for t in reversed(toks[max(0, first - 3) : first]):
        if not t[0].isalnum():
            return False
        if t in _NEGATORS:
            return True
    return False


def blame(case: Case, answer: Answer) -> list[Finding]:
    """The rule: the answer blames the customer."""
    del case
    scan = answer.scan
    toks = scan.tokens.toks
    hits = [
        h
        for h in scan.hits.get("blame", [])
        if not _negated(toks, h[0]) and not _apology_for(toks, h[0])
    ]
    out = []
    last_end = -1
    for hit in hits:
        if hit[0] <= last_end:
            continue
        last_end = hit[1]
        span = scan.span(hit)
        out.append(
            finding(
                "blame",
                "major",
                f'The answer blames the customer: "{span.text}".',
                span,
                "tone policy: never blame the customer",
                "assigns fault to the customer (what they should have done, their fault or "
                "responsibility)",
            )
        )
    return out
