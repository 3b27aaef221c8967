"""The guardrails stand on their own (no import of `evals`), and their one analysis per answer
is shared by every check without changing what any check finds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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
