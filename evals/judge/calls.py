"""One answer judged: the judge's calls through a target client and a cassette, exactly like a
target's (same replay modes, same keys: model, parameters, exact messages, vote index), its
output validated, retried once when it does not validate, its votes merged, its spend bounded.

A call that fails, or output that does not validate twice, is a judge error: never a pass and
never silently dropped (the runner records it: an error of the answer when the judge gates, an
advisory `judge.error` finding when it does not).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from evals.cassettes import Cassette, CassetteEntry, cassette_key
from evals.judge.config import JUDGE_NAME, JudgeConfig
from evals.judge.findings import claim_findings
from evals.judge.prompt import render_judge_messages, retry_messages
from evals.judge.schema import JudgeOutput, parse_output, response_format
from evals.records import Case, Finding, JudgeUsage, PolicyBook, ReplayMode, Response, Target
from evals.redaction import redact_record
from evals.targets.base import CallRequest, TargetClient

CallFn = Callable[[TargetClient, Target, CallRequest], Awaitable[Response]]

#: Sample index offset of the retry after output that did not validate (its messages differ
#: anyway; the offset keeps the two calls of one vote apart in a cassette's listing).
RETRY_SAMPLE = 1000


@dataclass
class JudgeOutcome:
    """What judging one answer gave: findings, or the error that stopped it, and what it cost."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    usage: JudgeUsage = field(default_factory=JudgeUsage)


@dataclass
class _Tally:
    calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float = 0.0
    live: bool = False

    def add(self, response: Response) -> None:
        self.calls += 1
        self.live |= not response.cached
        for name in ("prompt_tokens", "completion_tokens", "cost_usd"):
            value = getattr(response, name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0) + value)
        self.latency_ms += response.latency_ms or 0.0

    def usage(self) -> JudgeUsage:
        return JudgeUsage(
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            latency_ms=round(self.latency_ms, 3),
            cached=self.calls > 0 and not self.live,
        )


def judge_target(config: JudgeConfig) -> Target:
    """The judge as a target, with the structured-output format in its parameters (so it is
    part of the cassette key) unless the suite set its own."""
    target = config.as_target()
    extra = dict(target.params.extra)
    if config.structured and "response_format" not in extra:
        extra["response_format"] = response_format()
    return target.model_copy(update={"params": target.params.model_copy(update={"extra": extra})})


class JudgeCaller:
    def __init__(
        self,
        config: JudgeConfig,
        *,
        replay_dir: Path,
        mode: ReplayMode,
        call: CallFn,
        client: TargetClient | None = None,
        suite_path: str = "SUITE",
        concurrency: int = 8,
    ) -> None:
        from evals.targets.factory import make_client

        self.config = config
        self.target = judge_target(config)
        self.client = client or make_client(self.target)
        self.mode = mode
        self.call = call
        self.suite_path = suite_path
        self.cassette = Cassette(replay_dir / JUDGE_NAME, JUDGE_NAME) if mode != "off" else None
        self.slots = asyncio.Semaphore(config.concurrency or concurrency)
        self.spent = 0.0
        self.started = False
        self._lock = asyncio.Lock()

    async def close(self, *, compact: bool = True) -> None:
        if compact and self.cassette is not None:
            self.cassette.compact()
        if self.started:
            self.started = False
            await self.client.close()

    async def _one(
        self, case: Case, messages: list[dict[str, str]], sample: int, tally: _Tally
    ) -> Response:
        """One judge call, replayed or live (and then recorded)."""
        cassette = self.cassette
        key = cassette_key(self.target, messages, sample) if cassette is not None else ""
        recorded = cassette.get(key) if cassette is not None and self.mode != "record" else None
        if recorded is not None:
            response = recorded.replayed()
        elif self.mode == "replay" and cassette is not None:
            return Response(
                error=f"judge replay miss: no recorded verdict for case '{case.id}' (call "
                f"{sample}) in {cassette.path}; the prompt, the answer or the judge's "
                f"parameters changed since it was recorded. Record the missing verdicts: evals "
                f"run {self.suite_path} --replay auto",
                attempts=0,
            )
        else:
            if not self.started:
                async with self._lock:
                    if not self.started:
                        await self.client.start()
                        self.started = True
            seed = (self.target.params.seed or 0) + sample
            request = CallRequest(case=case, messages=messages, sample=sample, seed=seed)
            response = redact_record(await self.call(self.client, self.target, request))
            if cassette is not None and response.ok:
                cassette.put(
                    CassetteEntry.recording(
                        response,
                        key=key,
                        target=JUDGE_NAME,
                        model=self.target.model,
                        case=case.id,
                        sample=sample,
                    )
                )
        tally.add(response)
        if response.cost_usd:
            self.spent += response.cost_usd
        return response

    async def _vote(
        self, case: Case, messages: list[dict[str, str]], vote: int, tally: _Tally
    ) -> JudgeOutput | str:
        """One vote: a call, and one retry if its output does not validate."""
        first = await self._one(case, messages, vote, tally)
        if first.error is not None:
            return f"judge call failed: {first.error}"
        parsed = parse_output(first.text)
        if isinstance(parsed, JudgeOutput):
            return parsed
        again = retry_messages(messages, first.text, parsed)
        second = await self._one(case, again, RETRY_SAMPLE + vote, tally)
        if second.error is not None:
            return f"judge output did not validate ({parsed}); the retry failed: {second.error}"
        reparsed = parse_output(second.text)
        if isinstance(reparsed, JudgeOutput):
            return reparsed
        return f"judge output did not validate twice: {parsed}; then: {reparsed}"

    async def judge(
        self, case: Case, policy: PolicyBook, answer: str, *, gating: Collection[str]
    ) -> JudgeOutcome:
        """Judge one answer: `votes` calls, a finding where a majority of votes raised it."""
        if self.config.max_cost is not None and self.spent >= self.config.max_cost:
            return JudgeOutcome(
                skipped=f"not judged: the judge has spent ${self.spent:.4f} of its "
                f"max_cost ${self.config.max_cost:g} in this run"
            )
        tally = _Tally()
        started = time.perf_counter()
        messages = render_judge_messages(case, policy, answer, self.config.checks)
        async with self.slots:
            votes = [
                await self._vote(case, messages, vote, tally) for vote in range(self.config.votes)
            ]
        usage = tally.usage()
        if not tally.calls:
            usage = usage.model_copy(
                update={"latency_ms": round((time.perf_counter() - started) * 1000, 3)}
            )
        errors = [v for v in votes if isinstance(v, str)]
        if errors:
            return JudgeOutcome(error=errors[0], usage=usage)
        counted: dict[tuple[str, int, int, str], tuple[int, Finding]] = {}
        for output in votes:
            assert isinstance(output, JudgeOutput)
            found = claim_findings(
                output, case, policy, answer, list(self.config.checks), gating=gating
            )
            for finding in {_vote_key(f): f for f in found}.values():
                key = _vote_key(finding)
                count, first = counted.get(key, (0, finding))
                counted[key] = (count + 1, first)
        majority = [f for count, f in counted.values() if count * 2 > self.config.votes]
        return JudgeOutcome(findings=majority, usage=usage)


def _vote_key(finding: Finding) -> tuple[str, int, int, str]:
    span = finding.evidence.span
    if span is not None:
        return (finding.code, span.start, span.end, "")
    return (finding.code, -1, -1, finding.evidence.note or "")
