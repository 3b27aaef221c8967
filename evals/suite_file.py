"""Suite files: which cases, policy books and targets a run uses, resolved into a RunPlan."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.case_files import (
    TABLE_SUFFIXES,
    YAML_SUFFIXES,
    Located,
    _validate,
    load_located_case_file,
    load_policy_books,
    located_cases_from_table,
)
from evals.decision_policy import DecisionPolicy, load_decision_policy
from evals.errors import InputError, InputIssue
from evals.input_paths import file_problem, folder_problem
from evals.plugins import check_guardrail_names, suite_plugins
from evals.records import Case, CaseSource, PolicyBook, RunPlan, Suite
from evals.targets.local_model import LocalModelUnavailable, check_available, is_local_model
from evals.targets.providers import check_models
from evals.targets.scripted import is_recorded_model
from evals.yaml_lines import LineMap, load_yaml


def _demo_suite() -> Path:
    """The bundled demo suite: `evals/demo/` in an installed wheel (the repo's `cases/` folder,
    mapped there by pyproject.toml), else `cases/` of the checkout this package runs from."""
    package = Path(__file__).resolve().parent
    installed = package / "demo" / "suites" / "demo.yaml"
    return installed if installed.is_file() else package.parent / "cases" / "suites" / "demo.yaml"


#: The suite `evals run` uses when none is given.
DEMO_SUITE = _demo_suite()


def suite_from_yaml(
    path: Path, data: Any, lines: LineMap, issues: list[InputIssue]
) -> Suite | None:
    if not isinstance(data, dict):
        issues.append(InputIssue(str(path), "a suite file must be a mapping"))
        return None
    suite: Suite | None = _validate(Suite, data, file=path, issues=issues, lines=lines)
    return suite


def load_suite(path: Path) -> Suite:
    """Parse and validate a suite file or raise InputError naming every problem."""
    return load_suite_with_lines(path)[0]


def load_suite_with_lines(path: Path) -> tuple[Suite, LineMap]:
    """`load_suite`, with the line of every key of the suite file."""
    problem = file_problem(path)
    if problem is not None:
        raise InputError.single(path, f"{problem}; give the suite file")
    if not path.is_file():
        raise InputError.single(path, "suite file not found")
    data, lines = load_yaml(path)
    issues: list[InputIssue] = []
    suite = suite_from_yaml(path, data, lines, issues)
    if suite is None:
        raise InputError(issues)
    return suite, lines


def _field_key(field: str) -> tuple[int | str, ...]:
    """'cases[0].path' -> ('cases', 0, 'path')."""
    key: list[int | str] = []
    for part in field.replace("]", "").replace("[", ".").split("."):
        if part:
            key.append(int(part) if part.isdigit() else part)
    return tuple(key)


def _with_suite_lines(
    issues: list[InputIssue], suite: Suite, suite_path: Path, lines: LineMap
) -> list[InputIssue]:
    """Give the suite file's own issues the line of the field they name."""
    targets = {t.name: i for i, t in enumerate(suite.targets)}
    out = []
    for issue in issues:
        if issue.file == str(suite_path) and issue.line is None and issue.field:
            key = _field_key(issue.field)
            if issue.record in targets and key and key[0] != "targets":
                key = ("targets", targets[issue.record], *key)
            line = next((lines[key[:n]] for n in range(len(key), 0, -1) if key[:n] in lines), None)
            issue = InputIssue(issue.file, issue.message, line, issue.record, issue.field)
        out.append(issue)
    return out


def _source_paths(source: CaseSource, base: Path, suite_path: Path) -> list[Path]:
    assert source.path is not None
    pattern = source.path if Path(source.path).is_absolute() else str(base / source.path)
    matches = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))]
    files: list[Path] = []
    for match in matches:
        if match.is_dir():
            files.extend(
                sorted(
                    p
                    for p in match.rglob("*")
                    if p.is_file() and p.suffix in YAML_SUFFIXES | TABLE_SUFFIXES
                )
            )
        else:
            files.append(match)
    if not files:
        raise InputError.single(suite_path, f"case source matches no file: {source.path}")
    return files


def _keep(case: Case, source: CaseSource) -> bool:
    if source.ids and case.id not in source.ids:
        return False
    if source.tags and not set(case.tags) & set(source.tags):
        return False
    return not set(case.tags) & set(source.exclude_tags)


def resolve_cases(
    suite: Suite,
    suite_path: Path,
    issues: list[InputIssue],
    origins: dict[str, str] | None = None,
) -> list[Case]:
    """The suite's cases; `origins`, if given, gets each case id's file (or dataset)."""
    located = resolve_located_cases(suite, suite_path, issues)
    if origins is not None:
        origins.update((c.item.id, c.file) for c in located)
    return [c.item for c in located]


