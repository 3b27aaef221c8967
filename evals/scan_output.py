"""Where a scan's findings go, written so that `kill -9` loses nothing and `--resume` redoes
nothing: findings to JSONL (or standard output) or Parquet, in input order, in checkpoints.

A scan writing to `FILE` keeps its state in `FILE.scan/` until it ends: `progress.json` (how
many input records are done, how long each output was at that moment, the totals so far) and
the bad records' issues; a scored scan also spools its answers there for the run store, and a
Parquet output its row groups (`parts/`). A checkpoint appends and fsyncs the outputs first and
then replaces `progress.json` atomically, so whatever a kill interrupts, the state on disk
names a prefix of the input whose output is complete. `--resume` truncates every file back to
that checkpoint and reads on from the next record: the result is byte for byte the output of
an uninterrupted scan.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from pydantic import Field

from evals.errors import InputError, InputIssue
from evals.records import Record
from evals.scan import Checked, ScanTotals

#: Version of `progress.json`; a resume refuses a state it does not understand.
#: 2: the answers' spool no longer numbers samples (the store does, when the run is written).
STATE_VERSION = 2
#: A checkpoint at least every this many records or seconds, whichever comes first.
CHECKPOINT_RECORDS = 5000
CHECKPOINT_SECONDS = 5.0
#: Issues printed on standard error; the rest are counted (and all kept in the state).
SHOWN_ISSUES = 100


class Progress(Record):
    """`progress.json`: a consistent prefix of the scan."""

    version: int = STATE_VERSION
    fingerprint: str = Field(description="the inputs and options the scan started with")
    run_id: str | None = None
    scored: bool = False
    records: int = 0
    sizes: dict[str, int] = Field(default_factory=dict)
    parts: int = 0
    totals: dict[str, Any] = Field(default_factory=dict)


def state_folder(out: Path) -> Path:
    return out.with_name(out.name + ".scan")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FindingsWriter:
    """Findings (and the issues and answers that go with them) written in checkpoints.

    `out` None writes the findings to `stdout` and keeps the state in a temporary folder (such
    a scan cannot be resumed)."""

    def __init__(
        self,
        out: Path | None,
        fingerprint: str,
        *,
        resume: bool,
        stdout: TextIO,
        scored: bool,
        run_id: str | None,
    ) -> None:
        self.out = out
        self.parquet = out is not None and out.suffix.lower() == ".parquet"
        self.stdout = stdout
        self.state = state_folder(out) if out is not None else Path(tempfile.mkdtemp("-scan"))
        self.totals = ScanTotals()
        self._rows: list[Checked] = []
        self._since = time.monotonic()
        if resume:
            self.progress = self._resume(fingerprint)
        else:
            if self.state.exists() and out is not None:
                raise InputError.single(
                    self.state,
                    "an interrupted scan of this output is here: finish it with --resume (same "
                    "inputs and options), or delete this folder to start over",
                )
            self.state.mkdir(parents=True, exist_ok=True)
            (self.state / "parts").mkdir(exist_ok=True)
            self.progress = Progress(fingerprint=fingerprint, scored=scored, run_id=run_id)
            if out is not None and not self.parquet:
                out.write_bytes(b"")
            for name in ("issues.jsonl", "answers.jsonl"):
                (self.state / name).write_bytes(b"")
            self._save()
        self._open()

    # --- resume ------------------------------------------------------------------------------

    def _resume(self, fingerprint: str) -> Progress:
        where = self.state / "progress.json"
        if self.out is None:
            raise InputError.single("--resume", "a scan to standard output cannot be resumed")
        if not where.is_file():
            raise InputError.single(
                self.state,
                f"nothing to resume: no interrupted scan writing {self.out} (it finished, or "
                "never started)",
            )
        try:
            progress = Progress.model_validate_json(where.read_bytes())
        except ValueError as exc:
            raise InputError.single(where, f"not a scan checkpoint: {exc}") from None
        if progress.version != STATE_VERSION:
            raise InputError.single(
                where,
                f"this interrupted scan was started by another version of supportgate (state "
                f"version {progress.version}, this one reads {STATE_VERSION}): delete "
                f"{self.state} and scan again",
            )
        if progress.fingerprint != fingerprint:
            raise InputError.single(
                where,
                "the inputs or options differ from those the interrupted scan started with "
                "(give the same transcripts, policies, --map, --guardrail and decision policy)",
            )
        files = {"issues.jsonl": self.state / "issues.jsonl"}
        files["answers.jsonl"] = self.state / "answers.jsonl"
        if not self.parquet and self.out is not None:
            files["out"] = self.out
        for name, path in files.items():
            size = progress.sizes.get(name, 0)
            if not path.exists() or path.stat().st_size < size:
                raise InputError.single(path, "shorter than its checkpoint: cannot resume")
            with path.open("r+b") as handle:
                handle.truncate(size)
        for part in (self.state / "parts").glob("*.parquet"):
            if int(part.stem) >= progress.parts:
                part.unlink()
        totals = progress.totals
        self.totals = ScanTotals(
            records=totals.get("records", 0),
            passed=totals.get("passed", 0),
            failed=totals.get("failed", 0),
            invalid=totals.get("invalid", 0),
            codes={k: list(v) for k, v in totals.get("codes", {}).items()},
        )
        return progress

    # --- writing ---------------------------------------------------------------------------

    def _open(self) -> None:
        self._issues = (self.state / "issues.jsonl").open("ab")
        self._answers = (self.state / "answers.jsonl").open("ab")
        self._out = None if self.out is None or self.parquet else self.out.open("ab")

    def add(self, checked: list[Checked], answer_lines: list[str]) -> None:
        """Take one batch's results (in order) and the scored answers' spool lines."""
        for item in checked:
            self.totals.add(item)
            if item.issues:
                for issue in item.issues:
                    self._issues.write(json.dumps(asdict(issue), ensure_ascii=False).encode())
                    self._issues.write(b"\n")
            else:
                self._rows.append(item)
        if answer_lines:
            self._answers.write(("\n".join(answer_lines) + "\n").encode())
        self.progress = self.progress.model_copy(
            update={"records": self.progress.records + len(checked)}
        )
        if (
            len(self._rows) >= CHECKPOINT_RECORDS
            or time.monotonic() - self._since >= CHECKPOINT_SECONDS
        ):
            self.checkpoint()

    def checkpoint(self) -> None:
        rows, self._rows = self._rows, []
        if self.parquet:
            if rows:
                self._write_part(rows)
        elif self._out is not None:
            self._out.write("".join(r.line + "\n" for r in rows).encode())
        else:
            self.stdout.write("".join(r.line + "\n" for r in rows))
            self.stdout.flush()
        sizes = {}
        for name, handle in (
            ("issues.jsonl", self._issues),
            ("answers.jsonl", self._answers),
            ("out", self._out),
        ):
            if handle is not None:
                handle.flush()
                os.fsync(handle.fileno())
                sizes[name] = handle.tell()
        totals = asdict(self.totals)
        self.progress = self.progress.model_copy(update={"sizes": sizes, "totals": totals})
        self._save()
        self._since = time.monotonic()

    def _write_part(self, rows: list[Checked]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "id": [r.id for r in rows],
                "passed": [bool(r.passed) for r in rows],
                "codes": [[code for code, _ in r.codes] for r in rows],
                "findings": [r.findings_json for r in rows],
                "error": [r.error for r in rows],
            },
            schema=PARQUET_SCHEMA(),
        )
        part = self.state / "parts" / f"{self.progress.parts:08d}.parquet"
        pq.write_table(table, part)
        _fsync(part)
        self.progress = self.progress.model_copy(update={"parts": self.progress.parts + 1})

    def _save(self) -> None:
        target = self.state / "progress.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(self.progress.model_dump_json())
        _fsync(temporary)
        temporary.replace(target)

    def close(self) -> None:
        self.checkpoint()
        for handle in (self._issues, self._answers, self._out):
            if handle is not None:
                handle.close()

    # --- after the last record -------------------------------------------------------------

    def issues(self, limit: int | None = None) -> list[InputIssue]:
        out: list[InputIssue] = []
        with (self.state / "issues.jsonl").open("rb") as handle:
            for raw in handle:
                if limit is not None and len(out) >= limit:
                    break
                out.append(InputIssue(**json.loads(raw)))
        return out

    @property
    def answers_path(self) -> Path:
        return self.state / "answers.jsonl"

    def finish(self) -> None:
        """Assemble the Parquet output from its parts (streaming, one part at a time)."""
        if not self.parquet or self.out is None:
            return
        import pyarrow.parquet as pq

        temporary = self.out.with_name(self.out.name + ".tmp")
        with pq.ParquetWriter(temporary, PARQUET_SCHEMA()) as writer:
            for part in sorted((self.state / "parts").glob("*.parquet")):
                writer.write_table(pq.read_table(part, schema=PARQUET_SCHEMA()))
        temporary.replace(self.out)

    def discard_state(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)


def PARQUET_SCHEMA() -> Any:
    """The findings table: one row per checked answer; `findings` is the JSON list the JSONL
    output carries, `codes` the finding codes alone (for filtering without parsing)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("passed", pa.bool_()),
            ("codes", pa.list_(pa.string())),
            ("findings", pa.string()),
            ("error", pa.string()),
        ]
    )
