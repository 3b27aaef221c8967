"""The compliance evidence bundle: any edit to a stored run or its reports is detected and named,
an untouched run verifies, and no API key ever reaches the manifest."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from apertium_env import evals_cli
from builders import write_suite
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.cli import app
from evals.compliance import MANIFEST_NAME, VerifyReport, read_manifest, verify, write_manifest
from evals.records import CaseResult, Response
from evals.runner import Engine, start_run
from evals.scorecard import build_scorecard
from evals.store import RunStore, link_hash, result_content
from evals.suite_file import build_plan
from evals.targets.scripted import ScriptedTarget
from guardrails import translation

# Registers the template family (the run's replies trigger it) even when a bare `pytest` resolves
# `guardrails` to the tests/guardrails folder instead of the package.
import guardrails.template  # noqa: F401  # isort: skip

TARGETS = [
    {
        "name": "fake",
        "model": "fake/scripted",
        "api_key_env": "SUPPORTGATE_TEST_KEY",
        "params": {
            "temperature": 0.2,
            "extra": {
                "replies": [
                    "Hola {first_name}, ya está.",
                    "Tu reembolso de EUR 10.00 llegará en 10 días hábiles.",
                ]
            },
        },
    },
    {"name": "reference", "model": "reference"},
]
RESULTS = 3 * 2 * 2  # cases x samples x targets


def _suite(root: Path) -> Path:
    return write_suite(
        root, n_cases=3, samples=2, targets=TARGETS, extra={"replay": {"mode": "off"}}
    )


def _publish(store: RunStore, run_id: str) -> Path:
    """What `evals run` does at the end: reports, then the manifest listing them."""
    plan = store.plan(run_id)
    card = build_scorecard(store.run(run_id), plan)
    folder = Path(plan.output_dir) / "reports" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "report.md"
    report.write_text(f"# Run {run_id}\n\nAll answers reviewed.\n", encoding="utf-8")
    scorecard = folder / "scorecard.json"
    scorecard.write_text(card.model_dump_json(), encoding="utf-8")
    return write_manifest(store, run_id, plan, card, folder, [report, scorecard])


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real run (scripted fake + reference), published; tests work on copies of it."""
    root = tmp_path_factory.mktemp("original")
    plan = build_plan(_suite(root))
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id).execute())
    _publish(store, run_id)
    assert store.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0] > 0  # findings hashed
    store.close()
    return Path(plan.output_dir), run_id


@pytest.fixture
def made(original: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "out"
    shutil.copytree(original[0], out)
    return out, original[1]


def _verify(out: Path, run_id: str, manifest: bool = True) -> VerifyReport:
    store = RunStore.in_folder(out)
    try:
        path = out / "reports" / run_id / MANIFEST_NAME
        return verify(store, run_id, path if manifest else None)
    finally:
        store.close()


def _sql(out: Path, statement: str, *args: Any) -> None:
    db = sqlite3.connect(out / "runs.sqlite")
    with db:
        db.execute(statement, args)
    db.close()


def _row(out: Path, seq: int) -> tuple[dict[str, Any], list[Any]]:
    db = sqlite3.connect(out / "runs.sqlite")
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM results WHERE seq = ?", (seq,)).fetchone())
    findings = db.execute(
        "SELECT position, guardrail, code, severity, message, evidence FROM findings "
        "WHERE case_id = ? AND target = ? AND sample = ? ORDER BY position",
        (row["case_id"], row["target"], row["sample"]),
    ).fetchall()
    db.close()
    return row, [tuple(f) for f in findings]


def _label(row: dict[str, Any]) -> str:
    return f"case '{row['case_id']}', target '{row['target']}', sample {row['sample']}"


def _problems(report: VerifyReport) -> str:
    return "\n".join(report.problems)


# --- an untouched run --------------------------------------------------------------------


def test_an_untouched_run_verifies_with_and_without_its_manifest(
    made: tuple[Path, str],
) -> None:
    out, run_id = made
    full = _verify(out, run_id)
    assert full.status == "intact" and not full.problems, full.render()
    assert full.results == full.chained == RESULTS
    assert "INTACT" in full.render() and "2 report file(s) match the manifest" in full.render()
    chain_only = _verify(out, run_id, manifest=False)
    assert chain_only.intact and "no manifest" in chain_only.render()


def test_the_manifest_records_what_produced_the_run_but_never_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-live-0123456789abcdefSECRET"
    monkeypatch.setenv("SUPPORTGATE_TEST_KEY", secret)
    plan = build_plan(_suite(tmp_path))
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id).execute())
    path = _publish(store, run_id)
    text = path.read_text(encoding="utf-8")
    assert secret not in text
    manifest = read_manifest(path)
    assert manifest.targets["fake"].api_key_env == "SUPPORTGATE_TEST_KEY"
    assert manifest.targets["fake"].model == "fake/scripted"
    assert manifest.targets["fake"].params["temperature"] == 0.2
    book = plan.policies["acme"]
    assert manifest.policy_books["acme"].sha256 == hashlib.sha256(book.text.encode()).hexdigest()
    assert manifest.cases.count == 3 and manifest.run.id == run_id
    assert manifest.run.status == "finished" and manifest.chain_at_write == "intact"
    assert manifest.chain.results == RESULTS and manifest.chain.head is not None
    assert manifest.decision_policy.name and manifest.decision_policy.hash
    assert {f.path for f in manifest.files} == {"report.md", "scorecard.json"}
    assert manifest.package.name == "supportgate"
    store.close()


