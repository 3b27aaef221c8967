"""The `evals scan` command: check existing responses with no model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from evals.cli_app import (
    EXIT_GATE,
    EXIT_INPUT,
    Command,
    app,
    examples,
    input_error,
)

if TYPE_CHECKING:
    pass


@app.command(
    cls=Command,
    short_help="Check existing responses, such as transcripts, with no model.",
    epilog=examples(
        "evals scan transcripts.jsonl --policies policies/",
        "evals scan transcripts.jsonl --policies policies/ --guardrail privacy --out found.jsonl",
        "evals scan transcripts.jsonl --policies policies/ --plugin mychecks --guardrail mine",
    ),
)
def scan(
    transcripts: Annotated[
        Path,
        typer.Argument(
            metavar="TRANSCRIPTS",
            help="JSONL of responses (or a file or dataset that `datasets` loads)",
        ),
    ],
    policies: Annotated[
        Path,
        typer.Option(
            metavar="PATH",
            help="policy books: a YAML file mapping company ids to a name and a policy text, "
            "or a folder of books",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="JSONL output (default: standard output)"),
    ] = None,
    guardrail: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="run only this guardrail (repeatable)"),
    ] = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MODULE",
            help="import this module first, e.g. one that registers a guardrail (repeatable; "
            "from sys.path or the current folder); installed plugins always load",
        ),
    ] = None,
) -> None:
    """Check existing responses, such as production transcripts, without calling any model."""
    from evals.errors import InputError
    from evals.input_paths import output_file_problem
    from evals.plugins import load_plugins
    from evals.scan import load_policies_arg
    from evals.scan import scan as run_scan
    from guardrails.registry import UnknownGuardrail

    problem = output_file_problem(out) if out is not None else None
    if problem is not None:
        input_error(ValueError(f"{out}: --out {problem}; give the JSONL file to write"))
    try:
        load_plugins(plugin or [], folder=Path.cwd(), file="--plugin")
        books = load_policies_arg(policies)
        handle: TextIO
        if out is not None:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                handle = out.open("w", encoding="utf-8")
            except OSError as exc:
                raise InputError.single(out, f"cannot write the scan output: {exc}") from None
        else:
            handle = sys.stdout
        try:
            totals, issues = run_scan(transcripts, books, handle, guardrails=guardrail)
        finally:
            if out is not None:
                handle.close()
    except (InputError, UnknownGuardrail) as exc:
        input_error(exc)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    print(
        f"scanned {totals.records} responses: {totals.passed} passed, {totals.failed} failed, "
        f"{totals.invalid} invalid" + (f"; written to {out}" if out else ""),
        file=sys.stderr,
    )
    if issues:
        raise typer.Exit(EXIT_INPUT)
    if totals.failed:
        raise typer.Exit(EXIT_GATE)
