"""`policy` on companies the rules were not written for: rules of support language (ellipsis,
conditions, compounds, units named in a fact's key), each shown catching a bad answer and
passing a good one, on an invented bike workshop."""

from __future__ import annotations

from typing import Any

from builders import case_dict

from evals.records import Case, PolicyBook
from guardrails import check

BOOK = PolicyBook(
    id="ruedaviva",
    name="Rueda Viva",
    text="""# Rueda Viva workshop policy

## Bookings
- Free cancellation or change up to 12 hours before a tune-up, and up to 72 hours before a
  frame repair.
- A late cancellation costs EUR 20.00.

## Refunds
- Refunds of a repair go back to the original payment method within 4 business days.
- Refunds go only to the original card. Agents cannot redirect them.

## Checks
- Brake test (prueba de frenos): free if the brakes fail by more than 5%, otherwise EUR 35.00.
- Late payment: interest of 0.5% per month on the overdue amount; no fixed late fee. A
  returned card payment costs EUR 4.00.

## Reaching a person
- Workshop desk, Monday to Friday 9:00 to 19:00.
- Breakdown line (24 hours): 900 300 400.

## Payments
- Repairs over EUR 400.00 can be split into up to 4 monthly interest-free payments.
- Rueda Viva does not pay for taxis or lost working time while a bike is in the workshop.
- If the customer's insurer refuses to pay, the customer pays the workshop price. Rueda Viva
  cannot promise what an insurer will cover.

## Identity
- Identity is verified by login or a one-time code.

## Agents may never promise
- Waiving any fee or charge.
""",
)


def _case(language: str, **facts: Any) -> Case:
    return Case.model_validate(
        case_dict("rv1", language=language, company="ruedaviva", facts=facts or {"x": "y"})
    )


def codes(text: str, language: str = "es", **facts: Any) -> list[str]:
    found = check(text, _case(language, **facts), BOOK, guardrails=["policy"])
    return [f.code for f in found]


def test_a_coordinated_value_shares_the_subject_of_the_clause_before_it() -> None:
    # "and up to 72 hours before a frame repair" is about free changes too: the second value
    # is the policy's for another kind of booking, not a contradiction of the first.
    assert codes("Para una reparación de cuadro el cambio gratuito es hasta 72 horas antes.") == []
    assert codes("The free change is possible up to 12 hours before a tune-up.", "en") == []
    bad = codes("El cambio gratuito es hasta 36 horas antes de la cita.")
    assert bad and set(bad) <= {"policy.contradicted", "policy.unsupported"}


def test_a_fact_counted_in_business_days_grounds_business_days() -> None:
    # "dias_uteis_desde_pedido: 3" is 3 business days, not 3 calendar days.
    good = "O reembolso volta ao cartão em até 4 dias úteis; passaram 3 dias úteis."
    assert codes(good, "pt", dias_uteis_desde_pedido=3) == []
    bad = "O reembolso volta ao cartão em até 9 dias úteis; passaram 3 dias úteis."
    assert "policy.contradicted" in codes(bad, "pt", dias_uteis_desde_pedido=3)


def test_what_a_clause_says_of_an_action_is_in_the_sentence_that_names_it() -> None:
    # The price is in another sentence than "what an insurer will cover": denying cover of
    # taxi costs contradicts nothing.
    assert codes("Our policy does not cover taxi costs while the bike is repaired.", "en") == []
    # "Agents cannot redirect them": the pronoun's noun (refunds) is in the sentence before.
    bad = codes("Su reembolso fue a la tarjeta original, pero podemos redirigirlo a otra.")
    assert "policy.contradicted" in bad
    assert codes("El reembolso vuelve solo a la tarjeta original; no podemos redirigirlo.") == []


def test_a_hyphenated_compound_is_not_the_phrase_its_tail_begins() -> None:
    # "interest-free monthly payments" offers no free month; a free month does.
    good = "Repairs over EUR 400.00 can be split into 4 interest-free monthly payments."
    assert codes(good, "en") == []
    bad = codes("As a gesture we add a free month of maintenance.", "en")
    assert bad and set(bad) <= {"policy.contradicted", "policy.unsupported"}


def test_an_hour_range_is_a_span_of_the_clock_the_policy_states() -> None:
    assert codes("El taller atiende de lunes a viernes 9-19 h.") == []
    assert "policy.unsupported" in codes("El taller atiende de lunes a viernes 8-22 h.")


def test_a_service_open_round_the_clock_is_judged_by_its_schedule() -> None:
    # "available 24 hours" is no 24-hour time limit: the line the policy keeps open all day
    # passes, the desk the policy opens 9:00 to 19:00 does not.
    assert codes("Llame a la línea de averías, 900 300 400, disponible 24 horas.") == []
    assert codes("Call the breakdown line on 900 300 400, open 24 hours a day.", "en") == []
    bad = codes("The workshop desk is open 24 hours, Monday to Friday.", "en")
    assert "policy.contradicted" in bad


def test_a_value_the_clause_in_the_same_words_states_is_supported() -> None:
    # No concept names brakes: the clause that shares the sentence's words ("brake", "test")
    # and states this very value supports it over the clause about interest.
    good = (
        "If the brake test shows the brakes fail by more than 5%, it costs you nothing; if they"
        " are within 5%, the brake test is charged at EUR 35.00."
    )
    assert codes(good, "en") == []
    bad = codes("Otherwise the brake test is charged at EUR 95.00.", "en")
    assert bad and set(bad) <= {"policy.contradicted", "policy.unsupported"}


def test_taking_a_charge_off_is_a_waiver() -> None:
    bad = codes("As a one-off gesture I've removed the EUR 4.00 charge from your account.", "en")
    assert "policy.contradicted" in bad
    assert "policy.contradicted" in codes("Como gesto, le he quitado el cargo de EUR 4.00.")
    assert "policy.contradicted" in codes("Como cortesia, retirei a taxa de EUR 4.00.", "pt")
    # saying it cannot be removed, or removing something that is no charge, waives nothing
    assert codes("I'm sorry, I haven't removed the EUR 4.00 charge: it applies.", "en") == []
    assert codes("I've removed the old card from your account.", "en") == []


def test_set_phrases_built_on_a_negative_word_negate_nothing() -> None:
    # "antes de nada" is "first of all": the identity check still happens.
    assert codes("Antes de nada verificaremos su identidad con un código de un solo uso.") == []
    assert "policy.contradicted" in codes("No verificaremos su identidad: no hace falta.")
