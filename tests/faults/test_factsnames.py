"""Facts under any name (#12): a fact is compared by the unit and the words of whatever name
the company gives it, in English, Spanish or Portuguese, with no table of known names.

Every key, company and sentence here is invented for these tests (an airline, an insurer, a
water utility) and appears in no case file: the rules cannot have been fitted to them.
"""

from __future__ import annotations

import pytest
from builders import case_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.records import Case, Finding, PolicyBook
from guardrails import check
from guardrails.fact_keys import key_unit, key_words, same_word

# A policy book that says nothing about any of the facts below.
BOOK = PolicyBook(
    id="albatross",
    name="Albatross Airways",
    text="- Refunds are issued within 5 business days.\n"
    "- Claims are answered within 10 business days.\n",
)


def _case(language: str, facts: dict[str, object]) -> Case:
    return Case.model_validate(
        case_dict("n1", language=language, company="albatross", facts=facts, expect={})
    )


def _found(text: str, case: Case, families: tuple[str, ...] = ("facts",)) -> list[Finding]:
    return check(text, case, BOOK, guardrails=list(families))


def _contradictions(text: str, case: Case) -> set[tuple[str, str]]:
    """(span text, fact) of every contradiction."""
    return {
        (f.evidence.span.text if f.evidence.span else "", f.evidence.source or "")
        for f in _found(text, case)
        if f.code == "facts.contradiction"
    }


DELAY = {"tarmac_delay_minutes": 180}
WATER = {"minutos_sem_agua": 90}
CLAIM_AGE = {"dias_desde_siniestro": 200}
PAYOUT = {"valor_indemnizacion": "EUR 1200.00"}
SCAN = {"passport_scan_exposed": False}
HOME_POLICY = {"poliza_hogar_afectada": False}
METER = {"leitura_medidor_exposta": False}
BREACHED = {"breached_fields": ["seat preference", "birth date"]}
INSTALMENTS = {"parcelas_pagas": 3}

# (language, facts, wrong answer, span of the wrong value, clean paraphrase)
EXAMPLES = [
    # a duration in another unit than the fact's, converted before comparing
    ("en", DELAY, "We are sorry for the 1-hour tarmac delay.", "1-hour",
     "We are sorry for the 3-hour tarmac delay."),
    ("en", DELAY, "Your tarmac delay lasted 2 hours.", "2 hours",
     "Your tarmac delay lasted 180 minutes."),
    ("pt", WATER, "Você ficou 2 horas sem água.", "2 horas", "Você ficou 1,5 horas sem água."),
    # a Spanish key of elapsed time, stated as the age of the thing it names
    ("es", CLAIM_AGE, "Su siniestro tiene solo 20 días, así que sigue en plazo.", "20 días",
     "Su siniestro tiene 200 días."),
    ("es", PAYOUT, "La indemnización de EUR 1100.00 ya fue aprobada.", "EUR 1100.00",
     "La indemnización de 1.200,00 EUR ya fue aprobada."),
    # a yes/no fact asserted with (part of) its key's words, and denied
    ("en", SCAN, "Your passport scan was exposed in the breach.", "passport",
     "Your passport scan was not exposed in the breach."),
    ("es", HOME_POLICY, "Su póliza de hogar se vio afectada por el error.", "póliza",
     "Su póliza de hogar no se vio afectada por el error."),
    ("pt", METER, "A leitura do seu medidor foi exposta.", "leitura",
     "A leitura do seu medidor não foi exposta."),
    # a list fact: another item named as breached, or a listed one denied
    ("en", BREACHED, "Your seat preference, birth date and passport number were breached.",
     "passport number", "Your seat preference and birth date were breached."),
    ("en", BREACHED, "Your birth date was not breached.", "birth date",
     "Your birth date was breached, and so was your seat preference."),
    # the same in Spanish and Portuguese, with the verb first
    ("es", {"campos_expuestos_reserva": ["teléfono", "correo"]},
     "Se expusieron tu teléfono, tu correo y tu pasaporte.", "tu pasaporte",
     "Se expusieron tu teléfono y tu correo, pero no tu pasaporte."),
    ("pt", {"itens_vazados": ["telefone", "e-mail"]},
     "Foram vazados seu telefone, seu e-mail e seu passaporte.", "seu passaporte",
     "Foram vazados seu telefone e seu e-mail; o passaporte não foi vazado."),
    # a count whose unit is read from the key ("parcelas")
    ("pt", INSTALMENTS, "Vamos reembolsar as 4 parcelas que você pagou.", "4 parcelas",
     "Vamos reembolsar as 3 parcelas que você pagou."),
]  # fmt: skip


@pytest.mark.parametrize(("language", "facts", "bad", "span", "good"), EXAMPLES)
def test_a_fact_under_a_name_never_seen_is_caught_and_its_paraphrase_passes(
    language: str, facts: dict[str, object], bad: str, span: str, good: str
) -> None:
    case = _case(language, facts)
    (key,) = facts
    assert _contradictions(bad, case) == {(span, f"facts.{key}")}
    assert _found(good, case) == []


