"""`evals scan` on Ray: the local engine's per-record check as a Ray Data pipeline.

    shard plan (driver) -> ray.data.from_items(shards) -> map_batches(check_batch) -> write_parquet

The driver cuts each input into shards without parsing it: byte ranges of whole JSONL lines
(counting lines exactly as the local engine does, so every record keeps its line number), or
Parquet row groups. Each Ray worker process builds the guardrail set once, reads its shards
itself (the input path must be readable from every node: a shared filesystem, or a URI that
`pyarrow.fs` opens, such as `s3://`) and checks each record with the local engine's code:
the same parser and limits (`bounded_json`), the same `Transcript` validation, the same
policy books and `judge_answer`. So each record gets the same findings, in the same order,
as `evals scan` writes for it.

Why not `ray.data.read_json`: its pandas reader changes the data before any check sees it
(an id "001" becomes the integer 1, "1e3" becomes 1000.0, absent fields become nulls) and one
malformed line fails the whole read; the local engine names each bad line and checks the rest.

The output is a Parquet folder with one row per input record (see `output_schema`), in no
particular order: sort by (`source`, `line`) for input order. `read_findings` gives the rows
as the local engine's JSONL objects. Ray is imported only inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import socket
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evals import bounded_json
from evals.errors import InputError, InputIssue
from evals.input_paths import file_problem, folder_problem
from evals.records import DEFAULT_FAIL_ON, PolicyBook, Severity
from evals.scan import RawRecord, ScanSetup, ScanTotals, check_one
from guardrails.registry import GuardrailContext, GuardrailSet

if TYPE_CHECKING:
    import pyarrow

#: A shard ends after this many lines or bytes (whichever comes first; at least one line).
SHARD_LINES = 500
SHARD_BYTES = 4 * 1024 * 1024
SUFFIXES = (".jsonl", ".parquet")

Status = Literal["passed", "failed", "invalid", "unreadable"]


def output_schema() -> pyarrow.Schema:
    """One row per input record. `status`: passed | failed | invalid (a record the local
    engine would skip: a field that fails validation, an unknown company) | unreadable (a line
    that is not a JSON object: the local engine does not count it as a record). `findings` is
    the JSON list the local engine writes for the record; `issues` a JSON list of
    {message, line, record, field} for invalid and unreadable rows."""
    import pyarrow as pa

    return pa.schema(
        [
            ("source", pa.string()),
            ("line", pa.int64()),
            ("id", pa.string()),
            ("status", pa.string()),
            ("passed", pa.bool_()),
            ("findings", pa.string()),
            ("error", pa.string()),
            ("issues", pa.string()),
        ]
    )


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


# --- the per-record check (the local engine's, record by record) ----------------------------


def check_row(
    row: dict[str, Any],
    line: int | None,
    source: str,
    checks: GuardrailSet,
    policies: dict[str, PolicyBook],
    fail_on: tuple[Severity, ...],
) -> dict[str, Any]:
    """The output row for one record: the local engine's own check (`evals.scan.check_one`),
    so both engines validate, name problems and judge every record the same way."""
    setup = ScanSetup(policies=policies, fail_on=fail_on)
    checked = check_one(RawRecord(source, 0, line, row), setup, checks)
    out: dict[str, Any] = {"source": source, "line": line, "id": checked.id}
    if checked.issues:
        return out | {"status": "invalid", "issues": _issues_json(checked.issues)}
    return out | {
        "status": "passed" if checked.passed else "failed",
        "passed": checked.passed,
        "findings": checked.findings_json,
        "error": checked.error or None,
    }


def _issues_json(issues: Iterable[InputIssue]) -> str:
    return json.dumps(
        [{k: v for k, v in asdict(i).items() if k != "file"} for i in issues], ensure_ascii=False
    )


def _unreadable(
    source: str, line: int | None, message: str, field: str | None = None
) -> dict[str, Any]:
    issue = InputIssue(source, message, line=line, field=field)
    return {"source": source, "line": line, "status": "unreadable", "issues": _issues_json([issue])}


def check_line(
    text: str,
    line: int | None,
    source: str,
    checks: GuardrailSet,
    policies: dict[str, PolicyBook],
    fail_on: tuple[Severity, ...] = DEFAULT_FAIL_ON,
) -> dict[str, Any]:
    """The output row for one JSONL line (not blank), parsed with the local engine's limits."""
    try:
        item = bounded_json.loads(text)
    except bounded_json.BadJSON as exc:
        return _unreadable(source, line, exc.message, exc.field)
    if not isinstance(item, dict):
        return _unreadable(source, line, "a line must hold a JSON object")
    return check_row(item, line, source, checks, policies, fail_on)


