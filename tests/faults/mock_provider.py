"""A misbehaving OpenAI-compatible provider on 127.0.0.1, for fault tests.

It runs in a thread of the test process (so a subprocess `evals run` can call it too) and stops
when the `with` block ends. The mode is the first part of the path, so one server serves every
mode; give a target `api_base: mock.url(MODE)`:

- `ok`: a normal chat completion;
- `echo401`: 401 whose body repeats the request's Authorization header (a leaky proxy);
- `ratelimit/<VALUE>`: 429 with `Retry-After: <VALUE>` (`3600`, `inf`, `soon`...);
- `error500`: 500.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from types import TracebackType
from typing import Any

from aiohttp import web

ANSWER = "Tu reembolso está en camino."


class MockProvider:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.auth: list[str | None] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.port = 0

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/v1"

    async def _chat(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        mode = request.match_info["mode"]
        self.calls[mode] += 1
        auth = request.headers.get("Authorization")
        self.auth.append(auth)
        if mode == "echo401":
            return web.json_response(
                {
                    "error": {
                        "message": f"Invalid credentials in header 'Authorization: {auth}'",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                        "received": {"authorization": auth},
                    }
                },
                status=401,
                headers={"WWW-Authenticate": f'Bearer error="invalid_token" token="{auth}"'},
            )
        if mode.startswith("ratelimit"):
            value = request.match_info.get("arg", "")
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": value},
            )
        if mode == "error500":
            return web.json_response({"error": {"message": "boom", "type": "server"}}, status=500)
        return web.json_response(
            {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "mock"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
            }
        )

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/{mode}/v1/chat/completions", self._chat)
        app.router.add_post("/{mode}/{arg}/v1/chat/completions", self._chat)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            # Bounded: the server stops by itself after 5 minutes even if never told to.
            await asyncio.wait_for(self._stop.wait(), timeout=300)
        except TimeoutError:
            pass
        finally:
            await runner.cleanup()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    def __enter__(self) -> MockProvider:
        self._thread = threading.Thread(target=self._run, name="mock-provider", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the mock provider did not start within 10 s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
