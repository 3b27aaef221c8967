"""The `evals` command as users and CI call it: exit codes, messages, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from builders import case_dict, stored_results, write_suite

from evals.records import RUN_FORMAT_VERSION

EVALS = [sys.executable, "-m", "evals"]


def evals(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # CI=true changes the default replay mode; a test sets it only when that is the point.
    full_env = {k: v for k, v in os.environ.items() if k != "CI"} | (env or {})
    return subprocess.run(
        [*EVALS, *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120
    )


def test_help_is_fast_and_imports_neither_litellm_nor_datasets() -> None:
    code = (
        "import sys\n"
        "from evals.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'datasets', 'evals.runner') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout
    assert "validate" in out.stdout and "scan" in out.stdout


def test_a_passing_run_exits_0_and_lists_its_store(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2, samples=2)
    done = evals("run", str(suite), "-q")
    assert done.returncode == 0, done.stderr
    assert "all gates passed" in done.stdout
    listed = evals("runs", "--out", str(tmp_path / "out"))
    assert "test-suite" in listed.stdout and "finished" in listed.stdout


def test_provider_errors_fail_the_gate_with_exit_1(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=2,
        targets=[
            {
                "name": "flaky",
                "model": "fake/scripted",
                "backoff": 0,
                "retries": 0,
                "params": {"extra": {"errors": {"1": "permanent"}}},
            }
        ],
    )
    done = evals("run", str(suite), "-q")
    assert done.returncode == 1
    assert "GATE FAILED: target 'flaky': 1 answer(s) failed with an error" in done.stdout


def test_broken_suite_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, extra={"samples": 0})
    done = evals("run", str(suite))
    assert done.returncode == 2
    assert f"{suite}:" in done.stderr and "field 'samples'" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_reports_every_error_and_exits_2(tmp_path: Path) -> None:
    write_suite(
        tmp_path,
        cases=[
            case_dict("c1", channel="fax"),
            case_dict("c2", company="nobody"),
            case_dict("c1"),
        ],
    )
    done = evals("validate", str(tmp_path))
    assert done.returncode == 2, done.stdout
    err = done.stderr
    assert "record 'c1': field 'channel'" in err
    assert "record 'c2': field 'company': no policy book for company 'nobody'" in err
    assert "Traceback" not in err
    good = tmp_path / "good"
    write_suite(good, n_cases=3)
    ok = evals("validate", str(good))
    assert ok.returncode == 0 and "3 cases, 1 policy books" in ok.stdout


def test_unknown_run_and_missing_store_are_usage_errors(tmp_path: Path) -> None:
    assert evals("show", "nope", "--out", str(tmp_path)).returncode == 2
    write_suite(tmp_path, n_cases=1)
    evals("run", str(tmp_path / "suite.yaml"), "-q")
    missing = evals("show", "nope", "--out", str(tmp_path / "out"))
    assert missing.returncode == 2 and "no run with id 'nope'" in missing.stderr


def test_replay_runs_never_import_litellm(tmp_path: Path) -> None:
    """A suite whose target is a real litellm model, replayed from its cassette."""
    suite = write_suite(
        tmp_path, n_cases=2, targets=[{"name": "gpt", "model": "openai/gpt-4o-mini"}]
    )
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from evals.suite_file import build_plan\n"
        "from evals.store import RunStore\n"
        "from evals.runner import Engine, start_run\n"
        "from evals.cassettes import Cassette, CassetteEntry, cassette_key, now\n"
        "from evals.prompts import render_messages\n"
        f"plan = build_plan(Path({str(suite)!r}), replay_mode='replay')\n"
        "target = plan.suite.targets[0]\n"
        "cassette = Cassette(Path(plan.replay_dir), target.name)\n"
        "for case in plan.cases:\n"
        "    key = cassette_key(target, render_messages(case, target, plan.policies['acme']), 0)\n"
        "    cassette.put(CassetteEntry(key=key, target='gpt', model=target.model, case=case.id,\n"
        "                 sample=0, text='Tu reembolso llega pronto.', recorded=now()))\n"
        "store = RunStore.in_folder(Path(plan.output_dir))\n"
        "run_id = start_run(plan, store)\n"
        "asyncio.run(Engine(plan, store, run_id).execute())\n"
        "results = list(store.results(run_id))\n"
        "passed = sum(r.passed for r in results)\n"
        "print('PASSED', passed, 'CACHED', sum(r.response.cached for r in results))\n"
        "print('LITELLM', 'litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "PASSED 2 CACHED 2" in out.stdout, out.stderr
    assert "LITELLM False" in out.stdout
    # and through the CLI, CI=true means replay: a run with the cassette in place passes
    done = evals("run", str(suite), env={"CI": "true"})  # not -q: the header names the mode
    assert done.returncode == 0, done.stderr + done.stdout
    assert "replay mode 'replay'" in done.stderr


def test_in_ci_a_missing_cassette_fails_with_the_case_and_the_record_command(
    tmp_path: Path,
) -> None:
    suite = write_suite(
        tmp_path, n_cases=1, targets=[{"name": "gpt", "model": "openai/gpt-4o-mini"}]
    )
    done = evals("run", str(suite), "-q", env={"CI": "true"})
    assert done.returncode == 1
    assert "replay miss" in done.stderr and "case 'c000'" in done.stderr
    assert "this case was never recorded for this target" in done.stderr
    assert f"evals run {suite.resolve()} --replay auto" in done.stderr  # records just the misses


def test_kill_9_keeps_completed_results_and_resume_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    targets = [
        {
            "name": "fake",
            "model": "fake/scripted",
            "concurrency": 2,
            "params": {"extra": {"echo": True, "latency": 0.05}},
        }
    ]
    whole = write_suite(tmp_path / "whole", n_cases=20, samples=2, targets=targets)
    assert evals("run", str(whole), "-q").returncode == 0

    suite = write_suite(tmp_path / "cut", n_cases=20, samples=2, targets=targets)
    store = tmp_path / "cut" / "out" / "runs.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen(
        [*EVALS, "run", str(suite), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while stored_results(store) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = stored_results(store)
    assert 6 <= kept < 40

    run_id = sqlite3.connect(store).execute("SELECT id FROM runs").fetchone()[0]
    resumed = evals("run", "--resume", run_id, "--out", str(store.parent), "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert stored_results(store) == 40

    def signature(db_path: Path) -> list[tuple[object, ...]]:
        db = sqlite3.connect(db_path)
        rows = db.execute(
            "SELECT case_id, target, sample, seed, passed, json_extract(response, '$.text') "
            "FROM results ORDER BY case_id, target, sample"
        ).fetchall()
        db.close()
        return rows

    assert signature(store) == signature(tmp_path / "whole" / "out" / "runs.sqlite")


def test_show_lists_failing_answers_with_their_evidence(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=2,
        targets=[
            {
                "name": "fake",
                "model": "fake/scripted",
                "params": {"extra": {"replies": ["Hola {first_name}, ya está.", "Hola Ana."]}},
            }
        ],
    )
    assert evals("run", str(suite), "-q").returncode == 0  # no pass-rate gate configured
    out = str(tmp_path / "out")
    run_id = (
        sqlite3.connect(tmp_path / "out" / "runs.sqlite")
        .execute("SELECT id FROM runs")
        .fetchone()[0]
    )
    shown = evals("show", run_id, "--out", out)
    assert shown.returncode == 0
    assert "major template.placeholder" in shown.stdout
    assert '"{first_name}" @5-17' in shown.stdout
    as_json = json.loads(evals("show", run_id, "--out", out, "--json").stdout)
    assert as_json["version"] == RUN_FORMAT_VERSION and len(as_json["results"]) == 2


def test_a_pass_rate_gate_fails_the_run(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=2,
        targets=[
            {
                "name": "fake",
                "model": "fake/scripted",
                "params": {"extra": {"replies": ["Hola {first_name}.", "Hola Ana."]}},
            }
        ],
        extra={"gates": {"min_pass_rate": 0.9}},
    )
    done = evals("run", str(suite), "-q")
    assert done.returncode == 1
    assert "pass rate 0.50 is below the required 0.90" in done.stdout


def test_an_unavailable_local_model_is_a_usage_error_before_any_case_runs(
    tmp_path: Path,
) -> None:
    suite = write_suite(tmp_path, targets=[{"name": "tiny", "model": "local/no-such-model"}])
    done = evals("run", str(suite), "-q")
    assert done.returncode == 2
    assert "record 'tiny': field 'model'" in done.stderr and "local/no-such-model" in done.stderr
    assert not (tmp_path / "out" / "runs.sqlite").exists()
