"""A CLI without rough edges (#17): clean --help with an example for every command, `-q` printing
only the final lines, `latest` / `latest~N` wherever a run id is taken, messages without stray
quotes, and the pytest plugin's --evals-no-gates for running a subset locally."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from builders import write_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.errors import InputError, error_text
from evals.run_ids import resolve_run_id
from evals.runner import start_run
from evals.store import RunStore
from evals.suite_file import build_plan

pytest_plugins = ["pytester"]

EVALS = [sys.executable, "-m", "evals"]
COMMANDS = [
    "init",
    "run",
    "validate",
    "scan",
    "runs",
    "show",
    "report",
    "approve",
    "approvals",
    "plan",
    "compare",
    "verify",
    "schema",
    "calibrate",
]


def evals(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"COLUMNS": "80"}
    return subprocess.run(
        [*EVALS, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


# --- help -------------------------------------------------------------------------------------


def help_problems(text: str, command: str | None) -> list[str]:
    """What a user would call a rough edge in a help page."""
    problems = []
    for raw in ("{", "<list[", "<str>", "<path>", "<int>", "<float>"):
        if raw in text:
            problems.append(f"raw placeholder {raw!r}")
    for line in text.splitlines():
        end = line.rstrip()
        ellipsis = end.endswith("...") and not re.search(r"[A-Z\]]\.\.\.$", end)  # PATHS...
        if ellipsis or re.search(r"\((e\.g|i\.e)\.?$", end):
            problems.append(f"cut sentence: {end.strip()!r}")
    if text.count("(") != text.count(")"):
        problems.append("a parenthesis opened and never closed (a sentence cut short)")
    example = f"evals {command} " if command else "evals "
    if "Examples:" not in text or example not in text.split("Examples:", 1)[1]:
        problems.append(f"no example ({example.strip()} ...)")
    return problems


def test_the_help_checker_catches_the_rough_edges_the_issue_found() -> None:
    old_top = "Commands:\n  scan       Check existing responses (e.g.\n"
    old_validate = "Usage: evals validate [OPTIONS] {paths}...\n  paths... <list[Path]>  files\n"
    assert any("cut sentence" in p for p in help_problems(old_top, None))
    assert any("'{'" in p for p in help_problems(old_validate, "validate"))
    assert any("'<list['" in p for p in help_problems(old_validate, "validate"))
    assert any("no example" in p for p in help_problems(old_validate, "validate"))
    good = "Usage: evals show RUN_ID\n\n  Examples:\n\n    evals show latest --out out\n"
    assert help_problems(good, "show") == []


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_page_is_clean_and_has_an_example(command: str | None) -> None:
    done = evals(*([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert help_problems(done.stdout, command) == [], done.stdout


def test_the_command_list_shows_whole_one_line_summaries() -> None:
    listing = evals("--help").stdout.split("Commands:", 1)[1].split("Examples:", 1)[0]
    rows = [line for line in listing.splitlines() if line.strip()]
    assert [row.split()[0] for row in rows] == COMMANDS  # one line per command: nothing wrapped
    assert all(row.rstrip().endswith(".") for row in rows), rows


def test_a_missing_argument_is_named_by_its_metavar() -> None:
    done = evals("show")
    assert done.returncode == 2 and "Missing argument 'RUN_ID'" in done.stderr


# --- -q ---------------------------------------------------------------------------------------


def test_quiet_prints_only_the_run_line_and_the_gates(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2)
    loud = evals("run", str(suite))
    assert loud.returncode == 0
    assert "cases x 1 samples" in loud.stderr and "decisions (policy" in loud.stdout  # the header

    quiet = evals("run", str(suite), "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    lines = quiet.stdout.splitlines()
    run_id = RunStore.in_folder(tmp_path / "out").runs()[0].id
    assert lines[0] == f"run {run_id}: reports in {tmp_path / 'out' / 'reports' / run_id}/"
    assert lines[-1].startswith("all gates passed — 2 of 2 answers passed")
    # the gate lines of the loud run, in the same order, and nothing else
    assert lines[1:] == [line for line in loud.stdout.splitlines() if line in lines[1:]]
    assert "decisions (policy" not in quiet.stdout and "pass [95% CI]" not in quiet.stdout


def test_quiet_still_shows_why_a_run_failed(tmp_path: Path) -> None:
    failing = {
        "name": "flaky",
        "model": "fake/scripted",
        "backoff": 0,
        "retries": 0,
        "params": {"extra": {"errors": {"1": "permanent"}}},
    }
    suite = write_suite(tmp_path, n_cases=2, targets=[failing])
    done = evals("run", str(suite), "-q")
    assert done.returncode == 1
    assert "GATE FAILED: target 'flaky': 1 answer(s) failed with an error" in done.stdout
    assert re.match(r"error: c00[01] \[flaky#0\]: scripted permanent error", done.stderr)


# --- latest -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A store with two finished runs; their ids newest first."""
    root = tmp_path_factory.mktemp("two_runs")
    suite = write_suite(root, n_cases=2)
    for _ in range(2):
        assert evals("run", str(suite), "-q").returncode == 0
    out = root / "out"
    store = RunStore.in_folder(out)
    try:
        ids = [run.id for run in store.runs()]
    finally:
        store.close()
    assert len(ids) == 2 and ids[0] > ids[1]  # ids start with the start time
    return out, ids


