"""The decision policy: a versioned YAML file mapping a scorecard to automate / assist / human.

The bundled default (`evals/data/decision_policy.yaml`) documents every field; a suite names its
own with `decision_policy: path.yaml`. The policy is resolved into the run plan, so a stored run
keeps the exact policy it was decided with, and its content hash goes into every decision,
automation scope and compliance manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from evals.errors import InputError, issues_from_validation
from evals.records import Identifier, Record, Risk, RunPlan, content_hash
from evals.yaml_lines import load_yaml

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "data" / "decision_policy.yaml"

Outcome = Literal["automate", "assist", "human", "insufficient_evidence"]
Level = Literal["automate", "assist", "human"]

#: Higher is more automation. `insufficient_evidence` sits below assist: an intent that was
#: assisted and now cannot be decided got worse; one that was human did not.
RANK: dict[str, int] = {"automate": 3, "assist": 2, "insufficient_evidence": 1, "human": 0}


class Evidence(Record):
    min_answers: int = Field(default=30, ge=1, description="answers per (target, intent)")
    min_cases: int = Field(default=5, ge=1, description="distinct cases per (target, intent)")
    min_samples_per_case: int = Field(
        default=3, ge=1, description="k for pass^k; automate needs at least this many per case"
    )


class AutomateBar(Record):
    min_pass_rate: float = Field(ge=0, le=1, description="Wilson lower bound of the pass rate")
    min_pass_k: float = Field(ge=0, le=1, description="Wilson lower bound of pass^k (per case)")
    max_critical: int = Field(default=0, ge=0, description="answers with a critical finding")


class AssistBar(Record):
    min_pass_rate: float = Field(ge=0, le=1, description="Wilson lower bound of the pass rate")


class Tier(Record):
    automate: AutomateBar | None = Field(description="null: never automated")
    assist: AssistBar

    @model_validator(mode="after")
    def _assist_below_automate(self) -> Tier:
        if self.automate is not None and self.assist.min_pass_rate > self.automate.min_pass_rate:
            raise ValueError("the assist bar cannot be higher than the automate bar")
        return self


class Crisis(Record):
    max_decision: Level = "assist"


class IntentRule(Record):
    risk: Risk | None = Field(default=None, description="tier to use instead of the cases' risk")
    max_decision: Level | None = Field(default=None, description="ceiling for this intent")


class JudgeThresholds(Record):
    """What an LLM judge's calibration must show before its findings may gate, per family
    (policy, facts, rubric). A family that falls short is advisory; see evals/judge/status.py."""

    min_precision: float = Field(
        default=0.80, ge=0, le=1, description="Wilson 95% lower bound of the judge's precision"
    )
    min_recall: float = Field(
        default=0.50, ge=0, le=1, description="Wilson 95% lower bound of the judge's recall"
    )
    min_kappa: float = Field(
        default=0.60, ge=-1, le=1, description="Cohen's kappa against the labels"
    )
    min_positives: int = Field(
        default=30, ge=1, description="labelled responses of the family (faults to find)"
    )
    max_error_rate: float = Field(
        default=0.05, ge=0, le=1, description="share of labelled responses the judge failed on"
    )


class DecisionPolicy(Record):
    name: Identifier = "default"
    version: str = Field(default="1", min_length=1, description="the policy author's label")
    evidence: Evidence = Field(default_factory=Evidence)
    tiers: dict[Risk, Tier]
    crisis: Crisis = Field(default_factory=Crisis)
    intents: dict[str, IntentRule] = Field(default_factory=dict)
    judge: JudgeThresholds = Field(default_factory=JudgeThresholds)
    source: str = Field(default="", description="file it was read from (not part of the hash)")

    @model_validator(mode="after")
    def _every_tier(self) -> DecisionPolicy:
        missing = [r for r in ("low", "medium", "high", "critical") if r not in self.tiers]
        if missing:
            raise ValueError(f"tiers missing: {', '.join(missing)}")
        return self

    def content_hash(self) -> str:
        """Hash of what decides (everything but where the file was)."""
        return content_hash(self.model_dump_json(exclude={"source"}))

    def tolerance(self, risk: Risk) -> float | None:
        """The answer failure rate above which the tier must not automate (None: never)."""
        bar = self.tiers[risk].automate
        return None if bar is None else round(1 - bar.min_pass_k, 10)


def load_decision_policy(path: Path | None = None) -> DecisionPolicy:
    """Read a decision policy file (the bundled default when `path` is None)."""
    path = path or DEFAULT_POLICY_PATH
    if not path.is_file():
        raise InputError.single(path, "decision policy file not found")
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(path, "a decision policy must be a mapping")
    try:
        return DecisionPolicy.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise InputError(issues_from_validation(exc, file=path, line_of=lines)) from None


#: What the written records (scorecard, scope, manifest) say the bundled policy's source is.
BUNDLED = "bundled"


def source_label(source: str, suite_path: str) -> str:
    """Where a policy came from, as the written records say it: no machine path (reports are
    shared, and an install or home folder is nobody's business). `bundled` for the bundled
    default, the file's path relative to the suite's folder when it lies inside it, else its
    file name. `resolve_label` finds the file again for `evals approve`."""
    if not source:
        return ""
    path = Path(source)
    if not path.is_absolute():
        return path.as_posix()
    if path.resolve() == DEFAULT_POLICY_PATH.resolve():
        return BUNDLED
    try:
        return path.resolve().relative_to(Path(suite_path).resolve().parent).as_posix()
    except ValueError:
        return path.name


def resolve_label(label: str, suite_path: str) -> Path | None:
    """The file a `source_label` names, if it can still be found: the bundled default, a path
    relative to the suite's folder, or (older records, `--decision-policy` files) as given."""
    if not label:
        return None
    if label == BUNDLED:
        return DEFAULT_POLICY_PATH
    for candidate in (Path(suite_path).parent / label, Path(label)):
        if candidate.is_file():
            return candidate
    return None


def labelled(policy: DecisionPolicy, suite_path: str) -> DecisionPolicy:
    """The policy with its source as the written records say it (the hash does not change)."""
    return policy.model_copy(update={"source": source_label(policy.source, suite_path)})


def plan_policy(plan: RunPlan) -> DecisionPolicy:
    """The decision policy a run was planned with (the bundled default if it named none)."""
    if plan.decision_policy is None:
        return load_decision_policy()
    return DecisionPolicy.model_validate(plan.decision_policy)
