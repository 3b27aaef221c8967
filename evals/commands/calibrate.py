"""The `evals calibrate` command: how far the suite's judge agrees with labelled responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evals.cli_app import Command, app, examples, input_error


@app.command(
    cls=Command,
    short_help="Calibrate the suite's LLM judge against labelled responses.",
    epilog=examples(
        "evals calibrate suite.yaml --labelled cases/labelled --out judge-calibration.json",
        "evals calibrate suite.yaml --labelled cases/labelled/cuotaya.yaml --limit 20",
        "evals calibrate suite.yaml --labelled cases/labelled --replay replay   # CI",
    ),
)
def calibrate(
    suite: Annotated[
        Path,
        typer.Argument(metavar="SUITE", help="a suite file with a `judge:`", show_default=False),
    ],
    labelled: Annotated[
        list[Path] | None,
        typer.Option(
            "--labelled",
            metavar="PATH",
            help="labelled responses (files or folders in the cases/labelled format); repeat",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="calibration file to write (default: the suite's judge.calibration, else "
            "judge-calibration.json beside the suite)",
        ),
    ] = None,
    replay: Annotated[
        str | None,
        typer.Option(metavar="MODE", help="record, replay, auto or off (default: the suite's)"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(metavar="N", min=1, help="judge only the first N labelled responses"),
    ] = None,
) -> None:
    """Run the suite's judge over labelled responses and report, per check (policy, facts,
    rubric against the `tone` label) and per language, precision, recall and F1 with 95% Wilson
    intervals, Cohen's kappa and the confusion counts; write them with a fingerprint of the
    judge (model, parameters, prompt hash) and of the labelled set. Point the suite's
    `judge.calibration` at the file: only a current calibration that clears the decision
    policy's `judge` thresholds lets the judge's findings gate."""
    import asyncio

    from evals.errors import InputError
    from evals.judge.calibrate_run import gather_calibration, run_calibration
    from evals.judge.calibration import write_calibration
    from evals.judge.status import judge_status
    from evals.suite_file import gather_suite

    if replay is not None and replay not in ("record", "replay", "auto", "off"):
        input_error(ValueError(f"--replay must be record, replay, auto or off, not '{replay}'"))
    try:
        inputs = gather_calibration(suite, labelled or [], replay, limit)  # type: ignore[arg-type]
        target = out
        if target is None:
            named = inputs.judge.calibration
            base = inputs.suite_path.parent
            target = base / named if named else base / "judge-calibration.json"
        if target.exists() and not target.is_file():
            raise InputError.single(target, "is not a file", field="--out")
        print(
            f"calibrating judge {inputs.judge.model} on {len(inputs.labelled)} labelled "
            f"responses ({inputs.mode} mode)",
            flush=True,
        )
        calibration = asyncio.run(run_calibration(inputs))
        policy = gather_suite(suite, replay_mode="replay").decision_policy
    except InputError as exc:
        input_error(exc)
    write_calibration(calibration, target)
    from evals.decision_policy import load_decision_policy
    from evals.judge.calibration import read_calibration
    from reports.judge_section import calibration_table

    sealed = read_calibration(target)
    bars = (policy or load_decision_policy()).judge
    status = judge_status(inputs.judge, sealed.model_dump(mode="json"), bars)
    print(calibration_table(sealed))
    print(f"\nwritten: {target}")
    if status.gating:
        print(f"under the decision policy's thresholds, these checks may gate: {status.gating}")
    if status.reasons:
        print("advisory (may not gate): " + "; ".join(status.reasons))
