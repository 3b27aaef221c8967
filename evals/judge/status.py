"""Whether the judge may gate: its calibration must exist, be current and clear the decision
policy's thresholds (`judge:` in the decision policy), family by family.

A family (policy, facts, rubric) gates only when the calibration file the suite names was
written for this judge (same model, parameters, checks, votes and prompt: the fingerprint) and
its figures clear every threshold: the Wilson lower bounds of precision and recall, Cohen's
kappa, enough labelled faults, and few judge errors. Otherwise its findings are advisory.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from evals.decision_policy import JudgeThresholds
from evals.judge.calibration import Calibration, Figures, judge_fingerprint
from evals.judge.config import Check, JudgeConfig
from evals.judge.prompt import prompt_hash
from evals.records import Record, RunPlan

State = Literal["calibrated", "partly calibrated", "uncalibrated"]


class JudgeStatus(Record):
    """The judge of a run, as recorded in its versions and shown in every report."""

    model: str
    params: dict[str, Any]
    checks: list[Check]
    votes: int
    on: str
    prompt_sha256: str
    calibration: str | None = Field(description="the calibration file the suite names")
    calibration_sha256: str | None = None
    state: State
    gating: list[Check] = Field(description="checks whose findings may fail an answer")
    reasons: list[str] = Field(description="why a check is advisory (empty when all gate)")
    figures: dict[str, Figures] = Field(default_factory=dict)

    def advisory(self, check: str) -> bool:
        return check not in self.gating


def _shortfalls(
    check: str, figures: Figures, errors: int, responses: int, bars: JudgeThresholds
) -> list[str]:
    out = []
    positives = figures.tp + figures.fn
    if positives < bars.min_positives:
        out.append(f"{positives} labelled faults < {bars.min_positives} required")
    if figures.precision_ci.low < bars.min_precision:
        out.append(
            f"precision lower bound {figures.precision_ci.low:.2f} < {bars.min_precision:.2f}"
        )
    if figures.recall_ci.low < bars.min_recall:
        out.append(f"recall lower bound {figures.recall_ci.low:.2f} < {bars.min_recall:.2f}")
    if figures.kappa is None or figures.kappa < bars.min_kappa:
        shown = "undefined" if figures.kappa is None else f"{figures.kappa:.2f}"
        out.append(f"kappa {shown} < {bars.min_kappa:.2f}")
    total = errors + responses
    if total and errors / total > bars.max_error_rate:
        out.append(f"judge errors on {errors} of {total} labelled responses")
    return [f"{check}: {reason}" for reason in out]


def judge_status(
    config: JudgeConfig,
    calibration: dict[str, Any] | None,
    bars: JudgeThresholds,
) -> JudgeStatus:
    """The judge's status for a run, from the calibration loaded into its plan."""
    current = judge_fingerprint(config)
    base: dict[str, Any] = {
        "model": config.model,
        "params": current.params,
        "checks": list(config.checks),
        "votes": config.votes,
        "on": config.on,
        "prompt_sha256": prompt_hash(),
        "calibration": config.calibration,
    }
    if calibration is None:
        why = (
            f"no calibration file at {config.calibration}"
            if config.calibration
            else "no calibration (judge.calibration is not set)"
        )
        return JudgeStatus(**base, state="uncalibrated", gating=[], reasons=[why])
    loaded = Calibration.model_validate(calibration)
    base["calibration_sha256"] = loaded.sha256
    base["figures"] = loaded.figures_for(config.checks)
    if loaded.fingerprint.judge_part() != current.judge_part():
        differs = sorted(
            k for k, v in current.judge_part().items() if loaded.fingerprint.judge_part()[k] != v
        )
        return JudgeStatus(
            **base,
            state="uncalibrated",
            gating=[],
            reasons=[f"stale calibration: the judge's {', '.join(differs)} changed since"],
        )
    reasons: list[str] = []
    gating: list[Check] = []
    for check in config.checks:
        figures = loaded.families.get(check)
        if figures is None:
            reasons.append(f"{check}: not calibrated")
            continue
        short = _shortfalls(check, figures, loaded.errors, loaded.responses - loaded.errors, bars)
        reasons += short
        if not short:
            gating.append(check)
    state: State = (
        "calibrated"
        if len(gating) == len(config.checks)
        else ("partly calibrated" if gating else "uncalibrated")
    )
    return JudgeStatus(**base, state=state, gating=gating, reasons=reasons)


def plan_judge_status(plan: RunPlan) -> JudgeStatus | None:
    """The status of a run's judge (None: the suite configures none), from its plan alone, so
    a resumed run judges exactly as it started."""
    config = plan.suite.judge
    if config is None:
        return None
    from evals.decision_policy import plan_policy

    return judge_status(config, plan.judge_calibration, plan_policy(plan).judge)
