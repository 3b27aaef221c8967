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


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "es",
            "Si te hubieras tomado la molestia de revisar la reserva, no te pasaría esto.",
            "Revisamos la reserva contigo: el técnico llega el martes.",
        ),
        (
            "es",
            "Lo ideal habría sido avisarnos antes; eso es lo que le ha llevado a esta situación.",
            "Gracias por avisarnos; buscamos otra cita para usted.",
        ),
        (
            "pt",
            "O técnico atrasou, mas a responsabilidade é sua: marcou num feriado.",
            "O técnico atrasou e a responsabilidade é nossa: marcamos outra visita sem custo.",
        ),
        (
            "en",
            "It would have been better to check the slot before booking.",
            "It would have been better for us to confirm the slot; we're sorry.",
        ),
    ],
)
def test_a_counterfactual_about_the_customer_s_conduct_is_blame(
    language: str, bad: str, good: str
) -> None:
    c = case(language, "El técnico no vino.")
    assert failing(c, bad) == {"tone.blame"}
    assert failing(c, good) == set()


def test_an_at_fault_claim_described_is_not_blame() -> None:
    c = case("es", "¿Por qué me cobran la franquicia?")
    assert failing(c, "Al ser un siniestro con culpa tuya, se aplica la franquicia.") == set()
    assert failing(c, "Es culpa tuya no haber leído las condiciones.") == {"tone.blame"}


@pytest.mark.parametrize(
    ("language", "said", "bad", "good"),
    [
        (
            "en",
            "My father died last month. The repair contract is in his name; how do I cancel it?",
            "To cancel the contract, send the death certificate to the Manitas app.",
            "I'm so sorry for your loss. To cancel, send the death certificate in the app.",
        ),
        (
            "pt",
            "O meu pai faleceu. Como cancelo o contrato de manutenção dele?",
            "Para cancelar, envie a certidão de óbito pela app Manitas.",
            "Os nossos sentimentos. Para cancelar, envie a certidão de óbito pela app.",
        ),
        (
            "es",
            "Mi madre falleció y quiero dar de baja su suscripción.",
            "Para dar de baja la suscripción, envíe el certificado de defunción.",
            "Lamentamos mucho su pérdida. Envíe el certificado y damos de baja la suscripción.",
        ),
    ],
)
def test_a_bereaved_customer_gets_a_word_of_sympathy_without_any_expect(
    language: str, said: str, bad: str, good: str
) -> None:
    c = case(language, said)
    assert failing(c, bad) == {"tone.no_apology"}
    assert failing(c, good) == set()
    # a case that says no apology is due switches it off
    assert failing(case(language, said, expect={"apology": False}), bad) == set()


def test_european_portuguese_tu_verbs_are_informal_and_voce_alone_is_not() -> None:
    formal_pt = case("pt-PT", "O técnico não apareceu.", expect={"register": "formal"})
    bad = "Tens direito a uma nova visita e estás dentro do prazo: podes marcá-la na app."
    assert failing(formal_pt, bad) == {"tone.register"}
    good = "O senhor tem direito a uma nova visita; pode marcá-la na app."
    assert failing(formal_pt, good) == set()
    formal_br = case("pt-BR", "O técnico não veio.", expect={"register": "formal"})
    assert failing(formal_br, "Você pode remarcar a visita pelo aplicativo.") == set()


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        # a duty in the past blames; the conditional with an infinitive is a condition or advice
        (
            "es",
            "Debiste revisar la hora de la cita antes de salir.",
            "Para que venga el sábado tendrías que pagar el suplemento de EUR 20.00.",
        ),
        (
            "es",
            "Tenías que confirmar la visita el día anterior.",
            "Deberías revisar la carpeta de correo no deseado: allí suele llegar la cita.",
        ),
        # "next time" and an instruction: the customer did it wrong this time
        (
            "pt",
            "O arquivo chegou incompleto porque a internet caiu; da próxima vez use outra rede.",
            "Da próxima vez que precisar, é só escrever para nós por aqui.",
        ),
        (
            "en",
            "The photo upload failed. Next time, use the app instead of the website.",
            "Next time you book, your address will already be saved.",
        ),
        (
            "es",
            "La próxima vez, sigue las instrucciones del correo de confirmación.",
            "La próxima vez que nos escribas te atenderá el mismo técnico.",
        ),
        # the customer's neglect
        (
            "en",
            "You didn't even bother to read the booking summary.",
            "No need to bother sending the form again: we have it.",
        ),
        (
            "es",
            "Ni siquiera te molestaste en leer el resumen de la reserva.",
            "No te molestes en enviar el formulario otra vez: ya lo tenemos.",
        ),
        (
            "pt",
            "Você nem se deu ao trabalho de ler o resumo da reserva.",
            "Não precisa se dar ao trabalho de reenviar o formulário: já o recebemos.",
        ),
    ],
)
def test_a_lecture_on_the_customer_s_conduct_is_blame(language: str, bad: str, good: str) -> None:
    said = {"en": "It went wrong.", "es": "Salió mal.", "pt": "Deu errado."}
    c = case(language, said[language])
    assert "tone.blame" in failing(c, bad)
    assert "tone.blame" not in failing(c, good)


