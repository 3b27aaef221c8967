"""The `evals verify` command: a stored run and its reports, unaltered."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    RUN_ID_HELP,
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
    cls=run_id_command(run_id=("out",)),
    short_help="Check that a stored run and its reports are unaltered.",
    epilog=examples(
        "evals verify latest --out out",
        "evals verify 20261207-101500-a1b2c3 --manifest archive/manifest.json",
    ),
)
def verify(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help=RUN_ID_HELP)],
    out: OutOption = Path("out"),
    manifest: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="the run's manifest (default: OUT/reports/RUN_ID/manifest.json)",
        ),
    ] = None,
) -> None:
    """Check that a stored run and its reports are unaltered: exit 0 intact, 1 if not."""
    from evals.compliance import MANIFEST_NAME
    from evals.compliance import verify as verify_run
    from evals.errors import InputError
    from evals.store import RunStore

    require_store(out)
    if manifest is None:
        default = out / "reports" / run_id / MANIFEST_NAME
        manifest = default if default.is_file() else None
    elif not manifest.is_file():
        input_error(ValueError(f"{manifest}: manifest not found"))
    try:
        report = verify_run(RunStore.in_folder(out), run_id, manifest)
    except InputError as exc:
        input_error(exc)
    print(report.render())
    if not report.intact:
        raise typer.Exit(EXIT_GATE)
