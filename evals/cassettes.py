"""Recorded answers (cassettes) so runs can be replayed without a network or a model.

One JSONL file per target under the suite's replay folder, one line per answer, meant to be
committed: entries are keyed by the model, its parameters, the rendered messages and the sample
index, so repeated samples of one prompt are distinct entries and any change to the prompt, the
policy text or the parameters is a miss rather than a stale answer. New answers are appended as
they arrive (a crash keeps them); `compact` rewrites the file sorted and deduplicated so that
re-recording gives small, reviewable diffs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from evals.errors import InputError
from evals.records import Identifier, Record, Target


class CassetteEntry(Record):
    key: str
    target: Identifier
    model: str
    case: Identifier
    sample: int = Field(ge=0)
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    recorded: datetime


def cassette_key(target: Target, messages: list[dict[str, str]], sample: int) -> str:
    """What determines an answer: model, parameters, the exact messages and the sample index.
    The api_base and credentials are left out: the same model behind another URL is the same."""
    import hashlib

    identity = target.identity()
    payload = {
        "model": identity["model"],
        "params": identity["params"],
        "messages": messages,
        "sample": sample,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Cassette:
    """The recorded answers of one target."""

    def __init__(self, folder: Path, target: str) -> None:
        self.path = folder / f"{target}.jsonl"
        self.target = target
        self._entries: dict[str, CassetteEntry] = {}
        self._dirty = False
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    entry = CassetteEntry.model_validate_json(line)
                except ValidationError as exc:
                    first = exc.errors(include_url=False)[0]
                    raise InputError.single(
                        self.path,
                        f"corrupt cassette entry: {first['msg']}",
                        line=number,
                        field=".".join(str(p) for p in first["loc"]) or None,
                    ) from None
                self._entries[entry.key] = entry

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CassetteEntry | None:
        return self._entries.get(key)

    def put(self, entry: CassetteEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(entry.model_dump_json() + "\n")
        self._entries[entry.key] = entry
        self._dirty = True

    def compact(self, *, force: bool = False) -> None:
        """Rewrite sorted by case and sample with one line per key (atomic replace). `force`
        also rewrites a file this process did not change (others appended to it)."""
        if not (self._dirty or force):
            return
        ordered = sorted(self._entries.values(), key=lambda e: (e.case, e.sample, e.key))
        tmp = self.path.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for entry in ordered:
                handle.write(entry.model_dump_json() + "\n")
        tmp.replace(self.path)
        self._dirty = False


def now() -> datetime:
    return datetime.now(UTC)