# --- edits to results ----------------------------------------------------------------------


@pytest.mark.parametrize("seq", [3, RESULTS - 1], ids=["middle", "last"])
@pytest.mark.parametrize("rehash", ["none", "naive", "chained"])
def test_an_edited_response_is_detected_and_named(
    made: tuple[Path, str], seq: int, rehash: str
) -> None:
    out, run_id = made
    row, findings = _row(out, seq)
    response = json.loads(row["response"])
    response["text"] = "Te garantizamos un reembolso doble en 24 horas."
    row["response"] = json.dumps(response)
    chain = row["chain"]
    if rehash == "naive":  # an editor who hashes the new row on its own
        chain = hashlib.sha256(row["response"].encode()).hexdigest()
    elif rehash == "chained":  # an editor who knows the scheme and re-links this row
        chain = link_hash(row["prev"], result_content(row, findings))
    _sql(
        out, "UPDATE results SET response = ?, chain = ? WHERE seq = ?", row["response"], chain, seq
    )

    for manifest in (False, True):
        report = _verify(out, run_id, manifest=manifest)
        assert report.status == "tampered"
        assert f"#{seq} ({_label(row)})" in _problems(report), report.render()
        assert "TAMPERED" in report.render()


def test_an_editor_who_relinks_the_whole_chain_is_caught_by_the_manifest(
    made: tuple[Path, str],
) -> None:
    out, run_id = made
    db = sqlite3.connect(out / "runs.sqlite")
    db.row_factory = sqlite3.Row
    prev = None
    for seq in range(RESULTS):
        row, findings = _row(out, seq)
        if seq == 2:
            row["passed"] = 1 - row["passed"]
        prev = prev or row["prev"]
        row["prev"] = prev
        prev = link_hash(prev, result_content(row, findings))
        with db:
            db.execute(
                "UPDATE results SET passed = ?, prev = ?, chain = ? WHERE seq = ?",
                (row["passed"], row["prev"], prev, seq),
            )
    with db:
        db.execute("UPDATE runs SET head = ?", (prev,))
    db.close()
    assert _verify(out, run_id, manifest=False).intact  # the store alone cannot tell
    report = _verify(out, run_id)
    assert report.status == "tampered"
    assert "the results changed since the manifest was written" in _problems(report)


@pytest.mark.parametrize("seq", [0, 5, RESULTS - 1], ids=["first", "middle", "last"])
def test_a_deleted_result_is_detected_and_named(made: tuple[Path, str], seq: int) -> None:
    out, run_id = made
    row, _ = _row(out, seq)
    _sql(out, "DELETE FROM results WHERE seq = ?", seq)
    _sql(
        out,
        "DELETE FROM findings WHERE case_id = ? AND target = ? AND sample = ?",
        row["case_id"],
        row["target"],
        row["sample"],
    )
    for manifest in (False, True):
        report = _verify(out, run_id, manifest=manifest)
        assert report.status == "tampered"
        problems = _problems(report)
        assert "deleted" in problems and _label(row) in problems, report.render()


def test_a_result_appended_after_the_run_finished_is_detected(made: tuple[Path, str]) -> None:
    out, run_id = made
    store = RunStore.in_folder(out)
    store.add_result(
        CaseResult(
            run_id=run_id,
            case_id="c999",
            target="fake",
            sample=0,
            seed=0,
            response=Response(text="Todo en orden."),
            passed=True,
        )
    )
    store.close()
    for manifest in (False, True):
        report = _verify(out, run_id, manifest=manifest)
        assert report.status == "tampered"
        assert "added after" in _problems(report) and "case 'c999'" in _problems(report)


