"""`facts` on companies the rules were not written for: facts named as their own system names
them, values a policy also speaks of, shares of a fact, months a fact states in words. Each
rule shows a bad answer caught and a good one passed, on invented companies (a gym chain
"Musculia", a water utility "Acuaria")."""

from __future__ import annotations

from typing import Any

import pytest

from evals.records import Case, PolicyBook
from guardrails import check
from guardrails.fact_keys import key_unit

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


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("solicitudes_reembolso_30_dias", None),
        ("no_shows_last_12_months", None),
        ("locks_in_24h", None),
        ("outage_minutes", "minute"),
        ("order_age_days", "day"),
        ("meses_desde_ultimo_cambio", "month"),
    ],
)
def test_a_window_in_a_fact_s_name_is_not_the_unit_of_its_value(key: str, unit: str | None) -> None:
    found = key_unit(key)
    assert (found[0] if found else None) == unit


COUNTED = PolicyBook(
    id="musculia",
    name="Musculia",
    text="- More than 5 class cancellations in 30 days suspends online booking.\n"
    "- Missing 2 instalments cancels the plan.\n",
)


@pytest.mark.parametrize(
    ("language", "facts", "bad", "good"),
    [
        (
            "es",
            {"cancelaciones_clase_30_dias": 7},
            "Bloqueamos la reserva online porque registramos 5 cancelaciones de clase en 30 días.",
            "Bloqueamos la reserva online porque registramos 7 cancelaciones de clase en 30 días.",
        ),
        (
            "en",
            {"instalments_missed": 2},
            "Your plan was cancelled because 3 instalments were missed.",
            "Your plan was cancelled because 2 instalments were missed.",
        ),
        (
            "pt",
            {"aulas_canceladas": 4, "prestacoes_maximas": 10},
            "Vimos que tem 6 aulas canceladas este mês.",
            "Vimos que tem 4 aulas canceladas este mês; pode pagar em 3 prestações.",
        ),
    ],
)
def test_a_count_stated_with_the_words_of_the_fact_s_name_must_match_it(
    language: str, facts: dict[str, Any], bad: str, good: str
) -> None:
    c = case(language, facts)
    assert len(contradictions(c, bad, COUNTED)) == 1
    assert contradictions(c, good, COUNTED) == []


@pytest.mark.parametrize(
    "rule",
    [
        "Missing 2 instalments cancels the plan.",  # the policy's own count, restated
        "If you miss 3 instalments, the plan ends.",  # a condition
        "You can miss up to 3 instalments.",  # a bound
    ],
)
def test_a_count_in_a_rule_a_condition_or_a_bound_is_no_statement_of_the_fact(rule: str) -> None:
    assert contradictions(case("en", {"instalments_missed": 1}), rule, COUNTED) == []


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        ("es", "Tendrás la copia como máximo el 2027-02-06.", "Tendrás la copia el 2027-01-06."),
        ("en", "Your copy is ready on 6 January 2026.", "Your copy is ready on 6 January 2027."),
        ("pt", "A cópia chega até 6 de março de 2027.", "A cópia chega até 6 de janeiro de 2027."),
    ],
)
def test_a_fact_s_date_with_its_month_or_year_changed_is_a_contradiction(
    language: str, bad: str, good: str
) -> None:
    c = case(language, {"fecha_hoy": "2026-12-07", "copia_lista_hasta": "2027-01-06"})
    assert len(contradictions(c, bad)) == 1
    assert contradictions(c, good) == []
    # a date that differs only in its day is another date: a visit two days from today
    assert contradictions(c, "Un técnico te visita el 2026-12-09.") == []


@pytest.mark.parametrize(
    ("language", "facts", "bad", "good"),
    [
        (
            "pt",
            {"reboque_coberto": False},
            "Sim, o seu plano cobre o reboque até à oficina.",
            "O seu plano não cobre o reboque; pode pedi-lo com desconto.",
        ),
        (
            "es",
            {"socio_elegible": False},
            "Tu cuenta de socio es elegible para la tarifa reducida.",
            "Tu cuenta de socio no es elegible para la tarifa reducida.",
        ),
        (
            "en",
            {"refund_approved": True},
            "Your refund was not approved.",
            "Your refund was approved on Monday.",
        ),
    ],
)
def test_a_yes_no_state_stated_the_other_way_is_a_contradiction(
    language: str, facts: dict[str, Any], bad: str, good: str
) -> None:
    c = case(language, facts)
    assert len(contradictions(c, bad)) == 1
    assert contradictions(c, good) == []


