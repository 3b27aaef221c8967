"""pytest plugin: a supportgate suite as test items, with the suite's gates deciding the build.

Enabled explicitly only (`pytest -p evals.pytest_plugin`, or `pytest_plugins =
["evals.pytest_plugin"]` in a rootdir conftest): there is no `pytest11` entry point, so
installing supportgate never changes how unrelated projects' tests run.

Each case x target is one item (`refund_status/es/case-012[smollm2]`) that answers all k samples
of its case through the engine's own code path (`Engine.answer_case`: cassettes, retries,
guardrails), so flakiness is decided inside the item. The item's results travel to the controller
as JSON in `report.user_properties`, which pytest-xdist forwards from its workers; the controller
alone stores them in a run store (so `evals show` and `evals report` work on the run), builds the
scorecard, writes the reports, prints the decision table and fails the session when a gate fails
(with `--evals-no-gates` the gates are printed, marked as not applied, and leave the exit status
to the items).

Why no run store on the workers: SQLite with one writer keeps the run in one place, in the order
results arrive, and the workers never need to agree on a run id; each process only keeps an
engine (clients, cassettes, guardrails) and one event loop for its items.

The default replay mode is `replay`: nothing is called live unless `--evals-replay` asks for it,
so CI is hermetic and a missing cassette fails its item with the command that records it.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

# Imported with the plugin, i.e. before pytest loads conftests: a test folder named `guardrails`
# or `reports` that a conftest puts on sys.path would otherwise shadow these packages (Python
# would import the folder as an empty namespace package and no guardrail would run).
import guardrails
import reports
from evals.assertions import RESPONSE_QUOTE_LIMIT, describe_findings, quote
from evals.errors import InputError, error_text
from evals.gates import case_passes
from evals.publish import publish
from evals.records import Case, CaseResult, Finding, Gates, ReplayMode, RunPlan
from evals.runner import Engine, start_run
from evals.scorecard import Scorecard
from evals.scores import CaseOutcome, case_outcomes
from evals.store import RunStore
from evals.suite_file import build_plan
from evals.targets.local_model import LocalModelStartError, LocalModelUnavailable
from evals.verdict import has_critical
from reports.tables import decision_table

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

#: user_properties key of an item's results (JSON); taken off the report on the controller.
RESULTS_KEY = "evals_results"
REPLAY_MODES: tuple[ReplayMode, ...] = ("record", "replay", "auto", "off")
DEFAULT_REPLAY: ReplayMode = "replay"
DEFAULT_REPORT_DIR = "out/pytest"
PLUGIN_NAME = "evals-suite"
#: Workers do not know the run id (the controller creates the run); it replaces this one.
PENDING_RUN_ID = "pending"
NO_GATES_HEADER = "gates NOT applied (--evals-no-gates)"

ItemOutcome = Literal["passed", "failed", "xfailed"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evals", "supportgate evaluation suite (evals.pytest_plugin)")
    group.addoption(
        "--evals-suite",
        dest="evals_suite",
        metavar="PATH",
        default=None,
        help="suite file to run as tests, one item per case x target (ini: evals_suite). "
        "With no test paths on the command line, only the suite runs.",
    )
    group.addoption(
        "--evals-target",
        dest="evals_targets",
        metavar="NAME",
        action="append",
        default=None,
        help="run only this target of the suite; repeatable (default: every target; "
        "ini: evals_targets)",
    )
    group.addoption(
        "--evals-replay",
        dest="evals_replay",
        choices=REPLAY_MODES,
        default=None,
        help="record | replay | auto | off (default: replay, so nothing is called live; "
        "ini: evals_replay)",
    )
    group.addoption(
        "--evals-report-dir",
        dest="evals_report_dir",
        metavar="DIR",
        default=None,
        help=f"run store and reports go here (default: {DEFAULT_REPORT_DIR}; "
        "ini: evals_report_dir)",
    )
    # Command line only, no ini key: a gate switched off in a config file would go unnoticed.
    group.addoption(
        "--evals-no-gates",
        dest="evals_no_gates",
        action="store_true",
        default=False,
        help="compute and print the suite's gates but do not let them set the exit status, "
        "e.g. to run a subset locally with -k; items still pass, fail or xfail on their own "
        "and the run is stored and reported",
    )
    parser.addini("evals_suite", "suite file to run (relative to the ini file)", default="")
    parser.addini(
        "evals_targets", "targets of the suite to run (default: all)", type="linelist", default=[]
    )
    parser.addini("evals_replay", "record | replay | auto | off (default: replay)", default="")
    parser.addini(
        "evals_report_dir",
        f"run store and reports folder, relative to the ini file (default: {DEFAULT_REPORT_DIR})",
        default="",
    )


@dataclass(frozen=True)
class Settings:
    """The plugin's options, resolved: command line first, then the ini file, then defaults.
    Command-line paths are relative to where pytest runs; ini paths to the ini file."""

    suite: Path
    targets: tuple[str, ...]
    replay: ReplayMode
    report_dir: Path
    suite_on_command_line: bool
    #: False with --evals-no-gates: the gates are computed and printed, not applied.
    apply_gates: bool = True


def _path_setting(config: pytest.Config, name: str) -> Path | None:
    """A path option: on the command line relative to where pytest runs, in the ini file
    relative to that file; None when neither sets it."""
    option = config.getoption(name)
    if option:
        return Path(config.invocation_params.dir) / str(option)
    ini = str(config.getini(name) or "").strip()
    if ini:
        return (config.inipath.parent if config.inipath else config.rootpath) / ini
    return None


def read_settings(config: pytest.Config) -> Settings | None:
    option = config.getoption("evals_suite")
    suite = _path_setting(config, "evals_suite")
    if suite is None:
        return None
    targets = config.getoption("evals_targets") or config.getini("evals_targets") or []
    replay = config.getoption("evals_replay") or str(config.getini("evals_replay") or "").strip()
    if replay and replay not in REPLAY_MODES:
        raise pytest.UsageError(
            f"evals_replay must be one of {', '.join(REPLAY_MODES)}, not '{replay}'"
        )
    report_dir = _path_setting(config, "evals_report_dir") or (
        config.invocation_params.dir / DEFAULT_REPORT_DIR
    )
    mode: ReplayMode = DEFAULT_REPLAY
    for known in REPLAY_MODES:
        if replay == known:
            mode = known
    return Settings(
        suite=suite.resolve(),
        targets=tuple(str(t) for t in targets),
        replay=mode,
        report_dir=report_dir.resolve(),
        suite_on_command_line=bool(option),
        apply_gates=not config.getoption("evals_no_gates"),
    )


def is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker (only the controller stores, scores and gates)."""
    return hasattr(config, "workerinput")


