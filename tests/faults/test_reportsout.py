"""Issue #13, reports, verify and approvals a compliance officer can rely on:

- `evals report` and `evals run --resume` write under their own `--out`, never into the folder
  the run was first made in; they refuse a store whose hash chain fails verification and never
  replace a manifest without `--force`;
- `evals verify` covers every field of the manifest and names files the manifest does not list;
- `evals approve` refuses a run whose gates failed, whose inputs on disk changed, or with a
  target that has no decision; an untouched passing run is still approved.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case_dict, run_suite, write_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.cli import app
from evals.compliance import MANIFEST_NAME, verify
from evals.errors import InputError
from evals.manifest import Manifest, body_sha256
from evals.publish import publish
from evals.store import RunStore

EVALS = [sys.executable, "-m", "evals"]
REFERENCE = [{"name": "ref", "model": "reference"}]
#: A bot whose every answer passes: unlike `reference` (a baseline), it can be approved.
BOT = [
    {
        "name": "bot",
        "model": "fake/scripted",
        "params": {"extra": {"replies": [case_dict("c")["reference"]]}},
    }
]


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str
    crash: BaseException | None


def evals(*args: str | Path, process: bool = False) -> Done:
    """The `evals` command: in a subprocess (`process`), or in this one for speed."""
    if process:
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        done = subprocess.run(
            [*EVALS, *map(str, args)], capture_output=True, text=True, env=env, timeout=120
        )
        return Done(done.returncode, done.stdout, done.stderr, None)
    result = CliRunner().invoke(app, list(map(str, args)))
    crash = None if isinstance(result.exception, SystemExit | None) else result.exception
    return Done(result.exit_code, result.stdout, result.stderr, crash)


def made(root: Path, **suite_args: Any) -> tuple[Path, str]:
    """A suite in `root`, run and published the way `evals run` does; (store folder, run id)."""
    suite_args.setdefault("targets", REFERENCE)
    suite = write_suite(root, n_cases=2, samples=2, **suite_args)
    store, run_id = run_suite(suite, replay_mode="off")
    publish(store, run_id)
    store.close()
    return root / "out", run_id


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def no_traceback(*done: Done) -> None:
    for result in done:
        assert result.crash is None, result.crash
        assert "Traceback" not in result.stdout + result.stderr, result.stderr


@pytest.fixture
def original(tmp_path: Path) -> tuple[Path, str]:
    return made(tmp_path / "original")


def copy_of(out: Path, to: Path) -> Path:
    shutil.copytree(out, to)
    return to


def sql(out: Path, statement: str) -> None:
    db = sqlite3.connect(out / "runs.sqlite")
    with db:
        db.execute(statement)
    db.close()


# --- reports go where you say ------------------------------------------------------------------


def test_a_report_rebuilt_into_a_copy_leaves_the_original_byte_identical(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    out, run_id = original
    before = snapshot(out)
    copy = copy_of(out, tmp_path / "copy")
    shutil.rmtree(copy / "reports")

    done = evals("report", run_id, "--out", copy, process=True)
    assert done.returncode == 0, done.stderr
    assert (copy / "reports" / run_id / MANIFEST_NAME).is_file()
    assert f"reports: {copy / 'reports' / run_id}/" in done.stdout
    assert snapshot(out) == before

    # The copy now has a manifest: it is never replaced without --force.
    manifest = copy / "reports" / run_id / MANIFEST_NAME
    kept = manifest.read_bytes()
    again = evals("report", run_id, "--out", copy, process=True)
    assert again.returncode == 2
    assert str(manifest) in again.stderr and "--force" in again.stderr
    assert manifest.read_bytes() == kept
    resumed = evals("run", "--resume", run_id, "--out", copy, "-q")
    assert resumed.returncode == 2 and str(manifest) in resumed.stderr
    assert manifest.read_bytes() == kept

    forced = evals("report", run_id, "--out", copy, "--force")
    assert forced.returncode == 0, forced.stderr
    forced_resume = evals("run", "--resume", run_id, "--out", copy, "-q", "--force")
    assert forced_resume.returncode == 0, forced_resume.stderr
    assert snapshot(out) == before
    for folder in (out, copy):
        assert evals("verify", run_id, "--out", folder).returncode == 0
    no_traceback(done, again, resumed, forced, forced_resume)


def test_with_the_original_folder_gone_the_copy_still_reports(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    out, run_id = original
    copy = copy_of(out, tmp_path / "copy")
    shutil.rmtree(out.parent)

    done = evals("report", run_id, "--out", copy, "--force")
    resumed = evals("run", "--resume", run_id, "--out", copy, "--force", "-q")
    no_traceback(done, resumed)
    assert done.returncode == 0 and resumed.returncode == 0, done.stderr + resumed.stderr
    assert not out.parent.exists()  # nothing was written where the run was first made
    verified = evals("verify", run_id, "--out", copy)
    assert verified.returncode == 0 and "INTACT" in verified.stdout, verified.stdout


def test_a_tampered_copy_is_refused_by_report_and_resume(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    out, run_id = original
    copy = copy_of(out, tmp_path / "copy")
    reports = snapshot(copy / "reports")
    sql(copy, "UPDATE results SET passed = 1 - passed WHERE seq = 1")

    for done in (
        evals("report", run_id, "--out", copy, "--force"),
        evals("report", run_id, "--out", copy, "--to", tmp_path / "elsewhere"),
        evals("run", "--resume", run_id, "--out", copy, "--force", "-q"),
    ):
        no_traceback(done)
        assert done.returncode == 1, done.stderr
        assert "REFUSED" in done.stderr and "fails verification" in done.stderr
        assert "result #1 (" in done.stderr
    assert snapshot(copy / "reports") == reports
    assert not (tmp_path / "elsewhere").exists()
    # The untouched original is still reported.
    assert evals("report", run_id, "--out", out, "--force").returncode == 0


# --- verify covers every field of the manifest -------------------------------------------------


def edit_manifest(path: Path, change: Any, *, rehash: bool) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    if rehash:  # an editor who knows the scheme recomputes the body hash
        data["body_sha256"] = body_sha256(Manifest.model_validate(data))
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def flip_gates(data: dict[str, Any]) -> None:
    data["gates_passed"] = not data["gates_passed"]


def bump_policy_version(data: dict[str, Any]) -> None:
    data["decision_policy"]["version"] = data["decision_policy"]["version"] + ".1"


@pytest.mark.parametrize("rehash", [False, True], ids=["naive", "rehashed"])
@pytest.mark.parametrize(
    ("change", "named"),
    [(flip_gates, "gates_passed"), (bump_policy_version, "decision_policy.version")],
    ids=["gates_passed", "decision_policy.version"],
)
def test_an_edited_manifest_field_is_named_by_verify(
    original: tuple[Path, str], change: Any, named: str, rehash: bool
) -> None:
    out, run_id = original
    untouched = evals("verify", run_id, "--out", out)
    assert untouched.returncode == 0, untouched.stdout
    edit_manifest(out / "reports" / run_id / MANIFEST_NAME, change, rehash=rehash)
    done = evals("verify", run_id, "--out", out)
    no_traceback(done)
    assert done.returncode == 1 and "TAMPERED" in done.stdout
    assert f"{named} was changed" in done.stdout, done.stdout
    assert ("body_sha256" in done.stdout) is not rehash


def test_an_extra_file_in_the_report_folder_is_named_by_verify(
    original: tuple[Path, str],
) -> None:
    out, run_id = original
    folder = out / "reports" / run_id
    (folder / "approved-by-legal.pdf").write_bytes(b"%PDF-1.4 not from this run")
    (folder / "notes").mkdir()
    done = evals("verify", run_id, "--out", out)
    no_traceback(done)
    assert done.returncode == 1 and "TAMPERED" in done.stdout
    assert "2 file(s) in the report folder" in done.stdout
    assert "approved-by-legal.pdf, notes/" in done.stdout
    (folder / "approved-by-legal.pdf").unlink()
    (folder / "notes").rmdir()
    assert evals("verify", run_id, "--out", out).returncode == 0


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def mutated(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return "x"
    return [*value, "x"]  # an empty list


def test_every_manifest_field_is_covered_by_verify(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    """Any single edit to any field is caught: by the body hash, and also when the editor
    recomputes it, by recomputing the field from the store (all but written_by.version, which
    only an archived copy of the manifest can vouch for)."""
    out, run_id = original
    path = out / "reports" / run_id / MANIFEST_NAME
    pristine = path.read_text(encoding="utf-8")
    data = json.loads(pristine)
    paths = list(leaves(data))
    assert len(paths) > 40 and ("decision_policy", "policy", "name") in paths
    store = RunStore.in_folder(out)
    assert verify(store, run_id, path).intact
    missed: dict[bool, list[str]] = {False: [], True: []}
    for rehash in (False, True):
        for leaf in paths:
            edited = json.loads(pristine)
            target = edited
            for key in leaf[:-1]:
                target = target[key]
            target[leaf[-1]] = mutated(target[leaf[-1]])
            if rehash and leaf != ("body_sha256",):
                # A field edited into something no manifest holds: read_manifest refuses it.
                with contextlib.suppress(ValueError):
                    edited["body_sha256"] = body_sha256(Manifest.model_validate(edited))
            path.write_text(json.dumps(edited), encoding="utf-8")
            try:
                caught = not verify(store, run_id, path).intact
            except InputError:
                caught = True  # not a readable manifest: exit 2 naming the field
            if not caught:
                missed[rehash].append(".".join(map(str, leaf)))
    path.write_text(pristine, encoding="utf-8")
    assert verify(store, run_id, path).intact
    store.close()
    assert missed == {False: [], True: ["written_by.version"]}


# --- approve refuses what it cannot vouch for --------------------------------------------------


def approve(out: Path, run_id: str) -> Done:
    scope = out / "reports" / run_id / "scope.yaml"
    return evals("approve", scope, "--by", "Ana Ruiz", "--note", "pilot", "--out", out, "--yes")


def approvals(out: Path) -> int:
    store = RunStore.in_folder(out)
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM approvals").fetchone()[0])
    except sqlite3.OperationalError:  # no approval table yet: none recorded
        return 0
    finally:
        store.close()


def refused(done: Done, *reasons: str) -> None:
    no_traceback(done)
    assert done.returncode == 1 and "REFUSED" in done.stderr, done.stderr
    for reason in reasons:
        assert reason in done.stderr, done.stderr


def test_an_untouched_passing_run_is_approved(tmp_path: Path) -> None:
    out, run_id = made(tmp_path, targets=BOT)
    done = evals(
        "approve",
        out / "reports" / run_id / "scope.yaml",
        "--by",
        "Ana Ruiz",
        "--out",
        out,
        "--yes",  # two cases decide nothing: every intent is insufficient evidence
        process=True,
    )
    assert done.returncode == 0, done.stderr
    assert "approved by Ana Ruiz" in done.stdout and approvals(out) == 1


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (
            lambda root: root.joinpath("policies", "acme.yaml").write_text(
                yaml.safe_dump(
                    {
                        "id": "acme",
                        "name": "Acme Pay",
                        "text": "Refunds are processed within 30 business days.\n",
                    }
                ),
                encoding="utf-8",
            ),
            "policy book 'acme' differs from the run's (text changed",
        ),
        (
            lambda root: root.joinpath("cases", "cases.yaml").write_text(
                root.joinpath("cases", "cases.yaml")
                .read_text(encoding="utf-8")
                .replace("(c001)", "(c001, urgente)"),
                encoding="utf-8",
            ),
            "case file cases/cases.yaml differs from the run's: case(s) c001 changed",
        ),
        (
            lambda root: root.joinpath("suite.yaml").write_text(
                root.joinpath("suite.yaml")
                .read_text(encoding="utf-8")
                .replace("model: reference", "model: reference\n  timeout: 5"),
                encoding="utf-8",
            ),
            "target 'ref' differs from",
        ),
        (lambda root: root.joinpath("suite.yaml").unlink(), "suite.yaml is gone"),
    ],
    ids=["policy-book", "case-file", "target", "suite-gone"],
)
def test_approve_refuses_a_run_whose_inputs_changed_on_disk(
    original: tuple[Path, str], edit: Any, reason: str
) -> None:
    out, run_id = original
    edit(out.parent)
    refused(approve(out, run_id), reason)
    assert approvals(out) == 0


def test_a_downloaded_run_is_approved_against_its_suite_checked_out_elsewhere(
    tmp_path: Path,
) -> None:
    """A CI run's folder approved on another machine: the suite is no longer where the run read
    it; `--suite` names where it is now, and its files are compared with the run's all the same."""
    _, run_id = made(tmp_path / "ci", targets=BOT)
    elsewhere = tmp_path / "laptop"
    shutil.copytree(tmp_path / "ci", elsewhere)
    shutil.rmtree(tmp_path / "ci")
    scope = elsewhere / "out" / "reports" / run_id / "scope.yaml"
    common = ("approve", scope, "--by", "Ana Ruiz", "--out", elsewhere / "out", "--yes")
    refused(evals(*common), "suite.yaml is gone", "--suite FILE")
    done = evals(*common, "--suite", elsewhere / "suite.yaml")
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert approvals(elsewhere / "out") == 1
    # The suite checked out elsewhere is still compared with the run: an edit there is refused.
    cases = elsewhere / "cases" / "cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("(c001)", "(c001, x)"), "utf-8")
    refused(evals(*common, "--suite", elsewhere / "suite.yaml"), "case(s) c001 changed")


