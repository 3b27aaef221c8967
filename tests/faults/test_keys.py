"""Keys, providers and Retry-After: a leaked key is written nowhere, a typo'd model string or a
missing key stops the run before the first call, and a long Retry-After cannot stall a run."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from builders import write_suite
from hypothesis import given
from hypothesis import strategies as st
from mock_provider import ANSWER, MockProvider
from typer.testing import CliRunner

from evals.cli import app
from evals.errors import InputError
from evals.redaction import REDACTED, redact, secrets, watch
from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan
from evals.targets.base import retry_after_seconds
from evals.validate import validate_paths

pytest_plugins = ["pytester"]

KEY_VAR = "SUPPORTGATE_FAULT_CRED"  # no credential-like suffix: only api_key_env marks it
KEY = "sk-fault-" + os.urandom(12).hex()


def _target(name: str, base: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model": "openai/mock-model",
        "api_base": base,
        "api_key_env": KEY_VAR,
        "retries": 0,
        "backoff": 0.01,
        "timeout": 5,
        **extra,
    }


def _evals(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    full = {k: v for k, v in os.environ.items() if k != "CI"} | env
    return subprocess.run(
        [sys.executable, "-m", "evals", *args], capture_output=True, env=full, timeout=120
    )


# --- redaction ------------------------------------------------------------------------------


def test_a_key_echoed_by_the_provider_is_written_nowhere(tmp_path: Path) -> None:
    other = "sk-openai-" + os.urandom(10).hex()  # a litellm default variable is redacted too
    env = {KEY_VAR: KEY, "OPENAI_API_KEY": other}
    with MockProvider() as mock:
        suite = write_suite(
            tmp_path,
            n_cases=2,
            targets=[_target("leaky", mock.url("echo401")), _target("fine", mock.url("ok"))],
            extra={"replay": {"mode": "record", "dir": "cassettes"}},
        )
        done = _evals("run", str(suite), "-q", env=env)
        out = tmp_path / "out"
        runs = [p.name for p in (out / "reports").iterdir() if p.is_dir()]
        assert len(runs) == 1, done.stderr.decode()
        shown = _evals("show", runs[0], "--out", str(out), env=env)
        shown_json = _evals("show", runs[0], "--out", str(out), "--json", env=env)
        # `show` really printed the run (with its errors), so grepping its output means something
        assert shown.returncode == 0 and runs[0].encode() in shown.stdout
        assert shown_json.returncode == 0 and b"[REDACTED]" in shown_json.stdout
    # The key was really sent, and really echoed back: the test is not vacuous.
    assert f"Bearer {KEY}" in mock.auth and mock.calls["echo401"] == 2
    assert done.returncode == 1  # the leaky target's answers are errors: the gate fails
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "suite.yaml"]
    assert any(p.name == "runs.sqlite" for p in files)
    assert any(p.suffix == ".jsonl" for p in files)  # the fine target's recorded answers
    assert {"report.html", "report.md", "scorecard.json", "junit.xml", "manifest.json"} <= {
        p.name for p in files
    }
    outputs = {p.name: p.read_bytes() for p in files}
    outputs |= {"run stdout": done.stdout, "run stderr": done.stderr, "show": shown.stdout}
    outputs |= {"show --json": shown_json.stdout, "show stderr": shown.stderr}
    for secret in (KEY, other):
        leaks = [name for name, data in outputs.items() if secret.encode() in data]
        assert leaks == [], f"key written to {leaks}"
    # ...and the failure is still recorded as an error, with the redaction visible.
    db = sqlite3.connect(out / "runs.sqlite")
    rows = db.execute("SELECT target, passed, error FROM results ORDER BY target").fetchall()
    db.close()
    leaky = [r for r in rows if r[0] == "leaky"]
    assert len(leaky) == 2 and all(not passed and error for _, passed, error in leaky)
    assert all(REDACTED in error for _, _, error in leaky)
    assert all(passed and error is None for t, passed, error in rows if t == "fine")


_KEYISH = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=8
)


@given(key=_KEYISH, before=st.text(max_size=40), after=st.text(max_size=40))
def test_an_api_key_env_value_is_redacted_wherever_it_appears(
    key: str, before: str, after: str
) -> None:
    watch(["MY_PROVIDER_CRED"])
    environ = {"MY_PROVIDER_CRED": key, "PATH": "/usr/bin"}
    text = redact(f"{before}{key}{after}", environ)
    assert key not in text and REDACTED in text


@given(text=st.text(alphabet="abcdefghij klmnop:.,'\"", max_size=80))
def test_text_without_credentials_is_unchanged(text: str) -> None:
    environ = {"OPENAI_API_KEY": "sk-" + "Z" * 30, "HOME": "/home/someone/abcdefghij"}
    assert redact(text, environ) == text


def test_short_values_and_ordinary_variables_are_not_redacted() -> None:
    environ = {"OPENAI_API_KEY": "x", "EDITOR": "vim-extended-edition", "HOME": "/root/abcdef"}
    assert secrets(environ) == []
    assert redact("x marks vim-extended-edition in /root/abcdef", environ) == (
        "x marks vim-extended-edition in /root/abcdef"
    )


def test_bearer_tokens_and_api_key_fields_are_redacted_even_if_unknown() -> None:
    text = redact(
        'Authorization: Bearer tok_unknown_123456 rejected; {"x-api-key": "abcdef123456"}', {}
    )
    assert "tok_unknown_123456" not in text and "abcdef123456" not in text
    assert text.count(REDACTED) == 2
    # prose and the api_key_env field name are not mistaken for credentials
    prose = "bearer instruments and the bearer of this card; see api_key_env of target 'mock'"
    assert redact(prose, {}) == prose


def test_a_key_set_or_changed_after_the_first_redaction_is_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process environment is read on every redaction: nothing set later slips through."""
    first, later, changed, named = ("sk-" + os.urandom(10).hex() for _ in range(4))
    monkeypatch.setenv("SUPPORTGATE_FIRST_API_KEY", first)
    assert redact(f"echo {first}") == f"echo {REDACTED}"
    monkeypatch.setenv("SUPPORTGATE_LATER_API_KEY", later)  # a new credential variable
    assert redact(f"echo {later} {first}") == f"echo {REDACTED} {REDACTED}"
    monkeypatch.setenv("SUPPORTGATE_FIRST_API_KEY", changed)  # an existing one, changed
    assert redact(f"echo {changed}") == f"echo {REDACTED}"
    monkeypatch.setenv("SUPPORTGATE_LATE_TARGET_CRED", named)  # no credential-like name...
    assert redact(named) == named
    watch(["SUPPORTGATE_LATE_TARGET_CRED"])  # ...until a target names it as its api_key_env
    assert redact(named) == REDACTED
    # an ordinary variable set later is not mistaken for a credential
    monkeypatch.setenv("SUPPORTGATE_LATE_EDITOR", "vim-extended-edition-2")
    assert redact("vim-extended-edition-2") == "vim-extended-edition-2"


