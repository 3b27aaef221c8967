"""`policy`: the answer states a policy the company does not have.

Unsupported is fabricated. Every policy statement in an answer is grounded against the policy
book's clauses:

- a quantity (a window, a fee, a percentage, a number of installments, opening hours) that is not
  one of the case's own facts or something the customer said must appear in the policy with the
  same unit (days are not business days; 2 weeks are 14 days). A value the policy states
  differently for the same topic is `policy.contradicted`; one the policy never states is
  `policy.unsupported`.
- a benefit or commitment (a waiver, a coupon, a discount, compensation, a credit, something
  free, an exception, a guarantee, priority, an extension...) offered affirmatively needs a
  policy clause that grants it: a clause that forbids it makes it `policy.contradicted`, no
  clause makes it `policy.unsupported`.

The policy text may be in another language than the answer: topics and benefits are matched
through a cross-lingual lexicon (guardrails.lexicon), quantities by value and unit.
"""

from __future__ import annotations

import re

from evals.records import Case, Evidence, Finding, PolicyBook, Span
from guardrails.claims import claim_findings
from guardrails.grounding import (
    Clause,
    PolicyIndex,
    case_ground,
    equivalent,
    index_policy,
    mentions,
    near,
    subject,
)
from guardrails.lexicon import BENEFITS
from guardrails.registry import Check, GuardrailContext, register
from guardrails.text import Quantity, fold, quantities, sentences

GUARDRAIL = "policy"


def _best_clause(candidates: list[Clause], topic: set[str]) -> Clause | None:
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c.concepts & topic))  # first of the best


def _finding(
    code: str,
    message: str,
    span: Span,
    index: PolicyIndex,
    note: str,
    clause: Clause | None = None,
) -> Finding:
    """A critical policy finding: the span, the policy (id and version) it was checked
    against, and the clause it contradicts when there is one."""
    return Finding(
        guardrail=GUARDRAIL,
        code=code,
        severity="critical",
        message=message,
        evidence=Evidence(
            span=span,
            checked_against=clause.text if clause is not None else None,
            source=f"policy:{index.book.id}@{index.book.version}",
            note=note,
        ),
    )


def _comparable(q: Quantity, p: Quantity) -> bool:
    if q.kind == "duration" and p.kind == "duration":
        return True
    return p.same_unit(q)


def _score(
    index: PolicyIndex, clause: Clause, p: Quantity, local: set[str], topic: set[str]
) -> int:
    """How much a policy quantity is about what the answer's quantity is about: shared
    concepts near both quantities count double, shared concepts of the sentences once."""
    specific_local = (clause.near(p.start, p.end) & local) - index.generic
    specific_topic = (clause.concepts & topic) - index.generic
    return 2 * len(specific_local) + len(specific_topic)


#: A policy quantity this related to the answer's states the same thing: a different value
#: contradicts the policy.
RELATED = 4
#: A policy quantity on the answer's subject this related (and more related than any clause
#: stating the answer's value) contradicts a different value.
SUBJECT_RELATED = 3
#: When the policy states the same value in a clause this related, it supports the answer even
#: if another clause looks more related.
EQUAL_ENOUGH = 1


def policy_relation(q: Quantity, local: set[str], topic: set[str], index: PolicyIndex) -> int:
    """How strongly the policy speaks about what `q` is about: the score of its most related
    comparable quantity (RELATED or more: the policy has a rule on it)."""
    return max(
        (
            _score(index, c, p, local, topic)
            for c in index.clauses
            for p in c.quantities
            if _comparable(q, p)
        ),
        default=-1,
    )


