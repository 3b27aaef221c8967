"""Any litellm model string (OpenAI, Anthropic, Azure, Ollama, an OpenAI-compatible api_base).

litellm is imported on the first live call, never at start-up: its import costs seconds, and a
replayed run must not import it at all. It is configured for an evaluation harness: no telemetry,
the cost map read from the installed package (no network), no logging callbacks, and no retries of
its own (the runner retries, the same way for every target).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from evals.records import Target
from evals.targets.base import CallRequest, Completion, PermanentError, TransientError

_litellm: Any = None


def import_litellm() -> Any:
    """Import and configure litellm once (offline cost map, no telemetry, quiet)."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "ERROR")
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        litellm.drop_params = True  # a seed or top_p a provider does not take is dropped
        litellm.success_callback = []
        litellm.failure_callback = []
        litellm.callbacks = []
        _litellm = litellm
    return _litellm


def classify(exc: BaseException) -> Exception:
    """Map a litellm/provider exception to a transient (retry) or permanent TargetError."""
    litellm = import_litellm()
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = f"{name}: {str(exc)[:500]}"
    transient_types = tuple(
        t
        for t in (
            getattr(litellm, "RateLimitError", None),
            getattr(litellm, "InternalServerError", None),
            getattr(litellm, "ServiceUnavailableError", None),
            getattr(litellm, "Timeout", None),
            getattr(litellm, "APIConnectionError", None),
        )
        if isinstance(t, type)
    )
    if (
        isinstance(exc, (*transient_types, TimeoutError, ConnectionError))
        or status == 429
        or (isinstance(status, int) and status >= 500)
    ):
        retry_after: float | None = None
        response = getattr(exc, "response", None)
        header = (getattr(response, "headers", None) or {}).get("retry-after")
        with contextlib.suppress(TypeError, ValueError):
            retry_after = float(header) if header is not None else None
        return TransientError(message, retry_after=retry_after)
    return PermanentError(message)


def _usage(response: Any) -> tuple[int | None, int | None]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None, None
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


class LiteLLMTarget:
    def __init__(self, config: Target, *, api_base: str | None = None) -> None:
        self.config = config
        self.api_base = api_base or config.api_base
        self._litellm: Any = None

    async def start(self) -> None:
        self._litellm = import_litellm()

    def call_kwargs(self, request: CallRequest) -> dict[str, Any]:
        params = self.config.params
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": request.messages,
            "seed": request.seed,
            "timeout": self.config.timeout,
            "num_retries": 0,
        }
        for name in ("temperature", "max_tokens", "top_p"):
            value = getattr(params, name)
            if value is not None:
                kwargs[name] = value
        kwargs.update(params.extra)
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.config.api_key_env:
            key = os.environ.get(self.config.api_key_env)
            if not key:
                raise PermanentError(
                    f"environment variable {self.config.api_key_env} (api_key_env of target "
                    f"'{self.config.name}') is not set"
                )
            kwargs["api_key"] = key
        return kwargs

    async def complete(self, request: CallRequest) -> Completion:
        if self._litellm is None:
            await self.start()
        kwargs = self.call_kwargs(request)
        try:
            response = await self._litellm.acompletion(**kwargs)
        except Exception as exc:  # provider libraries raise anything; classify it
            raise classify(exc) from None
        choices = getattr(response, "choices", None) or []
        text = choices[0].message.content if choices else None
        if not isinstance(text, str):
            raise PermanentError("the provider returned no text content")
        prompt_tokens, completion_tokens = _usage(response)
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            model=getattr(response, "model", None),
        )

    async def close(self) -> None:
        return None
