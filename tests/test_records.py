from __future__ import annotations

import pytest
from builders import case_dict
from pydantic import ValidationError

from evals.records import (
    Case,
    CaseResult,
    Expect,
    Finding,
    PolicyBook,
    Response,
    Suite,
    Target,
)


def test_case_round_trips_through_json() -> None:
    case = Case.model_validate(case_dict("c1", expect={"register": "tu", "max_words": 80}))
    again = Case.model_validate_json(case.model_dump_json())
    assert again == case
    assert again.expect.register_ == "tu"
    assert '"register":"tu"' in case.model_dump_json()


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Case, case_dict("c1", colour="red")),
        (Expect, {"registr": "tu"}),
        (PolicyBook, {"id": "a", "name": "A", "text": "t", "owner": "x"}),
        (Target, {"name": "t", "model": "openai/gpt-4o-mini", "temprature": 0.2}),
    ],
)
def test_unknown_fields_are_rejected(model: type, data: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(data)


def test_records_are_frozen() -> None:
    case = Case.model_validate(case_dict("c1"))
    with pytest.raises(ValidationError):
        case.id = "other"  # type: ignore[misc]


def test_yaml_dates_in_facts_stay_iso_text() -> None:
    import datetime

    case = Case.model_validate(case_dict("c1", facts={"purchase_date": datetime.date(2026, 3, 1)}))
    assert case.facts["purchase_date"] == "2026-03-01"


def test_conversation_must_end_with_the_customer() -> None:
    with pytest.raises(ValidationError, match="must end with a user message"):
        Case.model_validate(
            case_dict(
                "c1",
                messages=[
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                ],
            )
        )


def test_required_facts_must_exist() -> None:
    with pytest.raises(ValidationError, match="not given"):
        Case.model_validate(case_dict("c1", expect={"required_facts": ["refund_date"]}))


def test_policy_version_defaults_to_content_hash() -> None:
    a = PolicyBook(id="a", name="A", text="Refunds in 10 days.")
    b = PolicyBook(id="a", name="A", text="Refunds in 7 days.")
    assert a.version and a.version != b.version
    assert PolicyBook(id="a", name="A", text="x", version="2026-01").version == "2026-01"


def test_an_errored_call_can_never_pass() -> None:
    with pytest.raises(ValidationError, match="cannot pass"):
        CaseResult(
            run_id="r",
            case_id="c",
            target="t",
            sample=0,
            seed=0,
            response=Response(error="boom"),
            passed=True,
        )


def test_finding_code_belongs_to_its_guardrail() -> None:
    with pytest.raises(ValidationError, match=r"must start with 'policy\.'"):
        Finding(guardrail="policy", code="facts.missing", severity="major", message="m")


def test_credentials_cannot_be_written_into_a_suite() -> None:
    with pytest.raises(ValidationError, match="api_key_env"):
        Target(name="t", model="openai/x", params={"extra": {"api_key": "sk-123"}})


def test_system_prompt_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="unknown fields"):
        Target(name="t", model="openai/x", system_prompt="Hi {customer}")


def test_target_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Suite.model_validate(
            {
                "name": "s",
                "cases": [{"path": "x"}],
                "targets": [{"name": "a", "model": "m"}, {"name": "a", "model": "n"}],
            }
        )
