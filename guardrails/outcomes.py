"""Predicted outcomes: an answer that tells the customer how a decision someone else makes will
turn out, where the policy says no outcome may be promised.

"The warranty team will send you a new kettle", "su reclamación será aprobada", "a disputa
vai ser aprovada" each state the result of a warranty claim, complaint, review, investigation
or dispute as settled. When the policy rules such promises out ("Never promise: the outcome of
a dispute", "Agents must not predict the result"), the statement is `policy.contradicted`, with
that clause as evidence. A hedged or conditional result ("if the team approves it", "once the
review is decided", "podría aprobarse") and a negated one are not predictions; a result with no
decision process in its sentence (a refund after a return) is the other policy checks' to judge.
These findings belong to the `policy` family.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from guardrails.grounding import Clause, Mention, PolicyIndex, negated_before, policy_finding
from guardrails.records import Finding, Span
from guardrails.text import fold, per_policy

#: Concepts of the core pack naming a decision someone else makes about the customer's case.
PROCESS_CONCEPTS = frozenset({"dispute", "complaint"})
# Decision processes named in words, in any industry and with no pack, each under one name
# whatever the language (es/en/pt): an investigation, an appeal, a claim, a warranty (a claim
# the maker or the seller decides on) and the maker itself.
_PROCESS_WORDS = re.compile(
    r"(?<!\w)(?:"
    r"(?P<investigation>investigat\w*|investigac\w*|investigacao|inquiry)|"
    r"(?P<review>returns? review)|"
    r"(?P<appeal>appeal\w*|apelac\w*)|"
    r"(?P<claim>claims?)|"
    r"(?P<warranty>warrant(?:y|ies)|garantias?|manufacturers?|fabricantes?)"
    r")(?!\w)"
)


def _named_processes(folded: str) -> frozenset[str]:
    """The decision processes `folded` text names in words, by their names."""
    return frozenset(
        name for m in _PROCESS_WORDS.finditer(folded) for name, hit in m.groupdict().items() if hit
    )


# A result stated as settled: approval, a replacement, a refund as the decision's outcome.
_OUTCOME = re.compile(
    r"(?<![\w'])(?:"
    # English
    r"will (?:be )?(?:approved?|accepted|accept|upheld|granted)|'ll (?:be )?(?:approved?|accepted)|"
    r"will (?:send|ship|give) you (?:a |an )?(?:brand )?(?:new|replacement)|"
    r"will (?:be )?replaced?|'ll (?:be )?replaced?|"
    r"will (?:be )?refunded|will refund you|you will (?:get|receive) (?:a |your |a full )?refund|"
    r"you'll (?:get|receive) (?:a |your |a full )?refund|"
    r"(?:you will|you'll) (?:get|have) (?:all )?(?:your|the) money back|"
    r"(?:recuperaras|recuperara|vas a recuperar|va a recuperar) (?:tu |su |el )?dinero|"
    r"(?:vai|voce vai) (?:recuperar|receber) (?:o )?(?:seu )?dinheiro(?: de volta)?|"
    # Spanish
    r"(?:se )?aprobara(?:n)?|(?:sera|seran) (?:aprobad|aceptad|reemplazad|sustituid|reembolsad)\w*|"
    r"aceptara(?:n)?|(?:va|van) a (?:aprobar|aceptar)|"
    r"(?:le|te|les) (?:enviara|enviaran|mandara|mandaran) (?:\w+ ){0,3}(?:nuev[oa]s?|reemplazo)|"
    r"(?:le|te|les) (?:cambiaran|reemplazaran|sustituiran|reembolsaran|devolveran)|"
    r"(?:recibira|recibiras|recibiran) (?:el |un |su |tu )?(?:reembolso|nuevo|nueva|reemplazo)|"
    # Portuguese
    r"(?:sera|serao|vai ser|vao ser) (?:aprovad|aceit|substituid|reembolsad|trocad)\w*|"
    r"(?:vai|vao) (?:aprovar|aceitar|trocar|reembolsar)|aprovara(?:o)?|"
    r"(?:enviara|enviarao|vai enviar|vao enviar|vai mandar|vao mandar) (?:\w+ ){0,3}(?:nov[oa]s?)|"
    r"(?:vai|vai receber|recebera) (?:o |um )?reembolso"
    r")(?![\w'])"
)
# Hedges and conditions before the result: "if", "once", "may", "podría", "depende".
_HEDGE = re.compile(
    r"(?<![\w'])(?:if|once|when|whether|unless|should|may|might|could|would|probably|likely|"
    r"possibly|hope|depend\w*|in case|si|se|caso|una vez que|cuando|quando|assim que|en caso|"
    r"podria\w*|poderia\w*|probablemente|provavelmente|quiza\w*|"
    r"tal vez|talvez|ojala|espero|esperamos)(?![\w'])"
)
# A time word before the customer's own step conditions nothing on the decision: "once you
# open a dispute, you'll get your money back" still promises the outcome.
_WHEN = frozenset({"once", "when", "cuando", "quando", "una vez que", "assim que"})
_OWN_STEP = re.compile(r"\s+(?:you|tu|usted|voce)\s+(?!may|might|could|win|ganes|gane|ganhar)")
_CLAUSE_BREAK = re.compile(r"[;:]|[.!?](?=\s)|,\s*(?:but|pero|mas|and|y|e|so|asi que)(?!\w)")
# In the policy: a rule that outcomes must not be promised or predicted.
_NO_PREDICTION = re.compile(
    r"(?<!\w)(?:must not|may not|cannot|can't|never|do not|don't|no) (?:\w+ ){0,2}"
    r"(?:predict|promise|guarantee)\w*|no (?:result|outcome) is guaranteed"
)
_OUTCOME_WORD = re.compile(r"(?<!\w)(?:outcome|result)s?(?!\w)")


def _forbids_outcomes(clause: Clause) -> bool:
    folded = fold(clause.text)
    if _NO_PREDICTION.search(folded) and (_OUTCOME_WORD.search(folded) or "predict" in folded):
        return True
    # "Never promise: the outcome of a dispute" (a list under a prohibition heading)
    listed = bool(clause.concepts) and clause.forbidden == clause.concepts
    return listed and bool(_OUTCOME_WORD.search(folded))


@per_policy()
def outcome_rules(index: PolicyIndex) -> tuple[Clause, ...]:
    """The policy's clauses that rule out promising or predicting an outcome."""
    return tuple(c for c in index.clauses if _forbids_outcomes(c))


