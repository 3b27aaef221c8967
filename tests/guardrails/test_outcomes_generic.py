"""Predicted outcomes of a warranty claim are caught with no industry pack: the decision
processes `guardrails.outcomes` knows are words of support language, not a pack concept."""

from __future__ import annotations

import pytest
from builders import case_dict

from evals.records import Case, PolicyBook
from guardrails import check

# An invented appliance maker whose book uses the core pack alone (`packs: []`).
BOOK = PolicyBook(
    id="kettleco",
    name="Kettle Co",
    packs=[],
    text="""# Kettle Co support policy

## Repairs
- A faulty appliance is inspected by the technical team within 10 business days.

## Never promise
- Agents must not predict the result of an inspection or a claim; no outcome is guaranteed.
""",
)


def codes(text: str, language: str) -> list[str]:
    case = Case.model_validate(case_dict("k1", language=language, company="kettleco"))
    return [f.code for f in check(text, case, BOOK, guardrails=["policy"])]


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "en",
            "Your warranty request will be approved and you will get a new kettle.",
            "If the warranty request is approved, the technical team contacts you.",
        ),
        (
            "es",
            "Tranquilo: la garantía será aprobada y le enviaremos un hervidor nuevo.",
            "Si la garantía se aprueba, el equipo técnico le escribirá.",
        ),
        (
            "pt",
            "Fique tranquilo, a garantia vai ser aprovada.",
            "Se a garantia for aprovada, a equipa técnica entra em contacto.",
        ),
        (
            "en",
            "The manufacturer will send you a brand new kettle.",
            "The manufacturer decides after the inspection; we will tell you the result.",
        ),
    ],
)
def test_a_warranty_outcome_is_caught_without_a_pack(language: str, bad: str, good: str) -> None:
    assert "policy.contradicted" in codes(bad, language)
    assert "policy.contradicted" not in codes(good, language)