def load_plan(settings: Settings) -> RunPlan:
    """The suite's plan for this session: the chosen targets, the plugin's replay mode, and the
    report folder as output folder; any problem is a pytest usage error naming file and line."""
    try:
        plan = build_plan(settings.suite, replay_mode=settings.replay, output=settings.report_dir)
    except InputError as exc:
        raise pytest.UsageError(
            "invalid evals suite:\n" + "\n".join(f"  {issue}" for issue in exc.issues)
        ) from None
    if settings.targets:
        known = [t.name for t in plan.suite.targets]
        unknown = [name for name in settings.targets if name not in known]
        if unknown:
            raise pytest.UsageError(
                f"{settings.suite}: no target named {', '.join(unknown)} "
                f"(the suite has: {', '.join(known)})"
            )
        chosen = [t for t in plan.suite.targets if t.name in settings.targets]
        plan = plan.model_copy(update={"suite": plan.suite.model_copy(update={"targets": chosen})})
    return plan


def check_packages() -> None:
    """Refuse to run when `guardrails` or `reports` is not supportgate's package: a shadowing
    folder would make every answer pass with no check run."""
    for package, ours in (
        (guardrails, getattr(guardrails, "IS_SUPPORTGATE", False)),
        (reports, hasattr(reports, "write_reports")),
    ):
        if not ours:
            where = list(getattr(package, "__path__", [])) or package.__file__
            raise pytest.UsageError(
                f"the imported `{package.__name__}` is not supportgate's (found at {where}): a "
                f"folder of that name on sys.path shadows it. Enable the plugin with "
                f"`-p evals.pytest_plugin`, or give that folder an __init__.py or another name."
            )


def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or getattr(config.option, "version", False):
        return
    settings = read_settings(config)
    if settings is None:
        return
    check_packages()
    plan = load_plan(settings)
    try:
        engine = Engine(plan, None, PENDING_RUN_ID)
    except (KeyError, ValueError) as exc:  # e.g. an unknown guardrail name
        raise pytest.UsageError(f"{settings.suite}: {error_text(exc)}") from None
    except InputError as exc:  # e.g. a target's API key variable is not set
        raise pytest.UsageError(str(exc)) from None
    plugin = SuitePlugin(config, settings, plan, engine)
    if plugin.controller:
        try:  # a broken store is the user's input problem, found before anything runs
            plugin.store = RunStore.in_folder(settings.report_dir)
        except InputError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(plugin, PLUGIN_NAME)
    # `--evals-suite` with no test paths runs the suite alone (`pytest -p ... --evals-suite X`
    # is "run this suite", not "run every test and the suite"); with test paths, the suite too.
    # A suite named only in the ini file joins a plain `pytest` run but not `pytest some/path`.
    explicit = config.args_source == pytest.Config.ArgsSource.ARGS
    suite = str(settings.suite)
    if settings.suite_on_command_line:
        config.args = [*config.args, suite] if explicit else [suite]
    elif not explicit:
        config.args = [*config.args, suite]