def outcome_findings(
    text: str, offset: int, found: Sequence[Mention], language: str | None, index: PolicyIndex
) -> list[Finding]:
    """A predicted outcome in one sentence `text` (at `offset` in the answer)."""
    rules = outcome_rules(index)
    if not rules:
        return []
    folded = fold(text)
    processes = {m.concept for m in found} & PROCESS_CONCEPTS
    named = _named_processes(folded)
    if not processes and not named:
        return []
    for result in _OUTCOME.finditer(folded):
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(folded, 0, result.start())]
        own = folded[max(breaks, default=0) : result.start()]
        hedged = any(
            h.group(0) not in _WHEN or not _OWN_STEP.match(own, h.end())
            for h in _HEDGE.finditer(own)
        )
        if hedged or negated_before(folded, result.start(), language, 6):
            continue
        # the rule that names the same process: by concept, or by the same process words
        clause = max(
            rules,
            key=lambda c: len(c.concepts & processes) + len(_named_processes(fold(c.text)) & named),
        )
        span = Span(
            start=offset + result.start(),
            end=offset + result.end(),
            text=text[result.start() : result.end()],
        )
        return [
            policy_finding(
                "policy.contradicted",
                f"The answer states how a decision will turn out ('{span.text}'), but the "
                "policy says no outcome may be promised.",
                span,
                index,
                "the policy rules out promising or predicting outcomes",
                clause,
            )
        ]
    return []
