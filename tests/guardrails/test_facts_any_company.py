"""`facts` on companies the rules were not written for: facts named as their own system names
them, values a policy also speaks of, shares of a fact, months a fact states in words. Each
rule shows a bad answer caught and a good one passed, on invented companies (a gym chain
"Musculia", a water utility "Acuaria")."""

from __future__ import annotations

from typing import Any

import pytest

from evals.records import Case, PolicyBook
from guardrails import check

GYM = PolicyBook(
    id="musculia",
    name="Musculia",
    text="## Paying in instalments\n"
    "- Annual memberships can be paid in up to 10 monthly instalments with no interest.\n"
    "- Missing 2 instalments cancels the plan.\n"
    "## Credits\n"
    "- A class cancelled by Musculia earns a credit of 50% of the class price.\n",
)


def case(language: str, facts: dict[str, Any], company: str = "musculia") -> Case:
    return Case.model_validate(
        {
            "id": f"{company}-{language}",
            "intent": "billing",
            "kind": "support",
            "language": language,
            "channel": "chat",
            "risk": "medium",
            "company": company,
            "messages": [{"role": "user", "content": "¿Cuánto pago al mes?"}],
            "facts": facts,
        }
    )


def contradictions(c: Case, text: str, book: PolicyBook = GYM) -> list[str]:
    found = check(text, c, book, guardrails=["facts"])
    spans = [f.evidence.span for f in found if f.code == "facts.contradiction"]
    return [s.text for s in spans if s is not None]


@pytest.mark.parametrize(
    ("language", "key", "bad", "good"),
    [
        (
            "pt",
            "valor_prestacao_10",
            "Pode pagar em 10 prestações mensais de EUR 52.00, sem juros.",
            "Pode pagar em 10 prestações mensais de EUR 48.00, sem juros.",
        ),
        (
            "es",
            "importe_cuota_10",
            "Puedes pagarla en 10 cuotas mensuales de EUR 52.00, sin intereses.",
            "Puedes pagarla en 10 cuotas mensuales de EUR 48.00, sin intereses.",
        ),
        (
            "en",
            "monthly_instalment",
            "You can pay it in 10 monthly instalments of EUR 52.00, with no interest.",
            "You can pay it in 10 monthly instalments of EUR 48.00, with no interest.",
        ),
    ],
)
def test_a_fact_named_with_the_amount_is_its_own_even_where_the_policy_has_a_rule(
    language: str, key: str, bad: str, good: str
) -> None:
    # the policy has a rule on instalments; the fact's own name is said with the amount, and
    # a count of instalments standing nearer to the word cannot be an amount
    c = case(language, {key: "EUR 48.00", "annual_fee": "EUR 480.00"})
    assert contradictions(c, bad) == ["EUR 52.00"]
    assert contradictions(c, good) == []


def test_an_amount_that_is_a_share_of_a_fact_is_not_that_fact() -> None:
    c = case("pt", {"preco_aula": "EUR 24.00"})
    share = "A aula foi cancelada: você recebe um crédito de EUR 12.00 (50% do preço da aula)."
    assert contradictions(c, share) == []
    wrong = "A aula custava EUR 28.00 e foi cancelada."
    assert contradictions(c, wrong) == ["EUR 28.00"]


def test_a_month_a_fact_states_in_words_is_the_case_s_own() -> None:
    c = case(
        "en",
        {"application_date": "2026-08-21", "first_discounted_bill": "December 2026"},
        company="acuaria",
    )
    book = PolicyBook(id="acuaria", name="Acuaria", text="- Discounts are never backdated.\n")
    assert contradictions(c, "Your application is from August 2026.", book) == []
    assert contradictions(c, "The discount starts on the December 2026 bill.", book) == []
    assert contradictions(c, "Your application of October 2026 was approved.", book) == [
        "October 2026"
    ]
