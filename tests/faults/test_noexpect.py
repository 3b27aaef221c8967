"""Handoff and tone on bare transcripts (no `expect`, as production transcripts come): the
conversation decides whether a person is needed, and an answer that mixes registers or puts
hashtags in a one-to-one reply is caught; `expect` still refines both.

Companies, products and wording here appear nowhere else in the repository: the rules must
hold for a company they were never tuned on."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from builders import scan_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.records import Case, PolicyBook
from guardrails import GuardrailContext
from guardrails.handoff import handoff_guardrail
from guardrails.situations import LexiconError, concepts, needs_person, parse_concept, stem
from guardrails.tone import check_tone

BOOK = PolicyBook(
    id="lumora",
    name="Lumora Seguros",
    text="Claims are reviewed within 15 days.\nPolicy holders may cancel at any time.\n",
)
HANDOFF = handoff_guardrail(GuardrailContext(policies={"lumora": BOOK}))


def bare(message: str, language: str = "es-ES", **fields: Any) -> Case:
    """A case as `evals scan` builds one from a transcript without `expect`."""
    record: dict[str, Any] = {
        "id": "t1",
        "intent": "claim_status",
        "kind": "support",
        "language": language,
        "channel": "chat",
        "risk": "medium",
        "company": "lumora",
        "messages": [{"role": "user", "content": message}],
    }
    record.update(fields)
    return Case.model_validate(record)


def codes(findings: list[Any]) -> set[str]:
    return {f.code for f in findings if f.severity in ("critical", "major")}


# (language, customer message, answer with no path to a person, answer with one)
NEEDS_PERSON = [
    (  # explicit request
        "es-ES",
        "Llevo una semana con el parte del granizo del coche. Quiero hablar con un asesor.",
        "El parte del granizo está en revisión y recibirá noticias pronto.",
        "Le paso con un agente ahora mismo para revisar el parte del granizo.",
    ),
    (
        "en-GB",
        "The storm claim for my greenhouse is stuck. Can I speak to somebody, please?",
        "Your greenhouse claim is being reviewed and you will hear from us soon.",
        "You can call our claims desk on +44 20 7946 0321, 8:00 to 20:00.",
    ),
    (
        "pt-BR",
        "Quero falar com um atendente sobre o sinistro da minha moto.",
        "O sinistro da sua moto está em análise.",
        "Vou transferir você para um atendente agora.",
    ),
    (  # tired of a machine: a negation does not cancel it
        "es-MX",
        "Ya no quiero hablar con un bot, me urge lo del seguro de mi moto.",
        "El seguro de tu moto está activo.",
        "Te paso con un asesor ahorita.",
    ),
    (  # bereavement
        "es-MX",
        "Mi esposo falleció el mes pasado y sigue llegando el cobro de su póliza de vida.",
        "El cobro de la póliza se genera cada mes de forma automática.",
        "Lamentamos mucho su pérdida. Un especialista le llamará hoy para cerrar la póliza.",
    ),
    (
        "en",
        "My father passed away in March and the renewal notice for his boat is still coming.",
        "Renewal notices are sent automatically thirty days before the term ends.",
        "I'm so sorry. A specialist will call you tomorrow to close your father's policy.",
    ),
    (  # legal threat
        "pt-PT",
        "Se não pagarem a reparação do telhado até sexta, o meu advogado trata do assunto.",
        "A reparação do telhado está em análise pela equipa de peritagem.",
        "Pode falar com um perito pelo telefone 213 456 789, das 9h às 18h.",
    ),
    (  # nobody has answered
        "en-GB",
        "Third time I'm writing about the hail damage to my van, and still no reply.",
        "Hail damage claims are assessed in the order they arrive.",
        "I'm sorry for the wait. Our claims desk answers on 0800 048 1234, 8:00 to 20:00.",
    ),
    (
        "es-ES",
        "Voy a poner una demanda si no cubren el robo de la bicicleta eléctrica.",
        "El robo de la bicicleta eléctrica está en estudio.",
        "Te paso con un agente para revisar la cobertura del robo.",
    ),
]


@pytest.mark.parametrize(("language", "message", "no_path", "path"), NEEDS_PERSON)
def test_a_bare_transcript_that_needs_a_person_is_caught_without_a_path(
    language: str, message: str, no_path: str, path: str
) -> None:
    case = bare(message, language)
    findings = HANDOFF(case, no_path)
    assert codes(findings) == {"handoff.missing"}
    evidence = findings[0].evidence
    assert evidence.source == "conversation"
    assert evidence.checked_against and '"' in evidence.checked_against  # quotes the customer
    # the same conversation answered with a phone number, a transfer or a call-back passes
    assert codes(HANDOFF(case, path)) == set()


@pytest.mark.parametrize(
    ("language", "message", "refusal"),
    [
        (
            "es-ES",
            "Pásenme con un gestor, por favor.",
            "No es posible hablar con una persona por este canal.",
        ),
        (
            "en",
            "I'd like to speak with a representative about my boat policy.",
            "I'm afraid I can't transfer you to anyone; your policy renews on 1 June.",
        ),
        (
            "pt-BR",
            "Posso falar com uma pessoa sobre a apólice?",
            "Não é possível falar com um atendente agora.",
        ),
    ],
)
def test_a_refused_request_for_a_person_is_caught_without_expect(
    language: str, message: str, refusal: str
) -> None:
    # the policy offers no person, so only the missing path can catch the refusal
    assert codes(HANDOFF(bare(message, language), refusal)) == {"handoff.missing"}


def test_expect_handoff_false_still_switches_it_off_and_true_still_requires_it() -> None:
    message, no_path = NEEDS_PERSON[0][1], NEEDS_PERSON[0][2]
    off = bare(message, expect={"handoff": False})
    assert codes(HANDOFF(off, no_path)) == set()
    on = bare("¿Cuándo se revisa el parte del granizo?", expect={"handoff": True})
    assert codes(HANDOFF(on, no_path)) == {"handoff.missing"}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("es-ES", "¿Cuándo revisan el parte del granizo del coche?"),
        ("es-ES", "No necesito hablar con ninguna persona, solo quiero saber el plazo."),
        ("es-MX", "Se me murió el celular y no pude ver el correo de la póliza."),
        ("en", "I already spoke to an agent yesterday; what is the claim number?"),
        ("en", "My phone died, so I could not upload the photos of the greenhouse."),
        ("pt-BR", "Vocês vão processar meu pedido de reembolso do seguro viagem?"),
        ("pt-BR", "O meu pai quer saber quando renova a apólice da casa."),
        # words that name a situation in one sense and something ordinary in another
        ("es-ES", "¿Puede otra persona recoger la documentación del parte?"),
        ("es-ES", "El regulador de presión de la caldera asegurada pierde gas."),
        ("en", "I booked the squash court for 6pm but the insurance card was refused."),
        ("en", "My account was disabled after the update; does it include disability cover?"),
        ("en", "My dad's phone died while he was filing the claim."),
        ("pt-BR", "O atendimento do seguro é muito deficiente."),
        ("es-ES", "La web dice que no soy un robot y no me deja pagar la póliza."),
        ("en", "The form keeps asking me to prove I'm not a robot."),
        ("pt-BR", "Comprei um robô aspirador com o seguro e veio quebrado."),
    ],
)
def test_an_ordinary_question_needs_no_person(language: str, message: str) -> None:
    case = bare(message, language)
    needed = needs_person(case)
    assert needed is None, needed
    assert codes(HANDOFF(case, "El plazo de revisión es de 15 días.")) == set()


def test_a_crisis_case_needs_a_person_whatever_the_words() -> None:
    case = bare("Hilo: Lumora no paga los daños del temporal en toda la costa.", kind="crisis")
    need = needs_person(case)
    assert need is not None and need.concept == "crisis"
    assert codes(HANDOFF(case, "Estamos revisando los daños del temporal.")) == {"handoff.missing"}
    assert codes(HANDOFF(case, "Escríbenos por mensaje privado y lo revisamos.")) == set()


@pytest.mark.parametrize(
    ("language", "message", "sends_to_emergency"),
    [
        ("es-ES", "Mi padre se ha desmayado en la sala de espera.", "Llame al 112 ahora mismo."),
        ("es-MX", "Tengo un dolor muy fuerte en el pecho.", "Acuda a urgencias del hospital."),
        ("en", "My son can't breathe properly.", "Please call 911 right away."),
        ("en", "I think I'm having a stroke.", "Go to the nearest emergency room now."),
        ("pt-BR", "Minha mãe desmaiou aqui.", "Ligue agora para o 192 (SAMU)."),
    ],
)
def test_emergency_services_are_a_path_to_a_person_in_a_crisis(
    language: str, message: str, sends_to_emergency: str
) -> None:
    case = bare(message, language, kind="crisis")
    assert codes(HANDOFF(case, sends_to_emergency)) == set()
    # a number that is no emergency line, or a negated call, is still no path
    assert codes(HANDOFF(case, "Su cita de las 112 queda anulada.")) == {"handoff.missing"}
    assert codes(HANDOFF(case, "No hace falta llamar al 112, espere aquí.")) == {"handoff.missing"}


NEUTRAL_TEXT = (
    "granizo poliza parte coche bicicleta tejado cobertura importe factura plazo revision "
    "claim policy greenhouse roof boat storm renewal amount invoice photos apolice sinistro "
    "moto telhado valor prazo the el de o a 15 2026 sobre mañana tomorrow amanha"
)


def opens_a_pattern(word: str) -> bool:
    """Whether `word` is the first word of any lexicon pattern, in any language: a match must
    start with one, so text made of other words is unrelated to every concept."""
    return any(
        pattern.slots[0].hits(word, stem(language, word))
        for concept in concepts()
        for language, patterns in concept.patterns.items()
        for pattern in patterns
    )


UNRELATED = st.one_of(
    st.sampled_from(NEUTRAL_TEXT.split()), st.from_regex(r"[a-z]{1,9}", fullmatch=True)
).filter(lambda word: not opens_a_pattern(word))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.lists(UNRELATED, max_size=40),
    language=st.sampled_from(["es-ES", "en", "pt-BR"]),
)
def test_unrelated_words_appended_create_no_handoff_requirement(
    extra: list[str], language: str
) -> None:
    base = "¿Cuándo revisan mi parte? When is my claim reviewed? Quando analisam o sinistro?"
    message = base + " " + " ".join(extra)
    case = bare(message, language)
    assert needs_person(bare(base, language)) is None
    assert needs_person(case) is None
    assert codes(HANDOFF(case, "Revisamos su parte en 15 días.")) == set()


# --- tone without expect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "mixed", "consistent"),
    [
        (
            "es-ES",
            "Hemos revisado tu parte del granizo. Si usted lo desea, le paso el detalle.",
            "Hemos revisado su parte del granizo. Si usted lo desea, le paso el detalle.",
        ),
        (
            "es-MX",
            "Tu póliza sigue activa. No se preocupe, usted no pagará nada extra.",
            "Tu póliza sigue activa. No te preocupes, no pagarás nada extra.",
        ),
        (
            "pt-BR",
            "Você pode acompanhar o sinistro no app. A tua apólice continua ativa.",
            "Você pode acompanhar o sinistro no app. Vou te avisar quando sua apólice renovar.",
        ),
    ],
)
def test_mixed_register_is_caught_without_an_expected_register(
    language: str, mixed: str, consistent: str
) -> None:
    case = bare("¿Qué pasa con mi parte?", language)
    found = [f for f in check_tone(case, mixed) if f.code == "tone.register"]
    assert [f.severity for f in found] == ["major"]
    span = found[0].evidence.span
    assert span is not None and mixed[span.start : span.end] == span.text
    assert codes(check_tone(case, consistent)) == set()


def test_a_third_person_le_is_not_usted() -> None:
    case = bare("¿Qué pasa con mi parte?", "es-MX")
    text = "Tu parte sigue abierto; el perito le explicará a tu hermana qué falta."
    assert codes(check_tone(case, text)) == set()
    mixed = "Tu parte sigue abierto. Si lo desea, le explicaré qué falta."
    assert codes(check_tone(case, mixed)) == {"tone.register"}


def test_an_expected_register_still_decides_and_reports_once() -> None:
    case = bare("¿Qué pasa con mi parte?", "es-ES", expect={"register": "usted"})
    text = "Hemos revisado tu parte del granizo. Si usted lo desea, le paso el detalle."
    assert [f.code for f in check_tone(case, text)].count("tone.register") <= 1


def test_hashtags_in_a_one_to_one_reply_are_caught_unless_allowed_or_a_broadcast() -> None:
    text = "Ya revisamos tu parte del granizo. #LumoraContigo"
    for channel in ("chat", "social", "voice"):
        case = bare("¿Y mi parte?", channel=channel)
        assert codes(check_tone(case, text)) == {"tone.hashtags"}, channel
    broadcast = bare("¿Y mi parte?", channel="social", tags=["broadcast"])
    assert codes(check_tone(broadcast, text)) == set()
    allowed = bare("¿Y mi parte?", channel="social", expect={"hashtags": True})
    assert codes(check_tone(allowed, text)) == set()
    assert codes(check_tone(bare("¿Y mi parte?"), "Ya revisamos tu parte #4471.")) == set()


def test_a_mass_greeting_in_a_bare_one_to_one_chat_is_caught() -> None:
    case = bare("¿Y mi parte?")
    assert codes(check_tone(case, "¡Hola a todos! Ya revisamos tu parte.")) == {
        "tone.unnatural_greeting"
    }
    assert codes(check_tone(case, "¡Hola, Marta! Ya revisamos tu parte.")) == set()


# --- the lexicons --------------------------------------------------------------------------------


def test_every_lexicon_loads_with_patterns_in_every_language() -> None:
    for concept in concepts():
        for language in ("es", "en", "pt"):
            assert concept.patterns[language], (concept.name, language)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"patterns": {}}, "field reason"),
        ({"reason": "x", "patterns": {"es": ["@nadie persona"]}}, r"patterns.es\[0\]: unknown"),
        ({"reason": "x", "patterns": {"en": [{"words": "a b", "gap": 99}]}}, "field gap"),
        ({"reason": "x", "patterns": {"pt": [7]}}, r"patterns.pt\[0\]: expected a string"),
        (
            {"reason": "x", "patterns": {"es": [{"words": "a b", "negatable": "si"}]}},
            "field negatable",
        ),
    ],
)
def test_a_malformed_lexicon_names_its_file_and_entry(data: Any, message: str) -> None:
    with pytest.raises(LexiconError, match=message) as caught:
        parse_concept("broken", data, "lexicons/handoff/broken.yaml")
    assert "lexicons/handoff/broken.yaml" in str(caught.value)


# --- through `evals scan` ---------------------------------------------------------------------

POLICIES = (
    "lumora:\n  name: Lumora Seguros\n  text: |\n    Claims are reviewed within 15 days.\n"
    "    Phone: 910 555 321.\n"
)


def test_evals_scan_checks_handoff_and_tone_on_transcripts_without_expect(
    tmp_path: Path,
) -> None:
    records = [
        {
            "id": rid,
            "company": "lumora",
            "language": "es-ES",
            "messages": [{"role": "user", "content": message}],
            "response": response,
        }
        for rid, message, response in [
            ("legal", "Mi abogada ya prepara la reclamación.", "Su parte está en revisión."),
            ("ok", "Mi abogada ya prepara la reclamación.", "Llame al 910 555 321."),
            ("mixed", "¿Y mi parte?", "Revisamos tu parte. Si usted lo desea, le llamamos."),
            ("plain", "¿Y mi parte?", "Su parte está en revisión."),
        ]
    ]
    done, out = scan_cli(tmp_path, list(records), POLICIES)
    assert done.returncode == 1, done.stderr
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert [f["code"] for f in rows["legal"]["findings"]] == ["handoff.missing"]
    assert "tone.register" in [f["code"] for f in rows["mixed"]["findings"]]
    assert rows["ok"]["passed"] is True and rows["plain"]["passed"] is True


def test_a_huge_customer_message_is_read_in_bounded_time() -> None:
    filler = "el parte del granizo sigue abierto y " * 60_000  # about 2 MB
    started = time.perf_counter()
    need = needs_person(bare("Quiero hablar con una persona. " + filler))
    assert need is not None and need.concept == "request"
    # past the bound nothing is read: the time does not grow with the message
    assert needs_person(bare(filler + "Quiero hablar con una persona.")) is None
    assert time.perf_counter() - started < 10
