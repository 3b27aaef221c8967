"""The engine: every case x target x sample, answered (live or replayed), checked by every
guardrail, and stored as it completes.

One asyncio engine serves every entry point. Each target gets its own pool of workers, so the
number of calls in flight per target never exceeds its concurrency. Sample i of a case is sent
seed `base + i`, and the seed is stored with the result.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import evals
from evals.cassettes import (
    Cassette,
    CassetteEntry,
    cassette_key,
    explain_miss,
    prompt_parts,
)
from evals.errors import InputError, InputIssue
from evals.plugins import suite_plugins
from evals.progress import Progress, SilentProgress
from evals.prompts import render_messages
from evals.records import Case, CaseResult, Response, RunPlan, Target, Versions, content_hash
from evals.redaction import redact, redact_record, watch
from evals.store import RunStore
from evals.targets.base import (
    CallRequest,
    PermanentError,
    TargetClient,
    TargetError,
    TransientError,
)
from evals.targets.factory import OFFLINE_MODELS, make_client
from evals.targets.litellm_target import LiteLLMTarget
from evals.targets.scripted import is_recorded_model
from evals.verdict import Judged, add_judge, judge_answer
from guardrails.packs import packs_for
from guardrails.registry import (
    GuardrailContext,
    GuardrailSet,
    guardrail_versions,
    registry_version,
)

if TYPE_CHECKING:
    from evals.judge.calls import JudgeCaller
    from evals.judge.status import JudgeStatus


#: The key of the judge's client in `Engine(clients=...)` (tests inject a scripted judge).
JUDGE_CLIENT = "judge"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def plan_versions(plan: RunPlan) -> Versions:
    loaded = suite_plugins(plan.suite, Path(plan.suite_path))
    judge = None
    if plan.suite.judge is not None:
        from evals.judge.status import plan_judge_status

        status = plan_judge_status(plan)
        judge = status.model_dump(mode="json") if status is not None else None
    return Versions(
        judge=judge,
        package=evals.__version__,
        guardrails=registry_version(plan.suite.guardrails),
        policy_books={k: v.version for k, v in sorted(plan.policies.items())},
        cases=content_hash("".join(c.model_dump_json() for c in plan.cases)),
        guardrail_versions=guardrail_versions(plan.suite.guardrails),
        plugins=loaded,
        policy_packs={k: packs_for(v) for k, v in sorted(plan.policies.items())},
        tools=_tools(plan),
    )


def _tools(plan: RunPlan) -> dict[str, str]:
    """The system tools the run's checks use: Apertium translates policy books for `policy`."""
    if plan.suite.guardrails is not None and "policy" not in plan.suite.guardrails:
        return {}
    from guardrails import translation

    usable = not translation.unavailable()
    return {"apertium": (translation.version() if usable else None) or "unavailable"}


def seed_for(plan: RunPlan, target: Target, sample: int) -> int:
    base = target.params.seed if target.params.seed is not None else plan.suite.seed
    return base + sample


#: The longest wait before a retry, whatever a provider's Retry-After asks (and at most the
#: target's timeout): a 429 with `Retry-After: 3600` must not stall a run for an hour.
MAX_RETRY_WAIT = 60.0


def retry_wait_cap(target: Target) -> float:
    return min(target.timeout, MAX_RETRY_WAIT)


