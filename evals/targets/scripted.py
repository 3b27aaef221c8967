"""A scripted fake target for tests and dry runs: queued replies, recorded calls, injected
latency and errors. No network.

From a suite it is `model: fake/scripted` with its script in `params.extra`:
`replies` (texts used in turn, cycling), `latency` (seconds per call), `errors` (a map from
call number, counted from 1, to `transient` or `permanent`), or `echo: true` to answer with the
last user message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from evals.records import Target
from evals.targets.base import CallRequest, Completion, PermanentError, TransientError

#: The model string that selects this target in a suite.
SCRIPTED_MODEL = "fake/scripted"


class ScriptedTarget:
    def __init__(
        self,
        config: Target,
        *,
        replies: Sequence[str] | None = None,
        latency: float | None = None,
        errors: dict[int, str] | None = None,
        echo: bool | None = None,
    ) -> None:
        extra: dict[str, Any] = config.params.extra
        self.config = config
        self.replies = list(replies if replies is not None else extra.get("replies", ["OK."]))
        self.latency = float(latency if latency is not None else extra.get("latency", 0.0))
        raw_errors = errors if errors is not None else extra.get("errors", {})
        self.errors = {int(k): str(v) for k, v in raw_errors.items()}
        self.echo = bool(echo if echo is not None else extra.get("echo", False))
        self.calls: list[CallRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0
        self.closed = 0

    async def start(self) -> None:
        self.started += 1

    async def complete(self, request: CallRequest) -> Completion:
        self.calls.append(request)
        number = len(self.calls)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            kind = self.errors.get(number)
            if kind == "transient":
                raise TransientError(f"scripted transient error on call {number}")
            if kind == "permanent":
                raise PermanentError(f"scripted permanent error on call {number}")
            if self.echo:
                text = request.messages[-1]["content"]
            else:
                text = self.replies[(number - 1) % len(self.replies)]
            return Completion(text=text, prompt_tokens=0, completion_tokens=len(text.split()))
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        self.closed += 1


class ReferenceTarget:
    """Answers every case with its reference answer (the 'passing' target of the demo)."""

    def __init__(self, config: Target) -> None:
        self.config = config

    async def start(self) -> None:
        return None

    async def complete(self, request: CallRequest) -> Completion:
        if request.case.reference is None:
            raise PermanentError(f"case '{request.case.id}' has no reference answer")
        return Completion(text=request.case.reference, model="reference")

    async def close(self) -> None:
        return None


#: Model strings `recorded/<name>`: a bot whose answers exist only in its cassette.
RECORDED_PREFIX = "recorded/"


def is_recorded_model(model: str) -> bool:
    return model.startswith(RECORDED_PREFIX) and bool(model[len(RECORDED_PREFIX) :].strip())


class RecordedTarget:
    """A bot known only by its recorded answers (`model: recorded/<name>`): always replayed
    from its cassette, whatever the replay mode, and never called. An answer missing from the
    cassette is recorded as an error (a replay miss), never as a pass."""

    def __init__(self, config: Target) -> None:
        self.config = config

    async def start(self) -> None:
        return None

    async def complete(self, request: CallRequest) -> Completion:
        raise PermanentError(
            f"target '{self.config.name}' ({self.config.model}) is a recorded bot: it answers "
            f"only from its cassette, which has no answer for case '{request.case.id}' sample "
            f"{request.sample}"
        )

    async def close(self) -> None:
        return None
