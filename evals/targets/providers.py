"""No silent provider: a target's model string must say where the customer's messages go.

Anything that is not `reference`, `fake/scripted`, `local/...` or `recorded/...` goes to
litellm, which sends the conversation and the policy text to the provider the string names. A
typo (`referense`) must therefore stop the run, not reach a public API. A model string is
accepted when litellm's own `get_llm_provider` routes it (no network call): `provider/model`
with a provider litellm knows, or a bare name that litellm itself maps to a provider
(`gpt-4o-mini` is OpenAI's). An unknown bare name is refused even though a provider might serve
it: write `openai/NAME` with `api_base` for an OpenAI-compatible server.

litellm is imported only when a suite has such a target (the import takes seconds).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evals.errors import InputIssue
from evals.plugins import serves
from evals.records import Target
from evals.targets.local_model import BUNDLED_MODELS
from evals.targets.local_model import PREFIX as LOCAL_PREFIX
from evals.targets.scripted import SCRIPTED_MODEL, is_recorded_model
from evals.yaml_lines import load_yaml

#: Model strings that never reach a provider.
BUILT_IN_MODELS = ("reference", SCRIPTED_MODEL)


def needs_provider(model: str) -> bool:
    """Whether litellm would serve this model string: not a built-in one, a recorded one, nor
    one whose prefix an installed target plugin declares (`evals.plugins`)."""
    return (
        model not in BUILT_IN_MODELS
        and not model.startswith(LOCAL_PREFIX)
        and not is_recorded_model(model)
        and not serves(model)
    )


def known_providers(litellm: Any) -> list[str]:
    """The provider prefixes of the installed litellm (its `provider_list`)."""
    return sorted({str(getattr(p, "value", p)) for p in litellm.provider_list})


def routes(litellm: Any, target: Target, providers: list[str]) -> bool:
    """Whether litellm routes this model string to a provider, without calling it: a known
    `provider/` prefix, or a name litellm's `get_llm_provider` maps (a bare `gpt-4o-mini`)."""
    prefix, slash, name = target.model.partition("/")
    if slash and prefix in providers:
        return bool(name.strip())  # `openai/` names a provider but no model
    try:
        litellm.get_llm_provider(model=target.model, api_base=target.api_base)
    except Exception:  # litellm raises its BadRequestError (or others) for an unroutable name
        return False
    return True


def problem(target: Target, providers: list[str]) -> str:
    """Why the model string is refused, with what is accepted and the closest match."""
    local = [f"{LOCAL_PREFIX}{name}" for name in BUNDLED_MODELS]
    model = target.model
    hint = ""
    whole = difflib.get_close_matches(model, [*BUILT_IN_MODELS, *local], n=1, cutoff=0.75)
    if whole:
        hint = f" Did you mean '{whole[0]}'?"
    elif "/" in model:
        prefix, rest = model.split("/", 1)
        close = difflib.get_close_matches(prefix, providers, n=1, cutoff=0.75)
        if close and close[0] != prefix:
            hint = f" Did you mean '{close[0]}/{rest}'?"
    return (
        f"model '{model}' names no provider litellm knows.{hint} Use 'reference', "
        f"{', '.join(repr(m) for m in local)}, 'recorded/NAME' (answers only from its "
        "cassette), a model name litellm maps to a provider (e.g. "
        f"'gpt-4o-mini'), or 'PROVIDER/MODEL' with one of litellm's providers: "
        f"{', '.join(providers)}"
    )


def _line(path: Path, index: int) -> int | None:
    try:
        _, lines = load_yaml(path)
    except Exception:  # the file was read once already; a line number is only a nicety
        return None
    return lines.get(("targets", index, "model"))


def check_models(path: Path, targets: Iterable[Target], issues: list[InputIssue]) -> None:
    """Add an issue (file, line, target, field `model`) for every model string that litellm
    would not route to a provider."""
    remote = [(i, t) for i, t in enumerate(targets) if needs_provider(t.model)]
    if not remote:
        return
    from evals.targets.litellm_target import import_litellm

    litellm = import_litellm()
    providers = known_providers(litellm)
    for index, target in remote:
        if routes(litellm, target, providers):
            continue
        issues.append(
            InputIssue(
                str(path),
                problem(target, providers),
                line=_line(path, index),
                record=target.name,
                field="model",
            )
        )
