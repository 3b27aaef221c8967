"""The `evals run` command: answer, check, store, report and apply the gates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    ForceOption,
    app,
    examples,
    input_error,
    leaves,
    print_published,
    refused,
    require_store,
    run_id_command,
    startup_errors,
    warn_degraded,
)

if TYPE_CHECKING:
    from contextlib import ExitStack

    from evals.records import RunPlan


@app.command(
    cls=run_id_command(resume=("out",)),
    short_help="Run a suite: answer, check, store, report and apply the gates.",
    epilog=examples(
        "evals run                                   # the bundled demo suite",
        "evals run suite.yaml --replay record        # call the models, record cassettes",
        "evals run suite.yaml -q                     # CI: only the final lines",
        "evals run --resume latest --out out         # finish an interrupted run",
    ),
)
def run(
    suite: Annotated[
        Path | None,
        typer.Argument(
            metavar="SUITE", help="suite file (default: the bundled demo suite)", show_default=False
        ),
    ] = None,
    replay: Annotated[
        str | None,
        typer.Option(
            metavar="MODE",
            help="record, replay, auto or off (default: the suite's, else auto; "
            "replay when CI is set)",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="output folder (default: the suite's)"),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            metavar="RUN_ID",
            help="complete the missing answers of this run (an id, latest or latest~N)",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="print only the final lines: the run id with its report folder, and the "
            "gates' verdict (errors still go to standard error)",
        ),
    ] = False,
    force: ForceOption = False,
) -> None:
    """Run a suite: answer every case with every target, check, store, and apply the gates.

    Reports go to OUT/reports/RUN_ID/, beside the store (with --resume: the --out given)."""
    from contextlib import ExitStack

    with ExitStack() as cleanup:  # the store closes (its run lock freed) however the run ends
        _run(cleanup, suite, replay, out, resume, quiet, force)


def _run(
    cleanup: ExitStack,
    suite: Path | None,
    replay: str | None,
    out: Path | None,
    resume: str | None,
    quiet: bool,
    force: bool,
) -> None:
    import asyncio
    import os
    import time

    from evals.compliance import RunTampered
    from evals.errors import InputError
    from evals.plugins import check_unchanged, suite_plugins
    from evals.progress import SilentProgress, default_progress
    from evals.publish import check_publishable, publish, report_folder
    from evals.records import Versions
    from evals.runner import Engine, new_run_id, start_run
    from evals.store import RunStore
    from evals.suite_file import DEMO_SUITE, build_plan
    from evals.targets.local_model import check_available, is_local_model

    if replay is not None and replay not in ("record", "replay", "auto", "off"):
        input_error(ValueError(f"--replay must be record, replay, auto or off, not '{replay}'"))
    t0 = time.monotonic()
    try:
        if resume is not None:
            if suite is not None:
                input_error(ValueError("give either a suite or --resume RUN_ID, not both"))
            require_store(out or Path("out"))
            store = RunStore.in_folder(out or Path("out"))
            plan = store.plan(resume)
            run_id = resume
            cleanup.callback(store.close)
            store.lock_run(run_id)  # a second resume of a running run stops here
            # Before answering anything: the reports it ends with must be writable here.
            check_publishable(store, run_id, report_folder(store, run_id), force=force)
            recorded = Versions.model_validate_json(store.run_header(run_id).versions)
            check_unchanged(
                recorded.plugins, suite_plugins(plan.suite, Path(plan.suite_path)), run_id
            )
            _check_tools(recorded.tools, plan, run_id)
            for target in plan.suite.targets:
                if is_local_model(target.model) and plan.suite.replay.mode != "replay":
                    check_available(target.model)
        else:
            # Hermetic CI: with CI set, nothing is called live unless the suite or the
            # command line asks for it.
            default_mode = "replay" if os.environ.get("CI") else "auto"
            plan = build_plan(
                suite or DEMO_SUITE, replay_mode=replay, default_mode=default_mode, output=out
            )
            store = RunStore.in_folder(Path(plan.output_dir))
            run_id = new_run_id()
            cleanup.callback(store.close)
            store.lock_run(run_id)
        # The engine checks the API keys it will need, so it is built before the run is stored.
        engine = Engine(
            plan, store, run_id, progress=SilentProgress() if quiet else default_progress()
        )
        if resume is None:
            start_run(plan, store, run_id)
    except RunTampered as exc:
        refused(exc, out or Path("out"))
    except (InputError, KeyError, ValueError) as exc:
        input_error(exc)
    if not quiet:
        per_target = {len(plan.cases_for(t)) for t in plan.suite.targets}
        shape = (
            f"{len(plan.cases)} cases x {plan.suite.samples} samples x "
            f"{len(plan.suite.targets)} targets"
            if per_target == {len(plan.cases)}
            else f"{len(plan.expected_answers())} answers ("
            + ", ".join(f"{t.name}: {len(plan.cases_for(t))} cases" for t in plan.suite.targets)
            + f", {plan.suite.samples} samples each)"
        )
        print(
            f"run {run_id}: suite '{plan.suite.name}', {shape}, "
            f"replay mode '{plan.suite.replay.mode}'",
            file=sys.stderr,
        )
    warn_degraded(plan.suite.guardrails)  # -q drops the header, never a warning
    try:
        asyncio.run(engine.execute())
    except BaseExceptionGroup as group:
        # A target that cannot start (the bundled model's server) fails every worker at once.
        usage, other = group.split(startup_errors())
        if other is not None or usage is None:
            raise
        input_error(ValueError(next(iter({str(e) for e in leaves(usage)}))))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: completed answers are stored. Resume with: "
            f"evals run --resume {run_id} --out {store.path.parent}",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    except InputError as exc:
        input_error(exc)
    from reports.tables import decision_table, totals_table

    try:
        # A resume checked the existing manifest against the store before appending to it.
        published = publish(store, run_id, force=force, existing_checked=resume is not None)
    except RunTampered as exc:
        refused(exc, store.path.parent)
    except InputError as exc:
        input_error(exc)
    card = published.card
    errors = [r for r in card.failing if r.response.error]
    for result in errors[:5]:
        print(
            f"error: {result.case_id} [{result.target}#{result.sample}]: {result.response.error}",
            file=sys.stderr,
        )
    if quiet:  # the final lines only: where the run went, and the gates' verdict
        print(f"run {run_id}: reports in {published.folder}/")
        print("\n".join(card.gates.lines()))
    else:
        print(totals_table(card))
        print(f"\nrun {run_id} finished in {time.monotonic() - t0:.1f}s; results: {store.path}")
        print_published(run_id, published.folder, store.path.parent)
        print()
        print("\n".join(card.gates.lines()))
        print(f"\n{decision_table(card)}")
    if not card.passed:
        raise typer.Exit(EXIT_GATE)


def _check_tools(recorded: dict[str, str], plan: RunPlan, run_id: str) -> None:
    """A resumed run must be judged with the system tools it started with (Apertium: the
    policy check grounds fewer answers without it): an InputError naming each that changed."""
    from evals.errors import InputError, InputIssue
    from evals.runner import plan_versions

    now = plan_versions(plan).tools
    issues = [
        InputIssue(
            f"run {run_id}",
            f"{tool} was {recorded[tool]} when the run started, and is "
            f"{now.get(tool, 'not used')} now: the remaining answers would be judged otherwise "
            "(see `versions.tools`). Resume where the run started, or start a new run",
            record=tool,
            field="versions.tools",
        )
        for tool in sorted(recorded)
        if now.get(tool) != recorded[tool]
    ]
    if issues:
        raise InputError(issues)
