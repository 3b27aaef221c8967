"""The bundled demo reaches every decision from real evidence, and the machinery it needs holds:
a recorded bot is only ever replayed (a missing answer is an error, never a pass), a target can
answer a subset of the suite's cases, baselines are never in a scope, and an approval says what
it approves and asks for confirmation when it would approve nothing.

The demo's own test runs the recorded bot (and the bundled model from its cassette) but never
starts the bundled model: that takes minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from builders import case_dict, run_suite, write_suite
from typer.testing import CliRunner

from evals.cassettes import CassetteEntry, cassette_key, now, prompt_parts
from evals.cli import app
from evals.compliance import verify
from evals.prompts import render_messages
from evals.publish import publish
from evals.records import Case, PolicyBook, Target
from evals.scope import load_scope
from evals.scorecard import build_scorecard
from evals.suite_file import DEMO_SUITE, build_plan

PASSING = case_dict("c")["reference"]
BOT = {"name": "bot", "model": "fake/scripted", "params": {"extra": {"replies": [PASSING]}}}


def demo_without_live_model(root: Path, keep: set[str]) -> Path:
    """The bundled demo suite, with only the targets in `keep`, its paths made absolute and its
    output under `root`: the same cases, policies, cassettes, samples and gates."""
    data = yaml.safe_load(DEMO_SUITE.read_text(encoding="utf-8"))
    base = DEMO_SUITE.parent
    for source in data["cases"]:
        source["path"] = str(base / source["path"])
    data["policies"] = [str(base / p) for p in data["policies"]]
    data["replay"] = {**data.get("replay", {}), "dir": str(base / "cassettes")}
    data["targets"] = [t for t in data["targets"] if t["name"] in keep]
    data["output"] = str(root / "out")
    path = root / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def evals_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "evals", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_demo_reaches_automate_assist_and_human_for_the_recorded_bot(tmp_path: Path) -> None:
    """The measure of the demo: its scorecard holds automate, assist and human for the recorded
    bot and human for the bundled model (replayed from its committed cassette here, so the
    model is not started; about 15 s)."""
    suite = demo_without_live_model(tmp_path, {"acme-bot", "smollm2"})
    done = evals_process("run", suite, "--replay", "replay", "-q")
    assert done.returncode == 0, done.stderr
    [folder] = (tmp_path / "out" / "reports").iterdir()
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    decided: dict[str, dict[str, str]] = {}
    for d in card["decisions"]:
        decided.setdefault(d["target"], {})[d["intent"]] = d["outcome"]
    bot = decided["acme-bot"]
    outcomes = Counter(bot.values())
    assert outcomes["automate"] >= 1 and outcomes["assist"] >= 1 and outcomes["human"] >= 1
    assert outcomes["insufficient_evidence"] >= 1
    # Crisis intents are never automated: the bot's canned crisis replies fail, so human.
    crisis = {s["key"] for s in card["scores"] if s["group"] == "intent" and s["kind"] == "crisis"}
    assert crisis and all(bot[intent] == "human" for intent in crisis)
    # The bundled model fails with evidence: human on every intent it answered.
    assert set(decided["smollm2"].values()) == {"human"}
    # Every recorded answer replayed: no error, so no decision is made of missing answers.
    assert all(s["errors"] == 0 for s in card["scores"])
    smollm2 = next(s for s in card["scores"] if s["target"] == "smollm2" and s["key"] == "*")
    assert smollm2["cases"] < 20  # the demo slice only, not the library


def test_the_automated_intent_is_automated_by_the_engine_not_by_the_file(tmp_path: Path) -> None:
    """Decisions come from the decision engine: one wrong fee in one of the automated intent's
    120 recorded answers is caught by the guardrails and takes automate away."""
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    lines = (DEMO_SUITE.parent / "cassettes" / "acme-bot.jsonl").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in lines.splitlines()]
    automated = [e for e in entries if e["case"].startswith("mercanta-shipping-times-")]
    assert "USD 9.99" in automated[0]["text"]
    automated[0]["text"] = automated[0]["text"].replace("USD 9.99", "USD 4.99")
    (cassettes / "acme-bot.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8"
    )
    suite = demo_without_live_model(tmp_path, {"acme-bot"})
    data = yaml.safe_load(suite.read_text(encoding="utf-8"))
    data["cases"][0]["path"] = str(DEMO_SUITE.parent.parent / "library/mercanta/*.yaml")
    data["replay"]["dir"] = str(cassettes)
    suite.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    store, run_id = run_suite(suite)
    card = build_scorecard(store.run(run_id), store.plan(run_id))
    decision = card.decision("acme-bot", "shipping_times")
    assert decision is not None and decision.outcome == "assist", decision


def recorded_suite(root: Path, answers: dict[str, str], **extra: Any) -> Path:
    """A suite with a recorded bot `rec` whose cassette answers the given cases (sample 0)."""
    suite = write_suite(
        root, n_cases=2, targets=[{"name": "rec", "model": "recorded/rec"}], extra=extra
    )
    plan = build_plan(suite, replay_mode="replay")
    target = plan.suite.targets[0]
    cassette = root / "cassettes"
    cassette.mkdir()
    policy: PolicyBook = plan.policies["acme"]
    with (cassette / "rec.jsonl").open("w", encoding="utf-8") as handle:
        for case in plan.cases:
            if case.id not in answers:
                continue
            messages = render_messages(case, target, policy)
            entry = CassetteEntry(
                key=cassette_key(target, messages, 0),
                target="rec",
                model=target.model,
                case=case.id,
                sample=0,
                text=answers[case.id],
                recorded=now(),
                prompt=prompt_parts(case, target, policy),
            )
            handle.write(entry.model_dump_json() + "\n")
    return suite


def test_a_recorded_bot_is_replayed_in_every_mode_and_a_missing_answer_is_an_error(
    tmp_path: Path,
) -> None:
    for mode in ("off", "record", "auto"):
        root = tmp_path / mode
        suite = recorded_suite(root, {"c000": PASSING}, gates={"max_errors": 5})
        before = (root / "cassettes" / "rec.jsonl").read_bytes()
        store, run_id = run_suite(suite, replay_mode=mode)
        results = {r.case_id: r for r in store.run(run_id).results}
        assert results["c000"].passed and results["c000"].response.cached
        missing = results["c001"]
        assert not missing.passed and missing.response.error is not None
        assert "recorded bot" in missing.response.error and "--replay auto" not in (
            missing.response.error
        )
        # Nothing was recorded over the written answers, whatever the mode said.
        assert (root / "cassettes" / "rec.jsonl").read_bytes() == before
        card = build_scorecard(store.run(run_id), store.plan(run_id))
        assert card.score("rec", "target", "*").errors == 1  # type: ignore[union-attr]


def test_a_recorded_bot_needs_no_provider_and_a_misspelt_prefix_still_does(
    tmp_path: Path,
) -> None:
    suite = recorded_suite(tmp_path / "ok", {"c000": PASSING, "c001": PASSING})
    done = CliRunner().invoke(app, ["validate", str(suite)])
    assert done.exit_code == 0, done.stdout + done.stderr
    bad = write_suite(tmp_path / "bad", targets=[{"name": "rec", "model": "recorded/"}])
    done = CliRunner().invoke(app, ["validate", str(bad)])
    assert done.exit_code == 2 and "model 'recorded/'" in done.stderr


def test_case_tags_choose_the_cases_a_target_answers(tmp_path: Path) -> None:
    cases = [case_dict(f"c{i}", tags=["demo"] if i < 2 else []) for i in range(5)]
    suite = write_suite(
        tmp_path,
        cases=cases,
        samples=2,
        targets=[{**BOT, "name": "wide"}, {**BOT, "name": "narrow", "case_tags": ["demo"]}],
    )
    store, run_id = run_suite(suite)
    answered = Counter(r.target for r in store.run(run_id).results)
    assert answered == {"wide": 10, "narrow": 4}
    card = build_scorecard(store.run(run_id), store.plan(run_id))
    complete = {c.target: c for c in card.gates.checks if c.gate == "complete"}
    assert complete["narrow"].status == "passed" and complete["narrow"].setting == "4"
    assert complete["wide"].status == "passed" and complete["wide"].setting == "10"
    publish(store, run_id)
    assert verify(store, run_id).intact


def test_a_deleted_answer_of_a_narrow_target_is_still_named_missing(tmp_path: Path) -> None:
    cases = [case_dict(f"c{i}", tags=["demo"] if i < 2 else []) for i in range(3)]
    suite = write_suite(
        tmp_path, cases=cases, targets=[{**BOT, "name": "narrow", "case_tags": ["demo"]}]
    )
    store, run_id = run_suite(suite)
    with store.db:
        store.db.execute("DELETE FROM results WHERE case_id = 'c1'")
    report = verify(store, run_id)
    assert not report.intact
    assert any("case 'c1', target 'narrow'" in p for p in report.problems), report.problems
    assert not any("'c2'" in p for p in report.problems)


def test_case_tags_that_select_nothing_are_an_input_error(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, targets=[{**BOT, "case_tags": ["nosuchtag"]}])
    done = CliRunner().invoke(app, ["validate", str(suite)])
    assert done.exit_code == 2
    assert "case_tags" in done.stderr and "select none" in done.stderr


def test_baselines_are_decided_but_never_in_the_scope(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        targets=[
            {"name": "ref", "model": "reference"},
            {**BOT, "name": "yardstick", "baseline": True},
            BOT,
        ],
    )
    store, run_id = run_suite(suite)
    result = publish(store, run_id)
    card = build_scorecard(store.run(run_id), store.plan(run_id))
    assert {d.target for d in card.decisions} == {"ref", "yardstick", "bot"}
    scope = load_scope(result.folder / "scope.yaml")
    assert [t.target for t in scope.targets] == ["bot"]
    assert Target(name="r", model="reference").is_baseline
    assert not Target(name="b", model="fake/scripted").is_baseline


def approve_cli(scope: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        app, ["approve", str(scope), "--by", "Ana Ruiz", "--out", str(out), *extra]
    )


def test_approve_prints_what_it_approves_and_asks_before_approving_nothing(
    tmp_path: Path,
) -> None:
    suite = write_suite(tmp_path, targets=[BOT, {"name": "ref", "model": "reference"}])
    store, run_id = run_suite(suite)
    scope = publish(store, run_id).folder / "scope.yaml"
    out = tmp_path / "out"
    refused = approve_cli(scope, out)
    assert refused.exit_code == 1 and "NOT APPROVED" in refused.stderr
    assert "every one of the 1 intents" in refused.stderr and "--yes" in refused.stderr
    assert f"run {run_id}" in refused.stdout and "default@1" in refused.stdout
    assert "insufficient evidence (1): refund_status" in refused.stdout
    assert "not in the scope (baselines): ref" in refused.stdout
    listed = CliRunner().invoke(app, ["approvals", "--out", str(out)])
    assert run_id not in listed.stdout
    done = approve_cli(scope, out, "--yes")
    assert done.exit_code == 0 and "approved by Ana Ruiz" in done.stdout
    listed = CliRunner().invoke(app, ["approvals", "--out", str(out)])
    assert run_id in listed.stdout and "default@1" in listed.stdout


def test_a_scope_with_a_decision_is_approved_without_yes(tmp_path: Path) -> None:
    cases = [case_dict(f"c{i}", expect={"required_facts": ["amount"]}) for i in range(2)]
    failing = {**BOT, "params": {"extra": {"replies": ["Lo reviso y le escribo."]}}}
    suite = write_suite(tmp_path, cases=cases, targets=[failing])
    store, run_id = run_suite(suite)
    scope = publish(store, run_id).folder / "scope.yaml"
    done = approve_cli(scope, tmp_path / "out")
    assert done.exit_code == 0, done.stderr
    assert "human (1): refund_status" in done.stdout


def test_yes_never_overrides_a_refusal(tmp_path: Path) -> None:
    broken = {**BOT, "params": {"extra": {"replies": ["Hola {first_name}, ya está."]}}}
    suite = write_suite(tmp_path, targets=[broken], extra={"gates": {"min_pass_rate": 0.9}})
    store, run_id = run_suite(suite)
    scope = publish(store, run_id).folder / "scope.yaml"
    done = approve_cli(scope, tmp_path / "out", "--yes")
    assert done.exit_code == 1 and "REFUSED" in done.stderr and "failed its gates" in done.stderr


def test_a_case_without_reference_is_fine_for_a_target_that_does_not_answer_it(
    tmp_path: Path,
) -> None:
    cases = [case_dict("c0", tags=["demo"]), case_dict("c1", reference=None)]
    suite = write_suite(
        tmp_path,
        cases=cases,
        targets=[{"name": "ref", "model": "reference", "case_tags": ["demo"]}, BOT],
    )
    plan = build_plan(suite)
    answered: dict[str, list[Case]] = {t.name: plan.cases_for(t) for t in plan.suite.targets}
    assert [c.id for c in answered["ref"]] == ["c0"] and len(answered["bot"]) == 2