def _quantity_finding(
    q: Quantity,
    local: set[str],
    topic: set[str],
    index: PolicyIndex,
    about_case: bool,
    subject: frozenset[str] = frozenset(),
) -> Finding | None:
    candidates = [
        (_score(index, c, p, local, topic), c, p)
        for c in index.clauses
        for p in c.quantities
        if _comparable(q, p)
    ]
    # The answer's subject (the concepts of the quantity's own clause) against each policy
    # quantity's subject: the rule on the same subject decides, whatever the policy states
    # for other subjects ("grace period of 5 days" is not "5 days before the due date").
    wanted = subject - index.generic
    same_subject = [
        (len(wanted & c.subjects[i]), c, p)
        for c in index.clauses
        for i, p in enumerate(c.quantities)
        if i < len(c.subjects) and _comparable(q, p) and wanted & c.subjects[i]
    ]
    if any(equivalent(q, p) for _, _, p in same_subject):
        return None
    best = max((s for s, _, _ in candidates), default=-1)
    equal = [(s, c) for s, c, p in candidates if equivalent(q, p)]
    span = Span(start=q.start, end=q.end, text=q.text)
    if about_case:
        # Amounts and durations of this conversation (a balance, days overdue, how long the
        # outage lasted) are the facts guardrail's to check, not the policy's.
        return None
    equal_best = max((s for s, _ in equal), default=-1)
    contra = [
        (_score(index, c, p, local, topic), c)
        for _, c, p in same_subject
        if _score(index, c, p, local, topic) > max(equal_best, SUBJECT_RELATED - 1)
    ]
    if contra and q.kind != "time":
        top = max(s for s, _ in contra)
        clause = next(c for s, c in contra if s == top)
        return _finding(
            "policy.contradicted",
            f"The answer states {q.text}, but the policy states a different value.",
            span,
            index,
            "the policy clause on the same subject states another value "
            "(units compared: days are not business days)",
            clause,
        )
    if equal and max(s for s, _ in equal) >= min(best, EQUAL_ENOUGH):
        # The policy says the same in a clause about the same subject (or the lexicon cannot
        # tell the subjects apart): supported.
        return None
    if best >= RELATED and q.kind != "time":
        clause = next(c for s, c, _ in candidates if s == best)
        return _finding(
            "policy.contradicted",
            f"The answer states {q.text}, but the policy states a different value.",
            span,
            index,
            "the policy clause on the same subject states another value "
            "(units compared: days are not business days)",
            clause,
        )
    if equal:
        return None  # stated by the policy, if about a subject the lexicon cannot tell
    if (
        q.kind == "count"
        and not candidates
        and any(abs(n.value - q.value) < 1e-9 for c in index.clauses for n in c.numbers)
    ):
        return None  # "locked 3 times" against "after 3 locks"
    return _finding(
        "policy.unsupported",
        f"The answer states {q.text} as policy, but no policy clause supports it.",
        span,
        index,
        "no clause in the policy states this value",
    )


