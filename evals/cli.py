"""The `evals` command. Exit codes: 0 every gate passes, 1 a gate fails, 2 usage or input error.

Heavy modules (litellm, datasets, the engine) are imported inside the commands, so `evals --help`
stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from typer import _click
from typer.core import TyperCommand, TyperOption

if TYPE_CHECKING:
    from contextlib import ExitStack

    from evals.compliance import RunTampered

EXIT_OK, EXIT_GATE, EXIT_INPUT = 0, 1, 2


def examples(*lines: str) -> str:
    """A help epilog of example command lines, kept as written (`\\b` stops click rewrapping)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


app = typer.Typer(
    name="evals",
    help="Evaluate support and crisis chatbot answers with guardrails, and decide per intent "
    "what may be automated. Run ids can be written latest (the newest run in the --out store) "
    "or latest~N (N runs before it). Exit codes: 0 every gate passed, 1 a gate failed, 2 usage "
    "or input error.",
    epilog=examples(
        "evals validate cases/ policies/",
        "evals run suite.yaml --replay record",
        "evals run suite.yaml -q",
        "evals compare latest~1 latest --out out",
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

OutOption = Annotated[
    Path,
    typer.Option("--out", metavar="DIR", help="output folder holding the run store (runs.sqlite)"),
]
#: A run id argument: an id from `evals runs`, or latest / latest~N.
RUN_ID_HELP = "run id (see `evals runs`), or latest, or latest~N for N runs before it"


ForceOption = Annotated[
    bool,
    typer.Option("--force", help="replace the manifest and reports already in the report folder"),
]


def _refused(exc: RunTampered, out: Path) -> NoReturn:
    """A run whose evidence fails verification: exit 1, naming each problem."""
    print(
        f"REFUSED: run {exc.report.run_id} fails verification; reports built from it would "
        "vouch for altered results:",
        file=sys.stderr,
    )
    for problem in exc.report.problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"details: evals verify {exc.report.run_id} --out {out}", file=sys.stderr)
    raise typer.Exit(EXIT_GATE)


def _startup_errors() -> tuple[type[Exception], ...]:
    from evals.errors import InputError
    from evals.targets.local_model import LocalModelStartError, LocalModelUnavailable

    return (InputError, LocalModelStartError, LocalModelUnavailable)


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def _input_error(exc: Exception) -> NoReturn:
    from evals.errors import error_text

    issues = getattr(exc, "issues", None) or [exc]
    for issue in issues:
        text = error_text(issue) if isinstance(issue, BaseException) else str(issue)
        print(f"error: {text}", file=sys.stderr)
    print(f"{len(issues)} problem(s); nothing was done.", file=sys.stderr)
    raise typer.Exit(EXIT_INPUT)


def _require_store(folder: Path) -> None:
    from evals.store import STORE_NAME

    if not (folder / STORE_NAME).exists():
        _input_error(ValueError(f"{folder / STORE_NAME}: no run store here (use --out FOLDER)"))


class Command(TyperCommand):
    """A command whose help shows no raw placeholders: every argument and value-taking option
    has a metavar (RUN_ID, DIR...; derived from its name when not given), so neither typer's
    `{run_id}` usage nor its `<list[Path]>` type labels appear."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.metavar is not None or param.name is None:
                continue
            if isinstance(param, TyperOption) and (param.is_flag or param.count):
                continue
            param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: _click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_argument_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(param: _click.Parameter) -> str:
    name = param.metavar or (param.name or "").upper()
    return name + ("..." if param.nargs != 1 else "")


def run_id_command(**folders: tuple[str, ...]) -> type[TyperCommand]:
    """A command class whose run-id parameters (the keyword names) also take `latest` and
    `latest~N`: each alias is resolved, before the command runs, in the store of the first of
    its folder parameters that is set (else ./out). A bad alias is an input error (exit 2)."""

    class RunIdCommand(Command):
        def invoke(self, ctx: _click.Context) -> Any:
            for name, sources in folders.items():
                ref = ctx.params.get(name)
                if isinstance(ref, str):
                    given = (ctx.params.get(source) for source in sources)
                    folder = next((f for f in given if f is not None), Path("out"))
                    ctx.params[name] = _resolve_run_id(ref, Path(folder))
            return super().invoke(ctx)

    return RunIdCommand


def _resolve_run_id(ref: str, folder: Path) -> str:
    from evals.errors import InputError
    from evals.run_ids import is_alias, resolve_run_id
    from evals.store import RunStore

    if not is_alias(ref):
        return ref
    _require_store(folder)
    try:
        store = RunStore.in_folder(folder)
        try:
            return resolve_run_id(store, ref)
        finally:
            store.close()
    except InputError as exc:
        _input_error(exc)


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
    from evals.progress import SilentProgress, default_progress
    from evals.publish import check_publishable, publish, report_folder
    from evals.runner import Engine, new_run_id, start_run
    from evals.store import RunStore
    from evals.suite_file import DEMO_SUITE, build_plan
    from evals.targets.local_model import check_available, is_local_model

    if replay is not None and replay not in ("record", "replay", "auto", "off"):
        _input_error(ValueError(f"--replay must be record, replay, auto or off, not '{replay}'"))
    t0 = time.monotonic()
    try:
        if resume is not None:
            if suite is not None:
                _input_error(ValueError("give either a suite or --resume RUN_ID, not both"))
            _require_store(out or Path("out"))
            store = RunStore.in_folder(out or Path("out"))
            plan = store.plan(resume)
            run_id = resume
            cleanup.callback(store.close)
            store.lock_run(run_id)  # a second resume of a running run stops here
            # Before answering anything: the reports it ends with must be writable here.
            check_publishable(store, run_id, report_folder(store, run_id), force=force)
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
        _refused(exc, out or Path("out"))
    except (InputError, KeyError, ValueError) as exc:
        _input_error(exc)
    if not quiet:
        print(
            f"run {run_id}: suite '{plan.suite.name}', {len(plan.cases)} cases x "
            f"{plan.suite.samples} samples x {len(plan.suite.targets)} targets, "
            f"replay mode '{plan.suite.replay.mode}'",
            file=sys.stderr,
        )
    try:
        asyncio.run(engine.execute())
    except BaseExceptionGroup as group:
        # A target that cannot start (the bundled model's server) fails every worker at once.
        usage, other = group.split(_startup_errors())
        if other is not None or usage is None:
            raise
        _input_error(ValueError(next(iter({str(e) for e in _leaves(usage)}))))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: completed answers are stored. Resume with: "
            f"evals run --resume {run_id} --out {store.path.parent}",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    except InputError as exc:
        _input_error(exc)
    from reports.tables import decision_table, totals_table

    try:
        # A resume checked the existing manifest against the store before appending to it.
        published = publish(store, run_id, force=force, existing_checked=resume is not None)
    except RunTampered as exc:
        _refused(exc, store.path.parent)
    except InputError as exc:
        _input_error(exc)
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
        _print_published(run_id, published.folder, store.path.parent)
        print()
        print("\n".join(card.gates.lines()))
        print(f"\n{decision_table(card)}")
    if not card.passed:
        raise typer.Exit(EXIT_GATE)


def _print_published(run_id: str, folder: Path, out: Path) -> None:
    from evals.compliance import MANIFEST_NAME

    print(
        f"reports: {folder}/ (report.html, report.md, scorecard.json, junit.xml, scope.yaml, "
        "manifest.json)"
    )
    print(f"failing answers with their evidence: evals show {run_id} --out {out}")
    print(
        f"approve the automation scope: evals approve {folder / 'scope.yaml'} --by NAME "
        f"--note TEXT --out {out}"
    )
    default = (out / "reports" / run_id).resolve() == folder.resolve()
    manifest = "" if default else f" --manifest {folder / MANIFEST_NAME}"
    print(f"check the run and reports are unaltered: evals verify {run_id} --out {out}{manifest}")


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
        _input_error(ValueError(f"--labelled must be one of {', '.join(modes)}, not {labelled!r}"))
    inventory = validate_paths(paths)
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


@app.command(
    cls=Command,
    short_help="Check existing responses, such as transcripts, with no model.",
    epilog=examples(
        "evals scan transcripts.jsonl --policies policies/",
        "evals scan transcripts.jsonl --policies policies/ --guardrail privacy --out found.jsonl",
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
) -> None:
    """Check existing responses, such as production transcripts, without calling any model."""
    from evals.errors import InputError
    from evals.input_paths import output_file_problem
    from evals.scan import load_policies_arg
    from evals.scan import scan as run_scan
    from guardrails.registry import UnknownGuardrail

    problem = output_file_problem(out) if out is not None else None
    if problem is not None:
        _input_error(ValueError(f"{out}: --out {problem}; give the JSONL file to write"))
    try:
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
        _input_error(exc)
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


@app.command(
    "runs",
    cls=Command,
    short_help="List the runs in a store, newest first.",
    epilog=examples("evals runs --out out"),
)
def list_runs(out: OutOption = Path("out")) -> None:
    """List the runs in a store, newest first (`latest` is the first row, `latest~1` the next)."""
    from tabulate import tabulate

    from evals.errors import InputError
    from evals.store import RunStore

    _require_store(out)
    try:
        rows = RunStore.in_folder(out).runs()
    except InputError as exc:
        _input_error(exc)
    print(
        tabulate(
            [[r.id, r.suite, r.status, r.started, r.results, r.passed, r.errors] for r in rows],
            headers=["run", "suite", "status", "started", "answers", "passed", "errors"],
        )
    )


@app.command(
    cls=run_id_command(run_id=("out",)),
    short_help="Show one run: versions, totals, failing answers with evidence.",
    epilog=examples("evals show latest --out out", "evals show 20261207-101500-a1b2c3 --json"),
)
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help=RUN_ID_HELP)],
    out: OutOption = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="the whole run as JSON")] = False,
    limit: Annotated[int, typer.Option(metavar="N", help="failing answers to list")] = 20,
) -> None:
    """Show one run: its versions, totals per target and intent, and failing answers."""
    from evals.errors import InputError
    from evals.scorecard import build_scorecard
    from evals.store import RunStore
    from reports.tables import decision_table, totals_table

    _require_store(out)
    try:
        store = RunStore.in_folder(out)
        run = store.run(run_id)
        plan = store.plan(run_id)
    except InputError as exc:
        _input_error(exc)
    if as_json:
        print(run.model_dump_json(indent=2))
        return
    print(
        f"run {run.id} ({run.status}) suite '{run.suite}' started {run.started:%Y-%m-%d %H:%M:%S}"
    )
    print(
        f"versions: package {run.versions.package}, guardrails {run.versions.guardrails}, "
        f"cases {run.versions.cases}, policies "
        + ", ".join(f"{k}@{v}" for k, v in run.versions.policy_books.items())
    )
    print(f"config hash: {run.config_hash}\n")
    card = build_scorecard(run, plan)
    print(totals_table(card))
    failing = card.failing
    if failing:
        print(f"\nfailing answers ({len(failing)}; first {min(limit, len(failing))}):")
    for result in failing[:limit]:
        print(f"- {result.case_id} [{result.target}#{result.sample}]")
        if result.response.error:
            print(f"    error: {result.response.error}")
        for finding in result.findings:
            span = finding.evidence.span
            quoted = f' "{span.text}" @{span.start}-{span.end}' if span else ""
            print(f"    {finding.severity} {finding.code}: {finding.message}{quoted}")
    print("\n" + "\n".join(card.gates.lines()))
    print(f"\n{decision_table(card)}")


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

    _require_store(out)
    try:
        store = RunStore.in_folder(out)
        policy = load_decision_policy(decision_policy) if decision_policy else None
        published = publish(store, run_id, policy=policy, folder=folder, force=force)
    except RunTampered as exc:
        _refused(exc, out)
    except InputError as exc:
        _input_error(exc)
    _print_published(run_id, published.folder, out)
    print("\n".join(published.card.gates.lines()))
    print(f"\n{decision_table(published.card)}")
    if not published.card.passed:
        raise typer.Exit(EXIT_GATE)


@app.command(
    cls=Command,
    short_help="Record a product owner's approval of an automation scope.",
    epilog=examples(
        'evals approve out/reports/RUN_ID/scope.yaml --by "Ana Ruiz" --note "pilot, ES only"'
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
) -> None:
    """Record a product owner's approval of an automation scope.

    Refused (exit 1, naming each reason) if the scope, the run or the decision policy changed,
    the run failed its gates, a target or intent has no decision (every answer errored), or the
    run's policy books, cases or targets differ from the suite's files on disk."""
    from evals.errors import InputError
    from evals.scope import ScopeRefused
    from evals.scope import approve as record_approval
    from evals.store import RunStore

    _require_store(out)
    try:
        approval = record_approval(scope, RunStore.in_folder(out), by=by, note=note)
    except InputError as exc:
        _input_error(exc)
    except ScopeRefused as exc:
        print(f"REFUSED: {len(exc.problems)} reason(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise typer.Exit(EXIT_GATE) from None
    print(
        f"approved by {approval.approved_by} at {approval.approved_at:%Y-%m-%d %H:%M:%S %Z}: "
        f"run {approval.run_id}, scope sha256 {approval.scope_sha256[:16]}, "
        f"policy {approval.policy_hash}"
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

    _require_store(out)
    try:
        rows = approvals(RunStore.in_folder(out), run_id)
    except InputError as exc:
        _input_error(exc)
    print(
        tabulate(
            [
                [
                    a.run_id,
                    a.approved_by,
                    f"{a.approved_at:%Y-%m-%d %H:%M}",
                    a.scope_sha256[:16],
                    a.policy_hash,
                    a.note,
                ]
                for a in rows
            ],
            headers=["run", "by", "at", "scope sha256", "policy", "note"],
        )
    )


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
        _input_error(ValueError(f"--alpha must be between 0 and 1 (exclusive), not {alpha}"))
    severities: dict[str, Severity] = {"critical": "critical", "major": "major"}
    if fail_on_new is not None and fail_on_new not in severities:
        _input_error(ValueError(f"--fail-on-new wants critical or major, not '{fail_on_new}'"))
    threshold = severities[fail_on_new] if fail_on_new is not None else None
    target_map: dict[str, str] = {}
    for item in pair or []:
        old, sep, new = item.partition("=")
        if not (sep and old and new):
            _input_error(ValueError(f"--pair wants BASELINE_TARGET=CANDIDATE_TARGET, not '{item}'"))
        target_map[old] = new
    folders = (baseline_out or out, out)
    for folder in folders:
        _require_store(folder)
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
        _input_error(exc)
    except OSError as exc:
        _input_error(ValueError(f"cannot read the run store: {exc}"))
    if html_file is None:
        # Not beside the candidate's reports: `evals verify` flags files its manifest lacks.
        def safe(run_id: str) -> str:
            return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)

        html_file = out / "compare" / f"{safe(baseline)}-vs-{safe(candidate)}.html"
    stores_at = {(folder / STORE_NAME).resolve() for folder in folders}
    for option, path in (("--json", json_file), ("--html", html_file)):
        if path is not None and path.resolve() in stores_at:
            _input_error(ValueError(f"{option} {path}: that is a run store; it is not overwritten"))
    written: Path | None = None
    try:
        if json_file is not None:
            written = json_file
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(comparison.model_dump_json(indent=2) + "\n", encoding="utf-8")
        written = html_file
        write_compare_html(comparison, html_file)
    except OSError as exc:
        _input_error(ValueError(f"{written}: cannot write the comparison: {exc}"))
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print(render_comparison(comparison, colour=colour, shown=show))
    if json_file is not None:
        print(f"comparison written to {json_file}")
    print(f"HTML comparison written to {html_file}")
    if comparison.failed:
        raise typer.Exit(EXIT_GATE)


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

    _require_store(out)
    if manifest is None:
        default = out / "reports" / run_id / MANIFEST_NAME
        manifest = default if default.is_file() else None
    elif not manifest.is_file():
        _input_error(ValueError(f"{manifest}: manifest not found"))
    try:
        report = verify_run(RunStore.in_folder(out), run_id, manifest)
    except InputError as exc:
        _input_error(exc)
    print(report.render())
    if not report.intact:
        raise typer.Exit(EXIT_GATE)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
