"""Rendering what a target is sent: its system-prompt template filled with the policy book and
case fields, followed by the case's conversation."""

from __future__ import annotations

from evals.records import Case, PolicyBook, Target


def render_messages(case: Case, target: Target, policy: PolicyBook) -> list[dict[str, str]]:
    fields = {
        "company_name": policy.name,
        "company": policy.id,
        "policy_text": policy.text,
        "language": case.language,
        "channel": case.channel,
        "intent": case.intent,
        "kind": case.kind,
        "risk": case.risk,
    }
    system = target.system_prompt.format_map(fields)
    return [
        {"role": "system", "content": system},
        *({"role": m.role, "content": m.content} for m in case.messages),
    ]
