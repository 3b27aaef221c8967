"""The `evals init` command: a starter project that validates and runs at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from evals.cli_app import Command, app, examples, input_error

if TYPE_CHECKING:
    from evals.scaffold import CiChoice


@app.command(
    cls=Command,
    short_help="Write a starter project: policy book, cases, suite, CI workflow.",
    epilog=examples(
        "evals init support-evals",
        "evals init . --ci gitlab",
        "evals init support-evals --force",
    ),
)
def init(
    folder: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="folder to write the project into (created if absent)"),
    ] = Path(),
    ci: Annotated[
        str,
        typer.Option(
            "--ci",
            metavar="github|gitlab|none",
            help="CI workflow to write: .github/workflows/evals.yml, .gitlab-ci.yml, or none",
        ),
    ] = "github",
    force: Annotated[
        bool,
        typer.Option("--force", help="replace files of the same names (nothing else is touched)"),
    ] = False,
) -> None:
    """Write a starter project for a made-up bike-rental company: a policy book, cases in two
    intents (Spanish and English) with facts and reference answers, a suite with a `reference`
    target (and a litellm one, commented), labelled responses, transcripts for `evals scan`,
    .gitignore and a CI workflow. `evals validate` and `evals run` pass on it as written.
    Existing files are never replaced without --force (exit 2, naming them)."""
    from evals.errors import InputError
    from evals.scaffold import write

    if ci not in ("github", "gitlab", "none"):
        input_error(ValueError(f"--ci: '{ci}' is not one of github, gitlab, none"))
    try:
        written = write(folder, cast("CiChoice", ci), force=force)
    except InputError as exc:
        input_error(exc)
    print(f"wrote {len(written)} files into {folder}/:")
    for item in written:
        print(f"  {item.relative}")
    go = "" if folder == Path() else f"cd {folder} && "
    print("next:")
    print(f"  {go}evals validate suite.yaml labelled   # every file and reference answer")
    print("  evals run suite.yaml                    # no model, no key: the reference target")
    print("  evals verify latest                     # the stored run and reports are unaltered")
    print("  then read EVALS.md")
