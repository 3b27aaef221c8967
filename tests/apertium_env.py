"""Running with and without Apertium in tests: the skip marker for tests that need its language
pairs, fresh translation and policy caches around each test, and `evals` in a process of its
own with this machine's Apertium or with it made unavailable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails import translation
from guardrails.text import clear_policy_caches

needs_apertium = pytest.mark.skipif(
    bool(translation.unavailable()),
    reason="Apertium with the eng-spa and es-pt pairs is not installed (scripts/install "
    "installs it): " + " ".join(translation.unavailable()),
)


def fresh_translations(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Translations cached under `cache_home`, in-memory translation and policy caches emptied
    before and after: the body of a module's autouse fixture."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    translation.clear_cache()
    clear_policy_caches()
    yield
    translation.clear_cache()
    clear_policy_caches()


def evals_cli(*args: str, cwd: Path, apertium: bool = True) -> subprocess.CompletedProcess[str]:
    """`evals ARGS` in `cwd`, in a process of its own, with this machine's Apertium or with it
    made unavailable; its translations cached under `cwd/cache`."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")}
    if not apertium:
        env[translation.BINARY_ENV] = "/nonexistent/apertium"
    return subprocess.run(
        [sys.executable, "-m", "evals", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
