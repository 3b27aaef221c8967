"""Decide per (target, intent): automate, assist, human, or insufficient evidence, with reasons.

The rule (thresholds from the decision policy's tier for the intent's risk):

- every answer errored: `insufficient_evidence` ("no decision: every answer errored"): zero real
  answers say nothing about the model, so no level is computed from them;
- too few answers or cases: `insufficient_evidence`, unless even the interval's upper bound is
  below the assist bar (then `human`: more data cannot help);
- `automate` if the intent may be automated at all (tier, crisis cap, intent ceiling), every case
  has at least k samples, no more answers with a critical finding than allowed, and the Wilson
  lower bounds of the pass rate and of pass^k (over cases) both clear the tier's bars;
- else `assist` if the pass rate's lower bound clears the assist bar and the ceiling allows it;
- else `insufficient_evidence` if the observed pass rate clears the assist bar (only the
  interval's width stands in the way);
- else `human`.

Every decision below automate also says, for each higher level, how many more cases (of the
run's k samples) would reach it if they all passed (`Reach`). The number is found by asking
this same rule: the decision is recomputed on the score with that many passing cases added, and
the smallest number that reaches the level is the answer (tested: that many reach it, one fewer
does not). It is a floor: any failing answer among the new ones means more are needed. When no
number of passing cases can reach a level (a critical finding blocks automate, the ceiling, too
few samples per case), it says why instead.

Lower bounds, not observed rates, are compared, so the decision errs towards people. pass^k is
counted per case because samples of one case are correlated and cases are not: a case whose k
samples all pass is no more likely than one sample passing, so pass^k's lower bound bounds the
answer failure rate even when an intent's failures cluster in a few cases.
"""

from __future__ import annotations

from pydantic import Field

from evals.decision_policy import RANK, DecisionPolicy, Level, Outcome
from evals.proportions import trials_needed
from evals.records import Record, Risk
from evals.scores import Score, with_passing_cases

#: The most cases the guidance looks for; beyond it a level counts as out of reach.
CASE_LIMIT = 100_000