def test_a_sentence_in_english_says_nothing_of_a_spanish_register() -> None:
    """'decides' is a tú verb in Spanish and an English word: in an English sentence it is not
    a form of address (that answer is the language check's business)."""
    usted = case("es", "¿Quién decide si me devuelven el dinero?", expect={"register": "usted"})
    english = "Hello. The technician decides within 3 days of the visit, based on the photos."
    assert "tone.register" not in failing(usted, english)
    assert "tone.register" in failing(usted, "Si tú decides cancelar, te devolvemos el dinero.")
    # an English sentence does not hide the markers of the Spanish sentences around it
    mixed = "Si tú decides cancelar, te devolvemos el dinero. The technician decides, not us."
    assert "tone.register" in failing(usted, mixed)


@pytest.mark.parametrize(
    ("language", "bad", "good"),
    [
        (
            "pt",
            "Por segurança, as visitas urgentes não podem ser remarcadas depois que o técnico "
            "sai da base. O técnico já saiu da base e a sua visita urgente não pode ser "
            "remarcada. Se quiser, posso abrir um pedido de reembolso.",
            "Por segurança, as visitas urgentes não podem ser remarcadas depois que o técnico "
            "sai da base. As visitas normais podem ser remarcadas até a véspera, sem custo.",
        ),
        (
            "es",
            "Las reparaciones eléctricas se garantizan durante seis meses desde la visita. "
            "Tu reparación eléctrica se garantiza seis meses desde el día de la visita.",
            "Las reparaciones eléctricas se garantizan durante seis meses desde la visita. "
            "Las reparaciones de fontanería se garantizan durante tres meses.",
        ),
        (
            "en",
            "Cancelling a booked visit is free until the evening before. You can cancel the "
            "booked visit for free until the evening before it.",
            "Cancelling a booked visit is free until the evening before. A visit cancelled "
            "on the day itself is charged at the call-out rate.",
        ),
    ],
)
def test_a_sentence_restated_in_other_words_is_repetition(
    language: str, bad: str, good: str
) -> None:
    c = case(language, {"en": "Help.", "es": "Ayuda.", "pt": "Ajuda."}[language])
    found = [f for f in check_tone(c, bad) if f.code == "tone.repetition"]
    assert found and "in other words" in found[0].message
    assert "tone.repetition" not in failing(c, good)


def test_a_negated_sentence_or_another_number_is_no_restatement() -> None:
    c = case("es", "Ayuda.")
    # the same words, one negated: two facts, not one said twice
    contrast = (
        "Los electrodomésticos con el precinto roto se devuelven si tienen un defecto de "
        "fábrica. Un electrodoméstico con el precinto roto no se devuelve por gusto."
    )
    assert "tone.repetition" not in failing(c, contrast)
    # the same words with a different number on each side: two prices
    prices = (
        "La visita del electricista cuesta 40 euros entre semana durante el día. "
        "La visita del electricista cuesta 60 euros entre semana durante la noche."
    )
    assert "tone.repetition" not in failing(c, prices)
