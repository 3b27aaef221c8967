"""A benefit or commitment offered affirmatively (a waiver, a coupon, a discount, compensation,
something free...) needs a policy clause that grants it: a clause that forbids it makes it
`policy.contradicted`, no clause makes it `policy.unsupported`. Paying back what someone else
charged is compensation, taking a charge off is a waiver, whatever the verb says; a benefit's
value must be one the policy grants it with."""

from __future__ import annotations

import re

from guardrails.analysis import SentenceAnalysis
from guardrails.claim_frames import requested_benefit
from guardrails.claims import refund_promised
from guardrails.grounding import (
    Clause,
    Mention,
    PolicyIndex,
    equivalent,
    near_mentions,
    negated_before,
    policy_finding,
)
from guardrails.lexicon import BENEFITS
from guardrails.records import Finding, Span
from guardrails.text import Quantity, fold


def _best_clause(candidates: list[Clause], topic: set[str]) -> Clause | None:
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c.concepts & topic))  # first of the best


def benefit_finding(
    concept: str, span: Span, sentence_topic: set[str], index: PolicyIndex
) -> Finding | None:
    granting = [c for c in index.clauses if concept in c.granted]
    subjects = (sentence_topic - index.generic) - BENEFITS

    def relevance(clause: Clause) -> int:
        return len(clause.concepts & subjects)

    forbidding = [c for c in index.clauses if concept in c.forbidden]
    # "free" for plan changes does not make shipping free when the policy rules out free
    # shipping: a grant about another subject yields to a prohibition about this one.
    if (
        granting
        and forbidding
        and max(map(relevance, granting)) == 0
        and max(map(relevance, forbidding)) > 0
    ):
        granting = []
    if concept == "free":
        # "no date-change fees" grants "changing the date is free": a clause that rules out
        # fees, whatever they are charged for, and no benefit ("no discounts or waivers")
        granting += [
            c
            for c in index.clauses
            if "fee" in c.forbidden and not (c.forbidden - {"fee"}) & BENEFITS
        ]
    if granting:
        return None
    label = concept.replace("_", " ")
    if forbidding:
        clause = _best_clause(forbidding, sentence_topic)
        assert clause is not None
        return policy_finding(
            "policy.contradicted",
            f"The answer offers {label} ('{span.text}'), which the policy rules out.",
            span,
            index,
            "the policy forbids or excludes this",
            clause,
        )
    return policy_finding(
        "policy.unsupported",
        f"The answer offers {label} ('{span.text}'), which no policy clause grants.",
        span,
        index,
        "no clause in the policy grants this",
    )


def _compound_tail(text: str, start: int, end: int) -> bool:
    """Whether a phrase of several words begins with the tail of a hyphenated compound: in
    "4 interest-free monthly payments" the words "free monthly" are no "free month", "free"
    belongs to "interest" and the compound to "payments"."""
    return start > 0 and text[start - 1] == "-" and " " in text[start:end].strip()


# Information as the object right after a word: "la información", "more details", "os
# detalhes".
_INFORMATION_AFTER = re.compile(
    r"^\s+(?:(?:la|el|los|las|a|o|os|as|the|more|mas|mais|any|further|these|this)\s+)?"
    r"(?:informacion|information|info|detalles|details|detalhes|informacao|informacoes|"
    r"explicacion|explanation|explicacao)(?!\w)"
)
#: Characters after a word within which its object is read.
INFORMATION_RADIUS = 30


def is_heading(text: str) -> bool:
    stripped = text.strip().lstrip("#*").strip()
    return len(stripped.split()) <= 4 and not stripped.endswith((".", "!", "?", ":", ";"))


# The assistant having taken a charge off (a done deed, in the first person): "I've removed",
# "we have written off", "le he quitado", "hemos anulado", "retirei", "removemos". Cancelling or
# reversing a charge is left out: a duplicate charge is cancelled or reversed by rule.
_REMOVED = re.compile(
    r"(?<![\w'])(?:(?:i've|we've|i have|we have)\s+(?:\w+\s+)?(?:removed|deleted|dropped|"
    r"written off|taken off|wiped)|(?:(?:le|te|les|se lo|se la)\s+)?(?:he|hemos)\s+"
    r"(?:quitado|eliminado|anulado|retirado|borrado)|(?:retirei|removi|eliminei|anulei|tirei|"
    r"retiramos|removemos|eliminamos|anulamos|tiramos))(?![\w'])"
)
#: Characters after the verb within which the charge it removes is named.
REMOVED_OBJECT_RADIUS = 40


