"""Do a run's inputs still read as they did? The run stores the policy books, cases and targets
it was made with; an approval of its automation scope is worth something only while the files
on disk say the same, since that is what production will use.

`input_drift(plan)` loads the run's suite file again and compares, by content hash, every policy
book (by id), every case (by id, naming the case file it is in now) and every target (by name,
naming the fields that differ). The decision policy is checked by `evals.scope` itself.

The suite's plugins (`plugins:`, and the installed ones) are loaded first, as the run loaded
them: a plugin may register a pack that a policy book names, and without it that book would
read as "no longer loads". A plugin that no longer loads is drift too.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from evals.case_files import load_policy_books
from evals.errors import InputError, InputIssue
from evals.plugins import load_plugins, suite_plugins
from evals.records import Case, PolicyBook, RunPlan, Target
from evals.scan import SCAN_MODEL
from evals.store import canonical_json
from evals.suite_file import load_suite, resolve_cases

#: Issues and ids named one by one before the rest are only counted.
SHOWN = 10


def _sha256(value: object) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _shown(path: str, base: Path) -> str:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return path


def _books(run: dict[str, PolicyBook], now: dict[str, PolicyBook]) -> list[str]:
    problems = []
    for book_id in sorted(set(run) | set(now)):
        then, current = run.get(book_id), now.get(book_id)
        if current is None:
            problems.append(f"policy book '{book_id}' of the run is no longer in the suite's books")
        elif then is None:
            problems.append(f"policy book '{book_id}' is in the suite's books but not in the run")
        elif _sha256(then.model_dump(mode="json")) != _sha256(current.model_dump(mode="json")):
            what = "text" if then.text != current.text else "name or version"
            problems.append(
                f"policy book '{book_id}' differs from the run's ({what} changed: version "
                f"{then.version} in the run, {current.version} on disk)"
            )
    return problems


def _cases(run: list[Case], now: list[Case], origins: dict[str, str], base: Path) -> list[str]:
    then = {c.id: _sha256(c.model_dump(mode="json")) for c in run}
    current = {c.id: _sha256(c.model_dump(mode="json")) for c in now}
    changed: dict[str, list[str]] = defaultdict(list)
    added: dict[str, list[str]] = defaultdict(list)
    for case_id, digest in current.items():
        where = _shown(origins.get(case_id, "?"), base)
        if case_id not in then:
            added[where].append(case_id)
        elif then[case_id] != digest:
            changed[where].append(case_id)
    problems = [
        f"case file {where} differs from the run's: case(s) {_listed(ids)} changed"
        for where, ids in sorted(changed.items())
    ]
    problems += [
        f"case file {where} has case(s) the run did not answer: {_listed(ids)}"
        for where, ids in sorted(added.items())
    ]
    gone = [case_id for case_id in then if case_id not in current]
    if gone:
        problems.append(
            f"case(s) {_listed(gone)} of the run are no longer in the suite's case files"
        )
    return problems


def _targets(run: list[Target], now: list[Target], suite: str) -> list[str]:
    then = {t.name: t.model_dump(mode="json") for t in run}
    current = {t.name: t.model_dump(mode="json") for t in now}
    problems = []
    for name in sorted(set(then) | set(current)):
        if name not in current:
            problems.append(f"target '{name}' of the run is no longer in {suite}")
        elif name not in then:
            problems.append(f"{suite} has target '{name}', which the run did not have")
        elif _sha256(then[name]) != _sha256(current[name]):
            fields = [k for k in sorted(then[name]) if then[name][k] != current[name].get(k)]
            problems.append(f"target '{name}' differs from {suite}: {', '.join(fields)} changed")
    return problems


def _scan_drift(plan: RunPlan) -> list[str]:
    """A scan has no suite file: its answers are the transcripts as scanned (stored, chained),
    and what production will use again is its policy books, compared here."""
    issues: list[InputIssue] = []
    load_plugins(issues=issues)  # installed plugins' packs, which a book may name
    books = load_policy_books([Path(p) for p in plan.suite.policies], issues)
    problems = []
    if issues:
        problems.append(
            f"the scan's policy books no longer load ({len(issues)} problem(s)): "
            + _listed([str(i) for i in issues])
        )
    return problems + _books(plan.policies, books)


def input_drift(plan: RunPlan) -> list[str]:
    """What differs between the inputs a run was made with and its suite's files today."""
    if plan.suite.targets and all(t.model == SCAN_MODEL for t in plan.suite.targets):
        return _scan_drift(plan)
    suite_path = Path(plan.suite_path)
    if not suite_path.is_file():
        return [
            f"the run's suite file {suite_path} is gone: its policy books, cases and targets "
            "cannot be compared with the files on disk (give the suite's path here with "
            "--suite FILE)"
        ]
    try:
        suite = load_suite(suite_path)
    except InputError as exc:
        return [f"the run's suite file no longer loads: {_listed([str(i) for i in exc.issues])}"]
    base = suite_path.parent
    issues: list[InputIssue] = []
    origins: dict[str, str] = {}
    cases = resolve_cases(suite, suite_path, issues, origins)
    suite_plugins(suite, suite_path, issues)  # before the books, which may name their packs
    books = load_policy_books([base / p for p in suite.policies], issues)
    problems = []
    if issues:
        problems.append(
            f"the run's inputs no longer load ({len(issues)} problem(s)): "
            + _listed([str(i) for i in issues])
        )
    problems += _books(plan.policies, books)
    problems += _cases(plan.cases, cases, origins, base)
    problems += _targets(plan.suite.targets, suite.targets, str(suite_path))
    return problems