@pytest.mark.parametrize(
    ("language", "facts", "text"),
    [
        # the delay's words are the 3 hours', not the 20 minutes' of another thing
        ("en", DELAY, "The 3-hour tarmac delay came after a 20-minute queue at check-in."),
        # what is counted (parcelas) says nothing of which count: the bill's, not those paid
        ("pt", INSTALMENTS, "A sua fatura tem 5 parcelas."),
        # a subject that only shares a word with the yes/no fact
        ("en", SCAN, "The passport office was closed; no data was exposed."),
        ("en", SCAN, "We scanned your boarding pass at the gate."),
        # another list, in another language than the answer, invents nothing
        ("en", {"campos_vulnerados": ["preferencia de asiento"]}, "Names were breached."),
        # a number the fact's name carries is its window, not its value
        ("es", {"retrasos_ultimos_12_meses": 2}, "Es tu segundo retraso en los últimos 12 meses."),
        ("en", {"late_returns_past_30_days": 1}, "This is your first late return in 30 days."),
    ],
)
def test_a_number_or_a_word_whose_subject_is_not_the_facts_is_not_compared(
    language: str, facts: dict[str, object], text: str
) -> None:
    assert _found(text, _case(language, facts)) == []


@pytest.mark.parametrize(
    ("language", "facts", "text", "families"),
    [
        ("en", DELAY, "We are sorry for the 1-hour tarmac delay.", ["facts"]),
        ("en", DELAY, "Your tarmac delay lasted 2 hours.", ["facts"]),
        ("es", CLAIM_AGE, "Su siniestro tiene solo 20 días.", ["facts"]),
        ("pt", INSTALMENTS, "Vamos reembolsar as 3 parcelas que você pagou.", []),
    ],
)
def test_a_value_of_a_named_fact_is_one_finding_of_facts_not_a_policy_claim(
    language: str, facts: dict[str, object], text: str, families: list[str]
) -> None:
    """The policy guardrail asks the facts' names whether a number is the case's: one wrong
    number is one finding, and the case's own count is no unsupported policy."""
    found = _found(text, _case(language, facts), ("facts", "policy"))
    assert [f.guardrail for f in found] == families


def test_a_keys_words_and_unit_are_read_from_the_name_alone() -> None:
    assert key_words("tarmacDelayMinutes") == ("tarmac", "delay")
    assert key_words("dias_desde_siniestro") == ("siniestro",)
    assert key_words("f1") == ()
    assert key_unit("tarmac_delay_minutes") == ("minute", None)
    assert key_unit("parcelas_quitadas") == ("count:installment", None)
    assert key_unit("reembolso_brl") == ("money", "BRL")
    assert key_unit("recargo_pct") == ("percent", None)
    assert key_unit("boardings_in_48h") is None  # a qualifier glued to a number is no unit
    assert same_word("siniestro", "siniestros") and same_word("agua", "aguas")
    assert not same_word("passport", "passenger")


# --- renaming a fact to an opaque name never creates a contradiction ------------------------

# Sentences that name the facts above, with a number to vary.
_SENTENCES = [
    "We are sorry for the {n}-hour tarmac delay.",
    "Your tarmac delay lasted {n} hours, and {n} days have passed.",
    "Você ficou {n} horas sem água; faltam {n} dias.",
    "Su siniestro tiene solo {n} días y la indemnización de EUR {n}.00 ya fue aprobada.",
    "Vamos reembolsar as {n} parcelas que você pagou há {n} dias.",
    "Your passport scan was exposed {n} days ago, and your seat preference was breached.",
    "A leitura do seu medidor foi exposta há {n} horas.",
]
_FACTS = [DELAY, WATER, CLAIM_AGE, PAYOUT, SCAN, HOME_POLICY, METER, BREACHED, INSTALMENTS]
_VALUES = st.one_of(
    st.integers(0, 500),
    st.sampled_from(["2 hours", "EUR 1200.00", "45 days", "3 parcelas", "90 minutos"]),
    st.booleans(),
    st.lists(st.sampled_from(["seat preference", "birth date", "phone"]), max_size=2),
)


@settings(max_examples=80, deadline=None)
@given(
    facts=st.sampled_from(_FACTS),
    value=st.none() | _VALUES,
    template=st.sampled_from(_SENTENCES),
    n=st.integers(1, 400),
    opaque=st.from_regex(r"\A(f|x|k_)[0-9]{1,3}\Z"),
    language=st.sampled_from(["en", "es", "pt"]),
)
def test_an_opaque_fact_name_never_creates_a_contradiction(
    facts: dict[str, object],
    value: object,
    template: str,
    n: int,
    opaque: str,
    language: str,
) -> None:
    """No invented matches: every contradiction found under an opaque name (f1, x27) is found
    under the named key too, so what ties a number or an item to a fact is its name's words
    (or a cue in the answer), never a guess."""
    (key, original) = next(iter(facts.items()))
    fact_value = original if value is None else value
    text = template.format(n=n)
    named = _contradictions(text, _case(language, {key: fact_value}))
    renamed = {
        (span, source.replace(f"facts.{opaque}", f"facts.{key}"))
        for span, source in _contradictions(text, _case(language, {opaque: fact_value}))
    }
    assert renamed <= named


@settings(max_examples=60, deadline=None)
@given(
    key=st.text(min_size=1, max_size=60),
    value=_VALUES,
    text=st.text(max_size=200),
)
def test_any_fact_name_and_answer_are_checked_without_error(
    key: str, value: object, text: str
) -> None:
    """Names in any script, with digits, symbols or camelCase, never break the check, and a
    finding always points at text of the answer."""
    case = _case("es", {key: value})
    answer = f"Tu {key} tiene 20 días y fue expuesto. {text}"
    for finding in _found(answer, case):
        span = finding.evidence.span
        if span is not None:
            assert answer[span.start : span.end] == span.text