def item_name(case: Case, target: str) -> str:
    return f"{case.intent}/{case.language}/{case.id}[{target}]"


@dataclass(frozen=True)
class Verdict:
    outcome: ItemOutcome
    case: CaseOutcome
    message: str


def verdict(case: Case, target: str, results: list[CaseResult], plan: RunPlan) -> Verdict:
    """How an item ends, following the suite's gates: a provider error fails it unless
    `gates.max_errors` tolerates errors, and so does a critical finding unless
    `gates.max_critical` tolerates them (or is off); otherwise it passes if the case passes
    under `gates.flaky`, and a failing case is a failure when `gates.cases_must_pass`, else
    xfailed (the run's gates, applied once on the controller, decide whether the build fails)."""
    gates = plan.suite.gates
    outcome = case_outcomes(results, {case.id: case})[0]
    critical = any(has_critical(r.findings) for r in results)
    if (outcome.errors and gates.max_errors == 0) or (critical and gates.max_critical == 0):
        result: ItemOutcome = "failed"
    elif case_passes(outcome, gates.flaky):
        result = "passed"
    else:
        result = "failed" if gates.cases_must_pass else "xfailed"
    # An xfail reason is listed in pytest's short summary (-rx): one line per sample there, the
    # full evidence in the failure section, the run's reports and `evals show`.
    brief = result == "xfailed"
    message = describe_case(case, target, results, outcome, plan, brief)
    if critical and gates.max_critical == 0:
        message += "\na critical finding fails the run under gates.max_critical: 0"
    return Verdict(result, outcome, message)


def _headline(outcome: CaseOutcome, gates: Gates) -> str:
    counts = f"{outcome.passed} of {outcome.samples} sample(s) passed"
    if outcome.errors:
        counts += f", {outcome.errors} got no answer (error)"
    if outcome.stability == "flaky":
        counted = "passing" if case_passes(outcome, gates.flaky) else "failing"
        return f"FLAKY: {counts}; counted as {counted} under gates.flaky: {gates.flaky}"
    if outcome.stability == "stable_pass":
        return f"passed: {counts}"
    return f"FAILED: {counts}"