async def call_with_retries(client: TargetClient, target: Target, request: CallRequest) -> Response:
    """Call once, retrying transient failures with exponential backoff; a call that still fails
    becomes a Response carrying the error (never an exception, never a pass).

    No wait before a retry exceeds `retry_wait_cap` (the target's timeout, at most 60 s). A
    provider that asks for a longer wait (Retry-After) is not retried: the error is recorded at
    once. So a call takes at most (retries + 1) x timeout + retries x the cap."""
    attempts = 0
    delay = target.backoff
    cap = retry_wait_cap(target)
    started = time.perf_counter()

    def failed(message: str) -> Response:
        return Response(
            error=redact(f"{message} (after {attempts} attempt{'s' if attempts > 1 else ''})"),
            attempts=attempts,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    while True:
        attempts += 1
        error: TargetError
        try:
            async with asyncio.timeout(target.timeout):
                done = await client.complete(request)
            return Response(
                text=done.text,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                prompt_tokens=done.prompt_tokens,
                completion_tokens=done.completion_tokens,
                cost_usd=done.cost_usd,
                model=done.model,
                attempts=attempts,
            )
        except TimeoutError:
            error = TransientError(f"timed out after {target.timeout:g}s")
        except TargetError as exc:
            error = exc
        except Exception as exc:  # a client bug must not crash the run or pass the case
            error = PermanentError(f"{type(exc).__name__}: {exc}")
        if not error.transient or attempts > target.retries:
            return failed(str(error))
        if error.retry_after is not None and error.retry_after > cap:
            return failed(
                f"{error}; the provider asks to retry after {error.retry_after:g}s, longer than "
                f"target '{target.name}' waits ({cap:g}s: its timeout, at most "
                f"{MAX_RETRY_WAIT:g}s), so it was not retried"
            )
        await asyncio.sleep(min(error.retry_after if error.retry_after is not None else delay, cap))
        delay = min(delay * 2, MAX_RETRY_WAIT)


#: Allocations between young-generation collections while a run is in flight (CPython: 700).
RUN_GC_THRESHOLD = 20_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the young generation less often during a run: a provider library allocates
    thousands of objects per call, so the default threshold runs a collection every call or two,
    each walking the objects of every call in flight (about 0.5 ms CPU per call, measured)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], RUN_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass
