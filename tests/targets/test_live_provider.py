"""Opt-in: one real call to a hosted provider (`pytest --live`, with OPENAI_API_KEY set)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from builders import write_suite

from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan


@pytest.mark.live
def test_one_case_against_a_real_provider(tmp_path: Path) -> None:
    if not os.environ.get("OPENAI_API_KEY"):
        pytest.skip("OPENAI_API_KEY is not set")
    model = os.environ.get("SUPPORTGATE_LIVE_MODEL", "openai/gpt-4o-mini")
    suite = write_suite(
        tmp_path,
        n_cases=1,
        targets=[{"name": "live", "model": model, "params": {"max_tokens": 60}}],
    )
    plan = build_plan(suite, replay_mode="off")
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id).execute())
    [result] = list(store.results(run_id))
    assert result.response.ok, result.response.error
    assert result.response.text.strip()
    assert result.response.prompt_tokens and result.response.completion_tokens