def check_shard(
    shard: Shard,
    checks: GuardrailSet,
    policies: dict[str, PolicyBook],
    fail_on: tuple[Severity, ...],
) -> list[dict[str, Any]]:
    """Read one shard and check each of its records."""
    if shard.kind == "parquet":
        return [
            check_row(row, number, shard.source, checks, policies, fail_on)
            for number, row in _parquet_rows(shard)
        ]
    rows: list[dict[str, Any]] = []
    for number, text in _jsonl_lines(shard):
        if isinstance(text, bounded_json.BadJSON):
            rows.append(_unreadable(shard.source, number, text.message, text.field))
        else:
            rows.append(check_line(text, number, shard.source, checks, policies, fail_on))
    return rows


def _jsonl_lines(shard: Shard) -> Iterator[tuple[int, str | bounded_json.BadJSON]]:
    """(line number, text or BadJSON) for each non-blank line of a JSONL shard, read as the
    local engine reads lines (`bounded_json.read_lines`: UTF-8, at most 16 MiB a line)."""
    with _open(shard.path) as handle:
        handle.seek(shard.start)
        for offset, text in bounded_json.read_lines(handle):
            if isinstance(text, bounded_json.BadJSON) or text.strip():
                yield shard.first_line + offset - 1, text
            if handle.tell() >= shard.end:
                return


def _parquet_rows(shard: Shard) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    with _open(shard.path) as handle:
        table = pq.ParquetFile(handle).read_row_group(shard.start)
    for index, row in enumerate(table.to_pylist()):
        yield shard.first_line + index, row


def _open(path: str) -> Any:
    """A seekable binary stream of a local path or of a URI that `pyarrow.fs` knows."""
    if "://" not in path:
        return Path(path).open("rb")
    import pyarrow.fs

    filesystem, inner = pyarrow.fs.FileSystem.from_uri(path)
    return filesystem.open_input_file(inner)


class ShardChecker:
    """Checks shards with one guardrail set, built once (building it and warming its caches
    is the expensive part of a worker's start)."""

    def __init__(
        self,
        policies: dict[str, PolicyBook],
        guardrails: list[str] | None,
        fail_on: tuple[Severity, ...],
    ) -> None:
        self.policies = policies
        self.fail_on = fail_on
        self.checks = GuardrailSet.build(GuardrailContext(policies=policies), guardrails)

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        import pyarrow as pa

        rows: list[dict[str, Any]] = []
        for described in batch.to_pylist():
            rows.extend(check_shard(Shard(**described), self.checks, self.policies, self.fail_on))
        return pa.Table.from_pylist(rows, schema=output_schema())


#: The checker of this worker process, by the fingerprint of what it checks against.
_CHECKER: dict[str, ShardChecker] = {}


def check_batch(
    batch: pyarrow.Table,
    *,
    policies: dict[str, PolicyBook],
    guardrails: list[str] | None,
    fail_on: tuple[Severity, ...],
    fingerprint: str,
) -> pyarrow.Table:
    """The `map_batches` function: a batch of shard descriptions in, one row per record out.

    A plain function, so Ray runs it as tasks and fuses it with the Parquet write (each task
    reads, checks and writes its shard; results never pile up in the object store). Ray reuses
    its worker processes, so each process builds the guardrail set once, for the first shard it
    gets, and keeps it for the next (a new scan, with other books or guardrails, replaces it)."""
    checker = _CHECKER.get(fingerprint)
    if checker is None:
        _CHECKER.clear()
        checker = _CHECKER[fingerprint] = ShardChecker(policies, guardrails, fail_on)
    return checker(batch)


