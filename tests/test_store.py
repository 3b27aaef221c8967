"""The SQLite run store keeps exactly what it was given."""

from __future__ import annotations

from pathlib import Path

from builders import case_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.records import Case, CaseResult, Finding, PolicyBook, Response, RunPlan, Suite
from evals.runner import plan_versions
from evals.store import RunStore

# Text a model or a customer could produce: any unicode except surrogates (not encodable).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


def _plan(case: Case, root: Path) -> RunPlan:
    suite = Suite.model_validate(
        {"name": "s", "cases": [{"path": "x"}], "targets": [{"name": "t", "model": "m"}]}
    )
    return RunPlan(
        suite=suite,
        suite_path=str(root / "suite.yaml"),
        cases=[case],
        policies={"acme": PolicyBook(id="acme", name="Acme", text="Refunds in 10 days.")},
        replay_dir=str(root / "cassettes"),
        output_dir=str(root / "out"),
    )


@settings(max_examples=60, deadline=None)
@given(customer=TEXT.filter(str.strip), answer=TEXT, message=TEXT.filter(str.strip))
def test_any_unicode_survives_the_store_round_trip(
    tmp_path_factory: object, customer: str, answer: str, message: str
) -> None:
    root = tmp_path_factory.mktemp("store")  # type: ignore[attr-defined]
    case = Case.model_validate(
        case_dict("c1", messages=[{"role": "user", "content": customer}], reference=answer)
    )
    plan = _plan(case, root)
    store = RunStore.in_folder(root)
    store.create_run("r1", plan, plan_versions(plan))
    span_end = min(len(answer), 5)
    result = CaseResult(
        run_id="r1",
        case_id="c1",
        target="t",
        sample=0,
        seed=7,
        response=Response(text=answer, latency_ms=1.5, prompt_tokens=3),
        findings=[
            Finding.model_validate(
                {
                    "guardrail": "tone",
                    "code": "tone.repetition",
                    "severity": "minor",
                    "message": message,
                    "evidence": {
                        "span": {"start": 0, "end": span_end, "text": answer[:span_end]},
                        "checked_against": customer,
                    },
                }
            )
        ],
        passed=True,
    )
    store.add_result(result)
    assert list(store.results("r1")) == [result]
    assert store.plan("r1").cases[0] == case
    assert store.run("r1").results == [result]
    store.close()


def test_results_are_committed_one_by_one(tmp_path: Path) -> None:
    """A second connection (another process after a crash) sees each result at once."""
    import sqlite3

    case = Case.model_validate(case_dict("c1"))
    plan = _plan(case, tmp_path)
    store = RunStore.in_folder(tmp_path)
    store.create_run("r1", plan, plan_versions(plan))
    for sample in range(3):
        store.add_result(
            CaseResult(
                run_id="r1",
                case_id="c1",
                target="t",
                sample=sample,
                seed=sample,
                response=Response(text="ok"),
                passed=True,
            )
        )
        other = sqlite3.connect(tmp_path / "runs.sqlite")
        assert other.execute("SELECT COUNT(*) FROM results").fetchone()[0] == sample + 1
        other.close()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_run_id_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from evals.errors import InputError

    store = RunStore.in_folder(tmp_path)
    with pytest.raises(InputError, match="no run with id 'nope'"):
        store.plan("nope")