def _removed_charge(
    folded: str, found: list[Mention], language: str | None
) -> tuple[int, int] | None:
    """Where the assistant says it took a charge off ("I've removed the GBP 4.50 charge"): the
    verb's span, when a fee is named right after it and nothing negates it."""
    for verb in _REMOVED.finditer(folded):
        if negated_before(folded, verb.start(), language, 3):
            continue
        if any(
            m.concept == "fee"
            and not m.negated
            and verb.end() <= m.start
            and m.start - verb.end() <= REMOVED_OBJECT_RADIUS
            for m in found
        ):
            return verb.start(), verb.end()
    return None


# A cost someone else charged the customer: their bank's overdraft or fee.
_OTHERS_COST = re.compile(
    r"(?<!\w)(?:overdraft\w*|descubierto|sobregiro|cheque especial|bank(?:'s)? (?:fee|charge)s?|"
    r"(?:comision|comisiones|cargo|cargos|intereses) (?:de|del) (?:su|tu) banco|"
    r"(?:le|te) cobro (?:su|tu|el) banco|"
    r"(?:taxa|taxas|tarifa|tarifas|juros) (?:do|de) (?:seu )?banco|"
    r"(?:o )?(?:seu )?banco (?:lhe |te )?cobrou|your bank charged|charged by your bank)(?!\w)"
)


def benefit_value_finding(q: Quantity, found: list[Mention], index: PolicyIndex) -> Finding | None:
    """A percentage or amount right next to an affirmed benefit (a discount, a credit) that no
    clause granting that benefit states, when such clauses state values of that unit."""
    for mention in near_mentions(found, q.start, q.end, 20):
        if mention.concept not in BENEFITS or mention.negated:
            continue
        granting = [
            c
            for c in index.clauses
            if mention.concept in c.granted and any(p.same_unit(q) for p in c.quantities)
        ]
        if not granting:
            continue
        if any(equivalent(q, p) for c in granting for p in c.quantities):
            return None
        return policy_finding(
            "policy.contradicted",
            f"The answer gives {mention.concept.replace('_', ' ')} of {q.text}, but the "
            "policy grants it only with other values.",
            Span(start=q.start, end=q.end, text=q.text),
            index,
            "the policy clause that grants this benefit states its values",
            granting[0],
        )
    return None


def benefit_findings(
    sent: SentenceAnalysis,
    text: str,
    found: list[Mention],
    topic: set[str],
    index: PolicyIndex,
    language: str | None,
) -> list[Finding]:
    """The benefits a sentence of the answer `text` offers (its mentions `found`, outside its
    quantities), each checked against the clauses that grant or forbid it."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for mention in found:
        concept, start, end = mention.concept, mention.start, mention.end
        # "we cannot offer compensation" offers nothing
        if concept not in BENEFITS or concept in seen or mention.negated:
            continue
        if (
            _compound_tail(sent.text, start, end)
            or _INFORMATION_AFTER.match(fold(sent.text[end : end + INFORMATION_RADIUS]))
            or requested_benefit(sent.folded, start, language)
        ):
            # (a benefit's word whose object is information gives none: "puede ampliarle
            # la información", "extend the details"), nor one that a request asks for
            # ("claims for compensation are reviewed by our insurer")
            continue
        seen.add(concept)
        span = Span(
            start=sent.start + start,
            end=sent.start + end,
            text=text[sent.start + start : sent.start + end],
        )
        finding = benefit_finding(concept, span, topic, index)
        if finding is not None:
            findings.append(finding)
    cost = _OTHERS_COST.search(sent.folded)
    if cost is not None and "compensation" not in seen and refund_promised(sent.text, language):
        # "le devolvemos los EUR 9.00 de comisión que le cobró su banco": paying
        # back what someone else charged is compensation, whatever the verb says
        span = Span(
            start=sent.start + cost.start(),
            end=sent.start + cost.end(),
            text=text[sent.start + cost.start() : sent.start + cost.end()],
        )
        finding = benefit_finding("compensation", span, topic, index)
        if finding is not None:
            findings.append(finding)
    removal = _removed_charge(sent.folded, found, language)
    if removal is not None and "waiver" not in seen:
        # "I've removed the GBP 4.50 charge", "le he quitado el cargo": taking a charge off
        # the customer's account waives it, whatever the verb says
        span = Span(
            start=sent.start + removal[0],
            end=sent.start + removal[1],
            text=text[sent.start + removal[0] : sent.start + removal[1]],
        )
        finding = benefit_finding("waiver", span, topic, index)
        if finding is not None:
            findings.append(finding)
    return findings
