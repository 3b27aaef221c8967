"""Recorded answers (cassettes) so runs can be replayed without a network or a model.

One JSONL file per target under the suite's replay folder, one line per answer, meant to be
committed: entries are keyed by the model, its parameters, the rendered messages and the sample
index, so repeated samples of one prompt are distinct entries and any change to the prompt, the
policy text or the parameters is a miss rather than a stale answer. New answers are appended as
they arrive (a crash keeps them; a line torn by a kill is dropped); `compact` rewrites the file
sorted and deduplicated so that re-recording gives small, reviewable diffs.

Each entry also keeps what its key was made of, in parts (`PromptParts`: the system-prompt
template, the policy book's id and text hash, the case fields the template uses, the
conversation and the parameters), so that a replay miss can say what changed since the
closest recorded entry of the same case. Entries recorded before these parts existed still
replay; their misses say only that the prompt differs.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from evals import bounded_json
from evals.bounded_json import BadJSON
from evals.errors import InputError
from evals.input_paths import file_problem, folder_problem
from evals.prompts import render_messages
from evals.records import (
    Case,
    Identifier,
    PolicyBook,
    Record,
    Response,
    Target,
    content_hash,
)

#: Lines of diff shown per changed part of a missed prompt, and characters per line.
MISS_DIFF_LINES = 12
MISS_LINE_CHARS = 160


class PromptParts(Record):
    """What an entry's key was made of, part by part, to explain a later miss."""

    system_prompt: str = Field(description="the target's system-prompt template")
    policy: str = Field(description="the policy book's id")
    policy_hash: str = Field(description="hash of the policy text the prompt was rendered with")
    fields: dict[str, str] = Field(description="case fields the template can use")
    conversation: list[dict[str, str]]
    params: dict[str, Any]