def test_approve_refuses_a_run_whose_gates_failed(tmp_path: Path) -> None:
    out, run_id = made(
        tmp_path,
        targets=[
            {
                "name": "bot",
                "model": "fake/scripted",
                "params": {"extra": {"replies": ["Hola {first_name}, ya está."]}},
            }
        ],
        extra={"gates": {"min_pass_rate": 0.9}},
    )
    refused(approve(out, run_id), f"run {run_id} failed its gates", "pass rate")
    assert approvals(out) == 0


def test_approve_refuses_a_target_whose_every_answer_errored(tmp_path: Path) -> None:
    errors = {str(call): "permanent" for call in range(1, 5)}
    out, run_id = made(
        tmp_path,
        targets=[
            *REFERENCE,
            {"name": "down", "model": "fake/scripted", "params": {"extra": {"errors": errors}}},
        ],
        extra={"gates": {"max_errors": 100}},  # the gates alone would let it through
    )
    done = approve(out, run_id)
    refused(done, "target 'down' has no decision: all 4 of its answers errored")
    assert "target 'ref'" not in done.stderr and "failed its gates" not in done.stderr
    assert approvals(out) == 0


def test_a_report_re_decided_elsewhere_verifies_with_the_command_it_prints(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    """`--to` and `--decision-policy`: the manifest carries the other policy, so verify
    recomputes the gates under it even after its file changed or is gone."""
    out, run_id = original
    before = snapshot(out / "reports")
    bundled = Path(__file__).parents[2] / "evals" / "data" / "decision_policy.yaml"
    policy = tmp_path / "lenient.yaml"
    policy.write_text(
        bundled.read_text(encoding="utf-8").replace("min_answers: 30", "min_answers: 1"),
        encoding="utf-8",
    )
    to = tmp_path / "rebuilt"
    done = evals("report", run_id, "--out", out, "--to", to, "--decision-policy", policy)
    assert done.returncode == 0, done.stderr
    command = f"evals verify {run_id} --out {out} --manifest {to / MANIFEST_NAME}"
    assert command in done.stdout
    assert snapshot(out / "reports") == before  # the run's own reports stay as they were
    policy.unlink()
    verified = evals(*command.split()[1:])
    assert verified.returncode == 0, verified.stdout
    assert "not the run's own" in verified.stdout
    edit_manifest(to / MANIFEST_NAME, flip_gates, rehash=True)
    tampered = evals(*command.split()[1:])
    assert tampered.returncode == 1 and "gates_passed was changed" in tampered.stdout


def relink(out: Path, seq: int) -> None:
    """Edit one result and recompute the whole chain and head: the store alone cannot tell."""
    from evals.store import link_hash, result_content

    db = sqlite3.connect(out / "runs.sqlite")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM results ORDER BY seq")]
    prev = rows[0]["prev"]
    for row in rows:
        if row["seq"] == seq:
            row["passed"] = 1 - row["passed"]
        findings = db.execute(
            "SELECT position, guardrail, code, severity, message, evidence FROM findings "
            "WHERE case_id = ? AND target = ? AND sample = ? ORDER BY position",
            (row["case_id"], row["target"], row["sample"]),
        ).fetchall()
        row["prev"] = prev
        prev = link_hash(prev, result_content(row, [tuple(f) for f in findings]))
        with db:
            db.execute(
                "UPDATE results SET passed = ?, prev = ?, chain = ? WHERE seq = ?",
                (row["passed"], row["prev"], prev, row["seq"]),
            )
    with db:
        db.execute("UPDATE runs SET head = ?", (prev,))
    db.close()


def test_force_never_replaces_the_manifest_of_a_store_edited_since(
    original: tuple[Path, str], tmp_path: Path
) -> None:
    out, run_id = original
    copy = copy_of(out, tmp_path / "copy")
    relink(copy, 1)
    store = RunStore.in_folder(copy)
    assert verify(store, run_id).intact  # the chain alone is fooled
    store.close()
    reports = snapshot(copy / "reports")
    done = evals("report", run_id, "--out", copy, "--force")
    refused(done, f"the store no longer matches {copy / 'reports' / run_id / MANIFEST_NAME}")
    assert "the results changed since the manifest was written" in done.stderr
    assert snapshot(copy / "reports") == reports
    # The untouched store's manifest is replaced with --force as asked.
    assert evals("report", run_id, "--out", out, "--force").returncode == 0


def test_a_resume_replaces_with_force_the_manifest_of_the_interrupted_run_it_completes(
    tmp_path: Path,
) -> None:
    """An interrupted run published as far as it got (the pytest plugin does) is completed by
    `evals run --resume --force`: the old manifest matches the store before the resume, and
    the new one covers every result."""
    import asyncio

    from evals.progress import SilentProgress
    from evals.runner import Engine, start_run
    from evals.suite_file import build_plan

    plan = build_plan(write_suite(tmp_path, n_cases=2, samples=2, targets=REFERENCE))
    store = RunStore.in_folder(tmp_path / "out")
    run_id = start_run(plan, store)
    first_case = plan.model_copy(update={"cases": plan.cases[:1]})
    asyncio.run(Engine(first_case, store, run_id, progress=SilentProgress()).execute())
    store.set_status(run_id, "interrupted")
    publish(store, run_id)
    store.close()
    out = tmp_path / "out"
    manifest = out / "reports" / run_id / MANIFEST_NAME
    assert json.loads(manifest.read_text())["chain"]["results"] == 2

    refused_resume = evals("run", "--resume", run_id, "--out", out, "-q")
    assert refused_resume.returncode == 2 and str(manifest) in refused_resume.stderr
    done = evals("run", "--resume", run_id, "--out", out, "-q", "--force")
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert json.loads(manifest.read_text())["chain"]["results"] == 4
    verified = evals("verify", run_id, "--out", out)
    assert verified.returncode == 0, verified.stdout


def test_approve_refuses_a_scope_whose_report_folder_does_not_verify(tmp_path: Path) -> None:
    out, run_id = made(tmp_path, targets=BOT)
    folder = out / "reports" / run_id
    (folder / "scope-v2.yaml").write_text("targets: []\n", encoding="utf-8")
    refused(approve(out, run_id), "the run's evidence does not verify", "scope-v2.yaml")
    (folder / "scope-v2.yaml").unlink()
    assert approve(out, run_id).returncode == 0 and approvals(out) == 1


def test_a_schema_1_manifest_still_verifies_and_its_gates_are_recomputed(
    original: tuple[Path, str],
) -> None:
    out, run_id = original
    path = out / "reports" / run_id / MANIFEST_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 1
    del data["body_sha256"], data["decision_policy"]["policy"]
    path.write_text(json.dumps(data), encoding="utf-8")
    done = evals("verify", run_id, "--out", out)
    assert done.returncode == 0 and "manifest schema 1" in done.stdout, done.stdout
    flip_gates(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    done = evals("verify", run_id, "--out", out)
    assert done.returncode == 1 and "gates_passed was changed" in done.stdout, done.stdout


CASE_FIELDS = ["intent", "risk", "reference", "facts", "messages", "tags", "channel"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(CASE_FIELDS),
    which=st.integers(0, 1),
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
)
def test_any_edit_to_a_case_on_disk_is_named_with_its_file(
    original: tuple[Path, str], field: str, which: int, word: str
) -> None:
    from evals.input_drift import input_drift

    out, run_id = original
    store = RunStore.in_folder(out)
    plan = store.plan(run_id)
    store.close()
    path = out.parent / "cases" / "cases.yaml"
    pristine = path.read_text(encoding="utf-8")
    assert input_drift(plan) == []
    data = yaml.safe_load(pristine)
    case = data["cases"][which]
    edits: dict[str, Any] = {
        "intent": f"x_{word}",
        "risk": "high" if case["risk"] != "high" else "low",
        "reference": f"{case['reference']} {word}",
        "facts": {**case["facts"], f"k_{word}": word},
        "messages": [{"role": "user", "content": f"{word}?"}],
        "tags": [*case.get("tags", []), word],
        "channel": "email" if case["channel"] != "email" else "chat",
    }
    case[field] = edits[field]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        drift = input_drift(plan)
    finally:
        path.write_text(pristine, encoding="utf-8")
    assert drift == [
        f"case file cases/cases.yaml differs from the run's: case(s) {case['id']} changed"
    ]
