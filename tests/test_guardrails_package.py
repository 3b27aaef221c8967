"""The `guardrails` import is ours (not guardrails-ai), and the seam works as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import case_dict
from hypothesis import given
from hypothesis import strategies as st

import guardrails
from evals.records import Case, Finding
from guardrails import GuardrailContext, check, register, registered
from guardrails.registry import unregister
from guardrails.template import find_slots

CASE = Case.model_validate(case_dict("c1"))


def test_imported_guardrails_is_this_project() -> None:
    assert guardrails.IS_SUPPORTGATE is True
    repo = Path(__file__).resolve().parent.parent
    assert Path(guardrails.__file__).resolve().parent == repo / "guardrails"


def test_users_register_their_own_guardrail_the_same_way() -> None:
    @register("no_competitor")
    def factory(context: GuardrailContext) -> guardrails.Check:
        def run(case: Case, text: str) -> list[Finding]:
            i = text.find("RivalCo")
            if i < 0:
                return []
            return [
                Finding.model_validate(
                    {
                        "guardrail": "no_competitor",
                        "code": "no_competitor.mentioned",
                        "severity": "minor",
                        "message": "Mentions a competitor.",
                        "evidence": {"span": {"start": i, "end": i + 7, "text": "RivalCo"}},
                    }
                )
            ]

        return run

    try:
        assert "no_competitor" in registered()
        [finding] = check("Mejor que RivalCo.", CASE, guardrails=["no_competitor"])
        assert finding.evidence.span is not None and finding.evidence.span.start == 10
        assert check("Todo bien.", CASE, guardrails=["no_competitor"]) == []
    finally:
        unregister("no_competitor")


def test_template_slots_are_caught_in_every_language() -> None:
    bad = [
        "Hola {first_name}, tu reembolso está en camino.",
        "Dear [Company Name] customer, your refund is on its way.",
        "Olá <NOMBRE>, seu reembolso chega em XX dias.",
        "Tu reembolso llegará en XX días hábiles.",
        "Hi {{ customer_name }}, we refunded $XX.",
        "Thanks, [insert agent name].",
        "Tu pedido lo entrega [transportista] mañana.",
        "Escreva para [e-mail de privacidade] com o número [número de referencia].",
    ]
    for text in bad:
        findings = check(text, CASE, guardrails=["template"])
        assert findings, text
        for f in findings:
            assert f.code == "template.placeholder" and f.evidence.span is not None
            assert text[f.evidence.span.start : f.evidence.span.end] == f.evidence.span.text


def test_template_passes_real_answers() -> None:
    good = [
        "Hola Lucía, tu reembolso de EUR 10.00 llegará en 10 días hábiles.",
        "Dear Mr. Smith, we are sorry for the XX-century pun. Call 900 123 456.",
        "Olá! Seu pedido #4521 chega em 3 dias úteis. Ligue para (11) 4000-1234.",
        "Refunds take 5-7 business days <br> after approval.",
        "Consulta [nuestra política](https://example.com/politica) o responde [sic] aquí.",
        "Casilla marcada: [x] acepto. Referencia [1234].",
    ]
    for text in good:
        assert check(text, CASE, guardrails=["template"]) == [], text


@given(st.text())
def test_template_never_crashes_and_offsets_point_at_the_evidence(text: str) -> None:
    for span in find_slots(text):
        assert text[span.start : span.end] == span.text


def test_an_empty_registry_is_refused_rather_than_passing_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guardrails import registry

    registry.load_builtins()  # they load once: the empty registry below stays empty
    monkeypatch.setattr(registry, "_REGISTRY", {})
    with pytest.raises(registry.UnknownGuardrail, match="no guardrail is registered"):
        registry.GuardrailSet.build(registry.GuardrailContext())
