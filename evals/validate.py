"""`evals validate`: check case files, policy books, labelled responses and suites, reporting
every problem with its file, line, record and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.answer_checks import AnswerProblem, check_labelled, check_references
from evals.case_files import (
    TABLE_SUFFIXES,
    TEXT_POLICY_SUFFIXES,
    YAML_SUFFIXES,
    Located,
    load_policy_books,
    located_cases_from_table,
    located_cases_from_yaml,
    located_labelled_from_yaml,
    policies_from_yaml,
    policy_from_text_file,
    yaml_kind,
)
from evals.cassettes import Cassette
from evals.errors import InputError, InputIssue
from evals.input_paths import path_problem
from evals.records import Case, LabelledResponse, PolicyBook
from evals.suite_file import (
    SuiteInputs,
    check_companies,
    check_unique_ids,
    gather_suite,
    suite_from_yaml,
)
from evals.targets.providers import check_models
from evals.yaml_lines import load_yaml
from guardrails.registry import registered

#: How far up from a case file `evals validate` looks for a `policies` folder when none is named.
POLICY_SEARCH_LEVELS = 3


@dataclass
class Inventory:
    files: int = 0
    located_cases: list[Located[Case]] = field(default_factory=list)
    policies: dict[str, PolicyBook] = field(default_factory=dict)
    located_labelled: list[Located[LabelledResponse]] = field(default_factory=list)
    suites: int = 0
    cassettes: int = 0
    issues: list[InputIssue] = field(default_factory=list)
    #: Every suite that loaded, with its cases and policy books.
    suite_inputs: list[SuiteInputs] = field(default_factory=list)
    #: The policy books the loose case files were checked against, and where they came from.
    case_policies: dict[str, PolicyBook] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def cases(self) -> list[tuple[str, Case]]:
        """(file, case) of every case file given (not those reached through suites)."""
        return [(c.file, c.item) for c in self.located_cases]

    @property
    def labelled(self) -> list[tuple[str, LabelledResponse]]:
        return [(r.file, r.item) for r in self.located_labelled]

    def all_cases(self) -> list[Located[Case]]:
        """Every case checked, given directly or through a suite, each once."""
        seen: set[tuple[str, int | None, str]] = set()
        out: list[Located[Case]] = []
        for located in [*self.located_cases, *(c for s in self.suite_inputs for c in s.cases)]:
            key = _case_key(located)
            if key not in seen:
                seen.add(key)
                out.append(located)
        return out

    def all_policies(self) -> dict[str, PolicyBook]:
        books = {**self.case_policies}
        for suite in self.suite_inputs:
            books.update(suite.policies)
        books.update(self.policies)
        return books

    def summary(self) -> str:
        return (
            f"{len(self.all_cases())} cases, {len(self.all_policies())} policy books, "
            f"{len(self.located_labelled)} labelled responses, {self.suites} suites, "
            f"{self.cassettes} cassettes in {self.files} files"
        )


def _case_key(located: Located[Case]) -> tuple[str, int | None, str]:
    """One case written at one place, however it was reached."""
    return (str(Path(located.file).resolve()), located.line, located.item.id)


def is_cassette(path: Path) -> bool:
    """A JSONL file in a `cassettes` folder (the replay folder's default name)."""
    return path.suffix == ".jsonl" and "cassettes" in path.parent.parts


def _files(paths: list[Path], issues: list[InputIssue]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        problem = path_problem(path)
        if problem is not None:
            issues.append(InputIssue(str(path), problem))
        elif not path.exists():
            issues.append(InputIssue(str(path), "no such file or folder"))
        elif path.is_dir():
            if path.suffix in YAML_SUFFIXES | TABLE_SUFFIXES | TEXT_POLICY_SUFFIXES:
                issues.append(InputIssue(str(path), "is a folder, not a file"))
                continue
            found = 0
            for p in sorted(path.rglob("*")):
                if not p.is_file():
                    continue
                is_policy_text = p.suffix in TEXT_POLICY_SUFFIXES and "policies" in p.parts
                if p.suffix in YAML_SUFFIXES | TABLE_SUFFIXES or is_policy_text:
                    out.append(p)
                    found += 1
            if not found:
                issues.append(
                    InputIssue(str(path), "folder holds no case, policy, suite or cassette file")
                )
        elif not path.is_file():
            issues.append(InputIssue(str(path), "not a regular file"))
        else:
            out.append(path)
    return out


def _yaml_file(path: Path, inv: Inventory) -> None:
    try:
        data, lines = load_yaml(path)
    except InputError as exc:
        inv.issues.extend(exc.issues)
        return
    kind = yaml_kind(data)
    if kind == "cases":
        inv.located_cases.extend(located_cases_from_yaml(path, data, lines, inv.issues))
    elif kind in ("policy", "policies"):
        for book in policies_from_yaml(path, data, lines, inv.issues):
            if book.id in inv.policies:
                inv.issues.append(
                    InputIssue(str(path), "policy book id defined twice", None, book.id)
                )
            inv.policies[book.id] = book
    elif kind == "labelled":
        inv.located_labelled.extend(located_labelled_from_yaml(path, data, lines, inv.issues))
    elif kind == "suite":
        inv.suites += 1
        suite = suite_from_yaml(path, data, lines, inv.issues)
        if suite is not None:
            try:
                inputs = gather_suite(path)
            except InputError as exc:
                inv.issues.extend(exc.issues)
            else:
                inv.issues.extend(inputs.issues)
                inv.suite_inputs.append(inputs)
            if suite.replay.mode == "replay":  # gather_suite skips the check when replaying
                check_models(path, suite.targets, inv.issues)
    else:
        inv.issues.append(
            InputIssue(
                str(path),
                "not a recognised file: expected a case file (`cases:`), a policy book "
                "(`id`, `name`, `text`), labelled responses (a list with `case` and "
                "`response`) or a suite (`targets:`)",
            )
        )


def validate_paths(paths: list[Path]) -> Inventory:
    inv = Inventory()
    for path in _files(paths, inv.issues):
        inv.files += 1
        if is_cassette(path):
            # Recorded answers beside a suite, not cases: check that every entry is readable.
            try:
                Cassette(path.parent, path.stem)
                inv.cassettes += 1
            except InputError as exc:
                inv.issues.extend(exc.issues)
        elif path.suffix in YAML_SUFFIXES:
            _yaml_file(path, inv)
        elif path.suffix in TABLE_SUFFIXES:
            inv.located_cases.extend(located_cases_from_table(str(path), inv.issues))
        elif path.suffix in TEXT_POLICY_SUFFIXES:
            book = policy_from_text_file(path, inv.issues)
            if book:
                inv.policies[book.id] = book
        else:
            inv.issues.append(InputIssue(str(path), "unsupported file type"))
    check_unique_ids(inv.located_cases, inv.issues)
    _resolve_companies(inv)
    known = {c.item.id for c in inv.all_cases()}
    if known:
        for labelled in inv.located_labelled:
            if labelled.item.case not in known:
                inv.issues.append(
                    labelled.issue(
                        f"refers to an unknown case '{labelled.item.case}'",
                        record=labelled.item.id,
                        field="case",
                    )
                )
    inv.issues = sorted(_distinct(inv.issues), key=issue_order)
    return inv


def _distinct(issues: list[InputIssue]) -> list[InputIssue]:
    """One issue per file, line, record and field: a case file given both directly and through
    a suite is checked twice, and a problem is reported once."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for issue in issues:
        file = str(Path(issue.file).resolve()) if issue.file else issue.file
        key: tuple[object, ...] = (
            (file, issue.line, issue.record, issue.field)
            if issue.record and issue.field
            else (file, issue.line, issue.message)
        )
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def issue_order(issue: InputIssue) -> tuple[str, int, str]:
    """Issues by file, then line (file-wide ones first), then as found."""
    return (issue.file, issue.line or 0, "")


def _policy_folder_near(files: list[str]) -> Path | None:
    """A `policies` folder beside the case files or up to POLICY_SEARCH_LEVELS folders above."""
    for file in files:
        for parent in Path(file).resolve().parents[:POLICY_SEARCH_LEVELS]:
            if (parent / "policies").is_dir():
                return parent / "policies"
    return None


def _resolve_companies(inv: Inventory) -> None:
    """Check every loose case's company against a policy book: the books given, else those
    of the suites given, else a `policies` folder near the case files; or say which folder is
    needed."""
    if not inv.located_cases:
        return
    source = "the policy books given"
    books = dict(inv.policies)
    if not books:
        for suite in inv.suite_inputs:
            books.update(suite.policies)
        source = "the policy books of the suites given"
    if not books:
        folder = _policy_folder_near([c.file for c in inv.located_cases])
        if folder is not None:
            books = load_policy_books([folder], inv.issues)
            source = str(folder)
            inv.notes.append(f"companies checked against the policy books in {folder}")
    if not books:
        by_file: dict[str, set[str]] = {}
        for located in inv.located_cases:
            by_file.setdefault(located.file, set()).add(located.item.company)
        for file, companies in by_file.items():
            inv.issues.append(
                InputIssue(
                    file,
                    f"cannot check companies {', '.join(sorted(companies))}: no policy book was "
                    "given and no `policies` folder is near this file; name the policy folder "
                    f"too: evals validate {file} POLICY_FOLDER",
                    field="company",
                )
            )
        return
    inv.case_policies = books
    check_companies(inv.located_cases, books, inv.issues, policy_source=source)


@dataclass
class AnswerReport:
    """What `evals validate` found when it put the written answers through the guardrails."""

    references: int = 0
    labelled: int = 0
    reference_problems: list[AnswerProblem] = field(default_factory=list)
    labelled_problems: list[AnswerProblem] = field(default_factory=list)


def _unique(problems: list[AnswerProblem]) -> list[AnswerProblem]:
    seen: set[str] = set()
    out = []
    for problem in problems:
        if str(problem.issue) not in seen:
            seen.add(str(problem.issue))
            out.append(problem)
    return sorted(out, key=lambda p: issue_order(p.issue))


def check_answers(inv: Inventory, *, labelled: bool = True) -> AnswerReport:
    """Every reference answer (with the guardrails and gates of the suite that reaches it, or
    every guardrail failing on critical and major) and, if `labelled`, every labelled response
    through the guardrails."""
    report = AnswerReport()
    counted: set[tuple[str, int | None, str]] = set()
    problems: list[AnswerProblem] = []

    def add(cases: list[Located[Case]], checked: int, found: list[AnswerProblem]) -> None:
        for located in cases:
            if located.item.reference is not None:
                counted.add(_case_key(located))
        problems.extend(found)

    # A case a suite reaches is judged as that suite judges it (its guardrails and fail_on).
    in_suites = {_case_key(c) for suite in inv.suite_inputs for c in suite.cases}
    loose = [c for c in inv.located_cases if _case_key(c) not in in_suites]
    if inv.case_policies and loose:
        checked, found = check_references(loose, inv.case_policies)
        add(loose, checked, found)
    for suite in inv.suite_inputs:
        if not set(suite.suite.guardrails or []) <= set(registered()):
            continue  # an unknown guardrail is already an input issue, at its line
        checked, found = check_references(
            suite.cases,
            suite.policies,
            guardrails=suite.suite.guardrails,
            fail_on=suite.suite.gates.fail_on,
            suite=str(suite.suite_path),
        )
        add(suite.cases, checked, found)
    report.reference_problems = _unique(problems)
    report.references = len(counted)
    if labelled and inv.located_labelled:
        cases = {c.item.id: c.item for c in inv.all_cases()}
        report.labelled, found = check_labelled(inv.located_labelled, cases, inv.all_policies())
        report.labelled_problems = _unique(found)
    return report