def test_a_stored_result_is_never_replaced(made: tuple[Path, str]) -> None:
    out, run_id = made
    row, _ = _row(out, 0)
    store = RunStore.in_folder(out)
    again = CaseResult(
        run_id=run_id,
        case_id=row["case_id"],
        target=row["target"],
        sample=row["sample"],
        seed=0,
        response=Response(text="otra"),
        passed=True,
    )
    with pytest.raises(ValueError, match="already stored"):
        store.add_result(again)
    store.close()
    assert _verify(out, run_id).intact


# --- edits to the run header and the reports ----------------------------------------------


@pytest.mark.parametrize(
    ("column", "edit"),
    [
        ("plan", lambda v: v.replace("within 10 business days", "within 90 business days")),
        ("versions", lambda v: v.replace('"package":"', '"package":"9.')),
        ("targets", lambda v: v.replace('"temperature": 0.2', '"temperature": 0.9')),
        ("started", lambda v: v.replace(v[:4], str(int(v[:4]) - 1))),
    ],
)
def test_an_edited_run_header_is_detected(made: tuple[Path, str], column: str, edit: Any) -> None:
    out, run_id = made
    db = sqlite3.connect(out / "runs.sqlite")
    before = db.execute(f"SELECT {column} FROM runs").fetchone()[0]
    db.close()
    after = edit(before)
    assert after != before
    _sql(out, f"UPDATE runs SET {column} = ?", after)
    for manifest in (False, True):
        report = _verify(out, run_id, manifest=manifest)
        assert report.status == "tampered"
        assert "run header" in _problems(report), report.render()


def test_edited_or_missing_report_files_are_detected(made: tuple[Path, str]) -> None:
    out, run_id = made
    folder = out / "reports" / run_id
    report_md = folder / "report.md"
    report_md.write_text(report_md.read_text() + "One more line.\n", encoding="utf-8")
    (folder / "scorecard.json").unlink()
    report = _verify(out, run_id)
    assert report.status == "tampered"
    problems = _problems(report)
    assert "report file report.md was changed after the manifest was written" in problems
    assert "report file scorecard.json listed in the manifest is missing" in problems
    assert _verify(out, run_id, manifest=False).intact  # the store itself is untouched


def test_an_edited_manifest_is_detected(made: tuple[Path, str]) -> None:
    out, run_id = made
    path = out / "reports" / run_id / MANIFEST_NAME
    data = json.loads(path.read_text())
    data["cases"]["count"] = 2
    path.write_text(json.dumps(data))
    report = _verify(out, run_id)
    assert report.status == "tampered"
    assert "the cases changed since the manifest was written (cases.count" in _problems(report)


# --- any single edit, anywhere ---------------------------------------------------------------

RESULT_COLUMNS = ["case_id", "target", "sample", "seed", "passed", "error", "response"]
RESULT_COLUMNS += ["created", "seq", "prev", "chain"]
FINDING_COLUMNS = ["guardrail", "code", "severity", "message", "evidence", "position"]
VALUES = st.one_of(
    st.integers(-5, 50), st.text(max_size=30), st.none(), st.floats(allow_nan=False), st.binary()
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    table=st.sampled_from(["results", "findings"]),
    pick=st.integers(0, 10_000),
    column_pick=st.integers(0, 100),
    value=VALUES,
)
def test_any_single_stored_value_edit_breaks_the_chain(
    original: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
    table: str,
    pick: int,
    column_pick: int,
    value: object,
) -> None:
    out = tmp_path_factory.mktemp("edit") / "out"
    shutil.copytree(original[0], out)
    columns = RESULT_COLUMNS if table == "results" else FINDING_COLUMNS
    column = columns[column_pick % len(columns)]
    db = sqlite3.connect(out / "runs.sqlite")
    rowids = [r[0] for r in db.execute(f"SELECT rowid FROM {table} ORDER BY rowid")]
    rowid = rowids[pick % len(rowids)]
    read = f"SELECT {column}, typeof({column}) FROM {table} WHERE rowid = ?"
    before = db.execute(read, (rowid,)).fetchone()
    try:
        with db:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
    except sqlite3.IntegrityError:  # NOT NULL or a duplicate key: not an edit SQLite allows
        db.close()
        assume(False)
    after = db.execute(read, (rowid,)).fetchone()
    db.close()
    assume(after != before)
    assert _verify(out, original[1], manifest=False).status == "tampered"


