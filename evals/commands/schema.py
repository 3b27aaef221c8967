"""The `evals schema` command: the JSON Schema of each input format, from its records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evals.cli_app import Command, app, examples, input_error


@app.command(
    cls=Command,
    short_help="Print or write the JSON Schemas of the input formats.",
    epilog=examples(
        "evals schema",
        "evals schema suite > suite.schema.json",
        "evals schema --out schemas/",
    ),
)
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="case-file, policy-book, suite, transcript or labelled-responses "
            "(default: list them)",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="write NAME (default: every schema) into DIR as NAME.schema.json",
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of an input format (generated from the records that load it), or
    write the schemas into a folder for an editor or a validator. Files in the YAML formats can
    be checked with any JSON Schema validator once loaded; `evals validate` checks more (lines,
    references between files, reference answers)."""
    from evals.errors import did_you_mean
    from evals.input_paths import folder_problem
    from evals.schemas import SCHEMAS, file_name, render

    if name is not None and name not in SCHEMAS:
        input_error(
            ValueError(
                f"schema '{name}' does not exist; choose one of {', '.join(SCHEMAS)}"
                + did_you_mean(name, list(SCHEMAS))
            )
        )
    if out is None and name is None:
        for each in SCHEMAS:
            print(f"{each:<20} {file_name(each)}")
        return
    if out is None:
        assert name is not None
        print(render(name), end="")
        return
    problem = folder_problem(out)
    if problem is not None:
        input_error(ValueError(f"{out}: --out {problem}; give the folder to write into"))
    names = [name] if name is not None else list(SCHEMAS)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for each in names:
            (out / file_name(each)).write_text(render(each), encoding="utf-8")
    except OSError as exc:
        input_error(ValueError(f"{out}: cannot write the schemas: {exc}"))
    for each in names:
        print(out / file_name(each))