def test_a_state_in_a_question_or_a_condition_asserts_nothing() -> None:
    c = case("es", {"socio_elegible": False})
    assert contradictions(c, "¿Quieres saber si tu cuenta de socio es elegible?") == []
    assert contradictions(c, "Si cambias de plan, tu cuenta de socio será elegible.") == []


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "es",
            "¡Claro! El cambio de plan es gratuito y se aplica el mes que viene.",
            "El cambio de plan te cuesta EUR 15.00 (solo hay un cambio gratis cada 12 meses).",
        ),
        (
            "en",
            "Good news: the plan change is free of charge.",
            "The first plan change of the year is free; this one costs EUR 15.00.",
        ),
        (
            "pt",
            "A mudança de plano é gratuita.",
            "A mudança de plano não é gratuita: custa EUR 15.00.",
        ),
    ],
)
def test_a_fee_of_this_conversation_said_to_be_free_is_a_contradiction(
    language: str, bad: str, good: str
) -> None:
    keys = {"es": "coste_cambio_plan", "en": "plan_change_fee", "pt": "taxa_mudanca_plano"}
    c = case(language, {keys[language]: "EUR 15.00"})
    assert len(contradictions(c, bad)) == 1
    assert contradictions(c, good) == []


HOSTEL = PolicyBook(
    id="albergo",
    name="Albergo",
    text="## Stays\n- A late departure until 15:00 costs EUR 40.\n",
)


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "es",
            "Puede cambiar la fecha; la diferencia de precio es de EUR 40,00.",
            "Puede cambiar la fecha; la diferencia de precio es de EUR 65,00.",
        ),
        (
            "pt",
            "Pode mudar a data; a diferença de preço é de EUR 40,00.",
            "Pode mudar a data; a diferença de preço é de EUR 65,00.",
        ),
    ],
)
def test_a_value_the_policy_states_of_another_subject_is_still_checked_against_the_fact(
    language: str, bad: str, good: str
) -> None:
    # an English name read in a Spanish or Portuguese answer (difference / diferencia /
    # diferença), and EUR 40 is the book's fee for a late departure, not the difference
    c = case(language, {"price_difference": "EUR 65.00"}, company="albergo")
    assert contradictions(c, bad, HOSTEL) == ["EUR 40,00"]
    assert contradictions(c, good, HOSTEL) == []
    # the book's own value, said of its own subject, is the policy's to judge, not a fact
    assert contradictions(c, "Salir más tarde, hasta las 15:00, cuesta EUR 40.", HOSTEL) == []


def test_a_value_the_policy_states_of_the_same_words_stays_the_policys() -> None:
    book = PolicyBook(
        id="albergo", name="Albergo", text="- Every 1,000 stamps take EUR 5 off a stay.\n"
    )
    c = case("en", {"stamps_balance": 2600}, company="albergo")
    text = "You have 2,600 stamps; every 1,000 stamps take EUR 5 off."
    assert contradictions(c, text, book) == []


@pytest.mark.parametrize(
    ("written", "present"),
    [("4,350", True), ("4.350", True), ("4350", True), ("4 350", True), ("4,530", False),
     ("43,50", False)],
)  # fmt: skip
def test_a_required_count_is_found_with_a_thousands_separator(written: str, present: bool) -> None:
    raw = case("es", {"stamps_due": 4350}, company="albergo").model_dump()
    c = Case.model_validate({**raw, "expect": {"required_facts": ["stamps_due"]}})
    found = check(f"Recibirás {written} sellos.", c, HOSTEL, guardrails=["facts"])
    assert ("facts.missing" not in {f.code for f in found}) is present


@pytest.mark.parametrize(
    ("language", "facts", "bad", "good"),
    [
        (
            "es",
            {"passwords_exposed": False},
            "Se vieron expuestos los correos y las contraseñas cifradas.",
            "Se vieron expuestos los correos; las contraseñas no se vieron afectadas.",
        ),
        (
            "pt",
            {"card_exposed": False},
            "Foram expostos o seu nome e o cartão.",
            "Foram expostos o seu nome e o e-mail; o cartão não foi exposto.",
        ),
        (
            "pt",
            {"exposed_data": ["nomes", "e-mails"], "not_exposed": ["senhas"]},
            "Foram expostos nomes, e-mails e senhas; os cartões não foram expostos.",
            "Foram expostos nomes e e-mails; as senhas não foram expostas.",
        ),
    ],
)
def test_what_an_incident_touched_is_read_across_languages(
    language: str, facts: dict[str, Any], bad: str, good: str
) -> None:
    c = case(language, facts, company="albergo")
    assert contradictions(c, bad, HOSTEL)
    assert contradictions(c, good, HOSTEL) == []


