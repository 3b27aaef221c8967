"""`policy` precision on a company the code has never seen: a value the book states for the
sentence's subject is supported, a lead time reads the same from either side of its threshold,
and what the answer tells of this conversation is no rule. Each rule shows a wrong answer
caught beside a right one passed. The book is invented (a climbing gym), with no pack."""

from __future__ import annotations

import pytest
from builders import case_dict

from evals.records import Case, PolicyBook
from guardrails import check

BOOK = PolicyBook(
    id="cumbre",
    name="Cumbre Climbing",
    text="""# Cumbre Climbing: member policy

## Classes
- Free cancellation of a class up to 24 hours before it starts. A later cancellation or a
  no-show costs EUR 8.00.
- Class packs are valid for 6 months from purchase. The yearly pass costs 10 months' price for
  12 months. No discounts and no fee waivers on class
  packs.
- There are no booking or rescheduling fees for classes.
- Refunds to the original card take 5 to 10 business days; more than 5 refund requests in
  30 days are reviewed by the Membership team.
- If Cumbre cancels a class, the member gets a credit of 50% of the class price (at least
  EUR 5.00).
- Refunds for cancelled classes reach the original card within 72 hours of the cancellation.

## Memberships
- A member can dispute a damage charge within 30 days of the charge by writing to
  desk@cumbre.example with their member number; the Membership team answers within 15 days.
- Locker rentals are refunded within 7 days of the end of the rental.
- Late exit from the parking until 22:00 is free for members; until 23:00 it costs EUR 3.00.
- A membership can be frozen for at most 10 days after the renewal date. Ask at least 5 days
  before the renewal date.

## Contact
- Agents answer in the chat every day 9:00 to 18:00.
- Reception desk: 24 hours, at the entrance.
""",
)


def _case(language: str, facts: dict[str, object] | None = None) -> Case:
    return Case.model_validate(
        case_dict(
            "g1",
            language=language,
            company="cumbre",
            intent="class_cancellation",
            facts=facts if facts is not None else {"member_level": "gold"},
            messages=[{"role": "user", "content": "I have a question about my membership."}],
            reference=None,
        )
    )


def policy_codes(
    text: str, language: str = "en", facts: dict[str, object] | None = None
) -> list[str]:
    return [f.code for f in check(text, _case(language, facts), BOOK, guardrails=["policy"])]


@pytest.mark.parametrize(
    ("language", "good"),
    [
        ("en", "You cancelled more than 24 hours before the class, so the cancellation is free."),
        ("en", "As you are cancelling less than 24 hours before the class, EUR 8.00 applies."),
        ("es", "Al cancelar con más de 24 horas de antelación, la cancelación es gratuita."),
        ("pt", "Como cancelou com mais de 24 horas de antecedência, o cancelamento é gratuito."),
    ],
)
def test_a_lead_time_reads_the_same_from_either_side_of_its_threshold(
    language: str, good: str
) -> None:
    # "up to 24 hours before" and "more/less than 24 hours before" state one 24-hour rule
    assert policy_codes(good, language) == []


@pytest.mark.parametrize(
    ("language", "bad"),
    [
        ("en", "You can cancel for free up to 12 hours before the class."),
        ("es", "Si cancelas con más de 12 horas de antelación no se cobra nada."),
    ],
)
def test_a_wrong_lead_time_is_still_caught(language: str, bad: str) -> None:
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}


def test_a_maximum_after_a_date_is_not_supported_by_a_lead_time_of_the_same_value() -> None:
    # 5 days is the notice (a lead time), the freeze may last at most 10 days after renewal
    bad = "The new date can be at most 5 days after the renewal date."
    good = "The new date can be at most 10 days after the renewal date."
    assert "policy.contradicted" in policy_codes(bad)
    assert policy_codes(good) == []


def test_a_duration_before_an_event_of_a_clause_is_no_lead_time() -> None:
    # "it can take up to 15 days before it arrives" keeps its maximum
    assert policy_codes("The Membership team answers within 15 days.") == []
    assert policy_codes("The Membership team can take up to 15 days before it answers.") == []


