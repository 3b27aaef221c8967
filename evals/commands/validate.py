"""The `evals validate` command: check input files; put reference answers through the guardrails."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    EXIT_INPUT,
    Command,
    app,
    examples,
    input_error,
    warn_degraded,
)


@app.command(
    cls=Command,
    short_help="Check case files, policy books, labelled responses and suites.",
    epilog=examples(
        "evals validate cases/ policies/",
        "evals validate suites/refunds.yaml labelled/answers.jsonl",
    ),
)
def validate(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to check")],
    labelled: Annotated[
        str,
        typer.Option(
            "--labelled",
            help="labelled responses whose raised guardrail families differ from their labels: "
            "report (count them, exit 0), list (name each, exit 0), strict (name each, exit 1) "
            "or off (do not check them)",
        ),
    ] = "report",
) -> None:
    """Check case files, policy books, labelled responses and suites (exit 2 on any problem),
    then put every reference answer through the guardrails (exit 1 if one fails)."""
    from evals.validate import check_answers, validate_paths

    modes = ("report", "list", "strict", "off")
    if labelled not in modes:
        input_error(ValueError(f"--labelled must be one of {', '.join(modes)}, not {labelled!r}"))
    inventory = validate_paths(paths)
    if inventory.all_policies():  # the answers below are grounded in these books
        warn_degraded(None)
    answers = check_answers(inventory, labelled=labelled != "off")
    for issue in inventory.issues:
        print(f"error: {issue}", file=sys.stderr)
    for problem in answers.reference_problems:
        print(f"fail: {problem.issue}", file=sys.stderr)
    if labelled in ("list", "strict"):
        strict = labelled == "strict"
        for problem in answers.labelled_problems:
            print(
                f"{'fail' if strict else 'differs'}: {problem.issue}",
                file=sys.stderr if strict else sys.stdout,
            )
    for note in inventory.notes:
        print(f"note: {note}")
    if not inventory.issues:
        from guardrails.packs import describe

        for book_id, book in sorted(inventory.all_policies().items()):
            print(f"policy book {book_id}: packs {describe(book)}")
    if inventory.issues:
        print(f"{len(inventory.issues)} problem(s) in {inventory.summary()}", file=sys.stderr)
        raise typer.Exit(EXIT_INPUT)
    failed = len(answers.reference_problems)
    print(f"references: {answers.references - failed} of {answers.references} pass the guardrails")
    differ = len(answers.labelled_problems)
    if labelled != "off" and inventory.located_labelled:
        unchecked = len(inventory.located_labelled) - answers.labelled
        print(
            f"labelled responses: {answers.labelled - differ} of {answers.labelled} raise exactly "
            f"their labelled families"
            + (
                f"; {differ} differ (they measure the guardrails' accuracy; "
                "--labelled list names them, --labelled strict fails on them)"
                if differ and labelled == "report"
                else ""
            )
            + (
                f"; {unchecked} not checked (give their case files and policy books too)"
                if unchecked
                else ""
            )
        )
    if failed or (labelled == "strict" and differ):
        print(
            f"FAILED: {failed} reference answer(s) fail the guardrails"
            + (f", {differ} labelled response(s) differ" if labelled == "strict" else "")
            + f" in {inventory.summary()}",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_GATE)
    print(f"ok: {inventory.summary()}")
