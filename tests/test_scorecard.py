"""Scorecards from real runs: counts, intervals, pass^k, stability, and the gates they feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import case_dict, run_suite, write_suite

from evals.scorecard import Scorecard, build_scorecard

GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
FABRICATED = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles y te regalamos un cupón de 20 €."


def scripted(name: str, replies: list[str]) -> dict[str, Any]:
    return {"name": name, "model": "fake/scripted", "params": {"extra": {"replies": replies}}}


def card_for(tmp_path: Path, **suite_args: Any) -> Scorecard:
    store, run_id = run_suite(write_suite(tmp_path, **suite_args))
    return build_scorecard(store.run(run_id), store.plan(run_id))


def test_counts_intervals_and_pass_k_per_intent(tmp_path: Path) -> None:
    # 4 cases x 3 samples; replies cycle, so every case sees GOOD twice and FABRICATED once.
    card = card_for(
        tmp_path,
        n_cases=4,
        samples=3,
        targets=[scripted("bot", [GOOD, GOOD, FABRICATED]), {"name": "ref", "model": "reference"}],
    )
    bot = card.score("bot", "intent", "refund_status")
    assert bot is not None
    assert (bot.answers, bot.passed, bot.failed, bot.errors) == (12, 8, 4, 0)
    assert bot.pass_rate == pytest.approx(8 / 12)
    assert bot.pass_rate_ci.low < 8 / 12 < bot.pass_rate_ci.high
    assert bot.k == 3 and bot.cases == 4
    # Every case had one failing sample: pass^3 is 0 although two thirds of answers pass.
    assert bot.cases_all_passed == 0 and bot.flaky == 4
    assert [c.code for c in bot.findings] == ["policy.unsupported"]
    assert bot.findings[0].answers == 4
    assert bot.critical_answers == 4
    ref = card.score("ref", "target", "*")
    assert ref is not None and ref.pass_rate == 1.0 and ref.stable_pass == 4
    assert card.score("bot", "language", "es") is not None
    assert {o.stability for o in card.cases if o.target == "bot"} == {"flaky"}
    assert all(not r.passed for r in card.failing) and len(card.failing) == 4


def test_decisions_carry_reasons_with_counts(tmp_path: Path) -> None:
    card = card_for(tmp_path, n_cases=4, samples=3, targets=[scripted("bot", [FABRICATED])])
    decision = card.decision("bot", "refund_status")
    assert decision is not None
    assert decision.outcome == "human"
    text = " ".join(decision.reasons)
    assert "12 of 12 answers stated a policy the company does not have" in text
    assert decision.policy.startswith("default@1#")


def test_too_few_answers_is_insufficient_evidence_not_a_verdict(tmp_path: Path) -> None:
    card = card_for(tmp_path, n_cases=2, samples=3, targets=[{"name": "ref", "model": "reference"}])
    decision = card.decision("ref", "refund_status")
    assert decision is not None
    assert decision.outcome == "insufficient_evidence"
    assert decision.more_answers_needed and decision.more_answers_needed >= 24


def test_a_decision_gate_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    card = card_for(
        tmp_path,
        n_cases=2,
        targets=[{"name": "ref", "model": "reference"}],
        extra={"gates": {"decisions": [{"intent": "refund_status", "at_least": "assist"}]}},
    )
    assert not card.passed
    assert (
        "intent 'refund_status': decision is insufficient evidence, required at least assist"
        in (card.gate_failures[0])
    )


def test_a_gate_on_an_unknown_intent_fails_rather_than_passing_silently(tmp_path: Path) -> None:
    card = card_for(
        tmp_path,
        n_cases=1,
        targets=[{"name": "ref", "model": "reference"}],
        extra={"gates": {"decisions": [{"intent": "no_such_intent", "at_least": "human"}]}},
    )
    assert card.gate_failures == [
        "target 'ref': no decision for intent 'no_such_intent' (required at least human)"
    ]


@pytest.mark.parametrize(("flaky", "passes"), [("fail", False), ("pass", True), ("majority", True)])
def test_flaky_cases_follow_the_gate_policy(tmp_path: Path, flaky: str, passes: bool) -> None:
    card = card_for(
        tmp_path,
        n_cases=2,
        samples=3,
        targets=[scripted("bot", [GOOD, GOOD, FABRICATED])],
        # The case gate alone: the critical-finding gate is off (it would fail the run first).
        extra={"gates": {"cases_must_pass": True, "flaky": flaky, "max_critical": None}},
    )
    assert card.passed is passes
    if not passes:
        assert (
            "2 of 3 samples passed (flaky, counted as failing under flaky: fail)"
            in (card.gate_failures[0])
        )


def test_a_stable_failure_fails_the_case_gate_under_every_flaky_policy(tmp_path: Path) -> None:
    cases = [case_dict("good"), case_dict("bad", messages=[{"role": "user", "content": "x?"}])]
    card = card_for(
        tmp_path,
        samples=2,
        cases=cases,
        targets=[scripted("bot", [GOOD, GOOD, FABRICATED, FABRICATED])],
        extra={"gates": {"cases_must_pass": True, "flaky": "pass", "max_critical": None}},
    )
    assert [o.stability for o in card.cases] == ["stable_fail", "stable_pass"]
    assert card.gate_failures == ["case 'bad' [bot]: 0 of 2 samples passed"]


def test_provider_errors_count_as_answers_that_did_not_pass(tmp_path: Path) -> None:
    target = scripted("bot", [GOOD]) | {"retries": 0, "backoff": 0}
    target["params"]["extra"]["errors"] = {"1": "permanent"}
    card = card_for(tmp_path, n_cases=3, targets=[target], extra={"gates": {"max_errors": 1}})
    score = card.score("bot", "target", "*")
    assert score is not None and (score.errors, score.passed, score.answers) == (1, 2, 3)
    assert card.passed  # one error is tolerated by this suite's gate
    assert "1 of 3 calls failed with an error" in card.decisions[0].reasons


def test_a_decision_gate_on_an_unknown_target_is_an_input_error(tmp_path: Path) -> None:
    from evals.errors import InputError
    from evals.suite_file import build_plan

    suite = write_suite(
        tmp_path,
        targets=[{"name": "ref", "model": "reference"}],
        extra={"gates": {"decisions": [{"intent": "*", "target": "gpt", "at_least": "assist"}]}},
    )
    with pytest.raises(InputError, match=r"unknown target\(s\) \['gpt'\]"):
        build_plan(suite)
