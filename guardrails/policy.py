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

from evals.records import Case, Evidence, Finding, PolicyBook, Span
from guardrails.grounding import (
    Clause,
    PolicyIndex,
    case_ground,
    equivalent,
    index_policy,
    mentions,
)
from guardrails.lexicon import BENEFITS, concepts
from guardrails.registry import Check, GuardrailContext, register
from guardrails.text import Quantity, quantities, sentences

GUARDRAIL = "policy"


def _best_clause(candidates: list[Clause], topic: set[str]) -> Clause | None:
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c.concepts & topic))  # first of the best


def _quantity_finding(q: Quantity, sentence_topic: set[str], index: PolicyIndex) -> Finding | None:
    # Durations compare across units (2 weeks = 14 days), never with business days.
    comparable = [
        (c, p)
        for c in index.clauses
        for p in c.quantities
        if p.same_unit(q) or (q.kind == "duration" and p.kind == "duration")
    ]
    related = [(c, p) for c, p in comparable if index.related(c, sentence_topic)]
    if q.kind == "time":
        # Opening hours are stated once per channel; any clause that states them grounds them.
        related = []
    if any(equivalent(q, p) for _, p in related):
        return None
    if not related:
        if any(equivalent(q, p) for _, p in comparable):
            return None
        if (
            q.kind == "count"
            and not comparable
            and any(abs(n.value - q.value) < 1e-9 for c in index.clauses for n in c.numbers)
        ):
            return None  # "locked 3 times" against "after 3 locks"
    span = Span(start=q.start, end=q.end, text=q.text)
    if related:
        clause = _best_clause([c for c, _ in related], sentence_topic)
        assert clause is not None
        return Finding(
            guardrail=GUARDRAIL,
            code="policy.contradicted",
            severity="critical",
            message=f"The answer states {q.text}, but the policy states a different value.",
            evidence=Evidence(
                span=span,
                checked_against=clause.text,
                source=f"policy:{index.book.id}@{index.book.version}",
                note="the value differs from the policy clause (units compared)",
            ),
        )
    return Finding(
        guardrail=GUARDRAIL,
        code="policy.unsupported",
        severity="critical",
        message=f"The answer states {q.text} as policy, but no policy clause supports it.",
        evidence=Evidence(
            span=span,
            source=f"policy:{index.book.id}@{index.book.version}",
            note="no clause in the policy states this value",
        ),
    )


def _benefit_finding(
    concept: str, span: Span, sentence_topic: set[str], index: PolicyIndex
) -> Finding | None:
    granting = [c for c in index.clauses if concept in c.granted]
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
    forbidding = [c for c in index.clauses if concept in c.forbidden]
    label = concept.replace("_", " ")
    if forbidding:
        clause = _best_clause(forbidding, sentence_topic)
        assert clause is not None
        return Finding(
            guardrail=GUARDRAIL,
            code="policy.contradicted",
            severity="critical",
            message=f"The answer offers {label} ('{span.text}'), which the policy rules out.",
            evidence=Evidence(
                span=span,
                checked_against=clause.text,
                source=f"policy:{index.book.id}@{index.book.version}",
                note="the policy forbids or excludes this",
            ),
        )
    return Finding(
        guardrail=GUARDRAIL,
        code="policy.unsupported",
        severity="critical",
        message=f"The answer offers {label} ('{span.text}'), which no policy clause grants.",
        evidence=Evidence(
            span=span,
            source=f"policy:{index.book.id}@{index.book.version}",
            note="no clause in the policy grants this",
        ),
    )


def check_policy(case: Case, text: str, book: PolicyBook) -> list[Finding]:
    index = index_policy(book)
    ground = case_ground(case)
    findings: list[Finding] = []
    for sent in sentences(text):
        topic = concepts(sent.text)
        for q in quantities(sent.text):
            q = Quantity(
                q.value,
                q.unit,
                q.start + sent.start,
                q.end + sent.start,
                q.text,
                q.currency,
                q.upper,
            )
            if ground.grounds(q):
                continue
            finding = _quantity_finding(q, topic, index)
            if finding is not None:
                findings.append(finding)
        seen: set[str] = set()
        for mention in mentions(sent.text):
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
    return findings


@register(GUARDRAIL, version="1")
def policy_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        if book is None:
            # Without the policy nothing can be grounded; never let that look like a pass.
            raise LookupError(f"no policy book for company '{case.company}'")
        return check_policy(case, text, book)

    return check