def test_litellm_log_lines_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.targets.litellm_target import import_litellm

    import_litellm()
    monkeypatch.setenv(KEY_VAR, KEY)
    watch([KEY_VAR])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("LiteLLM")
    logger.addHandler(handler)
    try:
        logger.error("provider answered 401 for key %s", KEY)
        try:
            raise ValueError(f"echo: {KEY}")
        except ValueError:
            logger.exception("call failed")
        logger.error("a clean line stays as it is")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    first, second, clean = logged.splitlines()
    assert KEY not in logged
    assert "REDACTED" in first and "REDACTED" in second  # litellm masks some itself: "REDACTED"
    assert clean == "a clean line stays as it is"


# --- no silent provider ---------------------------------------------------------------------


def _issues(suite: Path) -> list[str]:
    return [str(issue) for issue in validate_paths([suite]).issues]


def test_a_misspelled_model_is_refused_naming_file_target_field_and_the_fix(
    tmp_path: Path,
) -> None:
    suite = write_suite(tmp_path, targets=[{"name": "ref", "model": "referense"}])
    [issue] = _issues(suite)
    assert str(suite) in issue and "record 'ref'" in issue and "field 'model'" in issue
    assert "did you mean 'reference'" in issue.lower() and "openai" in issue
    assert re.match(rf"{re.escape(str(suite))}:\d+: ", issue)  # with the line of `model:`
    # `evals run` refuses it too, before creating a run or calling anything.
    result = CliRunner().invoke(app, ["run", str(suite), "-q", "--replay", "off"])
    assert result.exit_code == 2 and "did you mean 'reference'" in result.output.lower()
    assert not (tmp_path / "out" / "runs.sqlite").exists()


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        ("opnai/gpt-4o-mini", "openai/gpt-4o-mini"),
        ("nosuchprovider/x", None),
        ("gpt-99", None),
        ("openai/", None),
    ],
)
def test_unknown_providers_and_unmapped_bare_names_are_refused(
    tmp_path: Path, model: str, hint: str | None
) -> None:
    suite = write_suite(tmp_path, targets=[{"name": "t", "model": model}])
    [issue] = _issues(suite)
    assert f"model '{model}' names no provider" in issue
    assert (hint in issue) if hint else ("did you mean" not in issue.lower())


