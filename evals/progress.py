"""Progress of a run: a live bar on a terminal, plain periodic lines in CI or a pipe."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Protocol, TextIO

from evals.records import CaseResult


class Progress(Protocol):
    def start(self, total: int, done: int) -> None: ...

    def advance(self, result: CaseResult) -> None: ...

    def close(self) -> None: ...


class _Counts:
    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.failed = 0
        self.errors = 0

    def add(self, result: CaseResult) -> None:
        self.done += 1
        if result.response.error is not None:
            self.errors += 1
        elif not result.passed:
            self.failed += 1


class SilentProgress(_Counts):
    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done

    def advance(self, result: CaseResult) -> None:
        self.add(result)

    def close(self) -> None:
        return None


class LineProgress(_Counts):
    """One line every `every` seconds or 10% of the work, and one at the end (CI logs)."""

    def __init__(self, stream: TextIO | None = None, every: float = 10.0) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.every = every
        self._last_time = 0.0
        self._last_tenth = -1
        self._t0 = time.monotonic()

    def _line(self) -> None:
        pct = 100 * self.done / self.total if self.total else 100.0
        elapsed = time.monotonic() - self._t0
        print(
            f"progress: {self.done}/{self.total} ({pct:.0f}%) failed={self.failed} "
            f"errors={self.errors} elapsed={elapsed:.1f}s",
            file=self.stream,
            flush=True,
        )

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self._t0 = self._last_time = time.monotonic()
        self._line()

    def advance(self, result: CaseResult) -> None:
        self.add(result)
        tenth = int(10 * self.done / self.total) if self.total else 10
        now = time.monotonic()
        if tenth != self._last_tenth or now - self._last_time >= self.every:
            self._last_tenth, self._last_time = tenth, now
            self._line()

    def close(self) -> None:
        self._line()


class BarProgress(_Counts):
    """A rich progress bar (only on an interactive terminal)."""

    def __init__(self) -> None:
        super().__init__()
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("[bold]answers"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]} · errors {task.fields[errors]}"),
            TimeElapsedColumn(),
            transient=False,
        )
        self._task: Any = None

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self._bar.start()
        self._task = self._bar.add_task("run", total=total, completed=done, failed=0, errors=0)

    def advance(self, result: CaseResult) -> None:
        self.add(result)
        self._bar.update(self._task, advance=1, failed=self.failed, errors=self.errors)

    def close(self) -> None:
        self._bar.stop()


def default_progress() -> Progress:
    if os.environ.get("CI") or not sys.stderr.isatty():
        return LineProgress()
    return BarProgress()
