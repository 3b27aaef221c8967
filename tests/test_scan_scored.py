"""A scored scan is scored from streaming aggregates: the same scorecard, scope and reports as
the whole run gives below the listing bounds, bounded lists above them, nothing held per answer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import ACME_POLICIES

import evals.scan_score as scan_score
from evals.publish import publish
from evals.store import RunStore

GOOD = "Hola Ana, tu reembolso llega en 10 días hábiles."
BAD = "Hola {first_name}, tu reembolso llega en 10 días hábiles."
WORSE = "... !!"  # an empty answer: a critical finding


def _records(n: int) -> list[dict[str, object]]:
    """n answers of 3 bots over interleaved conversations, two intents, two languages."""
    out: list[dict[str, object]] = []
    for i in range(n):
        conversation = i % max(1, n // 3)  # a conversation's answers are far apart
        text = WORSE if i % 17 == 0 else BAD if i % 5 == 0 else GOOD
        out.append(
            {
                "id": f"t{i}",
                "company": "acme",
                "language": "es" if conversation % 4 else "es-MX",
                "messages": [{"role": "user", "content": f"¿Y mi reembolso? ({conversation})"}],
                "response": text,
                "intent": "refund_status" if conversation % 3 else "card_update",
                "bot": f"bot-{(conversation // 3) % 3}",
                "conversation_id": f"c{conversation}",
                **({"risk": "high"} if conversation % 7 == 0 else {}),
            }
        )
    return out


def _scan(tmp_path: Path, n: int) -> tuple[Path, str]:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    source = tmp_path / "t.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(n)))
    store = tmp_path / "store"
    out = ["--out", str(tmp_path / "f.jsonl"), "--store", str(store), "--workers", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "evals", "scan", str(source), "--policies", str(policies), *out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [run_id] = [p.name for p in (store / "reports").iterdir()]
    return store, run_id


def _whole_run(store: RunStore, run_id: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publish the run the way `evals run` does: every answer in memory."""
    with monkeypatch.context() as patch:
        patch.setattr(scan_score, "streamable", lambda *_: False)
        publish(store, run_id, folder=folder)


