"""Which client serves a target, chosen by its model string."""

from __future__ import annotations

from evals.records import Target
from evals.targets.base import TargetClient
from evals.targets.litellm_target import LiteLLMTarget
from evals.targets.scripted import ReferenceTarget, ScriptedTarget

#: Targets that answer without a model call; their answers are not recorded in cassettes.
OFFLINE_MODELS = frozenset({"reference"})


def make_client(target: Target) -> TargetClient:
    if target.model == "reference":
        return ReferenceTarget(target)
    if target.model == "fake/scripted":
        return ScriptedTarget(target)
    return LiteLLMTarget(target)