# --- format-1 stores and resumed runs --------------------------------------------------------

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, format_version INTEGER NOT NULL, suite TEXT NOT NULL,
    started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL, config_hash TEXT NOT NULL,
    versions TEXT NOT NULL, targets TEXT NOT NULL, plan TEXT NOT NULL
);
CREATE TABLE results (
    run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL, target TEXT NOT NULL,
    sample INTEGER NOT NULL, seed INTEGER NOT NULL, passed INTEGER NOT NULL, error TEXT,
    response TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (run_id, case_id, target, sample)
);
CREATE TABLE findings (
    run_id TEXT NOT NULL, case_id TEXT NOT NULL, target TEXT NOT NULL, sample INTEGER NOT NULL,
    position INTEGER NOT NULL, guardrail TEXT NOT NULL, code TEXT NOT NULL,
    severity TEXT NOT NULL, message TEXT NOT NULL, evidence TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id, target, sample, position)
);
CREATE INDEX findings_code ON findings (run_id, code);
INSERT INTO meta VALUES ('format_version', '1');
"""


def test_a_format_1_store_migrates_and_its_runs_are_reported_as_unchained(
    made: tuple[Path, str], tmp_path: Path
) -> None:
    source, run_id = made
    old = tmp_path / "old"
    old.mkdir()
    db = sqlite3.connect(old / "runs.sqlite")
    db.executescript(V1_SCHEMA)
    src = sqlite3.connect(source / "runs.sqlite")
    header = src.execute(
        "SELECT id, suite, started, finished, status, config_hash, versions, targets, plan "
        "FROM runs"
    ).fetchone()
    results = src.execute(
        "SELECT run_id, case_id, target, sample, seed, passed, error, response, created "
        "FROM results"
    ).fetchall()
    src.close()
    with db:
        db.execute("INSERT INTO runs VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)", header)
        db.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
    db.close()

    store = RunStore.in_folder(old)
    assert len(store.run(run_id).results) == RESULTS  # still readable
    store.close()
    db = sqlite3.connect(old / "runs.sqlite")
    assert db.execute("SELECT value FROM meta").fetchone()[0] == "2"
    assert db.execute("SELECT COUNT(*) FROM results WHERE chain IS NULL").fetchone()[0] == RESULTS
    db.close()

    report = _verify(old, run_id, manifest=False)
    assert report.status == "unverifiable" and not report.problems
    text = report.render()
    assert "recorded before hash chaining" in text
    assert "INTACT" not in text and "TAMPERED" not in text

    # A format-2 run claiming to be unchained is not let off: stripping the chain is tampering.
    _sql(source, "UPDATE results SET seq = NULL, prev = NULL, chain = NULL")
    assert _verify(source, run_id, manifest=False).status == "tampered"


def test_a_resumed_run_keeps_a_valid_chain(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    fake_target = next(t for t in plan.suite.targets if t.name == "fake")
    stalled = ScriptedTarget(fake_target)
    answered = 0

    async def stall_after_two(request: Any) -> Any:
        nonlocal answered
        if answered >= 2:
            await asyncio.Event().wait()
        answered += 1
        return await ScriptedTarget.complete(stalled, request)

    stalled.complete = stall_after_two  # type: ignore[method-assign]

    async def interrupted() -> None:
        engine = Engine(plan, store, run_id, clients={"fake": stalled})
        task = asyncio.create_task(engine.execute())
        while len(store.done_keys(run_id)) < 8:  # noqa: ASYNC110 (polls another writer)
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    partial = len(store.done_keys(run_id))
    assert 8 <= partial < RESULTS and store.runs()[0].status == "interrupted"
    assert verify(store, run_id).intact  # an interrupted run verifies as far as it got

    asyncio.run(Engine(store.plan(run_id), store, run_id).execute())
    assert len(store.done_keys(run_id)) == RESULTS
    store.close()
    _publish(RunStore.in_folder(Path(plan.output_dir)), run_id)
    report = _verify(Path(plan.output_dir), run_id)
    assert report.intact and report.chained == RESULTS, report.render()


# --- the command -----------------------------------------------------------------------------


def test_evals_verify_exit_codes(made: tuple[Path, str]) -> None:
    out, run_id = made
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", run_id, "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "INTACT" in ok.stdout and "report file(s) match the manifest" in ok.stdout

    manifest = out / "reports" / run_id / MANIFEST_NAME
    explicit = runner.invoke(
        app, ["verify", run_id, "--out", str(out), "--manifest", str(manifest)]
    )
    assert explicit.exit_code == 0 and str(manifest) in explicit.stdout

    # without a manifest the chain alone is checked, and it says so
    moved = out / "elsewhere.json"
    manifest.rename(moved)
    chain_only = runner.invoke(app, ["verify", run_id, "--out", str(out)])
    assert chain_only.exit_code == 0 and "no manifest" in chain_only.stdout
    moved.rename(manifest)

    _sql(out, "UPDATE results SET passed = 1 - passed WHERE seq = 1")
    tampered = runner.invoke(app, ["verify", run_id, "--out", str(out)])
    assert tampered.exit_code == 1
    assert "TAMPERED" in tampered.stdout and "result #1 (" in tampered.stdout

    unknown = runner.invoke(app, ["verify", "nope", "--out", str(out)])
    assert unknown.exit_code == 2 and "no run with id 'nope'" in unknown.stderr
    no_store = runner.invoke(app, ["verify", run_id, "--out", str(out / "empty")])
    assert no_store.exit_code == 2 and "no run store here" in no_store.stderr
    missing = runner.invoke(
        app, ["verify", run_id, "--out", str(out), "--manifest", str(out / "no.json")]
    )
    assert missing.exit_code == 2 and "manifest not found" in missing.stderr
    broken = out / "broken.json"
    broken.write_text("{not json")
    bad = runner.invoke(app, ["verify", run_id, "--out", str(out), "--manifest", str(broken)])
    assert bad.exit_code == 2 and "broken.json" in bad.stderr
    for result in (unknown, no_store, missing, bad):
        assert "Traceback" not in result.output


def _evals_with(apertium: bool, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return evals_cli(*args, cwd=cwd, apertium=apertium)


@pytest.mark.skipif(
    bool(translation.unavailable()),
    reason="Apertium with its pairs is not installed (scripts/install installs it)",
)
def test_the_policy_checks_identity_says_whether_apertium_judged(tmp_path: Path) -> None:
    """Without Apertium the policy check grounds fewer answers: the run header and the manifest
    identify the policy check differently, and nothing else."""
    write_suite(tmp_path, n_cases=1, targets=[{"name": "reference", "model": "reference"}])
    seen: dict[bool, tuple[dict[str, Any], dict[str, Any]]] = {}
    for apertium in (True, False):
        out = f"out-{apertium}"
        done = _evals_with(
            apertium, "run", "suite.yaml", "--replay", "off", "--out", out, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        shown = _evals_with(apertium, "show", "latest", "--json", "--out", out, cwd=tmp_path)
        header = json.loads(shown.stdout)["versions"]
        [manifest] = (tmp_path / out / "reports").glob(f"*/{MANIFEST_NAME}")
        seen[apertium] = header, read_manifest(manifest).guardrails.model_dump(mode="json")
    (with_header, with_manifest), (without_header, without_manifest) = seen[True], seen[False]
    assert with_header["tools"]["apertium"] != "unavailable"
    assert without_header["tools"] == {"apertium": "unavailable"}
    with_versions, without_versions = (
        h["guardrail_versions"] for h in (with_header, without_header)
    )
    assert with_versions["policy"] != without_versions["policy"]
    assert with_header["guardrails"] != without_header["guardrails"]
    # every other family is the same code, judging the same way with or without Apertium
    assert {k: v for k, v in with_versions.items() if k != "policy"} == {
        k: v for k, v in without_versions.items() if k != "policy"
    }
    # the manifest carries the run's identities, so a reviewer sees which one judged
    assert with_manifest["versions"] == with_versions
    assert without_manifest["versions"] == without_versions
    assert with_manifest["version"] != without_manifest["version"]


@pytest.mark.skipif(
    bool(translation.unavailable()),
    reason="Apertium with its pairs is not installed (scripts/install installs it)",
)
def test_a_resume_without_the_apertium_the_run_started_with_is_refused(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2, targets=[{"name": "reference", "model": "reference"}])
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)  # stored, nothing answered yet: as if interrupted
    store.close()
    resume = ("run", "--resume", run_id, "--out", "out", "-q")
    refused = _evals_with(False, *resume, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "apertium was apertium=" in refused.stderr and "is unavailable now" in refused.stderr
    assert "versions.tools" in refused.stderr
    # With the Apertium it started with, the run completes, judged as it began.
    done = _evals_with(True, *resume, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _verify(tmp_path / "out", run_id, manifest=False).status == "intact"