@pytest.mark.parametrize(
    ("language", "good"),
    [
        (
            "en",
            "I cannot cancel the charge, but you can dispute it: the Membership team will "
            "review the report and answer within 15 days.",
        ),
        (
            "es",
            "No puedo anular el cargo, pero puede impugnarlo: el equipo de socios revisará el "
            "informe y le contestará en un máximo de 15 días.",
        ),
    ],
)
def test_a_value_the_book_states_for_the_sentences_subject_is_supported(
    language: str, good: str
) -> None:
    # the clause also states 30 days (the dispute window): the value's own clause in the answer
    # (the team's answer) makes the 15 days its own value
    assert policy_codes(good, language) == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_value_the_book_states_only_for_another_subject_is_still_contradicted(
    language: str,
) -> None:
    # 7 days is the locker refund, not the Membership team's answer to a dispute
    bad = {
        "en": "You can dispute it: the Membership team will review the report and answer "
        "within 7 days.",
        "es": "Puede impugnarlo: el equipo de socios revisará el informe y le contestará en un "
        "máximo de 7 días.",
    }[language]
    assert "policy.contradicted" in policy_codes(bad, language)


@pytest.mark.parametrize(
    ("language", "good"),
    [
        ("en", "Sorry. Reception is open 24 hours and an agent will write to you tomorrow."),
        ("es", "La recepción, abierta 24 horas, le guarda la bolsa y un agente le escribe."),
        ("pt", "A recepção, aberta 24 horas, guarda a sua bolsa e um agente escreve amanhã."),
    ],
)
def test_a_service_the_book_keeps_open_all_day_is_named_by_the_words_before_it(
    language: str, good: str
) -> None:
    assert policy_codes(good, language) == []


def test_a_service_with_clock_hours_said_to_be_open_all_day_is_contradicted() -> None:
    bad = "Our agents answer in the chat, available 24 hours."
    assert "policy.contradicted" in policy_codes(bad)


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        (
            "es",
            "Como socio puedes salir del parking gratis hasta las 22 h; hasta las 23 h cuesta "
            "EUR 3.00.",
            "Como socio puedes salir del parking gratis hasta las 21 h.",
        ),
        (
            "pt",
            "Como sócio, pode sair do estacionamento grátis até às 22h.",
            "Como sócio, pode sair do estacionamento grátis até às 20h.",
        ),
    ],
)
def test_hours_after_the_article_of_a_clock_time_are_a_time_of_day(
    language: str, good: str, bad: str
) -> None:
    # "hasta las 22 h" is 22:00, not a window of 22 hours
    assert policy_codes(good, language) == []
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}


def test_an_english_simple_past_tells_of_this_case_not_a_rule() -> None:
    # what the team did in this case (even wrongly told: the case says 20 days) is the facts
    # guardrail's to check, not a rule
    facts: dict[str, object] = {"days_to_answer": "20 days"}
    for told in (
        "We reviewed your dispute and answered it by email within 12 days of receiving it.",
        "We answered your dispute by email and in the app within 12 days of receiving it.",
    ):
        assert policy_codes(told, "en", facts) == []
    # the same value stated as the rule is the policy's (15 days)
    rule = "The Membership team answers disputes by email within 12 days."
    assert "policy.contradicted" in policy_codes(rule, "en", {})


def test_a_clause_ruling_out_fees_of_any_subject_grants_free_but_not_one_ruling_out_benefits() -> (
    None
):
    # "no rescheduling fees" makes rescheduling free, with no list of what fees are for
    assert policy_codes("Rescheduling a class is free.") == []
    strict = PolicyBook(
        id="cumbre",
        name="Cumbre Climbing",
        text="# Cumbre\n- Classes: no discounts, no waivers and no fee reductions of any kind.\n",
    )
    found = check("Rescheduling a class is free.", _case("en"), strict, guardrails=["policy"])
    assert {f.code for f in found} & {"policy.contradicted", "policy.unsupported"}


