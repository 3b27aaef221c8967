"""The run store: SQLite in WAL mode, one row per result written as it completes.

Each result commits in its own transaction, so a run killed by Ctrl-C or `kill -9` keeps every
result it had; `pending` tells a resumed run what is still missing. The exact plan (suite,
cases, policy books) is stored with the run, so a resume uses the inputs the run started with.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evals.errors import InputError
from evals.records import (
    RUN_FORMAT_VERSION,
    CaseResult,
    Finding,
    Response,
    Run,
    RunPlan,
    Target,
    Versions,
)

STORE_NAME = "runs.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    format_version INTEGER NOT NULL,
    suite TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    versions TEXT NOT NULL,
    targets TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL REFERENCES runs(id),
    case_id TEXT NOT NULL,
    target TEXT NOT NULL,
    sample INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    error TEXT,
    response TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id, target, sample)
);
CREATE TABLE IF NOT EXISTS findings (
    run_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    target TEXT NOT NULL,
    sample INTEGER NOT NULL,
    position INTEGER NOT NULL,
    guardrail TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id, target, sample, position)
);
CREATE INDEX IF NOT EXISTS findings_code ON findings (run_id, code);
"""


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint (and fsync) every ~16k pages instead of every 1000: a checkpoint blocks
            # the run's event loop, and with one commit per result the default checkpoints often.
            self.db.execute("PRAGMA wal_autocheckpoint=16384")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.executescript(SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key='format_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputError.single(path, f"not a usable run store: {exc}") from None
        if row is None:
            self.db.execute(
                "INSERT INTO meta VALUES ('format_version', ?)", (str(RUN_FORMAT_VERSION),)
            )
        elif int(row[0]) > RUN_FORMAT_VERSION:
            raise InputError.single(
                path,
                f"run store format {row[0]} is newer than this version of supportgate "
                f"understands ({RUN_FORMAT_VERSION}); upgrade supportgate",
            )

    @classmethod
    def in_folder(cls, folder: Path) -> RunStore:
        return cls(folder / STORE_NAME)

    def close(self) -> None:
        self.db.close()

    # --- runs ----------------------------------------------------------------------------

    def create_run(self, run_id: str, plan: RunPlan, versions: Versions) -> None:
        self.db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, ?, ?)",
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
        finished = _now() if status == "finished" else None
        self.db.execute(
            "UPDATE runs SET status = ?, finished = ? WHERE id = ?", (status, finished, run_id)
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

    def plan(self, run_id: str) -> RunPlan:
        return RunPlan.model_validate_json(self._run_row(run_id)["plan"])

    def run(self, run_id: str) -> Run:
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
            results=list(self.results(run_id)),
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

    def add_result(self, result: CaseResult) -> None:
        """Store one result and its findings atomically (one transaction, committed)."""
        key = (result.run_id, result.case_id, result.target, result.sample)
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *key,
                    result.seed,
                    int(result.passed),
                    result.response.error,
                    result.response.model_dump_json(),
                    _now(),
                ),
            )
            self.db.execute(
                "DELETE FROM findings WHERE run_id=? AND case_id=? AND target=? AND sample=?", key
            )
            self.db.executemany(
                "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        *key,
                        position,
                        f.guardrail,
                        f.code,
                        f.severity,
                        f.message,
                        f.evidence.model_dump_json(),
                    )
                    for position, f in enumerate(result.findings)
                ],
            )

    def done_keys(self, run_id: str) -> set[tuple[str, str, int]]:
        rows = self.db.execute(
            "SELECT case_id, target, sample FROM results WHERE run_id = ?", (run_id,)
        )
        return {(c, t, s) for c, t, s in rows}

    def results(self, run_id: str) -> Iterator[CaseResult]:
        findings: dict[tuple[str, str, int], list[Finding]] = {}
        for (
            case_id,
            target,
            sample,
            guardrail,
            code,
            severity,
            message,
            evidence,
        ) in self.db.execute(
            """SELECT case_id, target, sample, guardrail, code, severity, message, evidence
                   FROM findings WHERE run_id = ? ORDER BY case_id, target, sample, position""",
            (run_id,),
        ):
            findings.setdefault((case_id, target, sample), []).append(
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
        rows = self.db.execute(
            """SELECT case_id, target, sample, seed, passed, response FROM results
               WHERE run_id = ? ORDER BY target, case_id, sample""",
            (run_id,),
        ).fetchall()
        for case_id, target, sample, seed, passed, response in rows:
            yield CaseResult(
                run_id=run_id,
                case_id=case_id,
                target=target,
                sample=sample,
                seed=seed,
                response=Response.model_validate_json(response),
                findings=findings.get((case_id, target, sample), []),
                passed=bool(passed),
            )
