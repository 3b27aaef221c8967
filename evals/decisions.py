"""Decide per (target, intent): automate, assist, human, or insufficient evidence, with reasons.

The rule (thresholds from the decision policy's tier for the intent's risk):

- every answer errored: `insufficient_evidence` ("no decision: every answer errored"): zero real
  answers say nothing about the model, so no level is computed from them;
- too few answers or cases: `insufficient_evidence`, saying how many more are needed, unless
  even the interval's upper bound is below the assist bar (then `human`: more data cannot help);
- `automate` if the intent may be automated at all (tier, crisis cap, intent ceiling), every case
  has at least k samples, no more answers with a critical finding than allowed, and the Wilson
  lower bounds of the pass rate and of pass^k (over cases) both clear the tier's bars;
- else `assist` if the pass rate's lower bound clears the assist bar and the ceiling allows it;
- else `insufficient_evidence` if the observed pass rate clears the assist bar (only the
  interval's width stands in the way: the decision says how many more answers would settle it);
- else `human`.

Lower bounds, not observed rates, are compared, so the decision errs towards people. pass^k is
counted per case because samples of one case are correlated and cases are not: a case whose k
samples all pass is no more likely than one sample passing, so pass^k's lower bound bounds the
answer failure rate even when an intent's failures cluster in a few cases.
"""

from __future__ import annotations

import math

from pydantic import Field

from evals.decision_policy import RANK, DecisionPolicy, Level, Outcome
from evals.proportions import trials_needed
from evals.records import Record, Risk
from evals.scores import Score

#: How a finding code reads in a reason: "3 of 45 answers <phrase>".
CODE_PHRASES = {
    "policy.unsupported": "stated a policy the company does not have",
    "policy.contradicted": "contradicted the policy",
    "facts.contradiction": "got a fact of the case wrong",
    "facts.missing": "left out a required fact",
    "facts.follower_count": "mentioned the customer's follower count",
    "privacy.credential_request": "asked for a card number, code or password",
    "privacy.third_party_data": "revealed another person's data",
    "handoff.missing": "offered no path to a person",
    "handoff.refused": "refused a person the policy offers",
    "language.mismatch": "answered in another language than the customer's",
    "template.placeholder": "left a template placeholder unfilled",
    "tone.repetition": "repeated themselves",
    "tone.length": "went over the length budget",
    "tone.register": "used the wrong register",
    "tone.unnatural_greeting": "opened with a mass greeting",
    "tone.hashtags": "used hashtags",
    "tone.emoji": "used emoji",
    "tone.sensitive_attribute": "mentioned a sensitive attribute",
    "tone.blame": "blamed the customer",
    "tone.no_apology": "did not apologise where an apology was due",
}


class Decision(Record):
    target: str
    intent: str
    risk: Risk = Field(description="the tier the thresholds came from")
    outcome: Outcome
    ceiling: Level = Field(description="the most this intent may reach under the policy")
    reasons: list[str] = Field(min_length=1)
    more_answers_needed: int | None = Field(
        default=None, description="answers to add before the evidence suffices to decide"
    )
    more_cases_needed: int | None = Field(
        default=None,
        description="cases (k samples each) that would reach the next level if rates hold",
    )
    policy: str = Field(description="decision policy name@version#hash")


def _pct(x: float) -> str:
    return f"{x:.2f}"


def _answers(n: int) -> str:
    return "1 answer" if n == 1 else f"{n} answers"


def finding_reasons(score: Score, limit: int = 3) -> list[str]:
    """The most frequent failure reasons, e.g. '3 of 45 answers stated a policy ...'."""
    out = []
    for code in [c for c in score.findings if c.severity != "minor"][:limit]:
        phrase = CODE_PHRASES.get(code.code, f"raised {code.code}")
        out.append(f"{code.answers} of {score.answers} answers {phrase} ({code.code})")
    if score.errors:
        out.append(f"{score.errors} of {score.answers} calls failed with an error")
    return out


def _ceiling(score: Score, policy: DecisionPolicy, risk: Risk) -> tuple[Level, list[str]]:
    rule = policy.intents.get(score.key)
    notes: list[str] = []
    ceiling: Level = "automate"
    if score.kind != "support":
        ceiling = policy.crisis.max_decision
        if RANK[ceiling] < RANK["automate"]:
            notes.append(f"crisis communication is capped at {ceiling} by the policy")
    if rule is not None and rule.max_decision is not None:
        ceiling = rule.max_decision
        notes.append(f"the policy sets this intent's ceiling to {ceiling}")
    if policy.tiers[risk].automate is None and ceiling == "automate":
        ceiling = "assist"
        notes.append(f"{risk}-risk intents are never automated under this policy")
    return ceiling, notes


