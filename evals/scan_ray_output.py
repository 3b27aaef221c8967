"""The Ray engine's output: a Parquet folder with one row per input record (`output_schema`),
in no particular order, and how to read it back as the local engine's totals, issues and
findings (sorted by `source` and `line`, i.e. input order)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.errors import InputIssue
from evals.scan import ScanTotals

if TYPE_CHECKING:
    import pyarrow


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
