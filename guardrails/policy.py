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

- a value the case itself states is the facts guardrail's, unless the answer presents it as the
  rule ("as our policy requires: within 48 hours", "at least 2 days' notice"); a value the policy
  gives another country ("10 days in Chile") to this customer's country, a rate ("4 messages a
  week" against "no more than twice a week"), a list price, and a tier the case's own duration does
  not reach ("20% for 12 hours or more" for a 7-hour outage) are `policy.contradicted`. A
  maximum is never supported by a minimum of the same value.

- a benefit's value that only the customer claims ("confirm the 15% you offered me") is not
  the case's own: it must come from the policy like any other. A case's fee figure covers the
  fees its name speaks of, not an administrative charge invented next to it.

Statements the other modules of the family read, with the same two codes:
`guardrails.claims` (rule statements without numbers), `guardrails.schedule` (opening days),
`guardrails.outcomes` (a decision's outcome stated as settled), `guardrails.faster` (money back
faster than the policy's quickest refund), `guardrails.deadlines` (calendar dates), and paying
back what someone else charged (compensation, below).

The check reads each sentence once and asks the modules of its concepts:
`guardrails.policy_quantities` (a value against the clauses on its subject, minimums, shares),
`guardrails.policy_wording` (which clause speaks of the value in the answer's words),
`guardrails.policy_case` (a value told of this conversation, not stated as a rule),
`guardrails.policy_benefits` (benefits offered and their values), `guardrails.policy_hours`
(round-the-clock services, clock times), `guardrails.policy_regional` (values per country),
`guardrails.policy_tiers` (tiers by the case's duration, rates), over the book's tables
(`guardrails.policy_tables`).

The policy text may be in another language than the answer: topics and benefits are matched
through a cross-lingual lexicon (guardrails.lexicon), quantities by value and unit.
"""

from __future__ import annotations

from functools import partial

from guardrails.analysis import analyse
from guardrails.claim_frames import no_immediacy, stated_age
from guardrails.claims import claim_findings
from guardrails.deadlines import date_findings
from guardrails.faster import faster_findings
from guardrails.grounding import (
    bound_of,
    case_ground,
    index_policy,
    near,
    near_mentions,
    outside_quantities,
    subject,
)
from guardrails.lexicon import BENEFITS
from guardrails.outcomes import outcome_findings
from guardrails.policy_benefits import benefit_findings, benefit_value_finding, is_heading
from guardrails.policy_case import (
    FEE_KEY,
    FIRST_PERSON,
    RULE_FRAME,
    account_figure,
    fee_fact_about,
    told_of_case,
)
from guardrails.policy_hours import (
    clock_range_stated,
    clock_time,
    round_the_clock,
    round_the_clock_finding,
    states_round_the_clock,
)
from guardrails.policy_quantities import (
    minimum_finding,
    quantity_finding,
    share_of,
    stated_percents,
)
from guardrails.policy_regional import customer_country, regional_finding, stated_for_country
from guardrails.policy_tables import HOURS_PER_UNIT
from guardrails.policy_tiers import case_duration, rate_findings, rates_said, tier_finding
from guardrails.policy_wording import Words
from guardrails.prohibitions import prohibition_findings
from guardrails.records import Case, Finding, PolicyBook, Span
from guardrails.registry import Check, GuardrailContext, register
from guardrails.schedule import schedule_findings
from guardrails.subject_values import subject_value_finding
from guardrails.text import fold

GUARDRAIL = "policy"


def check_policy(case: Case, text: str, book: PolicyBook) -> list[Finding]:
    index = index_policy(book)
    ground = case_ground(case)
    fact_units = {f.unit for _, f in ground.facts}
    # A fee of this conversation (an early-termination total) is the case's own amount.
    fee_facts = [key for key, f in ground.facts if f.unit == "money" and FEE_KEY.search(key)]
    findings: list[Finding] = []
    company = (book.name, book.id)
    country = customer_country(case.language)
    duration = case_duration(ground.facts)
    said_rates = rates_said(case, ground)
    fact_amounts = [f for _, f in ground.facts if f.unit == "money"]
    for sent in analyse(text, case.language).sentences:
        bases = fact_amounts + [m for m in sent.quantities if m.unit == "money"]
        words = Words(sent.text, case.language)
        found = outside_quantities(list(sent.mentions), sent.quantities)
        if is_heading(sent.text):
            # "Fee waiver" over a paragraph names a subject; it offers nothing.
            found = [m for m in found if m.concept not in BENEFITS]
        topic = {m.concept for m in found}
        for q in map(partial(clock_time, sent.text), sent.quantities):
            # A benefit's value the customer only claims ("you offered me 15%") is not the
            # case's: granting it is a policy statement like any other.
            claimed_benefit = (
                q.unit in ("percent", "money")
                and not ground.established(q)
                and any(
                    m.concept in BENEFITS and not m.negated
                    for m in near_mentions(found, q.start, q.end, 30)
                )
            )
            if ground.grounds(q) and not claimed_benefit:
                # The case's own value, unless the answer states it as the rule ("as our
                # policy requires: within 48 hours", "at least 2 days' notice"): then the
                # policy's value on that subject must be the same.
                frame = RULE_FRAME.search(fold(sent.text[max(0, q.start - 60) : q.start]))
                if frame is not None:
                    local = near(found, q.start, q.end)
                    subj = subject(sent.text, found, q.start, q.end)
                    finding = quantity_finding(q, local, topic, index, False, subj)
                    if finding is None or finding.code != "policy.contradicted":
                        finding = minimum_finding(q, frame.group(0), topic, index)
                    if finding is not None and finding.code == "policy.contradicted":
                        findings.append(shift(finding, sent.start))
                continue
            if q.unit in ("immediate", "allday") and (
                no_immediacy(sent.folded, q, case.language)
                or FIRST_PERSON.search(fold(sent.text[max(0, q.start - 80) : q.end + 20]))
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
                # A fee figure of the case covers the fees its name speaks of: the router
                # fact ("router_fee_if_not_returned") does not make "un cargo administrativo
                # de ARS 15000.00" this conversation's.
                case_fees = fee_fact_about(fee_facts, sent.text, q)
                about_case = "money" in fact_units and (
                    case_fees or not (near(found, q.start, q.end, 25) & {"fee", "price"})
                )
                # "his overdue balance is EUR 84.00", "a total of EUR 3,310.00": what an
                # account owes is a figure of the account, fact or not, never a rule
                about_case = about_case or account_figure(sent.text, q, found)
            else:
                about_case = told_of_case(sent.text, q, fact_units, ground.facts, case.company)
            subj = subject(sent.text, found, q.start, q.end)
            if stated_age(q, index):
                continue  # "21 years" where the book says "visitors must be 21 or older"
            if country is not None and stated_for_country(q, country, topic, index):
                continue  # "10 days in Chile" to a Chilean customer
            if clock_range_stated(q, index):
                continue  # "9-18 h" for opening hours of "9:00 to 18:00"
            if q.unit == "money" and share_of(q, stated_percents(sent.quantities, index), bases):
                # "50% of your EUR 24.80 subtotal, EUR 12.40": the percentage the policy
                # states, applied to an amount of the case (checked on its own), not a value
                # of its own
                continue
            if round_the_clock(sent.text, q):
                # "a line available 24 hours" is no 24-hour window: the schedule of what the
                # sentence speaks of decides, else any service the policy keeps open all day
                schedule = round_the_clock_finding(q, topic, index, sent.text, words)
                if schedule is not None:
                    findings.append(shift(schedule, sent.start))
                    continue
                if states_round_the_clock(index):
                    continue
            bound = bound_of(sent.text, q.start, q.end)
            finding = None
            if (not about_case or claimed_benefit) and q.unit in ("percent", "money"):
                # "le confirmo el descuento del 15%" where the policy grants discounts of 3, 5
                # or 8%: the value of a benefit must be one the policy grants it with
                finding = benefit_value_finding(q, found, index)
            if finding is None:
                finding = quantity_finding(
                    q, local, topic, index, about_case, subj, bound, words, country
                )
            if finding is None and not about_case:
                # a value the book gives another subject (`guardrails.subject_values`)
                finding = subject_value_finding(q, sent.text, index, case.language)
            # (a price list's price, not a fee this case computes: "the penalty is BRL 200.00")
            priced = near(found, q.start, q.end, 25) & {"price"}
            if finding is None and q.unit == "money" and about_case and case_fees and priced:
                # A price the case has its own figure for, stated differently: the price list
                # in the policy decides as well ("Mobile 20 GB costs EUR 15.00").
                finding = quantity_finding(q, local, topic, index, False, subj, bound)
                if finding is not None and finding.code != "policy.contradicted":
                    finding = None
            if finding is None and not about_case:
                hours = {
                    d.value * HOURS_PER_UNIT[d.unit]
                    for d in sent.quantities
                    if d.unit in HOURS_PER_UNIT
                }
                finding = tier_finding(q, duration, topic, index, hours)
            if finding is None and not about_case and country is not None:
                finding = regional_finding(q, country, topic, index)
            if finding is not None:
                findings.append(shift(finding, sent.start))
        findings.extend(benefit_findings(sent, text, found, topic, index, case.language))
        findings.extend(rate_findings(sent.text, sent.start, topic, index, said_rates))
        findings.extend(schedule_findings(sent.text, sent.start, case.language, index))
        findings.extend(outcome_findings(sent.text, sent.start, found, case.language, index))
        findings.extend(date_findings(sent.text, sent.start, found, case.language, index, case))
        findings.extend(faster_findings(sent.text, sent.start, found, case.language, index, ground))
        # Statements without a number: automatic behaviour, grants, refunds, company rules.
        findings.extend(claim_findings(sent.text, sent.start, found, case.language, index, company))
        # An action the book forbids, committed to (`guardrails.prohibitions`).
        findings.extend(
            shift(f, sent.start) for f in prohibition_findings(sent, index, case.language)
        )
    return findings


def shift(finding: Finding, offset: int) -> Finding:
    span = finding.evidence.span
    if span is None or offset == 0:
        return finding
    moved = Span(start=span.start + offset, end=span.end + offset, text=span.text)
    return finding.model_copy(
        update={"evidence": finding.evidence.model_copy(update={"span": moved})}
    )


@register(GUARDRAIL)
def policy_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        if book is None:
            # Without the policy nothing can be grounded; never let that look like a pass.
            raise LookupError(f"no policy book for company '{case.company}'")
        return check_policy(case, text, book)

    return check
