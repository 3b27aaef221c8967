"""The `evals compare` command: two runs answer by answer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
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
    cls=run_id_command(baseline=("baseline_out", "out"), candidate=("out",)),
    short_help="Compare two runs answer by answer; exit 1 on a regression.",
    epilog=examples(
        "evals compare latest~1 latest --out out",
        "evals compare latest latest --baseline-out main-out --out out --json compare.json",
    ),
)
def compare(
    baseline: Annotated[str, typer.Argument(help="baseline run id (e.g. from main)")],
    candidate: Annotated[str, typer.Argument(help="candidate run id (e.g. from the branch)")],
    out: OutOption = Path("out"),
    baseline_out: Annotated[
        Path | None,
        typer.Option("--baseline-out", help="store folder of the baseline (default: --out)"),
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="family-wise false-alarm rate of the regression tests")
    ] = 0.05,
    pair: Annotated[
        list[str] | None,
        typer.Option(help="pair targets explicitly: BASELINE_TARGET=CANDIDATE_TARGET (repeatable)"),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="also write the comparison as JSON here")
    ] = None,
    fail_on_new: Annotated[
        str | None,
        typer.Option(
            "--fail-on-new",
            help="critical or major: exit 1 when a finding this severe (or worse) appears in an "
            "answer whose baseline answer had none",
        ),
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="write the HTML comparison here "
            "(default: <out>/compare/<baseline>-vs-<candidate>.html)",
        ),
    ] = None,
    show: Annotated[
        int,
        typer.Option("--show", min=0, help="changed and unpaired answers printed in full (0: all)"),
    ] = 50,
) -> None:
    """Compare two runs answer by answer: list every answer that regressed, improved or changed
    findings (a word diff), and every answer without a pair. Exit 1 if a regression is
    significant (McNemar), a decision got worse, or --fail-on-new matched."""
    import os
    import re

    from evals.compare import NotComparable, compare_runs
    from evals.errors import InputError
    from evals.records import Severity
    from evals.store import STORE_NAME, RunStore
    from reports.compare_html import write_compare_html
    from reports.compare_table import render_comparison

    if not 0 < alpha < 1:
        input_error(ValueError(f"--alpha must be between 0 and 1 (exclusive), not {alpha}"))
    severities: dict[str, Severity] = {"critical": "critical", "major": "major"}
    if fail_on_new is not None and fail_on_new not in severities:
        input_error(ValueError(f"--fail-on-new wants critical or major, not '{fail_on_new}'"))
    threshold = severities[fail_on_new] if fail_on_new is not None else None
    target_map: dict[str, str] = {}
    for item in pair or []:
        old, sep, new = item.partition("=")
        if not (sep and old and new):
            input_error(ValueError(f"--pair wants BASELINE_TARGET=CANDIDATE_TARGET, not '{item}'"))
        target_map[old] = new
    folders = (baseline_out or out, out)
    for folder in folders:
        require_store(folder)
    try:
        stores = [RunStore.in_folder(folder) for folder in folders]
        comparison = compare_runs(
            stores[0].run(baseline),
            stores[0].plan(baseline),
            stores[1].run(candidate),
            stores[1].plan(candidate),
            alpha=alpha,
            target_map=target_map,
            fail_on_new=threshold,
        )
    except (InputError, NotComparable) as exc:
        input_error(exc)
    except OSError as exc:
        input_error(ValueError(f"cannot read the run store: {exc}"))
    if html_file is None:
        # Not beside the candidate's reports: `evals verify` flags files its manifest lacks.
        def safe(run_id: str) -> str:
            return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)

        html_file = out / "compare" / f"{safe(baseline)}-vs-{safe(candidate)}.html"
    stores_at = {(folder / STORE_NAME).resolve() for folder in folders}
    for option, path in (("--json", json_file), ("--html", html_file)):
        if path is not None and path.resolve() in stores_at:
            input_error(ValueError(f"{option} {path}: that is a run store; it is not overwritten"))
    written: Path | None = None
    try:
        if json_file is not None:
            written = json_file
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(comparison.model_dump_json(indent=2) + "\n", encoding="utf-8")
        written = html_file
        write_compare_html(comparison, html_file)
    except OSError as exc:
        input_error(ValueError(f"{written}: cannot write the comparison: {exc}"))
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print(render_comparison(comparison, colour=colour, shown=show))
    if json_file is not None:
        print(f"comparison written to {json_file}")
    print(f"HTML comparison written to {html_file}")
    if comparison.failed:
        raise typer.Exit(EXIT_GATE)
