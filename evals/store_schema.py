"""The run store's tables and their migrations: opening a store file brings it to the current
format in place, or refuses a store written by a newer supportgate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from evals.errors import InputError
from evals.records import RUN_FORMAT_VERSION

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
    plan TEXT NOT NULL,
    head TEXT
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
    seq INTEGER,
    prev TEXT,
    chain TEXT,
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
CREATE TABLE IF NOT EXISTS scan_cases (
    run_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    intent TEXT NOT NULL,
    language TEXT NOT NULL,
    kind TEXT NOT NULL,
    risk TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id)
);
"""

#: Columns format 2 added; a format-1 store gets them in place (its rows keep NULL).
CHAIN_COLUMNS = {"results": ("seq INTEGER", "prev TEXT", "chain TEXT"), "runs": ("head TEXT",)}


def open_store(path: Path) -> sqlite3.Connection:
    """Connect to the store at `path` (WAL, autocommit: each caller opens its transactions),
    creating the tables and migrating an older format; an InputError if it cannot be used."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint (and fsync) every ~16k pages instead of every 1000: a checkpoint blocks
        # the run's event loop, and with one commit per result the default checkpoints often.
        db.execute("PRAGMA wal_autocheckpoint=16384")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key='format_version'").fetchone()
        if row is not None and int(row[0]) > RUN_FORMAT_VERSION:
            raise InputError.single(
                path,
                f"run store format {row[0]} is newer than this version of supportgate "
                f"understands ({RUN_FORMAT_VERSION}); upgrade supportgate",
            )
        if row is None or int(row[0]) < RUN_FORMAT_VERSION:
            migrate(db)
    except sqlite3.DatabaseError as exc:
        raise InputError.single(path, f"not a usable run store: {exc}") from None
    return db


def migrate(db: sqlite3.Connection) -> None:
    """Bring a new or older store to the current format in place. Format 1 to 2 adds the
    chain columns; rows already stored keep NULL there (they were never chained, and
    nothing can chain them now without vouching for what nobody checked)."""
    with db:
        db.execute("BEGIN IMMEDIATE")  # two processes opening one old store: one migrates
        for table, columns in CHAIN_COLUMNS.items():
            have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column.split()[0] not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
        db.execute("CREATE INDEX IF NOT EXISTS results_seq ON results (run_id, seq)")
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('format_version', ?)",
            (str(RUN_FORMAT_VERSION),),
        )
