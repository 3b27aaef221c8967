"""The REAL bundled model: one case through the runner, answered by SmolLM2 served by llama.cpp
on loopback. Skipped only when the model is not installed (CI installs it: scripts/install)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from builders import write_suite

from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan
from evals.targets.local_model import LocalModelTarget, LocalModelUnavailable, check_available


def _require_model() -> None:
    try:
        check_available("local/smollm2")
    except LocalModelUnavailable as exc:
        pytest.skip(f"the bundled model is not installed: {exc}")


@pytest.mark.slow
def test_one_case_answered_by_the_bundled_model(tmp_path: Path) -> None:
    _require_model()
    suite = write_suite(
        tmp_path,
        n_cases=1,
        targets=[
            {
                "name": "bundled",
                "model": "local/smollm2",
                "params": {"temperature": 0, "max_tokens": 64, "extra": {"ctx_size": 2048}},
            }
        ],
    )
    plan = build_plan(suite, replay_mode="off")
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    engine = Engine(plan, store, run_id)
    client = engine.states["bundled"].client
    assert isinstance(client, LocalModelTarget)
    seen: dict[str, str] = {}

    async def run() -> None:
        original = client.start

        async def start() -> None:  # note where the server listened, to check it is gone later
            await original()
            assert client.address is not None
            seen["address"] = client.address

        client.start = start  # type: ignore[method-assign]
        await engine.execute()

    asyncio.run(run())
    [result] = list(store.results(run_id))
    assert result.response.ok, result.response.error
    assert result.response.text.strip()
    assert result.response.completion_tokens and 0 < result.response.completion_tokens <= 64
    assert result.response.prompt_tokens and result.response.cost_usd == 0.0
    assert seen["address"].startswith("http://127.0.0.1:")
    assert client.address is None
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        json.load(opener.open(seen["address"] + "/health", timeout=2))