def test_known_providers_and_names_litellm_maps_are_accepted(tmp_path: Path) -> None:
    targets = [
        {"name": "a", "model": "openai/my-finetune", "api_base": "http://127.0.0.1:9/v1"},
        {"name": "b", "model": "gpt-4o-mini"},
        {"name": "c", "model": "ollama/llama3"},
        {"name": "d", "model": "anthropic/claude-3-5-haiku-latest"},
        {"name": "e", "model": "reference"},
        {"name": "f", "model": "fake/scripted"},
    ]
    suite = write_suite(tmp_path, targets=targets)
    assert _issues(suite) == []


def test_a_replay_suite_is_still_checked_by_validate(tmp_path: Path) -> None:
    targets = [{"name": "t", "model": "referense"}]
    suite = write_suite(tmp_path, targets=targets, extra={"replay": {"mode": "replay"}})
    [issue] = _issues(suite)
    assert "did you mean 'reference'" in issue.lower()


# --- a missing key stops the run before the first call ----------------------------------------


def test_a_missing_key_stops_the_run_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "   ")  # empty counts as missing
    with MockProvider() as mock:
        suite = write_suite(tmp_path, targets=[_target("live", mock.url("ok"))])
        result = CliRunner().invoke(app, ["run", str(suite), "-q", "--replay", "off"])
    assert result.exit_code == 2
    assert KEY_VAR in result.output and "record 'live'" in result.output
    assert "field 'api_key_env'" in result.output and "--replay replay" in result.output
    assert sum(mock.calls.values()) == 0
    store = RunStore.in_folder(tmp_path / "out")
    assert store.runs() == []  # no half-made run is left behind


def test_a_replayed_run_needs_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with MockProvider() as mock:
        suite = write_suite(tmp_path, n_cases=2, targets=[_target("live", mock.url("ok"))])
        monkeypatch.setenv(KEY_VAR, KEY)
        recorded = CliRunner().invoke(app, ["run", str(suite), "-q", "--replay", "record"])
        assert recorded.exit_code == 0, recorded.output
        monkeypatch.delenv(KEY_VAR)
        for mode in ("replay", "auto"):  # auto: every answer is recorded, so no call either
            replayed = CliRunner().invoke(app, ["run", str(suite), "-q", "--replay", mode])
            assert replayed.exit_code == 0, replayed.output
        # ...but a run that would call the provider does need it.
        live = CliRunner().invoke(app, ["run", str(suite), "-q", "--replay", "record"])
        assert live.exit_code == 2 and KEY_VAR in live.output
    assert mock.calls["ok"] == 2


