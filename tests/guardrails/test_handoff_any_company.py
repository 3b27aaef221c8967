"""Handoff on companies the rules were not written for: a phone number followed by its hours,
the chat being written in, and a hospital stay that is over. Each rule shows a bad answer
caught and a good one passed, on an invented company (a pharmacy chain, "Farmavía")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.records import Case, PolicyBook
from guardrails import GuardrailContext, contact
from guardrails.handoff import handoff_guardrail, paths
from guardrails.situations import needs_person

BOOK = PolicyBook(
    id="farmavia",
    name="Farmavía",
    text="## Talking to a person\n"
    "- A customer may ask for a person at any time.\n"
    "- Pharmacist line: 900 410 220, every day 8:00-22:00.\n",
)
CHECK = handoff_guardrail(GuardrailContext(policies={"farmavia": BOOK}))


def case(language: str, said: str, **extra: Any) -> Case:
    return Case.model_validate(
        {
            "id": f"farmavia-{language}",
            "intent": "prescription",
            "kind": "support",
            "language": language,
            "channel": "chat",
            "risk": "medium",
            "company": "farmavia",
            "messages": [{"role": "user", "content": said}],
            "facts": {},
            **extra,
        }
    )


def failing(c: Case, text: str) -> set[str]:
    return {f.code for f in CHECK(c, text) if f.severity in ("critical", "major")}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("For updates, call 800 207 300 (24h).", "800 207 300"),
        ("Llame al 900 410 220 (todos los días).", "900 410 220"),
        ("Ligue para (11) 4003-2020 das 8h às 20h.", "(11) 4003-2020"),
    ],
)
def test_a_phone_number_followed_by_its_hours_in_brackets_is_still_a_number(
    text: str, number: str
) -> None:
    assert [p.text for p in contact.phones(text)] == [number]


def test_a_date_followed_by_a_bracket_is_no_phone_number() -> None:
    # "2026-12-10 (7 days ...)" used to be read as a number to dial, a path to nobody
    assert contact.phones("Send it by 2026-12-10 (7 days after the visit).") == ()


def test_the_chat_being_written_in_is_no_path_and_a_refusal_there_is_caught() -> None:
    c = case("en", "I want to talk to an actual person about this.")
    bad = (
        "I'm afraid I can't transfer you to an agent: prescription questions are handled "
        "only through this chat."
    )
    assert paths(bad) == []
    assert failing(c, bad) == {"handoff.refused", "handoff.missing"}
    good = "A pharmacist can take it from here: call 900 410 220, every day 8:00-22:00."
    assert failing(c, good) == set()
    # a person offered in this chat is a path
    assert [p.kind for p in paths("Un agente te responde en este chat ahora mismo.")] == ["chat"]


@pytest.mark.parametrize(
    ("language", "over", "ongoing"),
    [
        (
            "pt-BR",
            "fiquei internado de segunda a quarta, por isso perdi a retirada. tenho que pagar?",
            "estou internado desde ontem e não consigo buscar o remédio",
        ),
        (
            "es-ES",
            "estuve ingresada dos días y no pude recoger el pedido, ¿me lo cobráis?",
            "sigo ingresada en el hospital y no puedo recoger el pedido",
        ),
        (
            "en",
            "I was in hospital last week so I missed the pick-up. Do I still pay?",
            "my wife is in hospital and I can't pick up her order",
        ),
    ],
)
def test_a_hospital_stay_told_as_over_needs_no_person_but_one_going_on_does(
    language: str, over: str, ongoing: str
) -> None:
    answer = "The pick-up fee is waived: send the discharge note in the app by Friday."
    assert needs_person(case(language, over)) is None
    assert failing(case(language, over), answer) == set()
    need = needs_person(case(language, ongoing))
    assert need is not None and need.concept == "illness"
    assert failing(case(language, ongoing), answer) == {"handoff.missing"}


def test_a_diagnosis_told_in_the_past_still_needs_a_person() -> None:
    need = needs_person(case("es-ES", "me diagnosticaron cáncer el mes pasado"))
    assert need is not None and need.concept == "illness"


# A book that never says "ask for a person": its phone line is the offer of one.
PHONE_BOOK = PolicyBook(
    id="ferrovial",
    name="Ferrovial Norte",
    text="## Contact\n- Customer care: +34 910 000 444, weekdays 9:00-18:00.\n",
)
PHONE_CHECK = handoff_guardrail(GuardrailContext(policies={"ferrovial": PHONE_BOOK}))


def _phone_case(language: str, said: str) -> Case:
    return case(language, said).model_copy(update={"company": "ferrovial"})


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Escalation to a supervisor isn't available for ticket changes."),
        ("en", "Refunds are handled in writing, so there is no one available to discuss it."),
        ("es", "No hay reembolso. Tampoco es posible hablar con una persona por este tema."),
        ("pt", "A transferência para um atendente não é possível neste caso."),
        ("es", "Lo siento, no hay nadie disponible para atenderle."),
    ],
)
def test_a_refused_person_is_caught_when_the_book_only_gives_a_phone_line(
    language: str, text: str
) -> None:
    c = _phone_case(language, "the train was cancelled and nobody refunded me")
    codes = {f.code for f in PHONE_CHECK(c, text) if f.severity in ("critical", "major")}
    assert "handoff.refused" in codes


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "If no one is available, please call +34 910 000 444 on weekdays 9:00-18:00."),
        ("es", "Le atiende una persona en el +34 910 000 444, de lunes a viernes de 9:00 a 18:00."),
        ("en", "A transfer of the ticket to another date is not possible on this fare."),
    ],
)
def test_a_path_a_condition_or_a_refusal_of_something_else_is_no_refusal(
    language: str, text: str
) -> None:
    c = _phone_case(language, "the train was cancelled")
    assert not [f for f in PHONE_CHECK(c, text) if f.code == "handoff.refused"]


def test_a_book_with_no_phone_and_no_offer_of_a_person_offers_none() -> None:
    book = PolicyBook(id="x", name="X", text="## Fares\n- Tickets are non-refundable.\n")
    check = handoff_guardrail(GuardrailContext(policies={"x": book}))
    c = case("en", "hello").model_copy(update={"company": "x"})
    assert check(c, "Escalation to a supervisor isn't available.") == []


@pytest.mark.parametrize(
    ("language", "said", "needed"),
    [
        ("es", "¿me dan algo o no? si no quiero hablar con una persona", True),
        ("pt", "vão resolver? se não quero falar com um atendente", True),
        ("es", "no quiero hablar con una persona, solo dime el plazo", False),
        ("es", "sí, no quiero hablar con nadie más, gracias", False),
    ],
)
def test_if_not_is_otherwise_and_asks_for_a_person(language: str, said: str, needed: bool) -> None:
    assert (needs_person(case(language, said)) is not None) is needed


@pytest.mark.parametrize(
    ("language", "said", "late", "now"),
    [
        (
            "es",
            "mi hija comió el pastel con nueces y le están saliendo ronchas, ¿qué hago?",
            "Lo sentimos. Nuestro equipo de calidad te contactará dentro de 24 horas.",
            "Llama ya al 112. Después, un farmacéutico te atiende en el 900 410 220.",
        ),
        (
            "en",
            "my son is having an allergic reaction to the syrup you sold us",
            "We're sorry. Please email quality@farmavia.example and we'll reply in 2 days.",
            "Call 112 now. Then a pharmacist can help on 900 410 220, every day 8:00-22:00.",
        ),
        (
            "pt",
            "minha mãe tomou o remédio e não consegue respirar",
            "Lamentamos. A nossa equipe vai te ligar amanhã.",
            "Ligue já para o 112 e depois para o farmacêutico no 900 410 220.",
        ),
    ],
)
def test_an_emergency_happening_now_needs_a_path_now(
    language: str, said: str, late: str, now: str
) -> None:
    c = case(language, said)
    assert failing(c, late) == {"handoff.missing"}
    assert failing(c, now) == set()


def test_an_emergency_told_as_over_accepts_a_callback() -> None:
    c = case("en", "she had an allergic reaction last week, I want a person to call me")
    assert failing(c, "Sorry to hear it. An agent will call you back today.") == set()


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "pt",
            "Desculpe, mas não posso interpretar resultados de exames. Posso ajudar em algo mais?",
            "Não posso interpretar resultados, mas um farmacêutico pode: ligue 900 410 220.",
        ),
        (
            "en",
            "I'm sorry, I can't give medical advice about doses.",
            "I can't give medical advice, but our pharmacist line can: 900 410 220, 8:00-22:00.",
        ),
        (
            "es",
            "No puedo valorar si esa dosis es adecuada para usted.",
            "No puedo valorar la dosis; un farmacéutico le atiende en el 900 410 220.",
        ),
    ],
)
def test_an_answer_that_declines_as_beyond_its_competence_must_say_who_can(
    language: str, bad: str, good: str
) -> None:
    c = case(language, "is this dose too high for me?")
    assert failing(c, bad) == {"handoff.missing"}
    assert failing(c, good) == set()
    # a refusal of something else is no question beyond its competence
    assert failing(c, "No puedo cambiar la fecha de recogida de una receta ya preparada.") == set()
    # and expect.handoff: false switches it off
    off = Case.model_validate({**c.model_dump(), "expect": {"handoff": False}})
    assert failing(off, bad) == set()


_WORDS = [
    "no",
    "puedo",
    "podemos",
    "interpretar",
    "valorar",
    "dar",
    "consejo",
    "médico",
    "can't",
    "cannot",
    "give",
    "medical",
    "advice",
    "not",
    "able",
    "to",
    "assess",
    "não",
    "posso",
    "avaliar",
    "oferecer",
    "conselho",
    "le",
    "están",
    "saliendo",
    "ronchas",
    "reacción",
    "alérgica",
    "allergic",
    "reaction",
    "can't",
    "breathe",
    "no",
    "puede",
    "respirar",
    "dor",
    "no",
    "peito",
    "gas",
    "olor",
    "a",
    "fuga",
    "is",
    "swelling",
    "está",
    "inchado",
    "the",
    "a",
    "el",
    "la",
    "o",
    "de",
    "y",
    "and",
    "e",
    ",",
    ".",
    "yo",
    "ya",
    "she",
    "he",
    "mi",
    "hijo",
    "my",
    "son",
]


@given(
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=14), st.sampled_from(["es", "en", "pt"])
)
@settings(max_examples=300, deadline=None)
def test_the_word_gates_never_hide_a_match(words: list[str], language: str) -> None:
    # the cheap gates only skip texts that cannot match: whatever the lexicon finds, the
    # gate lets through
    from guardrails.situations import _beyond, _urgent_gate, concepts, find
    from guardrails.text import fold

    text = " ".join(words)
    beyond, gate = _beyond()
    if find(beyond, text, language) is not None:
        assert gate.search(fold(text))
    urgent = next(c for c in concepts() if c.name == "urgent")
    if find(urgent, text, language) is not None:
        assert _urgent_gate().search(fold(text))
