"""The transcripts people have, read as a stream of raw records for `evals scan`.

JSONL (also gzip'd, `.jsonl.gz`), CSV, Parquet, a folder of such files (every supported file in
it and its subfolders, sorted by path), or anything `datasets` loads (a hub name or a local
dataset folder given with `--dataset`), read one record at a time so memory stays flat at any
size. Records are not parsed here: a JSONL line travels as bytes and is parsed (with the bounds
of `evals.bounded_json`) by whichever process checks it, so the reading process only reads.

Every record carries its file and line (JSONL, CSV) or its row number (Parquet, datasets), and
its position in the whole input, which is what a resumed scan skips.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from evals.bounded_json import MAX_LINE_BYTES, TOO_LONG, raw_lines
from evals.errors import InputIssue
from evals.input_paths import file_problem, path_problem
from evals.scan import TRANSCRIPT_FIELDS, RawRecord

#: File endings `evals scan` reads, and the format each is.
FORMATS = {".jsonl.gz": "jsonl.gz", ".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
#: Rows read from a Parquet file at a time.
PARQUET_BATCH = 1024


def format_of(path: Path) -> str | None:
    name = path.name.lower()
    return next((fmt for suffix, fmt in FORMATS.items() if name.endswith(suffix)), None)


def parse_field_map(text: str | None) -> dict[str, str]:
    """`response=bot_reply,intent=topic` as {transcript field: input field}; ValueError naming
    the valid fields for an unknown transcript field, a malformed or a repeated pair."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for pair in text.split(","):
        name, sep, source = (part.strip() for part in pair.partition("="))
        if not sep or not name or not source:
            raise ValueError(f"--map: '{pair}' is not FIELD=INPUT_FIELD (e.g. response=bot_reply)")
        if name not in TRANSCRIPT_FIELDS:
            raise ValueError(
                f"--map: '{name}' is not a transcript field; valid fields: "
                + ", ".join(TRANSCRIPT_FIELDS)
            )
        if name in out:
            raise ValueError(f"--map: '{name}' is mapped twice")
        out[name] = source
    sources = list(out.values())
    twice = sorted({s for s in sources if sources.count(s) > 1})
    if twice:
        raise ValueError(f"--map: input field(s) {', '.join(twice)} mapped to two fields")
    return out


@dataclass(frozen=True)
class Source:
    """One file to read (or a dataset, when `dataset` is set)."""

    label: str
    format: str
    path: Path | None = None
    dataset: str | None = None
    split: str = "train"

    def identity(self) -> list[Any]:
        """What tells a resumed scan that this input is still the one it started on."""
        if self.path is None:
            return [self.label, self.split]
        stat = self.path.stat()
        return [self.label, stat.st_size, stat.st_mtime_ns]