def _brief_findings(findings: list[Finding]) -> str:
    """Findings grouped by code, each with its count and first quoted span."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.code, []).append(finding)
    parts = []
    for code, same in groups.items():
        span = next((f.evidence.span for f in same if f.evidence.span is not None), None)
        part = f"{same[0].severity} {code}" + (f" x{len(same)}" if len(same) > 1 else "")
        parts.append(part + (f" {quote(span.text, 50)}" if span is not None else ""))
    return "; ".join(parts)


def describe_case(
    case: Case,
    target: str,
    results: list[CaseResult],
    outcome: CaseOutcome,
    plan: RunPlan,
    brief: bool = False,
) -> str:
    """An item's failure (or xfail) text: what happened to each sample, every finding with its
    evidence (`brief`: each finding's code and quoted span on its sample's line), and for a
    replay miss the command that records the missing answers."""
    model = next((t.model for t in plan.suite.targets if t.name == target), "?")
    lines = [_headline(outcome, plan.suite.gates)]
    if not brief:
        lines.append(
            f"case '{case.id}': intent {case.intent}, {case.kind}, {case.language}, "
            f"company {case.company}, risk {case.risk}; target '{target}' ({model})"
        )
    fail_on = set(plan.suite.gates.fail_on)
    misses = False
    for result in sorted(results, key=lambda r: r.sample):
        head = f"sample {result.sample} (seed {result.seed})"
        error = result.response.error
        if error is not None:
            misses = misses or error.startswith("replay miss")
            lines.append(f"{head}: ERROR {error}")
            continue
        if result.passed:
            lines.append(f"{head}: passed")
            continue
        failing = [f for f in result.findings if f.severity in fail_on]
        if brief:
            lines.append(f"{head}: {_brief_findings(failing)}")
            continue
        lines.append(f"{head}: failed, {len(failing)} finding(s) of severity {'/'.join(fail_on)}")
        lines.append(f"    response: {quote(result.response.text, RESPONSE_QUOTE_LIMIT)}")
        lines.extend(describe_findings(failing, "    "))
    if misses:
        suite = _shown_path(Path(plan.suite_path))
        lines.append(
            "record the missing answers (with network and keys), then commit the cassettes:\n"
            f"    pytest -p evals.pytest_plugin --evals-suite {suite} --evals-replay record\n"
            f"    (or: evals run {suite} --replay record)"
        )
    return "\n".join(lines)


def _shown_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


class CaseFailed(Exception):
    """An item whose case failed: its message is the whole failure text (no traceback)."""


class SuiteFile(pytest.File):
    """The suite file as a collector: one item per case x target, in the suite's case order."""

    def __init__(self, *, plugin: SuitePlugin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin

    def collect(self) -> list[pytest.Item]:
        plan = self.plugin.plan
        return [
            CaseItem.from_parent(
                self, name=item_name(case, target.name), case=case, target=target.name
            )
            for case in plan.cases
            for target in plan.suite.targets
            if target.answers(case)
        ]


class CaseItem(pytest.Item):
    """One case answered by one target, all k samples, judged by the guardrails."""

    def __init__(self, *, case: Case, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.target = target
        self.extra_keyword_matches.update({case.intent, case.company, case.language, target})

    @property
    def suite_file(self) -> SuiteFile:
        assert isinstance(self.parent, SuiteFile)
        return self.parent

    def runtest(self) -> None:
        plugin = self.suite_file.plugin
        results = plugin.answer(self.case, self.target)
        payload = json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False)
        self.user_properties.append((RESULTS_KEY, payload))
        judged = verdict(self.case, self.target, results, plugin.plan)
        self.user_properties.append(("evals_stability", judged.case.stability))
        if judged.outcome == "failed":
            raise CaseFailed(judged.message)
        if judged.outcome == "xfailed":
            pytest.xfail(judged.message)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        if isinstance(excinfo.value, LocalModelStartError | LocalModelUnavailable):
            return f"target '{self.target}' cannot start: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, None, self.name


def _take_results(report: pytest.TestReport) -> str | None:
    """Remove the results payload from a report (so JUnit and other consumers see only the
    short properties) and return it."""
    payload = None
    kept = []
    for name, value in report.user_properties:
        if name == RESULTS_KEY:
            payload = str(value)
        else:
            kept.append((name, value))
    if payload is not None:
        report.user_properties = kept
    return payload


class SuitePlugin:
    """The suite of one pytest session: answers items in this process and, on the controller,
    stores the run, scores it and applies the gates."""

    def __init__(
        self, config: pytest.Config, settings: Settings, plan: RunPlan, engine: Engine
    ) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self.engine = engine
        self.controller = not is_worker(config)
        self.loop: asyncio.Runner | None = None
        self.store: RunStore | None = None
        self.run_id: str | None = None
        self.card: Scorecard | None = None
        self.report_folder: Path | None = None

    # --- every process: collect and answer ------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> SuiteFile | None:
        if file_path.resolve() != self.settings.suite:
            return None
        suite_file: SuiteFile = SuiteFile.from_parent(parent, path=file_path, plugin=self)
        return suite_file

    def answer(self, case: Case, target: str) -> list[CaseResult]:
        # One event loop for the whole session: clients (HTTP sessions, the bundled model's
        # server) are started once and bound to it, not once per item.
        if self.loop is None:
            self.loop = asyncio.Runner()
        return self.loop.run(self.engine.answer_case(target, case))

    def _close_engine(self) -> None:
        if self.loop is None:
            return
        try:
            # Several processes may append to one cassette: only the controller compacts, after
            # every worker is done (see _compact_cassettes).
            self.loop.run(self.engine.close(compact=False))
        finally:
            self.loop.close()
            self.loop = None

    # --- the controller: store, score, gate -------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> str:
        plan = self.plan
        return (
            f"supportgate: suite '{plan.suite.name}' ({_shown_path(Path(plan.suite_path))}), "
            f"{len(plan.cases)} cases x {len(plan.suite.targets)} targets x "
            f"{plan.suite.samples} samples, replay mode '{plan.suite.replay.mode}', "
            f"reports in {_shown_path(Path(plan.output_dir))}"
            + ("" if self.settings.apply_gates else f"; {NO_GATES_HEADER}")
        )

    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        """A flaky case that passes under `gates.flaky` still shows as flaky, not as a plain pass
        (failing flaky cases say FLAKY in their failure or xfail reason)."""
        flaky = ("evals_stability", "flaky") in [tuple(p) for p in report.user_properties]
        if report.when == "call" and report.passed and flaky:
            return "passed", "~", ("PASSED (flaky)", {"yellow": True})
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.controller:
            return  # a worker's reports must keep their payload: it goes to the controller
        payload = _take_results(report)
        if payload is None or report.when != "call":
            return
        store, run_id = self._run()
        for data in json.loads(payload):
            result = CaseResult.model_validate(data).model_copy(update={"run_id": run_id})
            store.add_result(result)

    def _run(self) -> tuple[RunStore, str]:
        """The run store and run id, created with the first results (a session in which no
        suite item runs, e.g. deselected with -k, records no empty run)."""
        if self.store is None:
            self.store = RunStore.in_folder(Path(self.plan.output_dir))
        if self.run_id is None:
            self.run_id = start_run(self.plan, self.store)
        return self.store, self.run_id

    def _complete(self, store: RunStore, run_id: str) -> bool:
        """Whether every answer of the suite was stored. A `-k` subset leaves answers missing:
        the run ends as interrupted (resumable with `evals run --resume`) and its `complete`
        gate fails, so a subset never passes as the whole suite; a run marked finished with
        answers missing would read as deleted results and be refused at publish."""
        plan = store.plan(run_id)
        done = store.done_keys(run_id)
        return all(key in done for key in plan.expected_answers())

    def _compact_cassettes(self) -> None:
        if self.plan.suite.replay.mode not in ("record", "auto"):
            return
        from evals.cassettes import Cassette
        from evals.targets.factory import OFFLINE_MODELS

        for target in self.plan.suite.targets:
            path = Path(self.plan.replay_dir) / f"{target.name}.jsonl"
            if target.model in OFFLINE_MODELS or not path.exists():
                continue
            cassette = Cassette(Path(self.plan.replay_dir), target.name)  # every process's lines
            cassette.compact(force=True)  # appended by other processes: sort and deduplicate

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._close_engine()
        if not self.controller:
            return
        self._compact_cassettes()
        if self.store is None or self.run_id is None:
            return
        stopped = session.shouldfail or session.shouldstop
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or bool(stopped)
        interrupted = interrupted or not self._complete(self.store, self.run_id)
        self.store.set_status(self.run_id, "interrupted" if interrupted else "finished")
        published = publish(self.store, self.run_id)
        self.card = published.card
        self.report_folder = published.folder
        apply = self.settings.apply_gates
        if apply and self.card.gate_failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.store is not None:
            self.store.close()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.controller:
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", f"supportgate: suite '{self.plan.suite.name}'")
        card = self.card
        if card is None:
            write("no suite item ran: no run was recorded and no gate was applied")
            return
        write(decision_table(card))
        stable_pass = sum(o.stability == "stable_pass" for o in card.cases)
        stable_fail = sum(o.stability == "stable_fail" for o in card.cases)
        flaky = [o for o in card.cases if o.stability == "flaky"]
        write(
            f"\ncases x targets: {stable_pass} stable pass, {stable_fail} stable fail, "
            f"{len(flaky)} flaky (k = {card.samples} samples each)"
        )
        gates = self.plan.suite.gates
        for o in flaky:
            counted = "passing" if case_passes(o, gates.flaky) else "failing"
            write(
                f"  flaky: {o.intent}/{o.language}/{o.case_id}[{o.target}] "
                f"{o.passed} of {o.samples} passed, counted as {counted} "
                f"(gates.flaky: {gates.flaky})",
                yellow=True,
            )
        for line in card.gates.lines():
            failed = line.startswith("GATE FAILED")
            headline = line == card.gates.headline
            write(
                line,
                red=failed or (headline and not card.passed),
                bold=failed,
                green=headline and card.passed and not card.gates.failed_answers,
                yellow=headline and card.passed and bool(card.gates.failed_answers),
            )
        if not self.settings.apply_gates:
            ignored = len(card.gate_failures)
            write(
                f"{NO_GATES_HEADER}: "
                + (
                    f"{ignored} failed gate check(s) above did not set the exit status"
                    if ignored
                    else "the gates passed, but did not decide the exit status"
                )
                + "; this is not a gated build, run without --evals-no-gates for that",
                yellow=True,
                bold=True,
            )
        folder = self.report_folder
        if folder is not None and self.store is not None:
            out = _shown_path(self.store.path.parent)
            write(f"run {card.run_id}: reports in {_shown_path(folder)}/")
            write(f"failing answers with their evidence: evals show {card.run_id} --out {out}")
