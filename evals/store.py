"""The run store: SQLite in WAL mode, one row per result written as it completes.

Each result commits in its own transaction, so a run killed by Ctrl-C or `kill -9` keeps every
result it had; `pending` tells a resumed run what is still missing. The exact plan (suite,
cases, policy books) is stored with the run, so a resume uses the inputs the run started with.
The tables and their migrations are in `evals.store_schema`, a scan's tables in
`evals.store_scan`, the hashing of the chain in `evals.store_chain`.

Results are append-only and hash chained, so compliance can tell when a stored run was edited:
each result records its position in the run (`seq`), the hash it was chained to (`prev`) and
its own link `chain = sha256(prev + canonical JSON of the row and its findings as stored)`. The
first result is chained to a hash of the run's header (id, suite, start, config hash, versions,
targets, plan), so an edited plan breaks the chain too, and a finished run records the chain's
head. `evals.compliance.verify` recomputes all of it. Rows written by a format-1 store carry no
chain (NULL) and are reported as recorded before hash chaining.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evals.errors import InputError
from evals.input_paths import file_problem, folder_problem
from evals.records import (
    RUN_FORMAT_VERSION,
    Case,
    CaseResult,
    Finding,
    Response,
    Run,
    RunPlan,
    Target,
    Versions,
)
from evals.redaction import redact_record
from evals.store_chain import (
    FINDING_FIELDS,
    HEADER_FIELDS,
    ChainLink,
    FindingRow,
    RowLike,
    RunHeader,
    canonical_json,
    header_hash,
    link_hash,
    result_content,
)
from evals.store_scan import ScanTables
from evals.store_schema import CHAIN_COLUMNS, SCHEMA, open_store

#: Names importers find here, whichever module of the store defines them.
__all__ = [
    "CHAIN_COLUMNS",
    "CLOSED_STATUSES",
    "FINDING_FIELDS",
    "HEADER_FIELDS",
    "SCHEMA",
    "STORE_NAME",
    "ChainLink",
    "FindingRow",
    "RowLike",
    "RunHeader",
    "RunStore",
    "RunSummary",
    "canonical_json",
    "header_hash",
    "link_hash",
    "result_content",
]

STORE_NAME = "runs.sqlite"

#: Statuses after which nothing is appended until a resume: the head must be the chain's end.
CLOSED_STATUSES = ("finished", "interrupted")


@dataclass(frozen=True)
class RunSummary:
    id: str
    suite: str
    started: str
    finished: str | None
    status: str
    results: int
    passed: int
    errors: int


def _before(one: tuple[object, ...], other: tuple[object, ...]) -> bool:
    """Whether a stored key sorts before another as SQLite sorts them (text after numbers: a
    value of the wrong type can only be an edit outside supportgate)."""

    def rank(value: object) -> tuple[int, object]:
        if isinstance(value, int | float):
            return (0, value)
        return (1, value) if isinstance(value, str) else (2, repr(value))

    return tuple(map(rank, one)) < tuple(map(rank, other))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunStore(ScanTables):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._locks: dict[str, int] = {}
        problem = folder_problem(path.parent)
        if problem is not None:
            raise InputError.single(path.parent, f"the output folder {problem}")
        problem = file_problem(path)
        if problem is not None:
            raise InputError.single(path, f"the run store {problem}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError.single(
                path.parent, f"cannot create the output folder: {exc}"
            ) from None
        self.db = open_store(path)

    @classmethod
    def in_folder(cls, folder: Path) -> RunStore:
        return cls(folder / STORE_NAME)

    def close(self) -> None:
        for fd in self._locks.values():
            os.close(fd)
        self._locks.clear()
        self.db.close()

    def lock_run(self, run_id: str) -> Path:
        """Hold the run's lock for the life of this store (or process): a second process
        writing the same run (`evals run --resume` twice) gets an InputError naming the lock.

        `flock` on `<store folder>/locks/<run id>.lock`: the kernel releases it when the
        process dies, even by kill -9, so a stale lock never blocks a later resume."""
        if run_id in self._locks:
            return self._lock_path(run_id)
        lock = self._lock_path(run_id)
        try:
            lock.parent.mkdir(exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError.single(lock, f"cannot create the run lock: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise InputError.single(
                lock,
                f"run '{run_id}' is being written by another process (pid {holder}, which "
                "holds this lock); wait for it to finish, or stop it, before resuming",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._locks[run_id] = fd
        return lock

    def _lock_path(self, run_id: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id).lstrip(".")
        return self.path.parent / "locks" / f"{safe or '_'}.lock"

    # --- runs ----------------------------------------------------------------------------

    def create_run(self, run_id: str, plan: RunPlan, versions: Versions) -> None:
        self.db.execute(
            "INSERT INTO runs (id, format_version, suite, started, finished, status, config_hash, "
            "versions, targets, plan) VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, ?, ?)",
            (
                run_id,
                RUN_FORMAT_VERSION,
                plan.suite.name,
                _now(),
                plan.config_hash(),
                versions.model_dump_json(),
                json.dumps([t.model_dump(mode="json") for t in plan.suite.targets]),
                plan.model_dump_json(),
            ),
        )

    def set_status(self, run_id: str, status: str) -> None:
        """Record the run's status; a finished or interrupted run also records its chain head,
        so deleting or appending results afterwards is detected (a resume moves it on)."""
        finished = _now() if status == "finished" else None
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            head = self._last_link(run_id)[1] if status in CLOSED_STATUSES else None
            self.db.execute(
                "UPDATE runs SET status = ?, finished = ?, head = COALESCE(?, head) WHERE id = ?",
                (status, finished, head, run_id),
            )

    def _run_row(self, run_id: str) -> sqlite3.Row:
        self.db.row_factory = sqlite3.Row
        try:
            row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        finally:
            self.db.row_factory = None
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT id FROM runs ORDER BY started DESC")]
            hint = f" (latest: {', '.join(known[:3])})" if known else " (the store has no runs)"
            raise InputError.single(self.path, f"no run with id '{run_id}'{hint}")
        result: sqlite3.Row = row
        return result

    def plan(self, run_id: str, *, scan_cases: bool = True) -> RunPlan:
        """The run's plan; a scored scan's cases (its conversations, kept in `scan_cases` so a
        scan of millions never holds them in one plan) are read into it unless `scan_cases` is
        False (what streaming readers ask for)."""
        plan = RunPlan.model_validate_json(self._run_row(run_id)["plan"])
        if scan_cases and not plan.cases and self.is_scan(run_id):
            cases = [Case.model_validate_json(body) for body in self.scan_case_bodies(run_id)]
            plan = plan.model_copy(update={"cases": cases})
        return plan

    def has_run(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def result_count(self, run_id: str) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0])

    def run(self, run_id: str, *, with_results: bool = True) -> Run:
        """The run as stored, with every result (or none: its header alone)."""
        row = self._run_row(run_id)
        return Run(
            version=row["format_version"],
            id=row["id"],
            suite=row["suite"],
            started=datetime.fromisoformat(row["started"]),
            finished=datetime.fromisoformat(row["finished"]) if row["finished"] else None,
            status=row["status"],
            config_hash=row["config_hash"],
            versions=Versions.model_validate_json(row["versions"]),
            targets=[Target.model_validate(t) for t in json.loads(row["targets"])],
            results=list(self.results(run_id)) if with_results else [],
        )

    def runs(self) -> list[RunSummary]:
        rows = self.db.execute(
            """SELECT r.id, r.suite, r.started, r.finished, r.status,
                      COUNT(x.case_id), COALESCE(SUM(x.passed), 0),
                      COALESCE(SUM(x.error IS NOT NULL), 0)
               FROM runs r LEFT JOIN results x ON x.run_id = r.id
               GROUP BY r.id ORDER BY r.started DESC"""
        ).fetchall()
        return [RunSummary(*row) for row in rows]

    # --- results -------------------------------------------------------------------------

    def _last_link(self, run_id: str) -> tuple[int, str | None]:
        """(seq, chain) of the run's latest chained result; (-1, None) before the first."""
        row = self.db.execute(
            "SELECT seq, chain FROM results WHERE run_id = ? AND seq IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        return (-1, None) if row is None else (int(row[0]), row[1])

    def _header_hash(self, run_id: str) -> str:
        return header_hash(self._run_row(run_id))

    def add_result(self, result: CaseResult) -> None:
        """Store one result and its findings atomically (one transaction, committed), chained
        to the run's latest result. Results are only appended: storing one twice is an error,
        because replacing a result is exactly the silent edit the chain exists to reveal."""
        self.add_results([result])

    def add_results(self, results: Sequence[CaseResult]) -> None:
        """Store results of one run in order, chained one after the other, in ONE transaction
        (all or none): what a scan of many transcripts appends, a commit per batch instead of
        per result."""
        if not results:
            return
        with self.db:
            # IMMEDIATE: the latest link is read and extended under one write lock.
            self.db.execute("BEGIN IMMEDIATE")
            last_seq, last_chain = self._last_link(results[0].run_id)
            prev = self._header_hash(results[0].run_id) if last_seq < 0 else (last_chain or "")
            for result in results:
                last_seq, prev = self._append(result, last_seq + 1, prev)

    def _append(self, result: CaseResult, seq: int, prev: str) -> tuple[int, str]:
        result = redact_record(result)  # safety net: no credential is ever written
        key = (result.run_id, result.case_id, result.target, result.sample)
        findings: list[FindingRow] = [
            (position, f.guardrail, f.code, f.severity, f.message, f.evidence.model_dump_json())
            for position, f in enumerate(result.findings)
        ]
        row: dict[str, object] = {
            "run_id": result.run_id,
            "case_id": result.case_id,
            "target": result.target,
            "sample": result.sample,
            "seed": result.seed,
            "passed": int(result.passed),
            "error": result.response.error,
            "response": result.response.model_dump_json(),
            "created": _now(),
            "seq": seq,
        }
        row["prev"] = prev
        chain = link_hash(prev, result_content(row, findings))
        row["chain"] = chain
        try:
            self.db.execute(
                f"INSERT INTO results ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                tuple(row.values()),
            )
        except sqlite3.IntegrityError:
            raise ValueError(
                f"result of case '{result.case_id}', target '{result.target}', sample "
                f"{result.sample} is already stored in run '{result.run_id}'; stored "
                "results are never replaced"
            ) from None
        # Findings left by a result deleted outside supportgate would block the insert.
        self.db.execute(
            "DELETE FROM findings WHERE run_id=? AND case_id=? AND target=? AND sample=?", key
        )
        self.db.executemany(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, *f) for f in findings],
        )
        return seq, chain

    # --- the hash chain ------------------------------------------------------------------

    def run_header(self, run_id: str) -> RunHeader:
        row = self._run_row(run_id)
        return RunHeader(
            run_id=run_id,
            format_version=int(row["format_version"]),
            suite=row["suite"],
            started=row["started"],
            finished=row["finished"],
            status=row["status"],
            config_hash=row["config_hash"],
            versions=row["versions"],
            head=row["head"],
            hash=header_hash(row),
        )

    def chain_links(self, run_id: str) -> list[ChainLink]:
        """Every result of the run as stored, in chain order (unchained rows first)."""
        return list(self.iter_chain_links(run_id))

    def iter_chain_links(self, run_id: str) -> Iterator[ChainLink]:
        """`chain_links`, streamed: the results in chain order and their findings, read by two
        cursors in the same order (SQLite sorts on disk if it must), never the whole run."""
        order = "r.seq IS NOT NULL, r.seq, r.rowid"
        findings = self.db.execute(
            f"""SELECT r.rowid, {", ".join("f." + name for name in FINDING_FIELDS)}
                FROM results r JOIN findings f ON (f.run_id, f.case_id, f.target, f.sample)
                     = (r.run_id, r.case_id, r.target, r.sample)
                WHERE r.run_id = ? ORDER BY {order}, f.position""",
            (run_id,),
        )
        pending = findings.fetchone()
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        rows = cursor.execute(
            f"SELECT r.rowid AS rowid_, r.* FROM results r WHERE r.run_id = ? ORDER BY {order}",
            (run_id,),
        )
        for row in rows:
            mine: list[FindingRow] = []
            while pending is not None and pending[0] == row["rowid_"]:
                mine.append(
                    (pending[1], pending[2], pending[3], pending[4], pending[5], pending[6])
                )
                pending = findings.fetchone()
            yield ChainLink(
                seq=row["seq"] if type(row["seq"]) is int else None,
                case_id=str(row["case_id"]),
                target=str(row["target"]),
                sample=row["sample"],
                prev=row["prev"] if isinstance(row["prev"], str) else None,
                chain=row["chain"] if isinstance(row["chain"], str) else None,
                content=result_content(row, mine),
                unchained=row["seq"] is None and row["prev"] is None and row["chain"] is None,
            )

    def orphan_findings(self, run_id: str) -> list[tuple[str, str, int]]:
        """Keys that have findings but no result: what a result deleted by hand leaves behind."""
        rows = self.db.execute(
            """SELECT DISTINCT f.case_id, f.target, f.sample FROM findings f
               LEFT JOIN results r ON (r.run_id, r.case_id, r.target, r.sample)
                                    = (f.run_id, f.case_id, f.target, f.sample)
               WHERE f.run_id = ? AND r.case_id IS NULL ORDER BY 1, 2, 3""",
            (run_id,),
        )
        return [(c, t, s) for c, t, s in rows]

    def done_keys(self, run_id: str) -> set[tuple[str, str, int]]:
        rows = self.db.execute(
            "SELECT case_id, target, sample FROM results WHERE run_id = ?", (run_id,)
        )
        return {(c, t, s) for c, t, s in rows}

    def results(self, run_id: str) -> Iterator[CaseResult]:
        """Every result of the run with its findings, ordered by target, case and sample.

        Streams: results and findings are read by two cursors in the same order and merged, so
        a run of millions of answers is never held whole (SQLite sorts on disk if it must)."""
        findings = self.db.execute(
            """SELECT target, case_id, sample, guardrail, code, severity, message, evidence
               FROM findings WHERE run_id = ? ORDER BY target, case_id, sample, position""",
            (run_id,),
        )
        pending = findings.fetchone()
        rows = self.db.execute(
            """SELECT case_id, target, sample, seed, passed, response FROM results
               WHERE run_id = ? ORDER BY target, case_id, sample""",
            (run_id,),
        )
        for case_id, target, sample, seed, passed, response in rows:
            key = (target, case_id, sample)
            # Findings whose result is gone (edited out) sort before the next result: skipped.
            while pending is not None and _before(tuple(pending[:3]), key):
                pending = findings.fetchone()
            mine = []
            while pending is not None and tuple(pending[:3]) == key:
                guardrail, code, severity, message, evidence = pending[3:]
                mine.append(
                    Finding.model_validate(
                        {
                            "guardrail": guardrail,
                            "code": code,
                            "severity": severity,
                            "message": message,
                            "evidence": json.loads(evidence),
                        }
                    )
                )
                pending = findings.fetchone()
            yield CaseResult(
                run_id=run_id,
                case_id=case_id,
                target=target,
                sample=sample,
                seed=seed,
                response=Response.model_validate_json(response),
                findings=mine,
                passed=bool(passed),
            )