def prompt_parts(case: Case, target: Target, policy: PolicyBook) -> PromptParts:
    identity = target.identity()
    return PromptParts(
        system_prompt=target.system_prompt,
        policy=policy.id,
        policy_hash=content_hash(policy.text),
        fields={
            "company_name": policy.name,
            "language": case.language,
            "channel": case.channel,
            "intent": case.intent,
            "kind": case.kind,
            "risk": case.risk,
        },
        conversation=[{"role": m.role, "content": m.content} for m in case.messages],
        params=identity["params"],
    )


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
    prompt: PromptParts | None = Field(
        default=None, description="the parts of the key (absent in entries recorded before)"
    )

    @classmethod
    def recording(
        cls,
        response: Response,
        *,
        key: str,
        target: str,
        model: str,
        case: str,
        sample: int,
        prompt: PromptParts | None = None,
    ) -> CassetteEntry:
        """The entry that records `response`, a live answer, under `key`."""
        return cls(
            key=key,
            target=target,
            model=model,
            case=case,
            sample=sample,
            text=response.text,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            cost_usd=response.cost_usd,
            latency_ms=response.latency_ms,
            recorded=now(),
            prompt=prompt,
        )

    def replayed(self) -> Response:
        """The answer as a run stores it when it comes from this entry instead of a call."""
        return Response(
            text=self.text,
            latency_ms=self.latency_ms,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            cached=True,
            attempts=0,
        )


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
    """The recorded answers of one target.

    Several processes may record into one folder at once (two suites, pytest-xdist workers):
    every append and every compaction holds an exclusive lock on the folder (`flock`, which
    the kernel releases if the process dies), appends are whole lines, and a compaction merges
    what is on disk with what this process knows before it atomically replaces the file. A
    line torn by a process killed mid-append has no newline: it is ignored when reading and
    cut off before the next append.
    """

    def __init__(self, folder: Path, target: str) -> None:
        self.folder = folder
        self.path = folder / f"{target}.jsonl"
        self.target = target
        problem = folder_problem(folder)
        if problem is not None:
            raise InputError.single(folder, f"the replay folder (replay.dir) {problem}")
        problem = file_problem(self.path)
        if problem is not None:
            raise InputError.single(self.path, f"a cassette {problem}")
        self._entries: dict[str, CassetteEntry] = {}
        self._by_case: dict[str, list[CassetteEntry]] | None = None
        self._dirty = False
        if self.path.exists():
            with self._locked():
                self._entries = self._read()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, CassetteEntry]:
        entries: dict[str, CassetteEntry] = {}
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return entries
        except OSError as exc:
            raise InputError.single(self.path, f"cannot read cassette: {exc}") from None
        with handle:
            for number, text in bounded_json.read_lines(handle):
                if isinstance(text, BadJSON):
                    raise InputError.single(self.path, text.message, line=number)
                if not text.strip():
                    continue
                try:
                    entry = CassetteEntry.model_validate(bounded_json.loads(text))
                except BadJSON as exc:
                    if not text.endswith("\n"):
                        continue  # the last line, torn by a process killed mid-append
                    raise InputError.single(
                        self.path,
                        f"corrupt cassette entry: {exc.message}",
                        line=number,
                        field=exc.field,
                    ) from None
                except ValidationError as exc:
                    first = exc.errors(include_url=False)[0]
                    raise InputError.single(
                        self.path,
                        f"corrupt cassette entry: {first['msg']}",
                        line=number,
                        field=".".join(str(p) for p in first["loc"]) or None,
                    ) from None
                entries[entry.key] = entry
        return entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CassetteEntry | None:
        return self._entries.get(key)

    def entries_of(self, case: str) -> list[CassetteEntry]:
        """The entries recorded for one case (indexed once, so explaining every miss of a large
        cassette stays linear)."""
        if self._by_case is None:
            self._by_case = {}
            for entry in self._entries.values():
                self._by_case.setdefault(entry.case, []).append(entry)
        return list(self._by_case.get(case, []))

    def put(self, entry: CassetteEntry) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError.single(
                self.folder, f"cannot create the replay folder: {exc}"
            ) from None
        data = (entry.model_dump_json() + "\n").encode("utf-8")
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                _end_with_newline(fd)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        self._entries[entry.key] = entry
        self._by_case = None
        self._dirty = True

    def compact(self, *, force: bool = False) -> None:
        """Rewrite sorted by case and sample with one line per key, merged with what other
        processes appended meanwhile (atomic replace). `force` also rewrites a file this
        process did not change."""
        if not (self._dirty or force) or not self.folder.is_dir():
            return
        with self._locked():
            # Temp files are only written under this lock: any left is from a killed compaction.
            for stale in self.folder.glob(f".{self.target}.*.tmp"):
                stale.unlink(missing_ok=True)
            merged = {**self._read(), **self._entries}
            ordered = sorted(merged.values(), key=lambda e: (e.case, e.sample, e.key))
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{self.target}.", suffix=".tmp")
            try:
                # mkstemp makes the file private; a cassette keeps its mode (readable by all).
                os.fchmod(fd, self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    for entry in ordered:
                        handle.write(entry.model_dump_json() + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                Path(tmp).replace(self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        self._entries = merged
        self._by_case = None
        self._dirty = False


def _diff(label: str, old: str, new: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"recorded {label}",
            f"current {label}",
            n=1,
            lineterm="",
        )
    )
    shown = [
        line if len(line) <= MISS_LINE_CHARS else line[: MISS_LINE_CHARS - 1] + "…"
        for line in lines[:MISS_DIFF_LINES]
    ]
    if len(lines) > MISS_DIFF_LINES:
        shown.append(f"... {len(lines) - MISS_DIFF_LINES} more diff lines")
    return ["    " + line for line in shown]


def _conversation_text(conversation: list[dict[str, str]]) -> str:
    return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in conversation)


def prompt_differences(
    recorded: CassetteEntry, model: str, current: PromptParts
) -> list[tuple[str, list[str]]]:
    """What differs between a recorded entry and the current prompt: (part, diff lines)."""
    out: list[tuple[str, list[str]]] = []
    if recorded.model != model:
        out.append(("model", [f"    {recorded.model} -> {model}"]))
    old = recorded.prompt
    if old is None:
        if not out:
            out.append(
                (
                    "prompt or parameters",
                    ["    (recorded before cassettes kept the prompt's parts: not shown)"],
                )
            )
        return out
    if old.system_prompt != current.system_prompt:
        out.append(
            ("system prompt", _diff("system prompt", old.system_prompt, current.system_prompt))
        )
    if old.policy != current.policy or old.policy_hash != current.policy_hash:
        out.append(
            (
                "policy text",
                [
                    f"    policy book {old.policy} (text {old.policy_hash}) -> "
                    f"{current.policy} (text {current.policy_hash})"
                ],
            )
        )
    changed = sorted(
        k for k in {*old.fields, *current.fields} if old.fields.get(k) != current.fields.get(k)
    )
    if changed:
        out.append(
            (
                "case fields",
                [f"    {k}: {old.fields.get(k)!r} -> {current.fields.get(k)!r}" for k in changed],
            )
        )
    if old.conversation != current.conversation:
        out.append(
            (
                "conversation",
                _diff(
                    "conversation",
                    _conversation_text(old.conversation),
                    _conversation_text(current.conversation),
                ),
            )
        )
    if old.params != current.params:
        keys = sorted({*old.params, *current.params})
        out.append(
            (
                "parameters",
                [
                    f"    {k}: {old.params.get(k)!r} -> {current.params.get(k)!r}"
                    for k in keys
                    if old.params.get(k) != current.params.get(k)
                ],
            )
        )
    return out


def explain_miss(
    cassette: Cassette,
    case: Case,
    target: Target,
    policy: PolicyBook,
    sample: int,
    suite_path: str,
    *,
    recorded_only: bool = False,
) -> str:
    """A replay miss in words: the closest recorded entry of the same case and target and what
    differs from it (system prompt, policy text, case fields, conversation, parameters, model),
    with a short diff, and the command that records just the missing answers."""
    current = prompt_parts(case, target, policy)
    head = (
        f"replay miss: no recorded answer for case '{case.id}' sample {sample} of target "
        f"'{target.name}' in {cassette.path}"
    )
    record = (
        f"target '{target.name}' is a recorded bot ({target.model}): it cannot be called, so "
        "its cassette must be rewritten by whoever recorded or wrote it"
        if recorded_only
        else f"record just the missing answers (calls only for them): evals run {suite_path} "
        "--replay auto"
    )
    entries = cassette.entries_of(case.id)
    if not entries:
        return f"{head}: this case was never recorded for this target.\n{record}"
    messages = render_messages(case, target, policy)
    same = sorted({e.sample for e in entries if e.key == cassette_key(target, messages, e.sample)})
    if same:  # the exact prompt is recorded, for other samples (e.g. `samples` was raised)
        return (
            f"{head}: sample {sample} was never recorded for this prompt (recorded samples: "
            f"{', '.join(map(str, same))}).\n{record}"
        )
    ranked = sorted(
        entries,
        key=lambda e: (
            e.sample != sample,
            len(prompt_differences(e, target.model, current)),
            -e.recorded.timestamp(),
        ),
    )
    closest = ranked[0]
    differences = prompt_differences(closest, target.model, current) or [
        ("the rendered messages", ["    (no recorded part differs: not shown)"])
    ]
    names = ", ".join(name for name, _ in differences)
    unrecorded = f" (sample {sample} itself was never recorded)" if closest.sample != sample else ""
    lines = [
        f"{head}: the prompt changed since it was recorded; differs in {names} from the closest "
        f"entry (sample {closest.sample}{unrecorded}, recorded "
        f"{closest.recorded:%Y-%m-%d %H:%M} UTC):"
    ]
    for name, diff in differences:
        lines.append(f"  {name}:")
        lines.extend(diff)
    lines.append(record)
    return "\n".join(lines)


def _end_with_newline(fd: int) -> None:
    """Before an append: a last line without newline was torn by a killed writer; cut it off
    (a complete entry merely missing its newline, e.g. after a hand edit, gets one instead)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:
        chunk_start = max(0, start - 65536)
        cut = os.pread(fd, start - chunk_start, chunk_start).rfind(b"\n")
        if cut >= 0:
            start = chunk_start + cut + 1
            break
        start = chunk_start
    tail = os.pread(fd, size - start, start)
    try:
        CassetteEntry.model_validate(bounded_json.loads(tail.decode("utf-8")))
    except (BadJSON, UnicodeDecodeError, ValidationError):
        os.ftruncate(fd, start)
    else:
        os.write(fd, b"\n")


def now() -> datetime:
    return datetime.now(UTC)
