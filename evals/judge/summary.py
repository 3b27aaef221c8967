"""The judge's part of a scorecard: which judge, which calibration and its figures, whether it
gates, what it cost (apart from the targets), and the advisory findings every report lists
under "judge (uncalibrated)"."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from evals.judge.status import JudgeStatus
from evals.records import CaseResult, Record

#: Advisory answers listed in a scorecard (the count covers them all).
MAX_LISTED = 500


class JudgeCost(Record):
    """The judge's spend for one target's answers (kept apart from the target's own)."""

    answers: int = Field(description="answers the judge looked at")
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_ms: float = Field(description="total time in judge calls (replayed: as recorded)")
    errors: int = Field(description="answers on which the judge failed")
    skipped: int = Field(description="answers not judged: the spend bound was reached")


class JudgeSummary(Record):
    status: JudgeStatus
    cost: dict[str, JudgeCost] = Field(description="per target")
    advisory_answers: int = Field(description="answers with an advisory judge finding")
    advisory: list[CaseResult] = Field(
        description=f"those answers, with only their judge findings (at most {MAX_LISTED})"
    )


def judge_summary(status: JudgeStatus, results: Iterable[CaseResult]) -> JudgeSummary:
    cost: dict[str, JudgeCost] = {}
    advisory: list[CaseResult] = []
    count = 0
    for result in results:
        usage = result.response.judge
        codes = {f.code for f in result.findings if f.guardrail == "judge"}
        judge_error = (result.response.error or "").startswith("judge failed")
        if usage is not None or codes:
            was = cost.get(result.target) or JudgeCost(
                answers=0,
                calls=0,
                prompt_tokens=0,
                completion_tokens=0,
                cost_usd=None,
                latency_ms=0.0,
                errors=0,
                skipped=0,
            )
            spent = None if usage is None else usage.cost_usd
            cost[result.target] = JudgeCost(
                answers=was.answers + 1,
                calls=was.calls + (usage.calls if usage else 0),
                prompt_tokens=was.prompt_tokens + ((usage.prompt_tokens or 0) if usage else 0),
                completion_tokens=was.completion_tokens
                + ((usage.completion_tokens or 0) if usage else 0),
                cost_usd=(was.cost_usd or 0.0) + spent if spent is not None else was.cost_usd,
                latency_ms=round(was.latency_ms + ((usage.latency_ms or 0.0) if usage else 0), 3),
                errors=was.errors + int("judge.error" in codes or judge_error),
                skipped=was.skipped + int("judge.skipped" in codes),
            )
        shown = [f for f in result.findings if f.evidence.advisory]
        if shown:
            count += 1
            if len(advisory) < MAX_LISTED:
                advisory.append(result.model_copy(update={"findings": shown}))
    return JudgeSummary(
        status=status, cost=dict(sorted(cost.items())), advisory_answers=count, advisory=advisory
    )