@dataclass
class Inputs:
    """The sources of one scan, in reading order, and the problems found opening them."""

    sources: list[Source]
    issues: list[InputIssue] = field(default_factory=list)

    def fingerprint(self) -> str:
        blob = json.dumps([s.identity() for s in self.sources], default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def records(self, skip: int = 0) -> Iterator[RawRecord]:
        """Every record of every source, numbered from 0; the first `skip` are passed over
        without being decoded (a resumed scan)."""
        position = 0
        for source in self.sources:
            reader = _READERS[source.format]
            for line, row, data, problem in reader(source, self.issues, skip - position):
                if position >= skip:
                    yield RawRecord(source.label, position, line, data, problem, row)
                position += 1


def open_inputs(paths: list[Path], *, dataset: str | None = None, split: str = "train") -> Inputs:
    """The sources named by the command line, expanded (folders) and checked (missing files,
    pipes, unknown formats are issues)."""
    inputs = Inputs([])
    for path in paths:
        problem = path_problem(path)
        if problem is not None:
            inputs.issues.append(InputIssue(str(path), problem))
        elif path.is_dir():
            found = sorted(
                (p for p in path.rglob("*") if p.is_file() and format_of(p) is not None),
                key=lambda p: p.relative_to(path).as_posix(),
            )
            if not found:
                inputs.issues.append(
                    InputIssue(
                        str(path),
                        "the folder holds no transcripts (.jsonl, .jsonl.gz, .csv, .parquet)",
                    )
                )
            inputs.sources += [Source(str(p), format_of(p) or "", p) for p in found]
        elif format_of(path) is None:
            inputs.issues.append(
                InputIssue(
                    str(path),
                    "not a transcript file: give .jsonl, .jsonl.gz, .csv or .parquet, a folder "
                    "of them, or --dataset NAME for anything `datasets` loads",
                )
            )
        elif not path.exists():
            inputs.issues.append(InputIssue(str(path), "no such file"))
        elif (problem := file_problem(path)) is not None:
            inputs.issues.append(InputIssue(str(path), problem))
        else:
            inputs.sources.append(Source(str(path), format_of(path) or "", path))
    if dataset is not None:
        inputs.sources.append(Source(dataset, "dataset", dataset=dataset, split=split))
    return inputs


# --- readers: (line or None, data, (problem, field)) per record ----------------------------

#: (line, row label, data, problem): a record as a reader gives it; `data` is None for a
#: record skipped by a resume or one whose `problem` is already known.
Read = tuple[int | None, str | None, bytes | dict[str, Any] | None, str | None]


def _read_lines(source: Source, handle: IO[bytes] | gzip.GzipFile, skip: int) -> Iterator[Read]:
    seen = 0
    for number, raw in raw_lines(handle):
        if raw is None:
            seen += 1
            yield number, None, None, TOO_LONG
            continue
        if not raw.strip():
            continue
        seen += 1
        yield number, None, (raw if seen > skip else None), None


def _jsonl(source: Source, issues: list[InputIssue], skip: int) -> Iterator[Read]:
    assert source.path is not None
    try:
        handle = source.path.open("rb")
    except OSError as exc:
        issues.append(InputIssue(source.label, f"cannot read file: {exc}"))
        return
    with handle:
        yield from _read_lines(source, handle, skip)


def _jsonl_gz(source: Source, issues: list[InputIssue], skip: int) -> Iterator[Read]:
    assert source.path is not None
    last = 0
    try:
        with gzip.open(source.path, "rb") as handle:
            for read in _read_lines(source, handle, skip):
                last = read[0] or last
                yield read
    except (OSError, EOFError, zlib.error) as exc:
        where = f" after line {last}" if last else ""
        issues.append(InputIssue(source.label, f"not a readable gzip file{where}: {exc}"))


def _csv(source: Source, issues: list[InputIssue], skip: int) -> Iterator[Read]:
    assert source.path is not None
    csv.field_size_limit(MAX_LINE_BYTES)
    try:
        handle = source.path.open("r", encoding="utf-8", newline="")
    except OSError as exc:
        issues.append(InputIssue(source.label, f"cannot read file: {exc}"))
        return
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            issues.append(InputIssue(source.label, f"cannot read the CSV header: {exc}", line=1))
            return
        if header is None:
            return
        seen = 0
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                issues.append(
                    InputIssue(
                        source.label,
                        f"not UTF-8 text: {exc.reason}; the rest of the file is not read",
                        line=start,
                    )
                )
                return
            except csv.Error as exc:
                seen += 1
                yield start, None, None, f"not a CSV record: {exc}"
                continue
            if not any(cells):
                continue
            seen += 1
            if seen <= skip:
                yield start, None, None, None
            elif len(cells) > len(header):
                yield start, None, None, f"{len(cells)} cells but {len(header)} columns"
            else:
                # An empty cell is an absent field, as `datasets` reads it.
                row = {k: v for k, v in zip(header, cells, strict=False) if v != ""}
                yield start, None, row, None


def _parquet(source: Source, issues: list[InputIssue], skip: int) -> Iterator[Read]:
    import pyarrow.parquet as pq  # heavy: only when a Parquet file is read

    assert source.path is not None
    index = 0
    try:
        table = pq.ParquetFile(source.path)
        for batch in table.iter_batches(batch_size=PARQUET_BATCH):
            if index + batch.num_rows <= skip:  # a resumed scan skips whole batches unread
                for _ in range(batch.num_rows):
                    index += 1
                    yield None, None, None, None
                continue
            for row in batch.to_pylist():
                index += 1
                yield None, f"row {index}", (row if index > skip else None), None
    except Exception as exc:  # pyarrow raises many kinds; all mean "cannot read this file"
        issues.append(InputIssue(source.label, f"cannot read as Parquet after row {index}: {exc}"))


def _dataset(source: Source, issues: list[InputIssue], skip: int) -> Iterator[Read]:
    import datasets  # heavy: only when a dataset is named

    datasets.disable_progress_bars()
    index = 0
    try:
        stream = datasets.load_dataset(source.dataset or "", split=source.split, streaming=True)
        for row in stream:
            index += 1
            yield None, f"row {index}", (dict(row) if index > skip else None), None
    except Exception as exc:  # datasets raises many kinds; all mean "cannot load this input"
        issues.append(InputIssue(source.label, f"cannot load with `datasets`: {exc}"))


_READERS = {
    "jsonl": _jsonl,
    "jsonl.gz": _jsonl_gz,
    "csv": _csv,
    "parquet": _parquet,
    "dataset": _dataset,
}

__all__ = ["FORMATS", "Inputs", "Source", "format_of", "open_inputs", "parse_field_map"]
