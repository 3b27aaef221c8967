"""The `evals approve` and `evals approvals` commands: automation scopes signed off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    Command,
    OutOption,
    app,
    examples,
    input_error,
    require_store,
    run_id_command,
)


@app.command(
    cls=Command,
    short_help="Record a product owner's approval of an automation scope.",
    epilog=examples(
        'evals approve out/reports/RUN_ID/scope.yaml --by "Ana Ruiz" --note "pilot, ES only"',
        'evals approve out/reports/RUN_ID/scope.yaml --by "Ana Ruiz" --yes',
    ),
)
def approve(
    scope: Annotated[
        Path, typer.Argument(metavar="SCOPE", help="scope.yaml written by `evals run`")
    ],
    by: Annotated[str, typer.Option("--by", metavar="NAME", help="who approves (name or e-mail)")],
    note: Annotated[
        str, typer.Option("--note", metavar="TEXT", help="why, conditions, ticket")
    ] = "",
    out: OutOption = Path("out"),
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="confirm a scope in which every intent is insufficient evidence (approving it "
            "lets the model handle nothing)",
        ),
    ] = False,
    suite: Annotated[
        Path | None,
        typer.Option(
            "--suite",
            metavar="FILE",
            help="the run's suite file, when it is no longer where the run read it (a CI run's "
            "folder downloaded elsewhere): its policy books, cases and targets are compared "
            "with the run's",
        ),
    ] = None,
) -> None:
    """Record a product owner's approval of an automation scope.

    First prints what is being approved: the run, the decision policy, and each target's
    intents by decision (baselines such as `reference` are never in a scope). Refused (exit 1,
    naming each reason) if the scope, the run or the decision policy changed, the run failed
    its gates, a target or intent has no decision (every answer errored), or the run's policy
    books, cases or targets differ from the suite's files on disk. A scope in which every
    intent is insufficient evidence is recorded only with --yes (exit 1 without it)."""
    from evals.errors import InputError
    from evals.scope import NeedsConfirmation, ScopeRefused, load_scope, summary
    from evals.scope import approve as record_approval
    from evals.store import RunStore

    require_store(out)
    store = RunStore.in_folder(out)
    try:
        loaded = load_scope(scope)
        try:
            plan = store.plan(loaded.run_id)
        except (InputError, KeyError, ValueError):
            plan = None  # an unknown run: approve() refuses it, naming why
        print("approving:")
        for line in summary(loaded, plan):
            print(f"  {line}")
        approval = record_approval(scope, store, by=by, note=note, confirmed=yes, suite=suite)
    except InputError as exc:
        input_error(exc)
    except ScopeRefused as exc:
        print(f"REFUSED: {len(exc.problems)} reason(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise typer.Exit(EXIT_GATE) from None
    except NeedsConfirmation as exc:
        print("NOT APPROVED: this scope needs your confirmation:", file=sys.stderr)
        for reason in exc.reasons:
            print(f"  - {reason}", file=sys.stderr)
        print("to approve it anyway, run the same command with --yes", file=sys.stderr)
        raise typer.Exit(EXIT_GATE) from None
    print(
        f"approved by {approval.approved_by} at {approval.approved_at:%Y-%m-%d %H:%M:%S %Z}: "
        f"run {approval.run_id}, scope sha256 {approval.scope_sha256[:16]}, "
        f"policy {approval.policy_name} (hash {approval.policy_hash})"
    )


@app.command(
    "approvals",
    cls=run_id_command(run_id=("out",)),
    short_help="List recorded approvals of automation scopes.",
    epilog=examples("evals approvals --out out", "evals approvals --run latest"),
)
def list_approvals(
    out: OutOption = Path("out"),
    run_id: Annotated[
        str | None,
        typer.Option("--run", metavar="RUN_ID", help="only this run (an id, latest or latest~N)"),
    ] = None,
) -> None:
    """List recorded approvals of automation scopes."""
    from tabulate import tabulate

    from evals.errors import InputError
    from evals.scope import approvals
    from evals.store import RunStore

    require_store(out)
    try:
        rows = approvals(RunStore.in_folder(out), run_id)
    except InputError as exc:
        input_error(exc)
    print(
        tabulate(
            [
                [
                    a.run_id,
                    a.approved_by,
                    f"{a.approved_at:%Y-%m-%d %H:%M}",
                    a.scope_sha256[:16],
                    a.policy_name,
                    a.policy_hash,
                    a.note,
                ]
                for a in rows
            ],
            headers=["run", "by", "at", "scope sha256", "policy", "policy hash", "note"],
        )
    )
