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
The shard plan is in `evals.scan_ray_shards`, the output and its reading in
`evals.scan_ray_output`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evals import bounded_json
from evals.errors import InputError, InputIssue
from evals.input_paths import folder_problem
from evals.records import DEFAULT_FAIL_ON, PolicyBook, Severity
from evals.scan import RawRecord, ScanSetup, ScanTotals, check_one
from evals.scan_ray_output import output_schema, read_findings, read_totals
from evals.scan_ray_shards import (
    SHARD_BYTES,
    SHARD_LINES,
    Shard,
    jsonl_lines,
    parquet_rows,
    plan_shards,
)
from guardrails.registry import GuardrailContext, GuardrailSet

if TYPE_CHECKING:
    import pyarrow

#: Names importers find here, whichever module of the Ray engine defines them.
__all__ = [
    "SHARD_BYTES",
    "SHARD_LINES",
    "Shard",
    "ShardChecker",
    "address_problem",
    "check_batch",
    "check_line",
    "check_row",
    "check_shard",
    "output_schema",
    "plan_shards",
    "read_findings",
    "read_totals",
    "run_ray_scan",
]

Status = Literal["passed", "failed", "invalid", "unreadable"]


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
            for number, row in parquet_rows(shard)
        ]
    rows: list[dict[str, Any]] = []
    for number, text in jsonl_lines(shard):
        if isinstance(text, bounded_json.BadJSON):
            rows.append(_unreadable(shard.source, number, text.message, text.field))
        else:
            rows.append(check_line(text, number, shard.source, checks, policies, fail_on))
    return rows


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
