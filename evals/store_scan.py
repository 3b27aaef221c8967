"""The run store's tables for scans: a scored scan's cases (its conversations), kept apart from
the plan so a scan of millions never holds them in one plan, and the counts a scan asks for."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from evals.records import Case


class ScanTables:
    """What `evals.store.RunStore` offers a scan; it works on the store's connection `db`."""

    db: sqlite3.Connection

    def is_scan(self, run_id: str) -> bool:
        """Whether the run's cases are kept apart (a scored scan's conversations)."""
        row = self.db.execute("SELECT 1 FROM scan_cases WHERE run_id = ? LIMIT 1", (run_id,))
        return row.fetchone() is not None

    def add_scan_cases(self, run_id: str, cases: Sequence[Case]) -> None:
        """Keep a scored scan's cases (its conversations), the first of each id winning
        (storing a case again, as a resumed scan may, changes nothing)."""
        if not cases:
            return
        rows = [
            (run_id, c.id, c.intent, c.language, c.kind, c.risk, c.model_dump_json()) for c in cases
        ]
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT OR IGNORE INTO scan_cases VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )

    def scan_case_bodies(self, run_id: str, ids: set[str] | None = None) -> Iterator[str]:
        """A scored scan's cases as stored (JSON), in the order the scan first met them; only
        those in `ids` when given."""
        for case_id, body in self.db.execute(
            "SELECT case_id, body FROM scan_cases WHERE run_id = ? ORDER BY rowid", (run_id,)
        ):
            if ids is None or case_id in ids:
                yield body

    def next_sample(self, run_id: str, case_id: str, target: str) -> int:
        """The sample number the next answer of (case, target) gets: how many are stored."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM results WHERE run_id = ? AND case_id = ? AND target = ?",
            (run_id, case_id, target),
        ).fetchone()
        return int(row[0])

    def largest_group(self, keys: Iterable[tuple[str, str]]) -> int:
        """How often the most frequent of `keys` occurs, counted on disk (a temporary table, a
        transaction per chunk of keys), so counting millions of keys holds few in memory."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS key_counts (a, b, n, PRIMARY KEY (a, b))")
        self.db.execute("DELETE FROM key_counts")
        stream = iter(keys)
        while chunk := list(itertools.islice(stream, 10_000)):
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO key_counts VALUES (?, ?, 1) "
                    "ON CONFLICT (a, b) DO UPDATE SET n = n + 1",
                    chunk,
                )
        most = self.db.execute("SELECT COALESCE(MAX(n), 0) FROM key_counts").fetchone()[0]
        self.db.execute("DELETE FROM key_counts")
        return int(most)
