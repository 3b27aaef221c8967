"""supportgate guardrails: checks of support and crisis answers, offline and with evidence.

Not the `guardrails-ai` distribution, which uses the same import name: `IS_SUPPORTGATE` tells
them apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from guardrails.records import Case, Finding, PolicyBook
from guardrails.registry import (
    Check,
    Factory,
    GuardrailContext,
    GuardrailSet,
    guardrail_versions,
    register,
    registered,
    registry_version,
)

IS_SUPPORTGATE = True

__all__ = [
    "IS_SUPPORTGATE",
    "Check",
    "Factory",
    "GuardrailContext",
    "GuardrailSet",
    "check",
    "guardrail_versions",
    "register",
    "registered",
    "registry_version",
]


def check(
    response: str,
    case: Case,
    policies: Mapping[str, PolicyBook] | PolicyBook | None = None,
    *,
    guardrails: list[str] | None = None,
) -> list[Finding]:
    """Findings for one response to one case, the same checks `evals run` and `evals scan` use.

    For inline use in a support bot: build a `GuardrailSet` once instead when checking many.
    """
    if isinstance(policies, PolicyBook):
        policies = {policies.id: policies}
    context = GuardrailContext(policies=policies or {})
    return GuardrailSet.build(context, guardrails).run(case, response)
