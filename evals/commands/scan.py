"""The `evals scan` command: check existing responses with no model, on all cores; score them
like a run when they carry intents."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import (
    EXIT_GATE,
    Command,
    app,
    examples,
    input_error,
    print_published,
    refused,
    warn_degraded,
)

if TYPE_CHECKING:
    from evals.scan import RawRecord


@app.command(
    cls=Command,
    short_help="Check existing responses, such as transcripts, with no model.",
    epilog=examples(
        "evals scan transcripts.jsonl --policies policies/",
        "evals scan transcripts.jsonl --policies policies/ --guardrail privacy --out found.jsonl",
        "evals scan transcripts.jsonl --policies policies/ --plugin mychecks --guardrail mine",
        "evals scan logs/ --policies policies/ --out found.parquet --workers 2",
        "evals scan export.csv --policies policies/ --map response=bot_reply,intent=topic",
        "evals scan big.jsonl.gz --policies policies/ --out found.jsonl --resume",
        "evals scan --dataset my-org/chats --split test --policies policies/ --store out",
    ),
)
def scan(
    policies: Annotated[
        Path,
        typer.Option(
            metavar="PATH",
            help="policy books: a YAML file mapping company ids to a name and a policy text, "
            "or a folder of books",
        ),
    ],
    transcripts: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="TRANSCRIPTS",
            help="files (.jsonl, .jsonl.gz, .csv, .parquet) or folders of them",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="findings file: .jsonl, or .parquet (default: JSONL on standard output)",
        ),
    ] = None,
    store_dir: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="DIR",
            help="run store and reports of a scan whose records carry `intent` (reports in "
            "DIR/reports/RUN_ID/; default: the folder of --out, else ./out)",
            show_default=False,
        ),
    ] = None,
    field_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN,...",
            help="read transcript fields from other columns, e.g. response=bot_reply,intent=topic",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(metavar="N", min=1, max=256, help="processes checking (default: all cores)"),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="finish an interrupted scan of the same inputs into the same --out"
        ),
    ] = False,
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
    decision_policy: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="decision policy of a scored scan (default: bundled)"),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="also read this dataset (anything `datasets` loads)"),
    ] = None,
    split: Annotated[str, typer.Option(metavar="SPLIT", help="the dataset's split")] = "train",
    engine: Annotated[
        str,
        typer.Option(
            metavar="ENGINE",
            help="local: this machine's cores; ray: a Ray Data pipeline on a local Ray or a "
            "cluster (pip install 'supportgate[ray]'), writing a Parquet folder (--out DIR) "
            "with the same findings",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            metavar="ADDR",
            help="with --engine ray: the cluster to run on (auto, HOST:6379, ray://HOST:10001); "
            "default: a local Ray on --workers CPUs, else every CPU",
        ),
    ] = None,
) -> None:
    """Check existing responses, such as production transcripts, without calling any model.

    Records that carry `intent` are scored like a run (pass rates, decisions, reports, a
    manifest) into the --store; without intents the scan writes findings and a summary by
    code. A bad record is named (file, line, field), skipped and counted: exit 1."""
    from evals.compliance import RunTampered
    from evals.decision_policy import load_decision_policy
    from evals.errors import InputError
    from evals.input_paths import folder_problem, output_file_problem
    from evals.plugins import load_plugins
    from evals.runner import new_run_id
    from evals.scan import ScanSetup, load_policies_arg
    from evals.scan_inputs import open_inputs, parse_field_map
    from evals.scan_output import FindingsWriter
    from evals.scan_run import AnswerSpool, ScanOrigin, store_scan
    from evals.scan_workers import checked_in_order, default_workers
    from evals.store import RunStore
    from guardrails.registry import UnknownGuardrail

    paths = list(transcripts or [])
    if engine not in ("local", "ray"):
        input_error(ValueError(f"--engine must be local or ray, not '{engine}'"))
    if ray_address is not None and engine != "ray":
        input_error(ValueError("--ray-address needs --engine ray"))
    if engine == "ray":
        unsupported = [
            name
            for name, given in (
                ("--map", field_map),
                ("--resume", resume),
                ("--dataset", dataset),
                ("--store", store_dir),
                ("--plugin", plugin),
                ("--decision-policy", decision_policy),
            )
            if given
        ]
        if unsupported:
            input_error(
                ValueError(
                    f"--engine ray does not take {', '.join(unsupported)} yet: the Ray engine "
                    "writes findings only (use the local engine, which takes every option)"
                )
            )
        if out is None or not paths:
            input_error(ValueError("--engine ray needs the transcripts and --out FOLDER"))
        _ray_scan(paths, policies, out, guardrail, ray_address, workers)
        return
    store = store_dir or (out.parent if out is not None else Path("out"))
    if not paths and dataset is None:
        input_error(ValueError("give the transcripts: files, folders, or --dataset NAME"))
    if out is not None:
        problem = output_file_problem(out)
        if problem is not None:
            input_error(ValueError(f"{out}: --out {problem}; give the findings file to write"))
        if out.suffix.lower() not in (".jsonl", ".parquet"):
            input_error(ValueError(f"{out}: --out must end in .jsonl or .parquet"))
    if resume and out is None:
        input_error(ValueError("--resume needs --out FILE: a scan to standard output cannot"))
    try:
        load_plugins(plugin or [], folder=Path.cwd(), file="--plugin")
        fields = parse_field_map(field_map)
        books = load_policies_arg(policies)
        policy = load_decision_policy(decision_policy) if decision_policy else None
        inputs = open_inputs(paths, dataset=dataset, split=split)
        if inputs.issues:
            raise InputError(inputs.issues)
        risks = {
            intent: rule.risk
            for intent, rule in (policy or load_decision_policy()).intents.items()
            if rule.risk is not None
        }
        # A scan is scored when its records carry intents: decided on the first records.
        records = inputs.records()
        head: list[RawRecord] = []
        for record in records:
            head.append(record)
            if len(head) >= 100:
                break
        scored = _any_intent(head, fields)
        setup = ScanSetup(
            policies=books,
            guardrails=tuple(guardrail) if guardrail is not None else None,
            field_map=fields,
            risks=risks,
            keep=scored,
        )
        fingerprint = _fingerprint(inputs.fingerprint(), setup, policy)
        if scored and (problem := folder_problem(store)) is not None:
            raise InputError.single(store, f"--store {problem}")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
        writer = FindingsWriter(
            out,
            fingerprint,
            resume=resume,
            stdout=sys.stdout,
            scored=scored,
            run_id=new_run_id() if scored else None,
        )
        from evals.scan import guardrails_for

        guardrails_for(setup)  # an unknown guardrail name stops the scan before any work
    except (InputError, UnknownGuardrail, ValueError, OSError) as exc:
        input_error(exc)
    warn_degraded(setup.guardrails)
    scored = writer.progress.scored
    if resume:  # a resumed scan reads on after the last checkpoint
        head = []
        records = inputs.records(skip=writer.progress.records)
    spool = AnswerSpool()
    import itertools
    from concurrent.futures.process import BrokenProcessPool

    stream = itertools.chain(head, records)
    try:
        for checked in checked_in_order(stream, setup, workers or default_workers()):
            writer.add(checked, spool.lines(checked) if scored else [])
        writer.close()
    except KeyboardInterrupt:
        where = f" --out {out} --resume" if out else ""
        print(f"\ninterrupted; finish with the same command{where}", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenProcessPool as exc:  # a worker killed from outside (out of memory, a signal)
        where = " and --resume" if out else ""
        print(
            f"error: a worker process died ({exc}); what was written is kept: finish with the "
            f"same command{where}",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_GATE) from None
    issues = writer.issues(limit=100)
    issues.extend(inputs.issues)
    writer.finish()
    totals = writer.totals
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    if totals.invalid > len(issues):
        print(f"... and {totals.invalid - len(issues)} more bad records", file=sys.stderr)
    print(
        f"scanned {totals.records} responses: {totals.passed} passed, {totals.failed} failed, "
        f"{totals.invalid} invalid" + (f"; written to {out}" if out else ""),
        file=sys.stderr,
    )
    if totals.codes:
        print("findings by code:", file=sys.stderr)
        print("\n".join(totals.summary()), file=sys.stderr)
    gates_failed = False
    if scored and writer.progress.run_id is not None:
        origin = ScanOrigin(
            name=Path(paths[0]).name.split(".")[0] if paths else (dataset or "dataset"),
            inputs=[str(p.resolve()) for p in paths] + ([dataset] if dataset else []),
            policies_path=policies.resolve(),
            policies=books,
            guardrails=list(guardrail) if guardrail is not None else None,
            decision_policy=policy,
            store_folder=store,
        )
        try:
            run_store = RunStore.in_folder(store)
            try:
                published = store_scan(
                    run_store, writer.progress.run_id, origin, writer.answers_path
                )
            finally:
                run_store.close()
        except RunTampered as exc:
            refused(exc, store)
        except InputError as exc:
            input_error(exc)
        from reports.tables import decision_table

        card = published.card
        print(f"\nscan stored as run {card.run_id}", file=sys.stderr)
        # Findings written to standard output stay a clean JSONL stream: the rest goes to stderr.
        with contextlib.redirect_stdout(sys.stderr if out is None else sys.stdout):
            print_published(card.run_id, published.folder, store)
            print("\n".join(card.gates.lines()))
            print(f"\n{decision_table(card)}")
        gates_failed = not card.passed
    writer.discard_state()
    if totals.invalid or totals.failed or gates_failed:
        raise typer.Exit(EXIT_GATE)


def _any_intent(head: list[RawRecord], fields: dict[str, str]) -> bool:
    from evals import bounded_json

    name = fields.get("intent", "intent")
    for record in head:
        data = record.data
        if isinstance(data, bytes):
            try:
                data = bounded_json.loads(data.decode("utf-8", "replace"))
            except bounded_json.BadJSON:
                continue
        if isinstance(data, dict) and data.get(name) not in (None, ""):
            return True
    return False


def _fingerprint(inputs: str, setup: object, policy: object) -> str:
    import hashlib

    from evals.decision_policy import DecisionPolicy
    from evals.scan import ScanSetup

    assert isinstance(setup, ScanSetup)
    extra = policy.content_hash() if isinstance(policy, DecisionPolicy) else ""
    blob = f"{inputs}|{setup.key}|{sorted(setup.field_map.items())}|{setup.fail_on}|{extra}"
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _ray_scan(
    paths: list[Path],
    policies: Path,
    out: Path,
    guardrail: list[str] | None,
    address: str | None,
    workers: int | None,
) -> None:
    """`--engine ray`: the same check as a Ray Data pipeline, into a Parquet folder."""
    from evals.errors import InputError
    from evals.scan import load_policies_arg
    from evals.scan_ray import run_ray_scan
    from guardrails.registry import UnknownGuardrail

    try:
        books = load_policies_arg(policies)
        totals, issues = run_ray_scan(
            paths, books, out, guardrails=guardrail, address=address, num_cpus=workers
        )
    except (InputError, UnknownGuardrail) as exc:
        input_error(exc)
    for issue in issues[:100]:
        print(f"error: {issue}", file=sys.stderr)
    if len(issues) > 100:
        print(f"... and {len(issues) - 100} more bad records", file=sys.stderr)
    print(
        f"scanned {totals.records} responses: {totals.passed} passed, {totals.failed} failed, "
        f"{totals.invalid} invalid; written to {out}/ (Parquet, one row per record)",
        file=sys.stderr,
    )
    if issues or totals.failed:
        raise typer.Exit(EXIT_GATE)