def fingerprint(
    policies: dict[str, PolicyBook], guardrails: list[str] | None, fail_on: tuple[Severity, ...]
) -> str:
    what = {
        "policies": {k: v.model_dump(mode="json") for k, v in sorted(policies.items())},
        "guardrails": guardrails,
        "fail_on": list(fail_on),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


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
    with _open(path) as handle:
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

    with _open(path) as handle:
        metadata = pq.ParquetFile(handle).metadata
    first = 1
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows:
            yield Shard(source, path, "parquet", group, group + 1, first)
        first += rows


# --- the pipeline ----------------------------------------------------------------------------


def run_ray_scan(
    sources: Path | str | Sequence[Path | str],
    policies: dict[str, PolicyBook],
    out: Path,
    *,
    fail_on: tuple[Severity, ...] = DEFAULT_FAIL_ON,
    guardrails: list[str] | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    shard_lines: int = SHARD_LINES,
) -> tuple[ScanTotals, list[InputIssue]]:
    """Check every record of `sources` on Ray; write the results to the Parquet folder `out`.

    `address`: a running cluster (`auto`, `HOST:6379`, `ray://HOST:10001`); None starts a local
    Ray with `num_cpus` CPUs (default: all), unless this process is already connected to one.
    Returns the same totals and issues as `evals.scan.scan`, issues sorted by input and line.
    Raises InputError for an input or output that cannot be used, before Ray starts.
    """
    if isinstance(sources, Path | str):
        sources = [sources]
    if importlib.util.find_spec("ray") is None:
        raise InputError.single(
            "--engine ray", "needs the ray package: pip install 'supportgate[ray]'"
        )
    problem = address_problem(address) if address is not None else None
    if problem is not None:
        raise InputError.single(f"--ray-address {address}", problem)
    _check_output_folder(out)
    # Fail fast on an unknown guardrail name (UnknownGuardrail) before any cluster work.
    GuardrailSet.build(GuardrailContext(policies=policies), guardrails)
    shards = plan_shards(sources, shard_lines=shard_lines)
    out.mkdir(parents=True, exist_ok=True)
    if shards:
        _run_pipeline(shards, policies, out, fail_on, guardrails, address, num_cpus)
    return read_totals(out)


def _check_output_folder(out: Path) -> None:
    problem = folder_problem(out)
    if problem is None and out.is_dir() and any(out.iterdir()):
        problem = "already holds files; give a new or empty folder (nothing is overwritten)"
    if problem is not None:
        raise InputError.single(out, f"--out {problem}")


def _run_pipeline(
    shards: list[Shard],
    policies: dict[str, PolicyBook],
    out: Path,
    fail_on: tuple[Severity, ...],
    guardrails: list[str] | None,
    address: str | None,
    num_cpus: int | None,
) -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    ray: Any = importlib.import_module("ray")  # optional: `pip install 'supportgate[ray]'`
    importlib.import_module("ray.data")

    started = _connect(ray, address, num_cpus)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        dataset = ray.data.from_items([asdict(s) for s in shards]).map_batches(
            check_batch,
            fn_kwargs={
                "policies": policies,
                "guardrails": guardrails,
                "fail_on": tuple(fail_on),
                "fingerprint": fingerprint(policies, guardrails, tuple(fail_on)),
            },
            batch_size=1,
            batch_format="pyarrow",
            num_cpus=1,
        )
        dataset.write_parquet(str(out.resolve()))
    finally:
        if started:
            ray.shutdown()


def _connect(ray: Any, address: str | None, num_cpus: int | None) -> bool:
    """Connect to `address` or start a local Ray; False if this process already had one."""
    if ray.is_initialized():
        return False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise InputError.single(
            f"--ray-address {address or '(local)'}", f"cannot start or reach {where}: {exc}"
        ) from None
    return True


def address_problem(address: str, timeout: float = 5.0) -> str | None:
    """Why a `HOST:PORT` or `ray://HOST:PORT` address cannot be used (`ray.init` would wait
    for minutes on an address where nothing answers), or None; `auto` is left to Ray."""
    if address == "auto":
        return None
    host, colon, port = address.split("://", 1)[-1].rpartition(":")
    if not colon or not host or not port.isdigit():
        return "give auto, HOST:PORT or ray://HOST:PORT"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or exc})"


# --- reading the output ----------------------------------------------------------------------


def _table(out: Path, columns: list[str], where: Any = None) -> pyarrow.Table:
    import pyarrow.dataset as pads

    dataset = pads.dataset(str(out), format="parquet", schema=output_schema())
    return dataset.to_table(columns=columns, filter=where)


def read_totals(out: Path) -> tuple[ScanTotals, list[InputIssue]]:
    """The totals and issues of a Ray scan's output folder, as `evals.scan.scan` returns them."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    counts: Counter[str] = Counter()
    dataset = pads.dataset(str(out), format="parquet", schema=output_schema())
    for batch in dataset.to_batches(columns=["status"]):  # counted batch by batch: flat memory
        for item in pc.value_counts(batch.column(0)).to_pylist():
            counts[item["values"]] += item["counts"]
    # As the local engine counts them: an unreadable line is a record, and an invalid one.
    totals = ScanTotals(
        records=sum(counts.values()),
        passed=counts.get("passed", 0),
        failed=counts.get("failed", 0),
        invalid=counts.get("invalid", 0) + counts.get("unreadable", 0),
    )
    has_issues = pads.field("issues").is_valid()
    bad = _table(out, ["source", "line", "id", "issues"], has_issues).to_pylist()
    bad.sort(key=lambda r: (r["source"], r["line"]))
    issues = [
        InputIssue(row["source"], **fields) for row in bad for fields in json.loads(row["issues"])
    ]
    return totals, issues


def read_findings(out: Path, source: Path | str | None = None) -> Iterator[dict[str, Any]]:
    """The checked records of a Ray scan's output (of one input, if `source` is given), in
    input order, each as the JSON object the local engine writes for it (`id`, `passed`,
    `findings`, and `error` when there is one). Sorts in memory: for outputs that fit; query
    larger ones in place (DuckDB, Spark, pyarrow) ordered by `source` and `line`."""
    import pyarrow.dataset as pads

    checked = pads.field("status").isin(["passed", "failed"])
    if source is not None:
        checked = checked & (pads.field("source") == str(source))
    table = _table(out, ["source", "line", "id", "passed", "findings", "error"], checked)
    rows = sorted(table.to_pylist(), key=lambda r: (r["source"], r["line"]))
    for row in rows:
        yield {
            "id": row["id"],
            "passed": row["passed"],
            "findings": json.loads(row["findings"]),
        } | ({"error": row["error"]} if row["error"] else {})