@pytest.mark.parametrize(
    ("language", "told"),
    [
        ("en", "Your overdue balance is EUR 64.00, from 2 overdue monthly payments."),
        ("en", "You have 3 unpaid invoices, for a total of EUR 120.00."),
        ("es", "Tu saldo pendiente es de EUR 64.00."),
        ("pt", "A sua dívida é de EUR 64.00."),
    ],
)
def test_what_an_account_owes_is_no_rule(language: str, told: str) -> None:
    # no money fact in the case: the amounts and counts are still the account's, not policy
    assert policy_codes(told, language) == []


@pytest.mark.parametrize(
    "bad",
    [
        "A late cancellation costs EUR 12.00.",
        "The total fee for a late cancellation is EUR 12.00.",
    ],
)
def test_a_fee_next_to_account_words_is_still_a_rule(bad: str) -> None:
    assert set(policy_codes(bad)) & {"policy.contradicted", "policy.unsupported"}


def test_an_amount_that_is_the_granted_share_of_the_cases_amount_is_the_rule_applied() -> None:
    facts: dict[str, object] = {"class_price": "EUR 18.00"}
    good = "You get a credit of 50% of your EUR 18.00 class price, EUR 9.00, as Cumbre credit."
    bad = "You get a credit of 40% of your EUR 18.00 class price, EUR 7.20, as Cumbre credit."
    assert policy_codes(good, "en", facts) == []
    assert "policy.contradicted" in policy_codes(bad, "en", facts)


@pytest.mark.parametrize(
    ("language", "refusal", "offer"),
    [
        (
            "en",
            "I must be clear that I cannot offer you a discount on the class pack.",
            "I must be clear that I can offer you a discount on the class pack.",
        ),
        (
            "es",
            "Lamento decirle que no podemos hacerle un descuento en el bono de clases.",
            "Me alegra decirle que podemos hacerle un descuento en el bono de clases.",
        ),
    ],
)
def test_a_negation_after_a_verb_of_saying_that_refuses(
    language: str, refusal: str, offer: str
) -> None:
    # "clear that I cannot..." says what is refused; it is no relative clause
    assert policy_codes(refusal, language) == []
    assert set(policy_codes(offer, language)) & {"policy.contradicted", "policy.unsupported"}


@pytest.mark.parametrize(
    ("language", "good"),
    [
        ("es", "Llame a recepción, 910 555 000 (24 horas), y le abrimos la taquilla."),
        ("pt", "Ligue para a recepção, 0800 555 0000, 24 horas, e abrimos o armário."),
    ],
)
def test_hours_set_off_after_a_number_are_its_service_hours(language: str, good: str) -> None:
    # "(24 horas)" after a number says the line is open round the clock, not a 24-hour window
    assert policy_codes(good, language) == []
    # a value set off the same way that is a window is still checked
    bad = good.replace("24", "36")
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        (
            "es",
            "Su entrenador puede ampliarle la información sobre el bono.",
            "Su entrenador puede ampliarle el plazo del bono un mes más.",
        ),
        (
            "en",
            "Your coach can extend the details of the class pack for you.",
            "Your coach can extend your class pack by one more month.",
        ),
    ],
)
def test_a_benefit_word_whose_object_is_information_gives_nothing(
    language: str, good: str, bad: str
) -> None:
    assert policy_codes(good, language) == []
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}


@pytest.mark.parametrize("language", ["en", "pt"])
def test_the_very_range_the_book_states_is_supported(language: str) -> None:
    good = {
        "en": "Your refund to the original card is on its way: it takes 5 to 10 business days.",
        "pt": "O reembolso para o cartão original leva de 5 a 10 dias úteis.",
    }[language]
    assert policy_codes(good, language) == []
    bad = good.replace("10", "12")
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_clause_stating_the_sentences_other_figures_is_its_subject(language: str) -> None:
    good = {
        "en": "With the yearly pass you pay 10 months and climb 12.",
        "es": "Con el pase anual pagas 10 meses y escalas 12.",
    }[language]
    assert policy_codes(good, language) == []
    bad = good.replace("10", "9")
    assert set(policy_codes(bad, language)) & {"policy.contradicted", "policy.unsupported"}
