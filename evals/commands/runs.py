"""The `evals runs` and `evals show` commands: what a store holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    RUN_ID_HELP,
    Command,
    OutOption,
    app,
    examples,
    input_error,
    require_store,
    run_id_command,
)

if TYPE_CHECKING:
    pass


@app.command(
    "runs",
    cls=Command,
    short_help="List the runs in a store, newest first.",
    epilog=examples("evals runs --out out"),
)
def list_runs(out: OutOption = Path("out")) -> None:
    """List the runs in a store, newest first (`latest` is the first row, `latest~1` the next)."""
    from tabulate import tabulate

    from evals.errors import InputError
    from evals.store import RunStore

    require_store(out)
    try:
        rows = RunStore.in_folder(out).runs()
    except InputError as exc:
        input_error(exc)
    print(
        tabulate(
            [[r.id, r.suite, r.status, r.started, r.results, r.passed, r.errors] for r in rows],
            headers=["run", "suite", "status", "started", "answers", "passed", "errors"],
        )
    )


@app.command(
    cls=run_id_command(run_id=("out",)),
    short_help="Show one run: versions, totals, failing answers with evidence.",
    epilog=examples("evals show latest --out out", "evals show 20261207-101500-a1b2c3 --json"),
)
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help=RUN_ID_HELP)],
    out: OutOption = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="the whole run as JSON")] = False,
    limit: Annotated[int, typer.Option(metavar="N", help="failing answers to list")] = 20,
) -> None:
    """Show one run: its versions, totals per target and intent, and failing answers."""
    from evals.errors import InputError
    from evals.scorecard import build_scorecard
    from evals.store import RunStore
    from reports.tables import decision_table, totals_table

    require_store(out)
    try:
        store = RunStore.in_folder(out)
        run = store.run(run_id)
        plan = store.plan(run_id)
    except InputError as exc:
        input_error(exc)
    if as_json:
        print(run.model_dump_json(indent=2))
        return
    print(
        f"run {run.id} ({run.status}) suite '{run.suite}' started {run.started:%Y-%m-%d %H:%M:%S}"
    )
    print(
        f"versions: package {run.versions.package}, guardrails {run.versions.guardrails}, "
        f"cases {run.versions.cases}, policies "
        + ", ".join(f"{k}@{v}" for k, v in run.versions.policy_books.items())
    )
    if run.versions.policy_packs:
        print(
            "packs: "
            + "; ".join(
                f"{book} {', '.join(names) or 'core only'}"
                for book, names in run.versions.policy_packs.items()
            )
        )
    for plugin in run.versions.plugins:
        provides = f"; provides {', '.join(plugin.provides)}" if plugin.provides else ""
        print(f"plugin {plugin.name} ({plugin.group}): {plugin.source}{provides}")
    print(f"config hash: {run.config_hash}\n")
    card = build_scorecard(run, plan)
    print(totals_table(card))
    failing = card.failing
    if failing:
        print(f"\nfailing answers ({len(failing)}; first {min(limit, len(failing))}):")
    for result in failing[:limit]:
        print(f"- {result.case_id} [{result.target}#{result.sample}]")
        if result.response.error:
            print(f"    error: {result.response.error}")
        for finding in result.findings:
            span = finding.evidence.span
            quoted = f' "{span.text}" @{span.start}-{span.end}' if span else ""
            print(f"    {finding.severity} {finding.code}: {finding.message}{quoted}")
    print("\n" + "\n".join(card.gates.lines()))
    print(f"\n{decision_table(card)}")