#: How a finding code reads in a reason: "3 of 45 answers <phrase>".
CODE_PHRASES = {
    "policy.unsupported": "stated a policy the company does not have",
    "policy.contradicted": "contradicted the policy",
    "facts.contradiction": "got a fact of the case wrong",
    "facts.missing": "left out a required fact",
    "facts.follower_count": "mentioned the customer's follower count",
    "privacy.credential_request": "asked for a card number, code or password",
    "privacy.credential_accepted": "took a code or password the customer shared",
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


class Reach(Record):
    """How a decision could reach a higher level: more cases that all pass, or why none can."""

    level: Level
    more_cases: int | None = Field(
        description="cases of `samples` answers to add, all passing, to reach `level` (the "
        "fewest that do); None when no number of passing cases reaches it"
    )
    samples: int = Field(description="answers per added case (the run's k)")
    more_answers: int | None = Field(description="more_cases x samples")
    blocked: str | None = Field(default=None, description="why no number of cases reaches it")


class Decision(Record):
    target: str
    intent: str
    risk: Risk = Field(description="the tier the thresholds came from")
    outcome: Outcome
    ceiling: Level = Field(description="the most this intent may reach under the policy")
    reasons: list[str] = Field(min_length=1)
    more_answers_needed: int | None = Field(
        default=None,
        description="answers (in passing cases of k samples) that would reach the next level "
        "up; more_cases_needed x k",
    )
    more_cases_needed: int | None = Field(
        default=None,
        description="cases of k samples, all passing, that would reach the next level up",
    )
    reach: list[Reach] = Field(
        default_factory=list, description="each level above the decision: how to reach it"
    )
    policy: str = Field(description="decision policy name@version#hash")


def _pct(x: float) -> str:
    return f"{x:.2f}"


def _answers(n: int) -> str:
    return "1 answer" if n == 1 else f"{n} answers"


def _cases(n: int) -> str:
    return "1 case" if n == 1 else f"{n} cases"


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
    """The decision for one (target, intent) score, with its reasons and, below automate, how
    many more passing cases would reach each higher level."""
    decision = decide_rule(score, policy)
    if score.answers - score.errors <= 0 or decision.outcome == "automate":
        return decision
    reach = [
        _reach(score, policy, level, decision)
        for level in ("assist", "automate")
        if RANK[level] > RANK[decision.outcome]
    ]
    lines = [_reach_line(r) for r in reach]
    first = next((r for r in reach if r.more_cases is not None), None)
    return decision.model_copy(
        update={
            "reach": reach,
            "reasons": [*decision.reasons, *lines],
            "more_cases_needed": first.more_cases if first else None,
            "more_answers_needed": first.more_answers if first else None,
        }
    )


def reaches(score: Score, policy: DecisionPolicy, level: Level) -> bool:
    """Whether the rule decides `level` or higher for this score."""
    return RANK[decide_rule(score, policy).outcome] >= RANK[level]


def cases_to_reach(
    score: Score, policy: DecisionPolicy, level: Level, *, limit: int = CASE_LIMIT
) -> int | None:
    """The fewest cases of `score.k` samples that, all passing, make the rule decide `level` or
    higher; None beyond `limit`. Adding passing cases never lowers assist or automate (the
    lower bounds only rise), so the smallest number is found by doubling and bisection."""
    k = score.k

    def enough(n: int) -> bool:
        return reaches(with_passing_cases(score, n, k), policy, level)

    if enough(0):
        return 0
    if k <= 0 or not enough(limit):
        return None
    low, high = 0, 1
    while not enough(high):
        low, high = high, min(limit, high * 2)
    while high - low > 1:  # enough(high), not enough(low)
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


def _reach(score: Score, policy: DecisionPolicy, level: Level, decision: Decision) -> Reach:
    k = score.k

    def blocked(why: str) -> Reach:
        return Reach(level=level, more_cases=None, samples=k, more_answers=None, blocked=why)

    if RANK[level] > RANK[decision.ceiling]:
        return blocked(f"this intent's ceiling is {decision.ceiling}")
    bar = policy.tiers[decision.risk].automate
    if level == "automate" and bar is not None:
        if score.critical_answers > bar.max_critical:
            return blocked(
                f"{_answers(score.critical_answers)} had a critical finding (at most "
                f"{bar.max_critical} allowed to automate); more passing cases cannot undo that"
            )
        needed = policy.evidence.min_samples_per_case
        if k < needed:
            return blocked(
                f"automate needs at least {needed} samples per case and some case has {k}: "
                f"run with samples: {needed} or more"
            )
    more = cases_to_reach(score, policy, level)
    if more is None:
        return blocked(f"not within {CASE_LIMIT:,} more passing cases")
    return Reach(level=level, more_cases=more, samples=k, more_answers=more * k)


def _reach_line(reach: Reach) -> str:
    if reach.more_cases is None:
        return f"{reach.level} cannot be reached by more passing cases: {reach.blocked}"
    samples = "1 sample" if reach.samples == 1 else f"{reach.samples} samples"
    more = "1 more case" if reach.more_cases == 1 else f"{reach.more_cases} more cases"
    fewer = f"; {reach.more_cases - 1} would not be enough" if reach.more_cases > 1 else ""
    return (
        f"to reach {reach.level}: {more} of {samples} each "
        f"({_answers(reach.more_answers or 0)}), every one passing{fewer}"
    )


def decide_rule(score: Score, policy: DecisionPolicy) -> Decision:
    """The rule alone: `decide()` without the guidance (what the guidance and the planner ask
    of hypothetical scores)."""
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
                    f"needed to assist at {risk} risk, so these answers already rule assist out",
                    *failures,
                    *notes,
                ],
            )
        return made(
            "insufficient_evidence",
            [
                f"only {_answers(score.answers)} from {_cases(score.cases)}; the policy needs "
                f"at least {_answers(evidence.min_answers)} from {_cases(evidence.min_cases)} "
                "before deciding",
                rate,
                *failures,
                *notes,
            ],
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
    if RANK[ceiling] >= RANK["assist"] and lower >= assist_bar:
        return made(
            "assist",
            [
                f"{rate}; lower bound clears {_pct(assist_bar)} to assist at {risk} risk",
                *(f"not automated: {b}" for b in blockers),
                *failures,
                *notes,
            ],
        )
    if RANK[ceiling] < RANK["assist"]:
        return made("human", [rate, "the policy allows no model use for this intent", *notes])
    # The observed rate clears the assist bar but its lower bound does not yet: deciding `human`
    # would blame the model for the sample size. The guidance says how many more cases it takes.
    if trials_needed(score.pass_rate, assist_bar) is not None:
        return made(
            "insufficient_evidence",
            [
                f"{rate}; the lower bound {_pct(lower)} does not yet clear the {_pct(assist_bar)} "
                f"needed to assist at {risk} risk: only more evidence can settle it",
                *failures,
                *notes,
            ],
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