@pytest.mark.parametrize(
    ("language", "facts", "bad", "good"),
    [
        (
            "pt",
            {"nightly_rate": "BRL 640.00", "nights": 2},
            "A primeira noite, de BRL 460,00, fica por nossa conta.",
            "A primeira noite, de BRL 640,00, fica por nossa conta.",
        ),
        (
            "en",
            {"spend_last_year": "EUR 130,000"},
            "Your spend over the past year comes to about EUR 103,000.",
            "Your spend over the past year comes to about EUR 130,000.",
        ),
    ],
)
def test_a_fact_written_with_its_digits_swapped_is_caught_in_any_words(
    language: str, facts: dict[str, Any], bad: str, good: str
) -> None:
    c = case(language, facts, company="albergo")
    assert contradictions(c, bad, HOSTEL)
    assert contradictions(c, good, HOSTEL) == []


def test_swapped_digits_the_policy_states_or_under_a_bound_are_no_fact() -> None:
    c = case("en", {"deposit": "EUR 54.00"}, company="albergo")
    # EUR 45 is not a swap the policy gives, but EUR 40 is the book's own fee: only the
    # first is checked, and a bound ("up to") is a rule
    assert contradictions(c, "A late departure costs EUR 40.", HOSTEL) == []
    assert contradictions(c, "We can hold up to EUR 45.00 for extras.", HOSTEL) == []


def test_a_time_stated_as_elapsed_is_read_against_the_elapsed_fact_not_a_deadline() -> None:
    c = case("es", {"days_since_request": 41, "response_deadline": "1 month"}, company="albergo")
    bad = "El plazo es de 1 mes desde la solicitud, y desde entonces ya han pasado 31 días."
    good = "El plazo es de 1 mes desde la solicitud, y desde entonces ya han pasado 41 días."
    assert contradictions(c, bad, HOSTEL) == ["31 días"]
    assert contradictions(c, good, HOSTEL) == []


def test_a_hyphenated_window_is_no_time_left() -> None:
    book = PolicyBook(id="albergo", name="Albergo", text="- Disputes: within a 90-day window.\n")
    c = case("en", {"days_since_stay": 81, "days_left": 9}, company="albergo")
    good = "Yes, you have 9 days left of the 90-day window to dispute it."
    assert contradictions(c, good, book) == []
    assert contradictions(c, "Yes, you have 19 days left of the 90-day window.", book) == [
        "19 days"
    ]


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        ("en", "You can send it back until 20 March.", "You can send it back until 12 March."),
        ("es", "Puede devolverlo hasta el 20 de marzo.", "Puede devolverlo hasta el 12 de marzo."),
        ("pt", "Pode devolver até 20 de março.", "Pode devolver até 12 de março."),
    ],
)  # fmt: skip
def test_a_deadline_given_as_another_date_is_caught(language: str, bad: str, good: str) -> None:
    c = case(language, {"return_deadline": "2026-03-12", "delivered": "2026-02-10"}, "albergo")
    assert contradictions(c, bad, HOSTEL)
    assert contradictions(c, good, HOSTEL) == []


def test_a_date_the_policy_gives_or_under_a_condition_is_no_misstated_deadline() -> None:
    book = PolicyBook(id="albergo", name="Albergo", text="- Winter stays: book until 20 March.\n")
    c = case("en", {"refund_deadline": "2026-03-12"}, "albergo")
    assert contradictions(c, "Winter stays can be booked until 20 March.", book) == []
    assert contradictions(c, "If it arrives by 25 March, we'll refund it.", HOSTEL) == []
    # a case with two limits, and nothing says which: no finding
    two = case("en", {"refund_deadline": "2026-03-12", "claim_due": "2026-04-01"}, "albergo")
    assert contradictions(two, "You have until 20 March.", HOSTEL) == []


def test_a_date_the_answer_computes_from_a_known_date_is_no_misstated_deadline() -> None:
    c = case("es", {"due_date": "2026-07-01", "requested_date": "2026-07-21"}, "albergo")
    computed = (
        "Puede moverla como máximo 10 días después del vencimiento, es decir, hasta el 11 de julio."
    )
    assert contradictions(c, computed, HOSTEL) == []
    assert contradictions(c, "Puede moverla hasta el 14 de julio.", HOSTEL) == ["14 de julio"]


def test_the_time_left_under_a_bound_is_still_the_time_left() -> None:
    c = case("es", {"business_days_left": 2, "business_days_since_request": 3}, "albergo")
    bad = "Como lo pidió hace 3 días hábiles, nos quedan como máximo 4 días hábiles."
    good = "Como lo pidió hace 3 días hábiles, nos quedan como máximo 2 días hábiles."
    assert contradictions(c, bad, HOSTEL) == ["4 días hábiles"]
    assert contradictions(c, good, HOSTEL) == []
    # a bound with no time-left cue is a rule: "within 5 business days"
    rule = "Lo resolvemos en un máximo de 5 días hábiles."
    assert contradictions(c, rule, HOSTEL) == []
