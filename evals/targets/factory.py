"""Which client serves a target, chosen by its model string."""

from __future__ import annotations

from evals.plugins import plugin_client
from evals.records import Target
from evals.targets.base import TargetClient
from evals.targets.litellm_target import LiteLLMTarget
from evals.targets.local_model import LocalModelTarget, is_local_model
from evals.targets.scripted import (
    SCRIPTED_MODEL,
    RecordedTarget,
    ReferenceTarget,
    ScriptedTarget,
    is_recorded_model,
)

#: Targets that answer without a model call; their answers are not recorded in cassettes.
OFFLINE_MODELS = frozenset({"reference"})


def make_client(target: Target) -> TargetClient:
    """The client for a target. Cheap: nothing is imported, loaded or started here (a
    `local/...` model only checks its name; its server starts with the first live call).
    A model prefix that an installed target plugin declares (`supportgate.targets`) is served
    by that plugin's client."""
    if target.model == "reference":
        return ReferenceTarget(target)
    if target.model == SCRIPTED_MODEL:
        return ScriptedTarget(target)
    if is_recorded_model(target.model):
        return RecordedTarget(target)
    if is_local_model(target.model):
        return LocalModelTarget(target)
    return plugin_client(target) or LiteLLMTarget(target)
