"""The comparison of two runs as a record: what `evals compare` found, for the terminal table,
the JSON (`--json`, this record as is) and the HTML comparison alike.

`evals.compare` builds it (pairing answers, McNemar and Holm, judging); the renderers in
`reports` only read it, so the three outputs cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from evals.compare_pairs import AnswerPair, UnpairedAnswer
from evals.decision_policy import Outcome
from evals.records import Record, Severity, Versions
from evals.scorecard import PolicyRef

#: Version of the comparison's JSON; bump on any change an older reader could misread.
COMPARISON_VERSION = 2

#: Results of a case or target that only one plan knows are grouped under this intent.
UNKNOWN_INTENT = "?"

VerdictKind = Literal[
    "regression",
    "improvement",
    "decision_worse",
    "decision_better",
    "new_findings",
    "new_severity",
    "unpaired",
    "pairing",
    "policy_changed",
    "cases_changed",
    "incomplete_run",
    "no_change",
]


class NotComparable(ValueError):
    """The runs cannot be paired (a usage error: the CLI exits 2 with this message)."""


class RunRef(Record):
    """Which run a side of the comparison is, with what it was made and decided."""

    id: str
    suite: str
    status: str
    started: datetime
    config_hash: str
    versions: Versions
    decision_policy: PolicyRef


class Pairing(Record):
    """Paired answers of one target (overall or for one intent) and McNemar's test on them."""

    paired: int = Field(ge=0, description="answers present in both runs")
    both_pass: int = Field(ge=0)
    both_fail: int = Field(ge=0)
    regressed: int = Field(ge=0, description="passed in the baseline, not in the candidate")
    improved: int = Field(ge=0, description="failed in the baseline, passed in the candidate")
    baseline_only: int = Field(ge=0, description="answers only the baseline has (not compared)")
    candidate_only: int = Field(ge=0, description="answers only the candidate has (not compared)")
    pass_rate_before: float | None = Field(description="over paired answers; None if none")
    pass_rate_after: float | None = Field(description="over paired answers; None if none")
    p_value: float = Field(
        ge=0, le=1, description="one-sided exact McNemar p-value that the candidate is worse"
    )
    significant: bool = Field(
        description="the regression is not noise (Holm across intents and the overall tests)"
    )


class NewFindingCode(Record):
    code: str
    severity: Severity
    answers: int = Field(ge=1, description="failing candidate answers with this code")


class IntentChange(Pairing):
    intent: str
    decision_before: Outcome | None = Field(description="the baseline's decision (None: none)")
    decision_after: Outcome | None = Field(description="the candidate's decision (None: none)")
    decision_worse: bool
    new_findings: list[NewFindingCode] = Field(
        description="codes in the candidate's failing answers that the baseline's never had"
    )


class TargetChange(Record):
    baseline_target: str
    candidate_target: str
    overall: Pairing
    intents: list[IntentChange]

    @property
    def label(self) -> str:
        if self.baseline_target == self.candidate_target:
            return self.candidate_target
        return f"{self.baseline_target} -> {self.candidate_target}"


class Verdict(Record):
    """One plain-language finding of the comparison; `fails` ones make it exit 1."""

    kind: VerdictKind
    fails: bool
    target: str | None = Field(default=None, description="the candidate's target")
    intent: str | None = None
    case_id: str | None = Field(default=None, description="the case, for a verdict on one pair")
    sample: int | None = None
    text: str


class Comparison(Record):
    schema_version: int = COMPARISON_VERSION
    alpha: float = Field(gt=0, lt=1)
    baseline: RunRef
    candidate: RunRef
    policies_differ: bool = Field(
        description="the runs were decided under different decision policies, so a decision "
        "change may come from the policy rather than the model"
    )
    targets: list[TargetChange]
    baseline_only_targets: dict[str, int] = Field(
        description="targets only the baseline has, with their answers (not compared)"
    )
    candidate_only_targets: dict[str, int] = Field(
        description="targets only the candidate has, with their answers (not compared)"
    )
    changed_cases: list[str] = Field(
        description="case ids whose content differs between the runs (paired by id anyway)"
    )
    pairs: list[AnswerPair] = Field(
        description="paired answers whose verdict or findings changed, regressed first"
    )
    unpaired: list[UnpairedAnswer] = Field(
        description="answers of the paired targets that only one run has (not compared)"
    )
    fail_on_new: Severity | None = Field(
        default=None,
        description="a finding this severe or worse, new in a pair whose baseline answer had "
        "none, fails the comparison (None: such findings are listed, not failed on)",
    )
    verdicts: list[Verdict]
    failed: bool = Field(
        description="a regression is significant, a decision got worse, or (with fail_on_new) "
        "a finding of that severity appeared"
    )

    @property
    def failures(self) -> list[str]:
        return [v.text for v in self.verdicts if v.fails]