class _TargetState:
    target: Target
    client: TargetClient
    cassette: Cassette | None
    mode: str
    started: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Engine:
    def __init__(
        self,
        plan: RunPlan,
        store: RunStore | None,
        run_id: str,
        *,
        clients: Mapping[str, TargetClient] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.plan = plan
        self.store = store
        self.run_id = run_id
        self.progress = progress or SilentProgress()
        self.mode = plan.suite.replay.mode or "auto"
        # Plugins first (a resumed run or the pytest plugin did not load them yet): their
        # guardrails and targets must exist before the set and the clients are built.
        suite_plugins(plan.suite, Path(plan.suite_path))
        self.guardrails = GuardrailSet.build(
            GuardrailContext(policies=plan.policies), plan.suite.guardrails
        )
        self.states: dict[str, _TargetState] = {}
        for target in plan.suite.targets:
            client = (clients or {}).get(target.name) or make_client(target)
            # A recorded bot exists only in its cassette: replayed whatever the run's mode.
            mode = "replay" if is_recorded_model(target.model) else self.mode
            uses_cassette = mode != "off" and target.model not in OFFLINE_MODELS
            cassette = Cassette(Path(plan.replay_dir), target.name) if uses_cassette else None
            self.states[target.name] = _TargetState(target, client, cassette, mode)
        watch(target.api_key_env for target in plan.suite.targets)
        self.llm_judge: JudgeCaller | None = None
        self.judge_status: JudgeStatus | None = None
        if plan.suite.judge is not None:
            from evals.judge.calls import JudgeCaller
            from evals.judge.status import plan_judge_status

            watch([plan.suite.judge.api_key_env])
            self.judge_status = plan_judge_status(plan)
            self.llm_judge = JudgeCaller(
                plan.suite.judge,
                replay_dir=Path(plan.replay_dir),
                mode=self.mode,
                call=call_with_retries,
                client=(clients or {}).get(JUDGE_CLIENT),
                suite_path=plan.suite_path,
                concurrency=plan.suite.concurrency,
            )
        self.check_keys()

    def _calls_live(self, state: _TargetState, done: set[tuple[str, str, int]]) -> bool:
        """Whether the run will call this target's provider: not when replaying, nor when
        every answer it still needs is stored or recorded."""
        if state.mode == "replay":
            return False
        cassette = None if state.mode == "record" else state.cassette
        for case, sample in self._todo(state.target, done):
            if cassette is None:
                return True
            policy = self.plan.policies.get(case.company)
            if policy is None:
                return True
            messages = render_messages(case, state.target, policy)
            if cassette.get(cassette_key(state.target, messages, sample)) is None:
                return True
        return False

    def check_keys(self) -> None:
        """Stop before the first call when a target that will call its provider names an
        `api_key_env` that is unset or empty (not one error per answer, after the run began)."""
        done = self.store.done_keys(self.run_id) if self.store is not None else set()
        issues: list[InputIssue] = []
        for state in self.states.values():
            variable = state.target.api_key_env
            if not variable or not isinstance(state.client, LiteLLMTarget):
                continue
            if os.environ.get(variable, "").strip() or not self._calls_live(state, done):
                continue
            issues.append(
                InputIssue(
                    self.plan.suite_path,
                    f"the environment variable {variable} is not set (or empty); set it to the "
                    "provider's API key, or run with --replay replay to use recorded answers only",
                    record=state.target.name,
                    field="api_key_env",
                )
            )
        judge = self.plan.suite.judge
        variable = judge.api_key_env if judge is not None else None
        if variable and self.mode != "replay" and not os.environ.get(variable, "").strip():
            issues.append(
                InputIssue(
                    self.plan.suite_path,
                    f"the environment variable {variable} is not set (or empty); set it to the "
                    "judge provider's API key, or run with --replay replay to use recorded "
                    "verdicts only",
                    record="judge",
                    field="judge.api_key_env",
                )
            )
        if issues:
            raise InputError(issues)

    def _todo(self, target: Target, done: set[tuple[str, str, int]]) -> Iterator[tuple[Case, int]]:
        for case in self.plan.cases_for(target):
            for sample in range(self.plan.suite.samples):
                if (case.id, target.name, sample) not in done:
                    yield case, sample

    async def _live(self, state: _TargetState, request: CallRequest) -> Response:
        if not state.started:
            async with state.lock:
                if not state.started:
                    await state.client.start()
                    state.started = True
        return await call_with_retries(state.client, state.target, request)

    async def answer(self, state: _TargetState, case: Case, sample: int) -> CaseResult:
        target = state.target
        messages = render_messages(case, target, self.plan.policies[case.company])
        seed = seed_for(self.plan, target, sample)
        request = CallRequest(case=case, messages=messages, sample=sample, seed=seed)
        cassette = state.cassette
        key = cassette_key(target, messages, sample) if cassette is not None else ""
        recorded = cassette.get(key) if cassette is not None and state.mode != "record" else None
        if recorded is not None:
            response = recorded.replayed()
        elif state.mode == "replay" and cassette is not None:
            policy = self.plan.policies[case.company]
            miss = explain_miss(
                cassette,
                case,
                target,
                policy,
                sample,
                self.plan.suite_path,
                recorded_only=is_recorded_model(target.model),
            )
            response = Response(error=miss, attempts=0)
        else:
            response = redact_record(await self._live(state, request))
            if cassette is not None and response.ok:
                cassette.put(
                    CassetteEntry.recording(
                        response,
                        key=key,
                        target=target.name,
                        model=target.model,
                        case=case.id,
                        sample=sample,
                        prompt=prompt_parts(case, target, self.plan.policies[case.company]),
                    )
                )
        result = self.judge(case, target.name, sample, seed, response)
        if self.llm_judge is None:
            return result
        return await self.llm_judged(case, result)

    def _judge_applies(self, result: CaseResult) -> bool:
        judge = self.plan.suite.judge
        if judge is None or not result.response.ok:
            return False
        if judge.on == "passed":
            return result.passed
        if judge.on == "flagged":
            return not result.passed or bool(result.findings)
        return True

    async def llm_judged(self, case: Case, result: CaseResult) -> CaseResult:
        """The result after the LLM judge, when the suite has one and `judge.on` selects it."""
        caller, status = self.llm_judge, self.judge_status
        if caller is None or status is None or not self._judge_applies(result):
            return result
        from evals.judge.findings import judge_note

        outcome = await caller.judge(
            case, self.plan.policies[case.company], result.response.text, gating=status.gating
        )
        findings = list(outcome.findings)
        error = None
        if outcome.skipped is not None:
            findings.append(judge_note("judge.skipped", outcome.skipped, advisory=True))
        elif outcome.error is not None:
            if status.gating:
                error = outcome.error
            else:
                findings.append(
                    judge_note("judge.error", f"the judge failed: {outcome.error}", advisory=True)
                )
        rules = Judged(result.response, result.findings, result.passed)
        judged = add_judge(rules, findings, error, self.plan.suite.gates.fail_on)
        response = judged.response.model_copy(update={"judge": outcome.usage})
        return result.model_copy(
            update={"response": response, "findings": judged.findings, "passed": judged.passed}
        )

    def judge(
        self, case: Case, target: str, sample: int, seed: int, response: Response
    ) -> CaseResult:
        judged = judge_answer(self.guardrails, case, response, self.plan.suite.gates.fail_on)
        return CaseResult(
            run_id=self.run_id,
            case_id=case.id,
            target=target,
            sample=sample,
            seed=seed,
            response=judged.response,
            findings=judged.findings,
            passed=judged.passed,
        )

    async def answer_case(self, target: str, case: Case) -> list[CaseResult]:
        """Every sample of one case for one target, at most the target's concurrency at once.

        The pytest plugin's unit of work: one test item answers all k samples of its case, so
        whether the case is flaky is decided inside the item. Nothing is stored here.
        """
        state = self.states[target]
        slots = asyncio.Semaphore(state.target.concurrency or self.plan.suite.concurrency)

        async def one(sample: int) -> CaseResult:
            async with slots:
                return await self.answer(state, case, sample)

        return list(await asyncio.gather(*(one(s) for s in range(self.plan.suite.samples))))

    async def close(self, *, compact: bool = True) -> None:
        """Close the clients that were started and, unless told not to, compact the cassettes.

        Processes that share a cassette file (pytest-xdist workers) must not compact: each
        would rewrite the file with only the entries it knows, dropping the others' appends.
        """
        for state in self.states.values():
            if compact and state.cassette is not None:
                state.cassette.compact()
            if state.started:
                state.started = False
                await state.client.close()
        if self.llm_judge is not None:
            await self.llm_judge.close(compact=compact)

    def _store(self) -> RunStore:
        if self.store is None:
            raise RuntimeError("this engine has no run store; use answer_case() instead")
        return self.store

    async def _worker(self, state: _TargetState, items: Iterator[tuple[Case, int]]) -> None:
        store = self._store()
        for case, sample in items:  # workers share one iterator: each item is taken once
            result = await self.answer(state, case, sample)
            store.add_result(result)
            self.progress.advance(result)

    async def execute(self) -> None:
        """Answer everything the run does not have yet; safe to call again to resume."""
        store = self._store()
        done = store.done_keys(self.run_id)
        total = len(self.plan.expected_answers())
        self.progress.start(total, len(done))
        store.set_status(self.run_id, "running")
        try:
            with fewer_collections():
                async with asyncio.TaskGroup() as group:
                    for state in self.states.values():
                        items = self._todo(state.target, done)
                        size = state.target.concurrency or self.plan.suite.concurrency
                        for _ in range(size):
                            group.create_task(self._worker(state, items))
            store.set_status(self.run_id, "finished")
        except BaseException:
            store.set_status(self.run_id, "interrupted")
            raise
        finally:
            self.progress.close()
            await self.close()


def start_run(plan: RunPlan, store: RunStore, run_id: str | None = None) -> str:
    run_id = run_id or new_run_id()
    store.create_run(run_id, plan, plan_versions(plan))
    return run_id
