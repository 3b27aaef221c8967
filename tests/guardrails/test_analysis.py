"""The guardrails stand on their own (no import of `evals`), and their one analysis per answer
is shared by every check without changing what any check finds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import evals.records
import guardrails.records

ROOT = Path(__file__).resolve().parent.parent.parent

_REFUSE_EVALS = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class RefuseEvals(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "evals" or name.startswith("evals."):
                raise ImportError(f"guardrails imported {name}")
            return None

    sys.meta_path.insert(0, RefuseEvals())
    """
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _REFUSE_EVALS + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_guardrails_import_and_check_without_evals() -> None:
    done = _python(
        """
        import pkgutil, importlib
        import guardrails
        from guardrails.records import Case, PolicyBook

        for module in pkgutil.iter_modules(guardrails.__path__):
            importlib.import_module(f"guardrails.{module.name}")
        case = Case.model_validate({
            "id": "c1", "intent": "refund", "kind": "support", "language": "en",
            "channel": "chat", "risk": "low", "company": "acme",
            "messages": [{"role": "user", "content": "Where is my refund?"}],
        })
        book = PolicyBook(id="acme", name="Acme", text="Refunds take 5 business days.")
        findings = guardrails.check("Hi {first_name}, your refund is on its way.", case, book)
        print(sorted({f.code for f in findings}))
        print(sorted(name for name in sys.modules if name.split(".")[0] == "evals"))
        """
    )
    assert done.returncode == 0, done.stderr
    codes, evals_modules = done.stdout.splitlines()
    assert "'template.placeholder'" in codes  # the checks work without evals
    assert evals_modules == "[]"


def test_the_refusing_finder_does_catch_an_import_of_evals() -> None:
    done = _python("import guardrails\nimport evals.records\n")
    assert done.returncode != 0
    assert "guardrails imported evals" in done.stderr


def test_evals_records_are_the_guardrails_records() -> None:
    for name in ("Case", "Message", "Expect", "PolicyBook", "Span", "Evidence", "Finding"):
        assert getattr(evals.records, name) is getattr(guardrails.records, name)
    assert evals.records.content_hash("x") == guardrails.records.content_hash("x")


def test_facts_reads_the_policy_tables_not_the_policy_guardrail() -> None:
    # The facts family's version hashes every module it imports: a change to the policy
    # guardrail's rules must not change it, while a change to the shared tables does.
    from guardrails.versions import closure

    assert "policy" not in closure(("facts",))
    assert "policy_tables" in closure(("facts",))
    assert "policy_tables" in closure(("policy",))


ANSWER = (
    "Hola Ana. Tu reembolso de MXN 1,250.00 llegará en 5 días hábiles. "
    "No podemos ofrecer un cupón de 15%. Si necesitas algo más, llama al 55 4170 2020."
)


def test_each_sentence_is_analysed_once_for_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.records import Case as EvalsCase
    from evals.records import PolicyBook
    from guardrails import GuardrailContext, GuardrailSet, analysis
    from guardrails.text import clear_caches, sentences

    asked: list[str] = []
    real = analysis.mentions

    def counting(text: str, language: str | None = None, lexicon: object = None) -> list[object]:
        asked.append(text)
        return real(text, language, lexicon)  # type: ignore[arg-type, return-value]

    monkeypatch.setattr(analysis, "mentions", counting)
    case = EvalsCase.model_validate(
        {
            "id": "c1",
            "intent": "refund",
            "kind": "support",
            "language": "es-MX",
            "channel": "chat",
            "risk": "low",
            "company": "acme",
            "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
            "facts": {"refund_amount": "MXN 1,250.00"},
        }
    )
    book = PolicyBook(id="acme", name="Acme", text="Los reembolsos tardan 5 días hábiles.")
    checks = GuardrailSet.build(GuardrailContext(policies={"acme": book}), ["policy", "facts"])
    clear_caches()
    first = checks.run(case, ANSWER)
    # policy reads every sentence's mentions, facts those of sentences with a quantity: each
    # sentence is analysed once for both, and a second answer is analysed afresh.
    assert sorted(asked) == sorted(s.text for s in sentences(ANSWER))
    asked.clear()
    assert checks.run(case, ANSWER) == first and asked == []
    checks.run(case, ANSWER + " Gracias.")
    assert asked  # another text: analysed, not read from the first answer's analysis


@given(st.lists(st.sampled_from(ANSWER.split(". ")), min_size=1, max_size=6))
def test_the_analysis_reads_as_the_text_functions_do(parts: list[str]) -> None:
    from guardrails.analysis import analyse
    from guardrails.grounding import mentions
    from guardrails.text import fold, quantities, sentences

    text = ". ".join(parts)
    done = analyse(text, "es")
    assert [(s.start, s.end, s.text) for s in done.sentences] == [
        (s.start, s.end, s.text) for s in sentences(text)
    ]
    for part in done.sentences:
        assert part.folded == fold(part.text)
        assert list(part.quantities) == quantities(part.text)
        assert list(part.mentions) == mentions(part.text, "es")