def decide(score: Score, policy: DecisionPolicy) -> Decision:
    rule = policy.intents.get(score.key)
    risk: Risk = rule.risk if rule is not None and rule.risk is not None else score.risk
    tier = policy.tiers[risk]
    ceiling, notes = _ceiling(score, policy, risk)
    ident = f"{policy.name}@{policy.version}#{policy.content_hash()}"
    lower, upper = score.pass_rate_ci.low, score.pass_rate_ci.high
    rate = (
        f"{score.passed} of {score.answers} answers passed (pass rate {_pct(score.pass_rate)}, "
        f"95% interval {_pct(lower)}-{_pct(upper)})"
    )
    failures = finding_reasons(score)
    assist_bar = tier.assist.min_pass_rate
    evidence = policy.evidence

    def made(outcome: Outcome, reasons: list[str], **extra: int | None) -> Decision:
        return Decision(
            target=score.target,
            intent=score.key,
            risk=risk,
            outcome=outcome,
            ceiling=ceiling,
            reasons=reasons,
            policy=ident,
            **extra,
        )

    if score.answers - score.errors <= 0:
        return made(
            "insufficient_evidence",
            [
                f"no decision: every answer errored ({score.errors} of {score.answers} calls "
                "failed with an error, so there is no answer to judge); fix the target and run "
                "again",
                *notes,
            ],
        )
    if score.answers < evidence.min_answers or score.cases < evidence.min_cases:
        if upper < assist_bar:
            return made(
                "human",
                [
                    f"{rate}; even the upper bound {_pct(upper)} is below the {_pct(assist_bar)} "
                    f"needed to assist at {risk} risk, so more answers cannot change this",
                    *failures,
                    *notes,
                ],
            )
        more_answers = max(0, evidence.min_answers - score.answers)
        more_cases = max(0, evidence.min_cases - score.cases)
        per_case = max(score.k, evidence.min_samples_per_case)
        more_answers = max(more_answers, more_cases * per_case)
        return made(
            "insufficient_evidence",
            [
                f"only {score.answers} answers from {score.cases} cases; the policy needs at "
                f"least {evidence.min_answers} answers from {evidence.min_cases} cases before "
                f"deciding (about {more_answers} more answers"
                + (f" from {more_cases} more cases)" if more_cases else ")"),
                rate,
                *failures,
                *notes,
            ],
            more_answers_needed=more_answers,
        )

    blockers: list[str] = []
    bar = tier.automate
    if RANK[ceiling] >= RANK["automate"] and bar is not None:
        if score.k < evidence.min_samples_per_case:
            blockers.append(
                f"pass^k needs at least {evidence.min_samples_per_case} samples per case; "
                f"some case has {score.k}"
            )
        if score.critical_answers > bar.max_critical:
            blockers.append(
                f"{_answers(score.critical_answers)} had a critical finding "
                f"(at most {bar.max_critical} allowed to automate)"
            )
        if lower < bar.min_pass_rate:
            blockers.append(
                f"pass-rate lower bound {_pct(lower)} < {_pct(bar.min_pass_rate)} required to "
                f"automate at {risk} risk"
            )
        if score.pass_k_ci.low < bar.min_pass_k:
            blockers.append(
                f"pass^{score.k} lower bound {_pct(score.pass_k_ci.low)} "
                f"({score.cases_all_passed} of {score.cases} cases passed every sample) "
                f"< {_pct(bar.min_pass_k)} required"
            )
        if not blockers:
            return made(
                "automate",
                [
                    f"{rate}; lower bound clears {_pct(bar.min_pass_rate)} for {risk} risk",
                    f"pass^{score.k}: {score.cases_all_passed} of {score.cases} cases passed every "
                    f"sample (lower bound {_pct(score.pass_k_ci.low)} >= {_pct(bar.min_pass_k)})",
                    f"{_answers(score.critical_answers)} with a critical finding",
                    *failures,
                ],
            )
    cases_to_automate = _cases_to_automate(score, policy, risk)
    if RANK[ceiling] >= RANK["assist"] and lower >= assist_bar:
        return made(
            "assist",
            [
                f"{rate}; lower bound clears {_pct(assist_bar)} to assist at {risk} risk",
                *(f"not automated: {b}" for b in blockers),
                *failures,
                *notes,
            ],
            more_cases_needed=cases_to_automate if RANK[ceiling] >= RANK["automate"] else None,
        )
    if RANK[ceiling] < RANK["assist"]:
        return made("human", [rate, "the policy allows no model use for this intent", *notes])
    # The observed rate clears the assist bar but its lower bound does not yet: deciding `human`
    # would blame the model for the sample size. Say how much more evidence would settle it.
    more_for_assist = trials_needed(score.pass_rate, assist_bar)
    if more_for_assist is not None:
        more = max(1, more_for_assist - score.answers)
        return made(
            "insufficient_evidence",
            [
                f"{rate}; the lower bound {_pct(lower)} does not yet clear the {_pct(assist_bar)} "
                f"needed to assist at {risk} risk: about {more} more answers would settle it "
                "if the pass rate holds",
                *failures,
                *notes,
            ],
            more_answers_needed=more,
        )
    return made(
        "human",
        [
            rate,
            f"lower bound {_pct(lower)} < {_pct(assist_bar)} required to assist at {risk} risk",
            *failures,
            *notes,
        ],
    )


def _cases_to_automate(score: Score, policy: DecisionPolicy, risk: Risk) -> int | None:
    """More cases that would let pass^k's lower bound clear the automate bar if it holds."""
    bar = policy.tiers[risk].automate
    if bar is None or score.critical_answers > bar.max_critical:
        return None
    needed_k = trials_needed(score.pass_k, bar.min_pass_k)
    needed_rate = trials_needed(score.pass_rate, bar.min_pass_rate)
    if needed_k is None or needed_rate is None:
        return None
    per_case = max(score.k, policy.evidence.min_samples_per_case)
    cases = max(needed_k, math.ceil(needed_rate / per_case))
    return max(0, cases - score.cases) or None
