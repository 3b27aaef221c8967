"""`evals scan` killed with `kill -9` and resumed writes exactly what an uninterrupted scan
writes; a resume refuses inputs that changed; a scan never leaves a worker behind.

A checkpoint comes every 5,000 records at the latest, so each interrupted scan is killed
between two. Each test runs a few whole scans (20-120 s on a loaded 2-core machine)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import ACME_POLICIES

GOOD = "Hola Ana, tu reembolso llega en 10 días hábiles."
BAD = "Hola {first_name}, tu reembolso llega en 10 días hábiles."
EVALS = (sys.executable, "-m", "evals")


def _transcripts(path: Path, n: int, *, intents: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            record = {
                "id": f"t{i}",
                "company": "acme",
                "language": "es",
                "messages": [{"role": "user", "content": f"¿Y mi reembolso {i}?"}],
                "response": (BAD if i % 7 == 0 else GOOD).replace("Ana", f"Ana {i}"),
            }
            if intents:
                record |= {"intent": f"intent{i % 3}", "conversation_id": f"c{i // 3}"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _scan(*args: str) -> list[str]:
    return [*EVALS, "scan", *args, "--guardrail", "template", "--workers", "2"]


def _kill_after_a_checkpoint(command: list[str], state: Path, total: int) -> None:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress = state / "progress.json"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = json.loads(progress.read_text())["records"]
            except (OSError, ValueError, KeyError):
                done = 0
            if 0 < done < total:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the scan ended before a checkpoint could be interrupted")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_kill_9_then_resume_writes_exactly_the_uninterrupted_findings(
    tmp_path: Path, suffix: str
) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    total = 12_000
    source = _transcripts(tmp_path / "t.jsonl", total)
    whole = tmp_path / f"whole{suffix}"
    done = subprocess.run(
        _scan(str(source), "--policies", str(policies), "--out", str(whole)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    cut = tmp_path / f"cut{suffix}"
    command = _scan(str(source), "--policies", str(policies), "--out", str(cut))
    _kill_after_a_checkpoint(command, tmp_path / f"cut{suffix}.scan", total)
    # Without --resume, the interrupted state is named rather than overwritten.
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 1, resumed.stderr
    assert f"scanned {total} responses" in resumed.stderr
    if suffix == ".jsonl":
        assert cut.read_bytes() == whole.read_bytes()
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(cut).to_pylist() == pq.read_table(whole).to_pylist()
    assert not (tmp_path / f"cut{suffix}.scan").exists()


def test_a_resume_refuses_changed_inputs_and_a_finished_scan(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    total = 12_000
    source = _transcripts(tmp_path / "t.jsonl", total)
    out = tmp_path / "f.jsonl"
    command = _scan(str(source), "--policies", str(policies), "--out", str(out))
    _kill_after_a_checkpoint(command, tmp_path / "f.jsonl.scan", total)
    with source.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "late"}) + "\n")
    refused = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "differ from those the interrupted scan" in refused.stderr
    finished = tmp_path / "g.jsonl"
    small = _transcripts(tmp_path / "s.jsonl", 10)
    args = _scan(str(small), "--policies", str(policies), "--out", str(finished))
    assert subprocess.run(args, capture_output=True, timeout=120).returncode == 1
    again = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "nothing to resume" in again.stderr


def test_a_killed_scored_scan_resumes_into_one_verified_run(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    total = 7_000
    source = _transcripts(tmp_path / "t.jsonl", total, intents=True)
    results = {}
    for name, interrupt in (("whole", False), ("cut", True)):
        folder = tmp_path / name
        command = _scan(str(source), "--policies", str(policies), "--out", str(folder / "f.jsonl"))
        if interrupt:
            folder.mkdir()
            _kill_after_a_checkpoint(command, folder / "f.jsonl.scan", total)
            command.append("--resume")
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 1, done.stderr
        import sqlite3

        with sqlite3.connect(folder / "runs.sqlite") as db:
            rows = db.execute(
                "SELECT case_id, target, sample, passed, response FROM results ORDER BY seq"
            ).fetchall()
            [run_id] = [r[0] for r in db.execute("SELECT id FROM runs")]
        results[name] = rows
        verify = subprocess.run(
            [*EVALS, "verify", run_id, "--out", str(folder)], capture_output=True, text=True
        )
        assert verify.returncode == 0, verify.stdout
        assert (folder / "f.jsonl").stat().st_size > 0
    assert len(results["cut"]) == total
    assert results["cut"] == results["whole"]
    assert (tmp_path / "cut" / "f.jsonl").read_bytes() == (
        tmp_path / "whole" / "f.jsonl"
    ).read_bytes()


def test_no_worker_outlives_a_killed_scan(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    source = _transcripts(tmp_path / "t.jsonl", 12_000)
    command = _scan(str(source), "--policies", str(policies), "--out", str(tmp_path / "f.jsonl"))
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(children) < 2:
            children = (
                [
                    int(p)
                    for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                ]
                if Path(f"/proc/{proc.pid}").exists()
                else []
            )
            time.sleep(0.05)
        assert len(children) >= 2, "the scan never started its workers"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
        time.sleep(0.05)
    alive = []
    for child in children:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split()[2]
        except OSError:
            continue
        if state != "Z":
            alive.append(child)
            os.kill(child, signal.SIGKILL)
    assert not alive


CRASH_DURING_STORE = """
import os, sys
import evals.store as store
appended = store.RunStore.add_results
def crash_after_first_batch(self, results):
    appended(self, results)
    os._exit(9)  # like kill -9: the first batch is committed, nothing after it
store.RunStore.add_results = crash_after_first_batch
from evals.cli import main
sys.argv = ["evals", "scan", *sys.argv[1:]]
main()
"""


def test_a_scored_scan_killed_while_storing_resumes_without_storing_twice(
    tmp_path: Path,
) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    source = _transcripts(tmp_path / "t.jsonl", 2_500, intents=True)  # three store batches
    out = tmp_path / "f.jsonl"
    args = [str(source), "--policies", str(policies), "--out", str(out), "--workers", "1"]
    crashed = subprocess.run([sys.executable, "-c", CRASH_DURING_STORE, *args], timeout=300)
    assert crashed.returncode == 9
    import sqlite3

    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1000
    resumed = subprocess.run(
        [*EVALS, "scan", *args, "--resume"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 1, resumed.stderr
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2_500
        [run_id] = [r[0] for r in db.execute("SELECT id FROM runs")]
    verify = subprocess.run(
        [*EVALS, "verify", run_id, "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout
