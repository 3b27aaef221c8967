"""A policy book in another language than the answer, grounded through Apertium
(`guardrails.translation`), on an invented kayak-rental company; and the clear loss when
Apertium is missing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apertium_env import evals_cli, fresh_translations, needs_apertium
from builders import case_dict, write_suite

from evals.records import Case, PolicyBook
from guardrails import check, translation

BOOK = PolicyBook(
    id="remolar",
    name="Remolar Kayaks",
    text="""# Remolar Kayaks rental policy

## Rentals
- A kayak is rented by the day; a late return costs EUR 15.00 per day.
- Lost paddles are invoiced at EUR 60.00.

## Lockers
- Lockers are rented for 12 months; an empty locker is cleared after 3 months without use.
- Keys are replaced within 2 days.
- A lost locker key can be reported in the app within 4 months of the loss.

## Complaints
- Complaints about a rental are answered within 10 days.

## Repairs
- Hull repairs are quoted within 5 business days; a quoted repair is kept for 9 months.
- Warranty on a repaired hull: 24 months.

## Reaching a person
- Harbour desk, every day 8:00 to 20:00.
""",
)


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One translation cache for the session: each book is translated once."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _fresh(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from fresh_translations(cache_home, monkeypatch)


def _policy(answer: str, language: str = "es", book: PolicyBook = BOOK) -> list[tuple[str, str]]:
    case = Case.model_validate(
        case_dict(
            "remolar-1",
            company="remolar",
            language=language,
            intent="lost_key",
            facts={},
            reference=answer,
        )
    )
    return [
        (f.code, f.evidence.span.text)
        for f in check(answer, case, book, guardrails=["policy"])
        if f.severity == "critical"
    ]


RESTATED = "Puede reclamar la pérdida en la aplicación dentro de los 4 meses siguientes."
INVENTED = "Puede reclamar la pérdida en la aplicación dentro de los 5 meses siguientes."


@needs_apertium
def test_a_spanish_answer_restating_an_english_clause_is_grounded_by_its_translation() -> None:
    # The lexicon ties "reclamar" to complaints (10 days); the translated clause on losses
    # says the same as the answer in its words, with the same value.
    assert _policy(RESTATED) == []
    # An invented value is still caught, against the clause the lexicon reads as the subject.
    assert _policy(INVENTED) == [("policy.contradicted", "5 meses")]


@needs_apertium
def test_a_clause_with_two_values_ties_each_to_its_own_sentence() -> None:
    # One clause, two values: the answer's words are those of the sentence stating 4 months,
    # not of the one stating 2 days, and so it is grounded; another value is still caught.
    two = BOOK.text.replace(
        "- Keys are replaced within 2 days.\n- A lost locker key can be reported",
        "- Keys are replaced within 2 days; a lost key can be reported",
    )
    assert two != BOOK.text
    book = PolicyBook(id=BOOK.id, name=BOOK.name, text=two)
    assert _policy(RESTATED, book=book) == []
    assert _policy(INVENTED, book=book) == [("policy.contradicted", "5 meses")]


INSPECTION = (
    "- The harbour staff completes the inspection of the equipment within 3 days after the "
    "return of the kayak."
)
INSPECTED = PolicyBook(
    id=BOOK.id,
    name=BOOK.name,
    text=BOOK.text.replace("## Complaints", f"{INSPECTION}\n\n## Complaints"),
)


def _inspection(days: int) -> str:
    return (
        f"El personal del puerto completa la inspección del equipamiento dentro de {days} días "
        "después del regreso del kayak."
    )


@needs_apertium
def test_a_translated_clause_in_the_answers_words_contradicts_another_value() -> None:
    case = Case.model_validate(
        case_dict("remolar-3", company="remolar", intent="inspection", facts={}, reference="x")
    )
    found = check(_inspection(6), case, INSPECTED, guardrails=["policy"])
    assert [(f.code, f.evidence.span.text if f.evidence.span else None) for f in found] == [
        ("policy.contradicted", "6 días")
    ]
    assert found[0].evidence.checked_against == INSPECTION  # the original, untranslated
    assert _policy(_inspection(3), book=INSPECTED) == []


def test_without_translation_the_other_value_is_still_unsupported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(translation.BINARY_ENV, "/nonexistent/apertium")
    assert _policy(_inspection(6), book=INSPECTED) == [("policy.unsupported", "6 días")]
    assert _policy(_inspection(3), book=INSPECTED) == []


@needs_apertium
def test_evidence_quotes_the_original_clause() -> None:
    case = Case.model_validate(
        case_dict("remolar-2", company="remolar", intent="lost_key", facts={}, reference="x")
    )
    findings = check(INVENTED, case, BOOK, guardrails=["policy"])
    assert findings and all(
        f.evidence.checked_against is not None and f.evidence.checked_against in BOOK.text
        for f in findings
    )


@needs_apertium
def test_clauses_are_translated_in_order_once_and_cached_on_disk(cache_home: Path) -> None:
    texts = ["Keys are replaced within 2 days.", "§§§", "Complaints are answered in 10 days."]
    first = translation.translate(texts, "en", "es")
    assert first is not None and len(first) == 3
    assert "2" in first[0] and "10" in first[2] and "§§§" not in first[1]
    assert "días" in first[0]
    # en -> pt goes through es
    pt = translation.translate(texts, "en", "pt")
    assert pt is not None and "dias" in pt[0]
    files = list((cache_home / "supportgate" / "translations").glob("*.json"))
    assert len(files) >= 2
    # Read back from disk with no Apertium process: the same texts
    translation.clear_cache()
    assert translation.translate(texts, "en", "es") == first
    assert translation.translate(texts, "es", "es") is None  # same language: nothing to do


def test_without_apertium_the_check_still_runs_and_says_what_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(translation.BINARY_ENV, "/nonexistent/apertium")
    reasons = translation.unavailable()
    assert reasons and "apertium is not installed" in reasons[0]
    assert translation.translate(["Keys are replaced within 2 days."], "en", "es") is None
    # The policy check runs on the book's own words: an invented value is still caught.
    assert _policy(INVENTED) == [("policy.contradicted", "5 meses")]
    # What the translation would have grounded is reported (never a silent pass).
    assert _policy(RESTATED) == [("policy.contradicted", "4 meses")]


def _evals(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`evals ARGS` with Apertium made unavailable."""
    return evals_cli(*args, cwd=cwd, apertium=False)


def test_evals_run_warns_in_its_header_when_apertium_is_missing(tmp_path: Path) -> None:
    targets: list[dict[str, Any]] = [{"name": "reference", "model": "reference"}]
    suite = write_suite(tmp_path, n_cases=1, targets=targets)
    done = _evals("run", str(suite), "--replay", "off", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: apertium is not installed" in done.stderr
    # ...and the checks ran: the gates were decided on the checked answer.
    assert "gates passed" in done.stdout
    # The run records that its books were not translated.
    shown = _evals("show", "latest", "--json", "--out", "out", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["versions"]["tools"] == {"apertium": "unavailable"}


def test_evals_scan_warns_when_apertium_is_missing_and_still_checks(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(
        "acme:\n  name: Acme Kayaks\n  text: |\n    Refunds arrive within 10 business days.\n",
        encoding="utf-8",
    )
    record = {
        "id": "t1",
        "company": "acme",
        "language": "es",
        "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
        "response": "Hola {first_name}, tu reembolso llega en 10 días hábiles.",
    }
    source = tmp_path / "t.jsonl"
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    command = ("scan", str(source), "--policies", str(policies), "--workers", "1")
    done = _evals(*command, cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the placeholder was found: checks ran
    assert "warning: apertium is not installed" in done.stderr
    assert "template.placeholder" in done.stdout
    # Without the policy guardrail nothing is lost, and nothing is said.
    quiet = _evals(*command, "--guardrail", "template", cwd=tmp_path)
    assert "apertium" not in quiet.stderr
