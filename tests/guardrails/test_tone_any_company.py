"""`tone` on companies the rules were not written for. Each rule shows a bad answer caught and
a good one passed, on an invented company (a home-repair marketplace, "Manitas")."""

from __future__ import annotations

from typing import Any

import pytest

from evals.records import Case
from guardrails.tone import check_tone


def case(language: str, said: str, **extra: Any) -> Case:
    return Case.model_validate(
        {
            "id": f"manitas-{language}",
            "intent": "booking",
            "kind": "support",
            "language": language,
            "channel": "chat",
            "risk": "medium",
            "company": "manitas",
            "messages": [{"role": "user", "content": said}],
            "facts": {},
            **extra,
        }
    )


def failing(c: Case, text: str) -> set[str]:
    return {f.code for f in check_tone(c, text) if f.severity in ("critical", "major")}


@pytest.mark.parametrize(
    ("language", "said", "echo", "raised"),
    [
        (
            "en",
            "I missed the plumber's visit because of a hospital stay. Can I rebook for free?",
            "I'm sorry about your hospital stay. Rebooking is free: pick a new slot in the app.",
            "Since you are ill, we rebooked it. Pick a new slot in the app.",
        ),
        (
            "es",
            "No pude abrir al técnico porque estaba enferma. ¿Me cobráis la visita?",
            "Siento que estuvieras enferma. No se cobra la visita: elige otra cita en la app.",
            "Como tienes diabetes, no se cobra la visita: elige otra cita en la app.",
        ),
    ],
)
def test_the_customer_s_own_health_can_be_acknowledged_but_not_brought_up(
    language: str, said: str, echo: str, raised: str
) -> None:
    c = case(language, said)
    assert failing(c, echo) == set()
    assert failing(c, raised) == {"tone.sensitive_attribute"}
    # a case that asks never to mention health keeps the rule even for the customer's words
    strict = case(language, said, expect={"avoid_mentioning": ["health"]})
    assert "tone.sensitive_attribute" in failing(strict, echo)
