"""The `evals` application and what its commands share: the typer app, the help-formatting
command class, run-id aliases, and how input errors and refused runs are reported.

Each command lives in `evals.commands.<name>`; `evals.cli` imports them all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer import _click
from typer.core import TyperCommand, TyperOption

if TYPE_CHECKING:
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


def refused(exc: RunTampered, out: Path) -> NoReturn:
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


def startup_errors() -> tuple[type[Exception], ...]:
    from evals.errors import InputError
    from evals.targets.local_model import LocalModelStartError, LocalModelUnavailable

    return (InputError, LocalModelStartError, LocalModelUnavailable)


def leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def input_error(exc: Exception) -> NoReturn:
    from evals.errors import error_text

    issues = getattr(exc, "issues", None) or [exc]
    for issue in issues:
        text = error_text(issue) if isinstance(issue, BaseException) else str(issue)
        print(f"error: {text}", file=sys.stderr)
    print(f"{len(issues)} problem(s); nothing was done.", file=sys.stderr)
    raise typer.Exit(EXIT_INPUT)


def require_store(folder: Path) -> None:
    from evals.store import STORE_NAME

    if not (folder / STORE_NAME).exists():
        input_error(ValueError(f"{folder / STORE_NAME}: no run store here (use --out FOLDER)"))


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
                    ctx.params[name] = resolve_run_id(ref, Path(folder))
            return super().invoke(ctx)

    return RunIdCommand


def resolve_run_id(ref: str, folder: Path) -> str:
    from evals.errors import InputError
    from evals.run_ids import is_alias, resolve_run_id
    from evals.store import RunStore

    if not is_alias(ref):
        return ref
    require_store(folder)
    try:
        store = RunStore.in_folder(folder)
        try:
            return resolve_run_id(store, ref)
        finally:
            store.close()
    except InputError as exc:
        input_error(exc)


def warn_degraded(guardrails: Sequence[str] | None) -> None:
    """Say on stderr which checks run with less than they need on this machine (the policy
    guardrail without Apertium translates no policy book), so a loss is never silent."""
    if guardrails is not None and "policy" not in guardrails:
        return
    from guardrails.translation import unavailable

    for reason in unavailable():
        print(f"warning: {reason}", file=sys.stderr)


def print_published(run_id: str, folder: Path, out: Path) -> None:
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