def test_latest_names_the_newest_run_in_show_report_verify_and_approvals(
    two_runs: tuple[Path, list[str]],
) -> None:
    out, (newest, older) = two_runs
    shown = evals("show", "latest", "--out", str(out))
    assert shown.returncode == 0 and shown.stdout.startswith(f"run {newest} ")
    shown = evals("show", "latest~1", "--out", str(out))
    assert shown.returncode == 0 and shown.stdout.startswith(f"run {older} ")

    to = out.parent / "again"
    reported = evals("report", "latest~1", "--out", str(out), "--to", str(to))
    assert reported.returncode == 0, reported.stderr
    assert f"evals show {older} " in reported.stdout and (to / "scorecard.json").is_file()

    verified = evals("verify", "latest", "--out", str(out))
    assert verified.returncode == 0 and newest in verified.stdout and "INTACT" in verified.stdout

    assert evals("approvals", "--run", "latest", "--out", str(out)).returncode == 0


def test_compare_takes_aliases_for_both_runs(two_runs: tuple[Path, list[str]]) -> None:
    out, (newest, older) = two_runs
    done = evals("compare", "latest~1", "latest", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert re.search(rf"baseline\s+{older}", done.stdout)
    assert re.search(rf"candidate\s+{newest}", done.stdout)


def test_resume_latest_completes_the_newest_run(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2)
    assert evals("run", str(suite), "-q").returncode == 0  # an older, finished run
    out = tmp_path / "out"
    store = RunStore.in_folder(out)
    time.sleep(0.005)
    run_id = start_run(build_plan(suite), store)  # started, then stopped before any answer
    store.close()
    done = evals("run", "--resume", "latest", "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"run {run_id}: ")
    resumed = RunStore.in_folder(out).run(run_id)
    assert resumed.status == "finished" and len(resumed.results) == 2


@pytest.mark.parametrize(
    ("command", "alias", "says"),
    [
        ("show", "latest~2", "'latest~2' names the run 2 before the newest, but the store has 2"),
        ("verify", "latest~x", "'latest~x' is not a run id alias"),
        ("report", "latest1", "'latest1' is not a run id alias"),
        ("compare", "latest~9", "'latest~9' names the run 9 before the newest"),
    ],
)
def test_a_bad_alias_is_an_input_error_listing_the_recent_runs(
    two_runs: tuple[Path, list[str]], command: str, alias: str, says: str
) -> None:
    out, (newest, older) = two_runs
    args = [alias, "latest"] if command == "compare" else [alias]
    done = evals(command, *args, "--out", str(out))
    assert done.returncode == 2
    assert says in done.stderr
    assert f"most recent runs: {newest}, {older}" in done.stderr
    assert "Traceback" not in done.stderr


def test_latest_in_an_empty_or_missing_store_is_an_input_error(tmp_path: Path) -> None:
    missing = evals("show", "latest", "--out", str(tmp_path / "none"))
    assert missing.returncode == 2 and "no run store here" in missing.stderr
    RunStore.in_folder(tmp_path / "empty").close()
    empty = evals("show", "latest", "--out", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "the store has no runs yet" in empty.stderr


@pytest.fixture(scope="module")
def three_run_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, list[str]]:
    root = tmp_path_factory.mktemp("three")
    plan = build_plan(write_suite(root, n_cases=1))
    store = RunStore.in_folder(root / "out")
    started = []
    for _ in range(3):
        started.append(start_run(plan, store))
        time.sleep(0.005)  # start times are stored to the millisecond
    return store, started[::-1]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(back=st.integers(0, 8), suffix=st.sampled_from(["", "~", "x", "~-1", " "]))
def test_latest_n_is_the_nth_run_before_the_newest_or_an_input_error(
    three_run_store: tuple[RunStore, list[str]], back: int, suffix: str
) -> None:
    store, newest_first = three_run_store
    ref = f"latest~{back}{suffix}"
    if suffix == "" and back < len(newest_first):
        assert resolve_run_id(store, ref) == newest_first[back]
    else:
        with pytest.raises(InputError):
            resolve_run_id(store, ref)
    assert resolve_run_id(store, "latest") == newest_first[0]
    assert resolve_run_id(store, newest_first[2]) == newest_first[2]  # ids pass through


# --- messages ---------------------------------------------------------------------------------


def test_an_unknown_guardrail_is_reported_without_stray_quotes(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, extra={"guardrails": ["policy", "nope"]})
    done = evals("run", str(suite), "-q")
    assert done.returncode == 2
    # Named at the suite's line and field since plugins load before the names are checked.
    assert f"error: {suite}:5: record 'nope': field 'guardrails[1]': unknown guardrail 'nope'" in (
        done.stderr
    )
    assert 'error: "' not in done.stderr and "error: '" not in done.stderr
    assert error_text(KeyError("a 'quoted' name")) == "a 'quoted' name"
    assert error_text(ValueError("plain")) == "plain"


# --- the pytest plugin's --evals-no-gates -----------------------------------------------------

GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
CRITICAL = "Tu reembolso llegará pronto. Además te regalamos un cupón de 20 euros."


def _suite(root: Path, reply: str) -> None:
    target: dict[str, Any] = {
        "name": "bot",
        "model": "fake/scripted",
        "params": {"extra": {"replies": [reply]}},
    }
    write_suite(root, n_cases=4, targets=[target])


def test_no_gates_lets_a_k_subset_pass_while_saying_the_gates_were_not_applied(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester.path, GOOD)
    args = ["-p", "evals.pytest_plugin", "--evals-suite", "suite.yaml", "--evals-replay", "off"]
    gated = pytester.runpytest(*args, "-k", "c001")
    # a subset never passes as the whole suite: its missing answers fail the `complete` gate
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.stdout.fnmatch_lines(["GATE FAILED: target 'bot': only 1 of 4 answers stored"])

    subset = pytester.runpytest(*args, "-k", "c001", "--evals-no-gates")
    assert subset.ret == pytest.ExitCode.OK
    subset.assert_outcomes(passed=1, deselected=3)
    subset.stdout.fnmatch_lines(
        [
            "*gates NOT applied (--evals-no-gates)*",
            "GATE FAILED: target 'bot': only 1 of 4 answers stored",
            "gates NOT applied (--evals-no-gates): 1 failed gate check(s) above did not set the "
            "exit status; this is not a gated build*",
        ]
    )
    # stored and reported like any run, as interrupted: `evals run --resume` can complete it
    out = pytester.path / "out" / "pytest"
    runs = RunStore.in_folder(out).runs()
    assert [(r.status, r.results) for r in runs] == [("interrupted", 1)] * 2
    assert (out / "reports" / runs[0].id / "scorecard.json").is_file()


def test_no_gates_still_fails_an_item_that_fails_on_its_own(pytester: pytest.Pytester) -> None:
    _suite(pytester.path, CRITICAL)  # a critical finding fails its item (gates.max_critical: 0)
    args = ["-p", "evals.pytest_plugin", "--evals-suite", "suite.yaml", "--evals-replay", "off"]
    done = pytester.runpytest(*args, "-k", "c001", "--evals-no-gates")
    assert done.ret == pytest.ExitCode.TESTS_FAILED
    done.assert_outcomes(failed=1, deselected=3)
    done.stdout.fnmatch_lines(["*gates NOT applied (--evals-no-gates): *"])