def resolve_located_cases(
    suite: Suite, suite_path: Path, issues: list[InputIssue]
) -> list[Located[Case]]:
    """The suite's cases, each with the file (or dataset) and line it was written at."""
    base = suite_path.parent
    cases: list[Located[Case]] = []
    for index, source in enumerate(suite.cases):
        found: list[Located[Case]]
        if source.dataset is not None:
            found = [
                Located(c.item, f"dataset {source.dataset}", c.line)
                for c in located_cases_from_table(
                    source.dataset, issues, split=source.split, is_file=False
                )
            ]
        else:
            try:
                paths = _source_paths(source, base, suite_path)
            except InputError as exc:
                issues.extend(
                    InputIssue(
                        i.file, i.message, i.line, i.record, i.field or f"cases[{index}].path"
                    )
                    for i in exc.issues
                )
                continue
            found = [c for path in paths for c in load_located_case_file(path, issues)]
        cases.extend(c for c in found if _keep(c.item, source))
    return cases


def check_unique_ids(cases: list[Located[Case]], issues: list[InputIssue]) -> None:
    """Each case id once; a repeat is named at its own file and line, with the first one."""
    seen: dict[str, Located[Case]] = {}
    for located in cases:
        case = located.item
        first = seen.get(case.id)
        if first is not None:
            where = first.file if first.line is None else f"{first.file}:{first.line}"
            issues.append(
                located.issue(
                    f"case id used more than once (first at {where})", record=case.id, field="id"
                )
            )
        seen.setdefault(case.id, located)


def check_companies(
    cases: list[Located[Case]],
    policies: dict[str, PolicyBook],
    issues: list[InputIssue],
    *,
    policy_source: str = "",
) -> None:
    """A policy book for every case's company, named at the case's own file and line.
    `policy_source` says where the books came from."""
    for located in cases:
        case = located.item
        if case.company not in policies:
            source = f" in {policy_source}" if policy_source else ""
            issues.append(
                located.issue(
                    f"no policy book for company '{case.company}'{source} "
                    f"(known: {', '.join(sorted(policies)) or 'none'})",
                    record=case.id,
                    field="company",
                )
            )


def check_folders(
    suite: Suite, suite_path: Path, output: Path | None, issues: list[InputIssue]
) -> None:
    """The output and replay folders must be folders (or not exist yet): checked before the
    run starts, so no answer is paid for and then lost because its folder is a file."""
    out_folder = output if output is not None else Path(suite.output)
    problem = folder_problem(out_folder)
    if problem is not None:
        issues.append(
            InputIssue(
                str(suite_path) if output is None else str(out_folder),
                f"the output folder {str(out_folder)[:200]} {problem}",
                field="--out" if output is not None else "output",
            )
        )
    replay = suite_path.parent / suite.replay.dir
    replays = suite.replay.mode != "off" or any(is_recorded_model(t.model) for t in suite.targets)
    problem = folder_problem(replay) if replays else None
    if problem is not None:
        issues.append(
            InputIssue(
                str(suite_path),
                f"the replay folder {str(replay)[:200]} {problem}",
                field="replay.dir",
            )
        )


@dataclass
class SuiteInputs:
    """A suite with everything it names, loaded, and every problem found on the way."""

    suite: Suite
    suite_path: Path
    cases: list[Located[Case]]
    policies: dict[str, PolicyBook]
    decision_policy: DecisionPolicy | None
    issues: list[InputIssue] = field(default_factory=list)
    judge_calibration: dict[str, Any] | None = None


def check_judge(
    suite: Suite, suite_path: Path, mode: str, issues: list[InputIssue]
) -> dict[str, Any] | None:
    """The judge's model (as a target's) and its calibration file: the calibration as loaded,
    None when the suite names none or the file does not exist yet (the judge is then advisory);
    a file that exists but is not a calibration, or was edited, is an issue."""
    judge = suite.judge
    if judge is None:
        return None
    from evals.judge.calibration import read_calibration
    from evals.judge.calls import judge_target

    if mode != "replay":
        found: list[InputIssue] = []
        check_models(suite_path, [judge_target(judge)], found)
        if is_local_model(judge.model):
            try:
                check_available(judge.model)
            except LocalModelUnavailable as exc:
                found.append(InputIssue(str(suite_path), str(exc)))
        issues.extend(InputIssue(i.file, i.message, None, None, "judge.model") for i in found)
    if judge.calibration is None:
        return None
    path = suite_path.parent / judge.calibration
    if not path.exists():
        return None
    try:
        return read_calibration(path).model_dump(mode="json")
    except InputError as exc:
        issues.extend(exc.issues)
        return None


