"""The pytest plugin's options (command line and ini file) and the suite plan they select."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from evals.errors import InputError
from evals.records import ReplayMode, RunPlan
from evals.suite_file import build_plan

REPLAY_MODES: tuple[ReplayMode, ...] = ("record", "replay", "auto", "off")
DEFAULT_REPLAY: ReplayMode = "replay"
DEFAULT_REPORT_DIR = "out/pytest"


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options and ini keys (what its `pytest_addoption` adds)."""
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