# --- Retry-After ----------------------------------------------------------------------------


def _run_engine(suite: Path) -> list[Any]:
    plan = build_plan(suite, replay_mode="off")
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id).execute())
    return list(store.results(run_id))


@pytest.mark.parametrize("retry_after", ["3600", "inf", "1e309"])
def test_a_retry_after_beyond_the_cap_ends_in_an_error_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry_after: str
) -> None:
    monkeypatch.setenv(KEY_VAR, KEY)
    with MockProvider() as mock:
        target = _target("limited", mock.url(f"ratelimit/{retry_after}"), retries=3, timeout=20)
        suite = write_suite(tmp_path, n_cases=1, targets=[target])
        t0 = time.monotonic()
        [result] = _run_engine(suite)
        elapsed = time.monotonic() - t0
    assert elapsed < 15  # not 3600 s, nor the 20 s cap: it is not retried at all
    assert not result.passed and result.response.attempts == 1
    assert "retry after inf" in result.response.error or "3600" in result.response.error
    assert "not retried" in result.response.error
    assert mock.calls["ratelimit"] == 1


@pytest.mark.parametrize("retry_after", ["soon", "-5", "nan", "0.1"])
def test_a_short_or_unreadable_retry_after_is_retried_within_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry_after: str
) -> None:
    monkeypatch.setenv(KEY_VAR, KEY)
    with MockProvider() as mock:
        target = _target(
            "limited", mock.url(f"ratelimit/{retry_after}"), retries=2, timeout=10, backoff=0.05
        )
        suite = write_suite(tmp_path, n_cases=1, targets=[target])
        t0 = time.monotonic()
        [result] = _run_engine(suite)
        elapsed = time.monotonic() - t0
    assert elapsed < 25
    error = result.response.error or ""
    assert not result.passed and result.response.attempts == 3, error  # retried, then recorded
    assert "RateLimitError" in error and "after 3 attempts" in error
    assert mock.calls["ratelimit"] == 3


def test_retry_after_values() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds(" 2.5 ") == 2.5
    assert retry_after_seconds("inf") == float("inf")
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == (
        90.0
    )
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0
    for garbage in (None, "", "soon", "-1", "nan", "Wed, 99 Foo"):
        assert retry_after_seconds(garbage) is None


def test_an_ok_provider_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VAR, KEY)
    with MockProvider() as mock:
        suite = write_suite(tmp_path, n_cases=1, targets=[_target("fine", mock.url("ok"))])
        [result] = _run_engine(suite)
    assert result.response.text == ANSWER and result.response.error is None


def test_a_missing_key_fails_engine_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_VAR, raising=False)
    suite = write_suite(tmp_path, targets=[_target("live", "http://127.0.0.1:9/v1")])
    plan = build_plan(suite, replay_mode="off")
    store = RunStore.in_folder(Path(plan.output_dir))
    with pytest.raises(InputError) as caught:
        Engine(plan, store, "r1")
    [issue] = caught.value.issues
    assert issue.field == "api_key_env" and issue.record == "live"
    Engine(build_plan(suite, replay_mode="replay"), store, "r2")  # replaying needs no key


def test_the_pytest_plugin_reports_a_missing_key_as_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_VAR, raising=False)
    write_suite(pytester.path, targets=[_target("live", "http://127.0.0.1:9/v1")])
    args = ("-p", "evals.pytest_plugin", "--evals-suite", "suite.yaml", "--evals-replay", "off")
    done = pytester.runpytest(*args)
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    assert KEY_VAR in str(done.stderr) and "INTERNALERROR" not in str(done.stderr)
    monkeypatch.setenv(KEY_VAR, KEY)  # with the key, the same suite is collected
    collected = pytester.runpytest(*args, "--collect-only", "-q")
    assert collected.ret == pytest.ExitCode.OK, collected.stdout
