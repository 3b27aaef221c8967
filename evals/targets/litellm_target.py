"""Any litellm model string (OpenAI, Anthropic, Azure, Ollama, an OpenAI-compatible api_base).

litellm is imported on the first live call, never at start-up: its import costs seconds, and a
replayed run must not import it at all. It is configured for an evaluation harness: no telemetry,
the cost map read from the installed package (no network), no logging callbacks, and no retries of
its own (the runner retries, the same way for every target).

Per-call CPU matters (a run makes thousands of calls; see benchmarks/runner_throughput.py), so:
OpenAI and OpenAI-compatible models go through litellm's own HTTP handler on its aiohttp transport
instead of the openai SDK (`EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER`, same exception types, about
1.5 ms less CPU per call); and a model that litellm has no price for is registered once with a zero
price, so litellm stops searching its cost map (and failing) two or three times per call, while
the stored cost stays unknown (None) rather than 0.
"""

from __future__ import annotations

import contextlib
import gc
import os
from typing import Any

from evals.records import Target
from evals.redaction import redact, redact_logs, watch
from evals.targets.base import (
    CallRequest,
    Completion,
    PermanentError,
    TransientError,
    retry_after_seconds,
)

_litellm: Any = None

#: Environment litellm reads (at import or per call); a value the user set wins.
LITELLM_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # the packaged cost map: no network fetch at import
    "LITELLM_LOG": "ERROR",
    # openai/... and OpenAI-compatible providers through litellm's HTTP handler, not the SDK
    "EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER": "True",
}


def import_litellm() -> Any:
    """Import and configure litellm once (offline cost map, no telemetry, quiet)."""
    global _litellm
    if _litellm is None:
        for name, value in LITELLM_ENV.items():
            os.environ.setdefault(name, value)
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        litellm.drop_params = True  # a seed or top_p a provider does not take is dropped
        litellm.success_callback = []
        litellm.failure_callback = []
        litellm.callbacks = []
        # The import leaves ~300k long-lived objects; without this every full collection during
        # a run walks them all (about 0.5 ms per call, measured). Frozen objects are never freed.
        gc.freeze()
        # Its loggers print provider errors, which may repeat the Authorization header.
        redact_logs("LiteLLM", "LiteLLM Proxy", "LiteLLM Router", "litellm")
        _litellm = litellm
    return _litellm


def classify(exc: BaseException) -> Exception:
    """Map a litellm/provider exception to a transient (retry) or permanent TargetError."""
    litellm = import_litellm()
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    # Redacted before it is cut: a key cut in half would no longer match its value.
    message = redact(f"{name}: {exc}")[:500]
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
        return TransientError(message, retry_after=retry_after_seconds(_retry_after_header(exc)))
    return PermanentError(message)


def _retry_after_header(exc: BaseException) -> Any:
    """The provider's Retry-After: litellm keeps the response headers in
    `litellm_response_headers` (its `response` attribute has none)."""
    sources: tuple[Any, ...] = (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    )
    for headers in sources:
        with contextlib.suppress(AttributeError, TypeError):
            for key, value in headers.items():
                if str(key).lower() == "retry-after":
                    return value
    return None


#: Models this process registered at a zero price (unknown to litellm's cost map).
_UNPRICED: set[str] = set()


def knows_model(litellm: Any, model: str) -> bool:
    """Whether litellm's cost map has `model` (a known zero price, e.g. ollama, counts)."""
    if model in _UNPRICED:
        return False
    get_model_info = getattr(litellm, "get_model_info", None)
    if get_model_info is None:  # not the litellm we know: leave costs to it
        return True
    try:
        get_model_info(model=model)
    except Exception:  # litellm raises plain Exception subclasses for an unmapped model
        return False
    return True


def skip_cost_lookups(litellm: Any, model: str) -> None:
    """Register a model litellm does not know, once, at a zero price: otherwise litellm searches
    its whole cost map for it (failing, so uncached) several times per call."""
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    with contextlib.suppress(Exception):
        litellm.register_model(
            {
                model: {
                    "litellm_provider": provider,
                    "mode": "chat",
                    "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0,
                }
            }
        )
        _UNPRICED.add(model)


def _usage(response: Any) -> tuple[int | None, int | None]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None, None
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


class LiteLLMTarget:
    def __init__(self, config: Target, *, api_base: str | None = None) -> None:
        self.config = config
        watch([config.api_key_env])
        self.api_base = api_base or config.api_base
        self._litellm: Any = None
        self._priced = True

    async def start(self) -> None:
        litellm = import_litellm()
        self._priced = knows_model(litellm, self.config.model)
        if not self._priced:
            skip_cost_lookups(litellm, self.config.model)
        self._litellm = litellm

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
        cost = None
        if self._priced:  # an unknown model's cost is unknown, not the zero it is registered at
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
