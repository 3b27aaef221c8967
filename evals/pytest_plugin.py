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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imported with the plugin, i.e. before pytest loads conftests: a test folder named `guardrails`
# or `reports` that a conftest puts on sys.path would otherwise shadow these packages (Python
# would import the folder as an empty namespace package and no guardrail would run).
import guardrails
import reports
from evals.errors import InputError, error_text
from evals.gates import case_passes
from evals.publish import publish
from evals.pytest_plugin_settings import (
    Settings,
    add_options,
    is_worker,
    load_plan,
    read_settings,
)
from evals.pytest_plugin_verdict import (
    item_name,
    shown_path,
    verdict,
)
from evals.records import Case, CaseResult, RunPlan
from evals.runner import Engine, start_run
from evals.scorecard import Scorecard
from evals.store import RunStore
from evals.targets.local_model import LocalModelStartError, LocalModelUnavailable
from reports.tables import decision_table

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

#: user_properties key of an item's results (JSON); taken off the report on the controller.
RESULTS_KEY = "evals_results"
PLUGIN_NAME = "evals-suite"
#: Workers do not know the run id (the controller creates the run); it replaces this one.
PENDING_RUN_ID = "pending"
NO_GATES_HEADER = "gates NOT applied (--evals-no-gates)"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


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
            f"supportgate: suite '{plan.suite.name}' ({shown_path(Path(plan.suite_path))}), "
            f"{len(plan.cases)} cases x {len(plan.suite.targets)} targets x "
            f"{plan.suite.samples} samples, replay mode '{plan.suite.replay.mode}', "
            f"reports in {shown_path(Path(plan.output_dir))}"
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
            out = shown_path(self.store.path.parent)
            write(f"run {card.run_id}: reports in {shown_path(folder)}/")
            write(f"failing answers with their evidence: evals show {card.run_id} --out {out}")
