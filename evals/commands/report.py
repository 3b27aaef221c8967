"""The `evals report` command: write a stored run's reports again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    RUN_ID_HELP,
    ForceOption,
    OutOption,
    app,
    examples,
    input_error,
    print_published,
    refused,
    require_store,
    run_id_command,
)

if TYPE_CHECKING:
    pass


@app.command(
    cls=run_id_command(run_id=("out",)),
    short_help="Write a stored run's reports again, optionally re-deciding.",
    epilog=examples(
        "evals report latest --out out --force",
        "evals report latest --decision-policy strict.yaml --to out/strict",
    ),
)
def report(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help=RUN_ID_HELP)],
    out: OutOption = Path("out"),
    decision_policy: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="decide under this policy instead of the run's own"),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option("--to", metavar="DIR", help="report folder (default: OUT/reports/RUN_ID)"),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Write a stored run's reports again (optionally re-deciding under another policy).

    They go to --to, else OUT/reports/RUN_ID/ (never the folder the run was first made in);
    a run whose hash chain fails verification is refused (exit 1), and a manifest already there
    is replaced only with --force (exit 2 otherwise)."""
    from evals.compliance import RunTampered
    from evals.decision_policy import load_decision_policy
    from evals.errors import InputError
    from evals.publish import publish
    from evals.store import RunStore
    from reports.tables import decision_table

    require_store(out)
    try:
        store = RunStore.in_folder(out)
        policy = load_decision_policy(decision_policy) if decision_policy else None
        published = publish(store, run_id, policy=policy, folder=folder, force=force)
    except RunTampered as exc:
        refused(exc, out)
    except InputError as exc:
        input_error(exc)
    print_published(run_id, published.folder, out)
    print("\n".join(published.card.gates.lines()))
    print(f"\n{decision_table(published.card)}")
    if not published.card.passed:
        raise typer.Exit(EXIT_GATE)
