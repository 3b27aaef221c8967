"""`policy` misses on companies the rules were not written for: rules of support language that
catch a kind of fault (an action the book forbids, committed to; a value the book gives another
subject), each shown catching a bad invented answer and passing a good one, on an invented
bookshop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apertium_env import fresh_translations, needs_apertium
from builders import case_dict

from evals.records import Case, PolicyBook
from guardrails import check

BOOK = PolicyBook(
    id="papiro",
    name="Papiro",
    text="""# Papiro bookshop policy

## Orders
- Orders ship within 2 business days. Signed editions cannot be cancelled or returned.
- Refunds go back to the original payment method within 6 business days.
- Gift vouchers are valid for 18 months. They are applied at checkout and are never exchanged
  for cash or refunded.
- After 40 days a return cannot be opened; the customer can still write to the publisher.
- Repair of a damaged book: novels within 3 days, dictionaries within 9 days.

## Accounts
- Papiro never asks for a password or a card's security code.
- Deleted reading lists cannot be recovered.

## Reaching a person
- Shop desk, Monday to Saturday 10:00 to 20:00.
""",
)


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache-recall")


@pytest.fixture(autouse=True)
def _fresh(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from fresh_translations(cache_home, monkeypatch)


def _case(language: str, **facts: Any) -> Case:
    return Case.model_validate(
        case_dict("pp1", language=language, company="papiro", facts=facts or {"x": "y"})
    )


def findings(text: str, language: str = "en") -> list[tuple[str, str | None]]:
    found = check(text, _case(language), BOOK, guardrails=["policy"])
    return [(f.code, f.evidence.checked_against) for f in found]


def forbidding(text: str, language: str = "en") -> list[str]:
    """The clauses a `policy.contradicted` finding of the answer quotes."""
    return [c or "" for code, c in findings(text, language) if code == "policy.contradicted"]


def test_a_commitment_to_an_action_the_book_forbids_contradicts_it() -> None:
    bad = forbidding("Your voucher is nearly expired, so we will refund the voucher to your card.")
    assert any("never exchanged" in c for c in bad)
    # the same action on another subject is no contradiction
    assert forbidding("We will refund the novel to your card within 6 business days.") == []


def test_a_pronoun_subject_is_what_the_part_before_it_names() -> None:
    # "They are ... never exchanged for cash or refunded": they are the gift vouchers
    bad = forbidding("I can exchange your gift voucher for cash today.")
    assert any("never exchanged" in c for c in bad)
    assert forbidding("I can exchange the damaged atlas for a new copy.") == []


def test_a_list_of_forbidden_actions_forbids_each() -> None:
    bad = forbidding("No problem: we have returned the signed edition to our stock for you.")
    assert any("Signed editions" in c for c in bad)
    assert forbidding("No problem: we have returned the paperback to our stock for you.") == []


def test_restating_the_prohibition_a_condition_or_a_question_commits_to_nothing() -> None:
    assert forbidding("Signed editions cannot be returned, so we cannot return this one.") == []
    assert forbidding("We can't refund a gift voucher, but it stays valid for 18 months.") == []
    assert forbidding("If the signed edition arrived damaged, we can replace it.") == []
    assert forbidding("Could we cancel the signed edition instead?") == []
    assert forbidding("We can only apply the gift voucher at checkout.") == []


def test_a_prohibition_bound_to_a_time_forbids_only_then() -> None:
    # "After 40 days a return cannot be opened": within them, opening one is allowed
    assert forbidding("You can open a return in the app; 12 days have passed.") == []


def test_a_prohibition_on_asking_is_left_to_privacy() -> None:
    # what may be asked for is the privacy guardrail's: "we ask for a check" is no policy
    assert forbidding("We have asked for a check of your order with the warehouse.") == []


@needs_apertium
def test_a_spanish_answer_is_read_against_the_translated_prohibition() -> None:
    bad = forbidding("Tranquila: podemos recuperar la lista de lectura eliminada.", "es")
    assert any("cannot be recovered" in c for c in bad)
    assert forbidding("Tranquila: podemos recuperar el pedido en la tienda.", "es") == []


def test_a_value_the_book_gives_another_subject_of_a_list_contradicts_it() -> None:
    # "novels within 3 days, dictionaries within 9 days": the dictionary's is 9 days
    bad = forbidding("Your dictionary will be repaired within 3 days.")
    assert any("dictionaries within 9 days" in c for c in bad)
    assert findings("Your dictionary will be repaired within 9 days.") == []
    assert findings("Your novel will be repaired within 3 days.") == []


@needs_apertium
def test_a_spanish_answer_reads_the_list_of_an_english_book_in_translation() -> None:
    bad = forbidding("Su diccionario se repara en 3 días.", "es")
    assert any("dictionaries within 9 days" in c for c in bad)
    assert findings("Su diccionario se repara en 9 días.", "es") == []
    assert findings("Su novela se repara en 3 días.", "es") == []
