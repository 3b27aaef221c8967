"""The litellm target against a local OpenAI-compatible server: retries on 429/5xx, errors
recorded, tokens kept, credentials taken from the environment and never stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from builders import write_suite

from evals.errors import InputError
from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan


class MockOpenAI:
    """Answers chat completions; `script` gives the HTTP status of each call in turn."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization"))
        status = self.script.pop(0) if self.script else 200
        if status != 200:
            return web.json_response(
                {"error": {"message": f"mock status {status}", "type": "mock"}}, status=status
            )
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Tu reembolso está en camino."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
            }
        )


async def _serve(mock: MockOpenAI) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", mock.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1"


def _run(tmp_path: Path, script: list[int], retries: int = 3) -> tuple[list[Any], MockOpenAI, Path]:
    mock = MockOpenAI(script)

    async def main() -> list[Any]:
        runner, base = await _serve(mock)
        try:
            suite = write_suite(
                tmp_path,
                n_cases=1,
                targets=[
                    {
                        "name": "mock",
                        "model": "openai/mock-model",
                        "api_base": base,
                        "api_key_env": "SUPPORTGATE_TEST_KEY",
                        "retries": retries,
                        "backoff": 0.01,
                        "params": {"temperature": 0.3, "max_tokens": 50, "seed": 42},
                    }
                ],
            )
            plan = build_plan(suite, replay_mode="off")
            store = RunStore.in_folder(Path(plan.output_dir))
            run_id = start_run(plan, store)
            await Engine(plan, store, run_id).execute()
            return list(store.results(run_id))
        finally:
            await runner.cleanup()

    return asyncio.run(main()), mock, tmp_path / "out" / "runs.sqlite"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTGATE_TEST_KEY", "sk-test-secret-123")


def test_rate_limits_and_server_errors_are_retried(tmp_path: Path) -> None:
    [result], mock, _ = _run(tmp_path, [429, 503])
    assert result.passed and result.response.attempts == 3
    assert result.response.text == "Tu reembolso está en camino."
    assert result.response.prompt_tokens == 11 and result.response.completion_tokens == 5
    assert len(mock.requests) == 3
    sent = mock.requests[0]
    assert sent["seed"] == 42 and sent["temperature"] == 0.3 and sent["max_tokens"] == 50
    assert sent["messages"][0]["role"] == "system" and "Refunds" in sent["messages"][0]["content"]


def test_a_call_that_still_fails_is_stored_as_an_error(tmp_path: Path) -> None:
    [result], mock, _ = _run(tmp_path, [500, 500, 500], retries=2)
    assert not result.passed and result.response.error
    assert "after 3 attempts" in result.response.error
    assert len(mock.requests) == 3


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    [result], mock, _ = _run(tmp_path, [400])
    assert not result.passed and len(mock.requests) == 1


def test_the_api_key_is_sent_but_never_stored(tmp_path: Path) -> None:
    _, mock, store = _run(tmp_path, [])
    assert mock.auth == ["Bearer sk-test-secret-123"]
    assert b"sk-test-secret-123" not in store.read_bytes()
    cassette = tmp_path / "cassettes"
    for path in [store.with_name("runs.sqlite-wal"), *cassette.glob("*")]:
        if path.exists():
            assert b"sk-test-secret-123" not in path.read_bytes()
    assert json.dumps({"api_key_env": "SUPPORTGATE_TEST_KEY"})  # the suite names the variable


def test_a_missing_key_variable_stops_the_run_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPORTGATE_TEST_KEY")
    with pytest.raises(InputError, match="SUPPORTGATE_TEST_KEY") as caught:
        _run(tmp_path, [])
    assert caught.value.issues[0].field == "api_key_env"
