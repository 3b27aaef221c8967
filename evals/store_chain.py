"""The hash chain of a stored run: how a run's header and each result are hashed.

Each result records its position in the run (`seq`), the hash it was chained to (`prev`) and
its own link `chain = sha256(prev + canonical JSON of the row and its findings as stored)`. The
first result is chained to a hash of the run's header (id, suite, start, config hash, versions,
targets, plan), so an edited plan breaks the chain too. `evals.store.RunStore` writes and reads
the links; `evals.compliance.verify` recomputes them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The runs columns the first result is chained to: everything fixed when the run starts.
HEADER_FIELDS = ("id", "suite", "started", "config_hash", "versions", "targets", "plan")

FindingRow = tuple[object, object, object, object, object, object]
#: A finding's columns, in the order a link hashes them.
FINDING_FIELDS = ("position", "guardrail", "code", "severity", "message", "evidence")
#: A stored row, read by column name (a dict being inserted, or a `sqlite3.Row` read back).
RowLike = Mapping[str, object] | sqlite3.Row


def _blob(value: object) -> object:
    # Only an edit outside supportgate puts a BLOB in a row; it must hash, not crash verify.
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


def canonical_json(value: object) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8 (the hashed form)."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_blob
    ).encode()


def header_hash(header: RowLike) -> str:
    """The hash the first result is chained to: the run's header columns as stored."""
    return hashlib.sha256(canonical_json({k: header[k] for k in HEADER_FIELDS})).hexdigest()


def link_hash(prev: str, content: bytes) -> str:
    """One link of the chain: sha256(previous link + canonical JSON of the result)."""
    return hashlib.sha256(prev.encode() + content).hexdigest()


def result_content(row: RowLike, findings: Sequence[FindingRow]) -> bytes:
    """What a link hashes: every stored column of a result (but its own chain fields) and its
    findings in order, exactly as stored, so any edit to any of them changes the link."""
    fields = ("run_id", "seq", "case_id", "target", "sample", "seed", "passed", "error")
    return canonical_json(
        {
            **{k: row[k] for k in fields},
            "response": row["response"],
            "created": row["created"],
            "findings": [dict(zip(FINDING_FIELDS, f, strict=True)) for f in findings],
        }
    )


@dataclass(frozen=True)
class RunHeader:
    """A run's row exactly as stored (JSON columns as text), with the hash the chain starts
    from: what verification compares, without parsing anything an editor may have broken."""

    run_id: str
    format_version: int
    suite: str
    started: str
    finished: str | None
    status: str
    config_hash: str
    versions: str
    head: str | None
    hash: str


@dataclass(frozen=True)
class ChainLink:
    """One stored result as the chain sees it. `seq`, `prev` and `chain` are None in rows
    written before hash chaining (`unchained`), and where an editor stored a value of the wrong
    type; `content` always hashes the values exactly as stored."""

    seq: int | None
    case_id: str
    target: str
    sample: object
    prev: str | None
    chain: str | None
    content: bytes
    unchained: bool

    @property
    def label(self) -> str:
        return f"case '{self.case_id}', target '{self.target}', sample {self.sample}"

    @property
    def intact(self) -> bool:
        """Whether the row still hashes to the link it was stored with."""
        return self.prev is not None and self.chain == link_hash(self.prev, self.content)
