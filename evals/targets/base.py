"""The seam every target implements, and the errors that tell the runner whether to retry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from evals.records import Case, Target


@dataclass(frozen=True)
class CallRequest:
    """One call: the rendered conversation for a case, sample and seed."""

    case: Case
    messages: list[dict[str, str]]
    sample: int
    seed: int


@dataclass(frozen=True)
class Completion:
    """A successful answer as a target reports it (the runner adds latency and attempts)."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TargetError(Exception):
    """A call failed. `transient` errors (429, 5xx, timeouts, connection) are retried."""

    transient = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: Any, now: datetime | None = None) -> float | None:
    """A Retry-After header's wait in seconds: a number of seconds (`inf` included: the runner
    caps every wait) or an HTTP date; None when it is absent or unreadable (negative, NaN,
    anything else), so the runner falls back to its own backoff."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds


class TransientError(TargetError):
    transient = True


class PermanentError(TargetError):
    transient = False


class TargetClient(Protocol):
    """What the runner needs from a target. `start` is called lazily, before the first live
    call only, so a replayed run never starts a server or imports a provider library."""

    config: Target

    async def start(self) -> None: ...

    async def complete(self, request: CallRequest) -> Completion: ...

    async def close(self) -> None: ...
