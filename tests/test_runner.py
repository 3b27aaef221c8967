"""The engine: bounded concurrency, retries, errors never pass, seeds, replay, resume."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from builders import write_suite

from evals.records import CaseResult, Finding
from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan
from evals.targets.scripted import ScriptedTarget
from guardrails.registry import GuardrailContext, register, unregister


def run_suite(
    suite: Path, clients: dict[str, Any] | None = None, replay: str | None = None
) -> tuple[str, list[CaseResult], RunStore]:
    plan = build_plan(suite, replay_mode=replay)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id, clients=clients).execute())
    return run_id, list(store.results(run_id)), store


def scripted(suite: Path, name: str = "fake", **kwargs: Any) -> ScriptedTarget:
    plan = build_plan(suite)
    target = next(t for t in plan.suite.targets if t.name == name)
    return ScriptedTarget(target, **kwargs)


def test_in_flight_calls_never_exceed_the_target_concurrency(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=20,
        samples=2,
        targets=[{"name": "fake", "model": "fake/scripted", "concurrency": 4}],
    )
    fake = scripted(suite, latency=0.01)
    _, results, _ = run_suite(suite, {"fake": fake})
    assert len(results) == 40 and len(fake.calls) == 40
    assert fake.max_in_flight == 4  # reached, never exceeded
    assert fake.started == 1 and fake.closed == 1


def test_transient_errors_are_retried_then_succeed(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=1,
        targets=[{"name": "fake", "model": "fake/scripted", "retries": 3, "backoff": 0}],
    )
    fake = scripted(suite, errors={1: "transient", 2: "transient"}, replies=["Hola."])
    _, [result], _ = run_suite(suite, {"fake": fake})
    assert result.response.ok and result.response.attempts == 3 and result.passed
    assert result.response.text == "Hola."


def test_a_call_that_keeps_failing_is_an_error_and_never_a_pass(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=1,
        targets=[{"name": "fake", "model": "fake/scripted", "retries": 2, "backoff": 0}],
    )
    fake = scripted(suite, errors={1: "transient", 2: "transient", 3: "transient"})
    _, [result], store = run_suite(suite, {"fake": fake})
    assert not result.passed and result.response.attempts == 3
    assert "after 3 attempts" in (result.response.error or "")
    assert store.runs()[0].errors == 1 and store.runs()[0].passed == 0


def test_permanent_errors_are_not_retried(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path, n_cases=1, targets=[{"name": "fake", "model": "fake/scripted", "backoff": 0}]
    )
    fake = scripted(suite, errors={1: "permanent"})
    _, [result], _ = run_suite(suite, {"fake": fake})
    assert not result.passed and result.response.attempts == 1 and len(fake.calls) == 1


def test_timeouts_are_retried_and_recorded(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=1,
        targets=[
            {"name": "fake", "model": "fake/scripted", "timeout": 0.05, "retries": 1, "backoff": 0}
        ],
    )
    fake = scripted(suite, latency=1.0)
    _, [result], _ = run_suite(suite, {"fake": fake})
    assert "timed out after 0.05s" in (result.response.error or "")
    assert len(fake.calls) == 2 and not result.passed


def test_samples_get_distinct_recorded_seeds(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=2,
        samples=3,
        targets=[{"name": "fake", "model": "fake/scripted", "params": {"seed": 100}}],
    )
    fake = scripted(suite)
    _, results, _ = run_suite(suite, {"fake": fake})
    assert sorted({r.seed for r in results}) == [100, 101, 102]
    assert sorted(c.seed for c in fake.calls) == [100, 100, 101, 101, 102, 102]
    assert all(r.seed == 100 + r.sample for r in results)


def test_findings_of_failing_severity_fail_the_answer(tmp_path: Path) -> None:
    @register("test_refund_window")
    def factory(context: GuardrailContext) -> Any:
        def check(case: Any, text: str) -> list[Finding]:
            if "7 días" not in text:
                return []
            start = text.index("7 días")
            return [
                Finding.model_validate(
                    {
                        "guardrail": "test_refund_window",
                        "code": "test_refund_window.contradicted",
                        "severity": "critical",
                        "message": "states a 7-day window; the policy says 30 days",
                        "evidence": {"span": {"start": start, "end": start + 6, "text": "7 días"}},
                    }
                )
            ]

        return check

    try:
        suite = write_suite(tmp_path, n_cases=2)
        fake = scripted(
            suite, replies=["Tienes 7 días para devolverlo.", "Tienes 30 días."], echo=False
        )
        _, results, _store = run_suite(suite, {"fake": fake})
        by_text = {r.response.text: r for r in results}
        bad = by_text["Tienes 7 días para devolverlo."]
        assert not bad.passed and bad.findings[0].evidence.span is not None
        assert bad.findings[0].evidence.span.text == "7 días"
        assert by_text["Tienes 30 días."].passed
    finally:
        unregister("test_refund_window")


def test_record_then_replay_gives_the_same_answers_without_calls(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=3, samples=2)
    recorder = scripted(suite, replies=["a", "b", "c", "d", "e", "f"])
    _, recorded, _ = run_suite(suite, {"fake": recorder}, replay="record")
    cassette = tmp_path / "cassettes" / "fake.jsonl"
    lines = cassette.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6  # repeated samples of one prompt are distinct entries

    silent = scripted(suite, errors={i: "permanent" for i in range(1, 100)})
    _, replayed, _ = run_suite(suite, {"fake": silent}, replay="replay")
    assert silent.calls == [] and silent.started == 0
    key = lambda r: (r.case_id, r.sample)  # noqa: E731
    assert [(key(r), r.response.text) for r in sorted(replayed, key=key)] == [
        (key(r), r.response.text) for r in sorted(recorded, key=key)
    ]
    assert all(r.response.cached for r in replayed)


def test_a_replay_miss_is_an_error_naming_the_case(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2)
    fake = scripted(suite)
    _, results, _ = run_suite(suite, {"fake": fake}, replay="replay")
    assert fake.calls == []
    for result in results:
        assert not result.passed
        assert f"case '{result.case_id}'" in (result.response.error or "")
        assert "--replay auto" in (result.response.error or "")  # records just the misses


def test_auto_mode_calls_only_on_a_miss(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2)
    first = scripted(suite)
    run_suite(suite, {"fake": first}, replay="auto")
    assert len(first.calls) == 2
    write_suite(tmp_path, n_cases=3)  # one new case
    second = scripted(suite)
    _, results, _ = run_suite(suite, {"fake": second}, replay="auto")
    assert len(second.calls) == 1 and len(results) == 3


def test_off_mode_neither_reads_nor_writes_cassettes(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2)
    run_suite(suite, {"fake": scripted(suite)}, replay="off")
    assert not (tmp_path / "cassettes").exists()


def test_reference_target_answers_with_the_reference(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2, targets=[{"name": "ref", "model": "reference"}])
    _, results, _ = run_suite(suite, replay="replay")
    assert {r.response.text for r in results} == {
        "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
    }
    assert all(r.passed for r in results)


def _signature(results: list[CaseResult]) -> list[tuple[Any, ...]]:
    return sorted(
        (r.case_id, r.target, r.sample, r.seed, r.response.text, r.passed) for r in results
    )


def test_resume_after_an_interrupted_run_gives_the_uninterrupted_results(
    tmp_path: Path,
) -> None:
    reference_suite = write_suite(tmp_path / "whole", n_cases=6, samples=2)
    _, whole, _ = run_suite(reference_suite, {"fake": scripted(reference_suite)})

    suite = write_suite(tmp_path / "cut", n_cases=6, samples=2)
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    stalled = scripted(suite)
    answered = 0

    async def stall_after_four(request: Any) -> Any:
        # The first four calls answer; the rest hang until the run is interrupted.
        nonlocal answered
        if answered >= 4:
            await asyncio.Event().wait()
        answered += 1
        return await ScriptedTarget.complete(stalled, request)

    stalled.complete = stall_after_four  # type: ignore[method-assign]

    async def interrupted() -> None:
        engine = Engine(plan, store, run_id, clients={"fake": stalled})
        task = asyncio.create_task(engine.execute())
        while len(store.done_keys(run_id)) < 4:  # noqa: ASYNC110 (polls another writer)
            await asyncio.sleep(0.005)
        task.cancel()  # what Ctrl-C does to the run
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    partial = store.done_keys(run_id)
    assert len(partial) == 4
    assert store.runs()[0].status == "interrupted"

    again = scripted(suite)
    asyncio.run(Engine(store.plan(run_id), store, run_id, clients={"fake": again}).execute())
    assert len(again.calls) == 12 - len(partial)  # only what was missing
    assert _signature(list(store.results(run_id))) == _signature(whole)
    assert store.runs()[0].status == "finished"


@pytest.mark.parametrize("concurrency", [1, 3])
def test_every_item_is_answered_exactly_once(tmp_path: Path, concurrency: int) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=7,
        samples=3,
        targets=[
            {"name": "a", "model": "fake/scripted", "concurrency": concurrency},
            {"name": "b", "model": "fake/scripted", "concurrency": 2},
        ],
    )
    a, b = scripted(suite, "a"), scripted(suite, "b")
    _, results, _ = run_suite(suite, {"a": a, "b": b})
    keys = [(r.case_id, r.target, r.sample) for r in results]
    assert len(keys) == len(set(keys)) == 42
    assert len(a.calls) == len(b.calls) == 21
