"""The degraded-translation warning: without Apertium, policy books are not translated into an
answer's language, and every command that judges answers against books says so on stderr,
`evals run -q` and `evals validate` included."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from apertium_env import evals_cli as _evals
from builders import write_suite

from guardrails import translation

WARNING = "warning: apertium is not installed"
TARGETS: list[dict[str, Any]] = [{"name": "reference", "model": "reference"}]


def test_a_quiet_run_still_warns_on_stderr_when_apertium_is_missing(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=1, targets=TARGETS)
    done = _evals("run", str(suite), "--replay", "off", "-q", cwd=tmp_path, apertium=False)
    assert done.returncode == 0, done.stderr
    assert WARNING in done.stderr
    assert "apertium" not in done.stdout  # a warning, not part of the quiet result lines
    assert f"run {done.stdout.split()[1]}" not in done.stderr  # -q still drops the header
    if not translation.unavailable():  # with Apertium installed, nothing to warn about
        fine = _evals("run", str(suite), "--replay", "off", "-q", cwd=tmp_path, apertium=True)
        assert fine.returncode == 0, fine.stderr
        assert "apertium" not in fine.stderr


def test_validate_warns_that_books_are_not_translated_when_apertium_is_missing(
    tmp_path: Path,
) -> None:
    write_suite(tmp_path, n_cases=1, targets=TARGETS)
    args = ("validate", "cases", "policies")
    done = _evals(*args, cwd=tmp_path, apertium=False)
    assert done.returncode == 0, done.stderr  # a warning, not a failure
    assert WARNING in done.stderr and "policy books are not translated" in done.stderr
    assert "ok:" in done.stdout
    if not translation.unavailable():
        fine = _evals(*args, cwd=tmp_path, apertium=True)
        assert fine.returncode == 0, fine.stderr
        assert "apertium" not in fine.stderr
    # Without a policy book there is nothing to translate, and nothing is said about it.
    shutil.rmtree(tmp_path / "policies")
    alone = _evals("validate", "cases", cwd=tmp_path, apertium=False)
    assert alone.returncode == 2 and "no policy book was given" in alone.stderr
    assert "apertium" not in alone.stderr
