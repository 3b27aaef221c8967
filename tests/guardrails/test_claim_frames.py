"""Frames that make a value or a benefit's word something other than a policy claim
(`guardrails.claim_frames`): a benefit that a request asks for, a negated immediacy, an age the
book states as a bare number; and a notice counted back from an event is the book's rule, not
the time a case has left (`facts`). Each shows a wrong answer caught beside a right one passed.
The book is invented (a ski school), with no pack."""

from __future__ import annotations

from builders import case_dict
from hypothesis import given
from hypothesis import strategies as st

from evals.records import Case, PolicyBook
from guardrails import check
from guardrails.claim_frames import book_ages, requested_benefit
from guardrails.grounding import index_policy
from guardrails.lexicon import concepts

BOOK = PolicyBook(
    id="nevada",
    name="Nevada Ski School",
    packs=[],
    text="""# Nevada Ski School: rules

- Private lessons: pupils must be 6 or older; group lessons from age 4 with a parent present.
  Season passes are sold to skiers aged 16 and over.
- No compensation is paid for bad snow or closed slopes; the ski patrol reviews injury claims.
- Lesson refunds reach the original card within 5 business days of the request.
- Cancel a lesson at least 48 hours before it starts, or the lesson is charged.
- Phone 900 700 800, every day 8:00 to 17:00.
""",
)


def _case(language: str, facts: dict[str, object] | None = None) -> Case:
    return Case.model_validate(
        case_dict(
            "n1",
            language=language,
            company="nevada",
            intent="lessons",
            facts=facts if facts is not None else {"pupil": "Ana"},
            messages=[{"role": "user", "content": "A question about lessons."}],
            reference=None,
        )
    )


def codes(text: str, language: str = "en", facts: dict[str, object] | None = None) -> set[str]:
    return {
        f.code
        for f in check(text, _case(language, facts), BOOK, guardrails=["policy", "facts"])
        if f.severity in ("critical", "major")
    }


def test_a_benefit_a_request_asks_for_is_no_offer() -> None:
    assert codes("Claims for compensation are reviewed by the ski patrol.") == set()
    assert codes("Los pedidos de compensación los revisa la patrulla.", "es") == set()
    # the same word offered to this customer is still caught against the book
    assert "policy.contradicted" in codes("We will pay you compensation for the closed slope.")


def test_a_negated_immediacy_claims_none() -> None:
    assert codes("There is no need to pay right away; the refund takes 5 business days.") == set()
    assert codes("Não precisa pagar na hora.", "pt") == set()
    assert codes("O valor da aula é informado na hora da reserva.", "pt") == set()
    assert "policy.unsupported" in codes("Your lesson refund reaches your card right away.")


def test_an_age_the_book_states_as_a_bare_number_is_supported_in_years() -> None:
    assert codes("Private lessons are for pupils of 6 years and up.") == set()
    assert codes("Los forfaits de temporada se venden a partir de 16 años.", "es") == set()
    assert "policy.unsupported" in codes("Private lessons are for pupils of 8 years and up.")


def test_a_notice_counted_back_from_an_event_is_the_books_rule_not_the_time_left() -> None:
    facts = {"dias_hasta_clase": 10}
    good = "Si cancela con 48 horas de antelación a la clase, no se le cobra."
    assert codes(good, "es", facts) == set()
    assert codes("Pida el cambio como muy tarde 48 horas antes de la clase.", "es", facts) == set()
    bad = "Faltan 4 días para la clase, así que aún puede cancelar."
    assert "facts.contradiction" in codes(bad, "es", facts)


def test_the_books_ages_are_read_from_its_own_wording() -> None:
    assert book_ages(index_policy(BOOK)) == frozenset({6.0, 4.0, 16.0})


@given(st.text(max_size=80), st.integers(min_value=0, max_value=80))
def test_reading_a_requested_benefit_never_fails(text: str, start: int) -> None:
    for language in ("en", "es-MX", "pt-BR", None, "fr"):
        assert requested_benefit(text, min(start, len(text)), language) in (True, False)


def test_the_words_of_an_address_do_not_name_a_clauses_subject() -> None:
    # a Spanish word inside an e-mail address gave an English clause a subject of its own, so
    # a Spanish answer about that subject was read against the mailbox's clause
    book = BOOK.model_copy(
        update={
            "text": "- E-mail answered within 48 hours, at reclamaciones@nevada.example.\n"
            "- Las reclamaciones reciben respuesta en 30 días.\n"
        }
    )
    mailbox, claims = index_policy(book).clauses
    reclamaciones = concepts("reclamaciones")
    assert reclamaciones
    assert not reclamaciones & mailbox.concepts
    assert reclamaciones <= claims.concepts
