"""The Ray engine's shard plan (made on the driver, without parsing any record) and the reading
of one shard (on a worker): byte ranges of whole JSONL lines, counted exactly as the local
engine counts them so every record keeps its line number, or Parquet row groups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evals import bounded_json
from evals.errors import InputError, InputIssue
from evals.input_paths import file_problem

#: A shard ends after this many lines or bytes (whichever comes first; at least one line).
SHARD_LINES = 500
SHARD_BYTES = 4 * 1024 * 1024
SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True)
class Shard:
    """A piece of one input: bytes [start, end) of a JSONL file whose first line is
    `first_line`, or row group `start` of a Parquet file whose first row is `first_line`."""

    source: str  # as the user gave it: named in issues and the output
    path: str  # what workers open: an absolute path or a URI
    kind: Literal["jsonl", "parquet"]
    start: int
    end: int
    first_line: int


def jsonl_lines(shard: Shard) -> Iterator[tuple[int, str | bounded_json.BadJSON]]:
    """(line number, text or BadJSON) for each non-blank line of a JSONL shard, read as the
    local engine reads lines (`bounded_json.read_lines`: UTF-8, at most 16 MiB a line)."""
    with open_input(shard.path) as handle:
        handle.seek(shard.start)
        for offset, text in bounded_json.read_lines(handle):
            if isinstance(text, bounded_json.BadJSON) or text.strip():
                yield shard.first_line + offset - 1, text
            if handle.tell() >= shard.end:
                return


def parquet_rows(shard: Shard) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    with open_input(shard.path) as handle:
        table = pq.ParquetFile(handle).read_row_group(shard.start)
    for index, row in enumerate(table.to_pylist()):
        yield shard.first_line + index, row


def open_input(path: str) -> Any:
    """A seekable binary stream of a local path or of a URI that `pyarrow.fs` knows."""
    if "://" not in path:
        return Path(path).open("rb")
    import pyarrow.fs

    filesystem, inner = pyarrow.fs.FileSystem.from_uri(path)
    return filesystem.open_input_file(inner)


# --- the shard plan (driver) -----------------------------------------------------------------


def plan_shards(
    sources: Sequence[Path | str],
    *,
    shard_lines: int = SHARD_LINES,
    shard_bytes: int = SHARD_BYTES,
) -> list[Shard]:
    """Shards of every input; an InputError naming each input that cannot be read."""
    shards: list[Shard] = []
    issues: list[InputIssue] = []
    for source in sources:
        name = str(source)
        path = name if "://" in name else str(Path(name).resolve())
        kind = next((s for s in SUFFIXES if name.endswith(s)), None)
        if kind is None:
            issues.append(
                InputIssue(name, "the Ray engine reads .jsonl and .parquet files; not this one")
            )
            continue
        problem = None if "://" in name else file_problem(Path(name))
        if problem is None and "://" not in name and not Path(name).exists():
            problem = "no such file"
        if problem is not None:
            issues.append(InputIssue(name, problem))
            continue
        try:
            if kind == ".jsonl":
                shards.extend(_plan_jsonl(name, path, shard_lines, shard_bytes))
            else:
                shards.extend(_plan_parquet(name, path))
        except OSError as exc:
            issues.append(InputIssue(name, f"cannot read file: {exc}"))
        except Exception as exc:  # pyarrow raises its own kinds for a file that is not Parquet
            issues.append(InputIssue(name, f"cannot read as Parquet: {exc}"))
    if issues:
        raise InputError(issues)
    return shards


def _plan_jsonl(source: str, path: str, shard_lines: int, shard_bytes: int) -> Iterator[Shard]:
    """Cut a JSONL file at line ends, reading lines the way `bounded_json.read_lines` does
    (an over-long line is one line), so line numbers agree with the local engine's."""
    limit = bounded_json.MAX_LINE_BYTES
    with open_input(path) as handle:
        start = position = 0
        first = line = 1
        while True:
            raw = handle.readline(limit + 1)
            if not raw:
                break
            position += len(raw)
            if len(raw) > limit and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = handle.readline(limit)
                    position += len(raw)
            line += 1
            if line - first >= shard_lines or position - start >= shard_bytes:
                yield Shard(source, path, "jsonl", start, position, first)
                start, first = position, line
        if position > start:
            yield Shard(source, path, "jsonl", start, position, first)


def _plan_parquet(source: str, path: str) -> Iterator[Shard]:
    import pyarrow.parquet as pq

    with open_input(path) as handle:
        metadata = pq.ParquetFile(handle).metadata
    first = 1
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows:
            yield Shard(source, path, "parquet", group, group + 1, first)
        first += rows