def gather_suite(
    suite_path: Path,
    *,
    replay_mode: str | None = None,
    default_mode: str = "auto",
    output: Path | None = None,
) -> SuiteInputs:
    """Load a suite and everything it names, collecting every problem (`build_plan` raises
    them). Raises InputError only when the suite file itself cannot be read."""
    suite_path = suite_path.resolve()
    suite, lines = load_suite_with_lines(suite_path)
    mode = replay_mode or suite.replay.mode or default_mode
    suite = suite.model_copy(update={"replay": suite.replay.model_copy(update={"mode": mode})})
    base = suite_path.parent
    issues: list[InputIssue] = []
    cases = resolve_located_cases(suite, suite_path, issues)
    # Plugins register guardrails, targets and packs: loaded before the policy books (which
    # may name a plugin's pack) and before the guardrail names are checked. (A plugin that
    # failed explains an unknown name better than the name itself.)
    before = len(issues)
    suite_plugins(suite, suite_path, issues)
    plugins_loaded = len(issues) == before
    policies = load_policy_books([base / p for p in suite.policies], issues)
    named = ", ".join(str(p) for p in suite.policies) or "none"
    check_unique_ids(cases, issues)
    check_companies(cases, policies, issues, policy_source=f"the suite's policies ({named})")
    if not cases and not issues:
        issues.append(InputIssue(str(suite_path), "the suite selects no case"))
    if plugins_loaded:
        check_guardrail_names(suite, suite_path, issues)
    if mode != "replay":  # a replayed run calls no provider (and must not import litellm)
        check_models(suite_path, suite.targets, issues)
    for target in suite.targets:
        if target.case_tags and cases and not any(target.answers(c.item) for c in cases):
            issues.append(
                InputIssue(
                    str(suite_path),
                    f"case_tags {target.case_tags} select none of the suite's cases",
                    record=target.name,
                    field="case_tags",
                )
            )
        if is_local_model(target.model) and mode != "replay":
            try:
                check_available(target.model)
            except LocalModelUnavailable as exc:
                issues.append(
                    InputIssue(str(suite_path), str(exc), record=target.name, field="model")
                )
        if target.model == "reference":
            for located in cases:
                if target.answers(located.item) and located.item.reference is None:
                    issues.append(
                        located.issue(
                            f"target '{target.name}' of {suite_path} replays reference answers "
                            "but this case has none",
                            record=located.item.id,
                            field="reference",
                        )
                    )
    check_folders(suite, suite_path, output, issues)
    judge_calibration = check_judge(suite, suite_path, mode, issues)
    policy_path = base / suite.decision_policy if suite.decision_policy else None
    decision_policy: DecisionPolicy | None = None
    try:
        problem = file_problem(policy_path) if policy_path is not None else None
        if problem is not None:
            raise InputError.single(
                suite_path,
                f"the decision policy {str(policy_path)[:200]} {problem}",
                field="decision_policy",
            )
        decision_policy = load_decision_policy(policy_path)
    except InputError as exc:
        issues.extend(exc.issues)
    issues = _with_suite_lines(issues, suite, suite_path, lines)
    return SuiteInputs(
        suite, suite_path, cases, policies, decision_policy, issues, judge_calibration
    )


def build_plan(
    suite_path: Path,
    *,
    replay_mode: str | None = None,
    default_mode: str = "auto",
    output: Path | None = None,
) -> RunPlan:
    """Load a suite and everything it names; raise InputError listing every problem.

    The replay mode is `replay_mode` if given, else the suite's, else `default_mode`; the plan
    records the mode it resolved to.
    """
    inputs = gather_suite(
        suite_path, replay_mode=replay_mode, default_mode=default_mode, output=output
    )
    if inputs.issues or inputs.decision_policy is None:
        raise InputError(inputs.issues)
    base = inputs.suite_path.parent
    return RunPlan(
        decision_policy=inputs.decision_policy.model_dump(mode="json"),
        suite=inputs.suite,
        suite_path=str(inputs.suite_path),
        cases=[c.item for c in inputs.cases],
        policies=inputs.policies,
        replay_dir=str((base / inputs.suite.replay.dir).resolve()),
        output_dir=str((output or Path(inputs.suite.output)).resolve()),
        judge_calibration=inputs.judge_calibration,
    )