def _benefit_finding(
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
        # "no date-change fees" grants "changing the date is free"
        granting += [
            c
            for c in index.clauses
            if "fee" in c.forbidden
            and not c.forbidden
            - {
                "fee",
                "late",
                "installment",
                "payment_date",
                "plan",
                "return",
                "delivery",
                "cancellation",
                "window",
            }
        ]
    if granting:
        return None
    label = concept.replace("_", " ")
    if forbidding:
        clause = _best_clause(forbidding, sentence_topic)
        assert clause is not None
        return _finding(
            "policy.contradicted",
            f"The answer offers {label} ('{span.text}'), which the policy rules out.",
            span,
            index,
            "the policy forbids or excludes this",
            clause,
        )
    return _finding(
        "policy.unsupported",
        f"The answer offers {label} ('{span.text}'), which no policy clause grants.",
        span,
        index,
        "no clause in the policy grants this",
    )


# Words that make a quantity about this conversation rather than a rule: "7 days ago",
# "6 days left", "lasted 5 hours", "130 days overdue".
_CASE_CUE = re.compile(
    r"(?<!\w)(ago|hace|ha|left|remaining|remain|quedan|queda|restan|resta|faltan|falta|faltam|"
    r"restam|lasted|lasting|duro|durou|dura|lleva|llevamos|leva|levamos|overdue|vencid\w*|"
    r"atrasad\w*|since|desde|already|ya|ja|has been|have been|hasta ahora|so far|ate agora|"
    r"past|pasados|passados|was|were|fue|foi|fueron|foram)(?!\w)"
)


# A semicolon or colon separates statements: a case cue beyond it is about another one.
_STRONG_BREAK = re.compile(r"[;:]")


# The assistant speaking of its own action, not of a rule.
_FIRST_PERSON = re.compile(
    r"(?<!\w)(i|i'll|i'm|i am|i will|i can|let me|voy a|yo|puedo|presento|envio|transfiero|"
    r"derivo|escalo|abro|registro|le paso|te paso|traslado|reviso|gestiono|tramito|solicito|"
    r"elevo|remito|comunico|confirmo|vou|posso|eu|encaminho|transfiro|repasso|verifico)(?!\w)"
)
_FEE_KEY = re.compile(r"fee|charge|cost|price|penalt|cargo|comision|multa|taxa|tarifa")


def _is_heading(text: str) -> bool:
    stripped = text.strip().lstrip("#*").strip()
    return len(stripped.split()) <= 4 and not stripped.endswith((".", "!", "?", ":", ";"))


def _window(text: str, q: Quantity, radius: int = 40) -> str:
    return text[max(0, q.start - radius) : q.end + radius]


def check_policy(case: Case, text: str, book: PolicyBook) -> list[Finding]:
    index = index_policy(book)
    ground = case_ground(case)
    fact_units = {f.unit for _, f in ground.facts}
    # A fee of this conversation (an early-termination total) is the case's own amount.
    case_fees = any(f.unit == "money" and _FEE_KEY.search(key) for key, f in ground.facts)
    findings: list[Finding] = []
    company = (book.name, book.id)
    for sent in sentences(text):
        found = mentions(sent.text, case.language)
        if _is_heading(sent.text):
            # "Fee waiver" over a paragraph names a subject; it offers nothing.
            found = [m for m in found if m.concept not in BENEFITS]
        topic = {m.concept for m in found}
        for q in quantities(sent.text):
            if ground.grounds(q):
                continue
            if q.unit in ("immediate", "allday") and (
                _FIRST_PERSON.search(fold(sent.text[max(0, q.start - 80) : q.end + 20]))
                or (
                    q.unit == "immediate"
                    and {"agent", "calls"} & near(found, q.start, q.end)
                    and "callback" not in topic
                )
            ):
                # "le paso hoy mismo su solicitud", "to reach a person right away, call...":
                # the assistant's own action or a way to reach someone, not a rule.
                continue
            local = near(found, q.start, q.end)
            if q.unit == "money":
                # Amounts of this conversation belong to the facts guardrail; a fee or price
                # stated next to the amount must come from the policy unless the case has its
                # own fee figures.
                about_case = "money" in fact_units and (
                    case_fees or not (near(found, q.start, q.end, 25) & {"fee", "price"})
                )
            else:
                # "Waivers are once every 6 months, since your last one was 4 months ago":
                # a cue of this conversation marks only the quantities of its own clause.
                left = max(
                    (m.end() for m in _STRONG_BREAK.finditer(sent.text[: q.start])), default=0
                )
                found_right = _STRONG_BREAK.search(sent.text, q.end)
                right = found_right.start() if found_right else len(sent.text)
                clause = sent.text[max(left, q.start - 40) : min(right, q.end + 40)]
                about_case = q.unit in fact_units and bool(_CASE_CUE.search(fold(clause)))
            subj = subject(sent.text, found, q.start, q.end)
            finding = _quantity_finding(q, local, topic, index, about_case, subj)
            if finding is not None:
                findings.append(_shift(finding, sent.start))
        seen: set[str] = set()
        for mention in found:
            concept, start, end = mention.concept, mention.start, mention.end
            # "we cannot offer compensation" offers nothing
            if concept not in BENEFITS or concept in seen or mention.negated:
                continue
            seen.add(concept)
            span = Span(
                start=sent.start + start,
                end=sent.start + end,
                text=text[sent.start + start : sent.start + end],
            )
            finding = _benefit_finding(concept, span, topic, index)
            if finding is not None:
                findings.append(finding)
        # Statements without a number: automatic behaviour, grants, refunds, company rules.
        findings.extend(claim_findings(sent.text, sent.start, found, case.language, index, company))
    return findings


def _shift(finding: Finding, offset: int) -> Finding:
    span = finding.evidence.span
    if span is None or offset == 0:
        return finding
    moved = Span(start=span.start + offset, end=span.end + offset, text=span.text)
    return finding.model_copy(
        update={"evidence": finding.evidence.model_copy(update={"span": moved})}
    )


@register(GUARDRAIL, version="1")
def policy_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        if book is None:
            # Without the policy nothing can be grounded; never let that look like a pass.
            raise LookupError(f"no policy book for company '{case.company}'")
        return check_policy(case, text, book)

    return check