def test_streamed_scorecard_scope_and_reports_equal_those_of_the_whole_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir, run_id = _scan(tmp_path, 240)
    store = RunStore.in_folder(store_dir)
    try:
        assert store.plan(run_id, scan_cases=False).cases == []  # kept apart, not in the plan
        assert len(store.plan(run_id).cases) == 80  # read back for `evals report`, `show`
        streamed = publish(store, run_id, folder=tmp_path / "streamed")
        _whole_run(store, run_id, tmp_path / "whole", monkeypatch)
    finally:
        store.close()
    card = json.loads((tmp_path / "streamed" / "scorecard.json").read_text())
    assert {s["target"] for s in card["scores"]} == {"bot-0", "bot-1", "bot-2"}
    assert len(card["decisions"]) == 6 and len(card["cases"]) == 80
    assert any(s["k"] == 1 for s in card["scores"]) is False  # 3 answers per conversation
    assert not streamed.card.passed or streamed.card.failing
    for name in ("scorecard.json", "report.md", "junit.xml", "scope.yaml", "report.html"):
        both = [(tmp_path / f / name).read_bytes() for f in ("streamed", "whole")]
        if name == "scope.yaml":  # the same run fingerprint, streamed; written a moment apart
            both = [re.sub(rb"\ngenerated: [^\n]*", b"", text) for text in both]
        assert both[0] == both[1], name
    manifests = [
        json.loads((tmp_path / folder / "manifest.json").read_text())
        for folder in ("streamed", "whole")
    ]
    for manifest in manifests:  # what differs: when each was written, so scope.yaml's hash
        del manifest["written"], manifest["body_sha256"]
        manifest["files"] = [f for f in manifest["files"] if f["path"] != "scope.yaml"]
    assert manifests[0] == manifests[1]
    verified = subprocess.run(
        [sys.executable, "-m", "evals", "verify", run_id, "--out", str(store_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0 and "INTACT" in verified.stdout, verified.stdout


def test_a_large_scan_lists_the_worst_failing_answers_and_says_how_many_are_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir, run_id = _scan(tmp_path, 240)
    monkeypatch.setattr(scan_score, "FAILING_SHOWN", 5)
    monkeypatch.setattr(scan_score, "PASSING_SHOWN", 4)
    monkeypatch.setattr(scan_score, "CASES_SHOWN", 6)
    store = RunStore.in_folder(store_dir)
    try:
        bounded = publish(store, run_id, folder=tmp_path / "bounded").card
        _whole_run(store, run_id, tmp_path / "whole", monkeypatch)
        every = list(store.results(run_id))
    finally:
        store.close()
    whole = json.loads((tmp_path / "whole" / "scorecard.json").read_text())
    card = json.loads((tmp_path / "bounded" / "scorecard.json").read_text())
    # The numbers count every answer and case; only the lists are bounded.
    for key in ("scores", "decisions", "gates", "gate_failures"):
        assert card[key] == whole[key], key
    failing = [r for r in every if not r.passed]
    assert len(card["failing"]) == 5 and card["failing_not_listed"] == len(failing) - 5
    # the worst are listed: the critical ones (empty answers) before the major ones
    critical = [r for r in failing if any(f.severity == "critical" for f in r.findings)]
    assert 5 <= len(critical) < len(failing)
    assert all(any(f["severity"] == "critical" for f in r["findings"]) for r in card["failing"])
    assert card["passing_not_listed"] == len(every) - len(failing) - 4
    assert len(card["cases"]) <= 12 and card["cases_not_listed"] == 80 - len(card["cases"])
    assert bounded.failing_not_listed == len(failing) - 5
    html = (tmp_path / "bounded" / "report.html").read_text()
    assert f"Not listed here: {len(failing) - 5:,} more failing" in html
    assert f"evals show {run_id}" in html
    markdown = (tmp_path / "bounded" / "report.md").read_text()
    assert f"## Failing answers (worst 5 of {len(failing)})" in markdown
    # The whole run's report lists everything and says nothing is left out.
    assert "Not listed here" not in (tmp_path / "whole" / "report.html").read_text()
    assert "failing_not_listed" not in whole


def test_a_store_write_cut_short_is_finished_without_doubling_or_renumbering_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan killed while it writes the run store (after the findings): the resume appends
    what is missing, numbering each conversation's answers as an uninterrupted write does."""
    import sqlite3

    import evals.scan_run as scan_run
    from evals.scan import RawRecord, ScanSetup, check_records, load_policies_arg

    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    books = load_policies_arg(policies)
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in _records(90)]
    records = [RawRecord("t.jsonl", i, i + 1, line) for i, line in enumerate(lines)]
    checked = check_records(records, ScanSetup(policies=books, keep=True))
    spool = tmp_path / "answers.jsonl"
    spool.write_text("\n".join(scan_run.AnswerSpool().lines(checked)) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan_run, "STORE_BATCH", 20)  # several transactions

    def write(folder: Path) -> None:
        origin = scan_run.ScanOrigin(
            name="t",
            inputs=[str(tmp_path / "t.jsonl")],
            policies_path=policies,
            policies=books,
            guardrails=None,
            decision_policy=None,
            store_folder=folder,
        )
        store = RunStore.in_folder(folder)
        try:
            scan_run.store_scan(store, "20261207-000000-abcdef", origin, spool)
        finally:
            store.close()

    write(tmp_path / "whole")
    appended = RunStore.add_results
    calls = [0]

    def killed_on_the_third(store: RunStore, results: list[object]) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        appended(store, results)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "add_results", killed_on_the_third)
        with pytest.raises(KeyboardInterrupt):
            write(tmp_path / "cut")
    with sqlite3.connect(tmp_path / "cut" / "runs.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 40
    write(tmp_path / "cut")  # the resume

    def stored(folder: Path) -> list[tuple[object, ...]]:
        with sqlite3.connect(folder / "runs.sqlite") as db:
            rows = db.execute(
                "SELECT seq, case_id, target, sample, passed, response FROM results ORDER BY seq"
            ).fetchall()
            cases = db.execute("SELECT case_id, body FROM scan_cases ORDER BY rowid").fetchall()
        return [*rows, *cases]

    whole = stored(tmp_path / "whole")
    assert stored(tmp_path / "cut") == whole and len(whole) == 90 + 30
    samples = sorted({row[3] for row in whole[:90]})
    assert samples == [0, 1, 2]  # three answers per conversation, numbered in input order
    verified = subprocess.run(
        [sys.executable, "-m", "evals", "verify", "latest", "--out", str(tmp_path / "cut")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0 and "INTACT" in verified.stdout, verified.stdout
