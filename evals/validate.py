"""`evals validate`: check case files, policy books, labelled responses and suites, reporting
every problem with its file, line, record and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.case_files import (
    TABLE_SUFFIXES,
    TEXT_POLICY_SUFFIXES,
    YAML_SUFFIXES,
    cases_from_table,
    cases_from_yaml,
    labelled_from_yaml,
    policies_from_yaml,
    policy_from_text_file,
    yaml_kind,
)
from evals.cassettes import Cassette
from evals.errors import InputError, InputIssue
from evals.input_paths import path_problem
from evals.records import Case, LabelledResponse, PolicyBook
from evals.suite_file import build_plan, check_references, suite_from_yaml
from evals.targets.providers import check_models
from evals.yaml_lines import load_yaml


@dataclass
class Inventory:
    files: int = 0
    cases: list[tuple[str, Case]] = field(default_factory=list)
    policies: dict[str, PolicyBook] = field(default_factory=dict)
    labelled: list[tuple[str, LabelledResponse]] = field(default_factory=list)
    suites: int = 0
    cassettes: int = 0
    issues: list[InputIssue] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.cases)} cases, {len(self.policies)} policy books, "
            f"{len(self.labelled)} labelled responses, {self.suites} suites, "
            f"{self.cassettes} cassettes in {self.files} files"
        )


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
        inv.cases.extend((str(path), c) for c in cases_from_yaml(path, data, lines, inv.issues))
    elif kind in ("policy", "policies"):
        for book in policies_from_yaml(path, data, lines, inv.issues):
            if book.id in inv.policies:
                inv.issues.append(
                    InputIssue(str(path), "policy book id defined twice", None, book.id)
                )
            inv.policies[book.id] = book
    elif kind == "labelled":
        inv.labelled.extend(
            (str(path), r) for r in labelled_from_yaml(path, data, lines, inv.issues)
        )
    elif kind == "suite":
        inv.suites += 1
        suite = suite_from_yaml(path, data, lines, inv.issues)
        if suite is not None:
            try:
                build_plan(path)
            except InputError as exc:
                inv.issues.extend(exc.issues)
            if suite.replay.mode == "replay":  # build_plan skips the check when replaying
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
            inv.cases.extend((str(path), c) for c in cases_from_table(str(path), inv.issues))
        elif path.suffix in TEXT_POLICY_SUFFIXES:
            book = policy_from_text_file(path, inv.issues)
            if book:
                inv.policies[book.id] = book
        else:
            inv.issues.append(InputIssue(str(path), "unsupported file type"))
    if inv.policies:
        for file, case in inv.cases:
            check_references([case], inv.policies, file, inv.issues)
    seen: dict[str, str] = {}
    for file, case in inv.cases:
        if case.id in seen:
            inv.issues.append(
                InputIssue(
                    file, f"case id already used in {seen[case.id]}", record=case.id, field="id"
                )
            )
        seen.setdefault(case.id, file)
    if inv.cases:
        for file, labelled in inv.labelled:
            if labelled.case not in seen:
                inv.issues.append(
                    InputIssue(file, "refers to an unknown case", record=labelled.id, field="case")
                )
    return inv
