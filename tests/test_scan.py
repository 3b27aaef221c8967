"""`evals scan` follows its input and output contract (docs/formats.md, "Scan transcripts")."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from builders import read_jsonl, scan_cli

from evals.scan import load_policies_arg, scan


def _record(rid: str, response: str, **extra: object) -> dict[str, object]:
    return {
        "id": rid,
        "company": "acme",
        "language": "es",
        "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
        "response": response,
        **extra,
    }


def _scan(tmp_path: Path, records: list[object]) -> tuple[subprocess.CompletedProcess[str], Path]:
    done, out = scan_cli(tmp_path, records)
    return done, out


def test_scan_writes_one_line_per_response_with_findings(tmp_path: Path) -> None:
    done, out = _scan(
        tmp_path,
        [
            _record("t1", "Hola {first_name}, tu reembolso llega en 10 días hábiles."),
            _record(
                "t2",
                "Hola Ana, tu reembolso llega en 10 días hábiles.",
                facts={"amount": "EUR 5.00"},
                intent="refund_status",
            ),
        ],
    )
    assert done.returncode == 1  # a response failed
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert rows["t2"] == {"id": "t2", "passed": True, "findings": []}
    assert rows["t1"]["passed"] is False
    [finding] = rows["t1"]["findings"]
    assert set(finding) == {"guardrail", "code", "severity", "message", "evidence"}
    assert finding["code"] == "template.placeholder"
    assert finding["evidence"]["span"]["text"] == "{first_name}"
    assert "scanned 2 responses: 1 passed, 1 failed" in done.stderr


def test_invalid_records_are_reported_and_the_rest_still_scanned(tmp_path: Path) -> None:
    done, out = _scan(
        tmp_path,
        [
            _record("t1", "Hola Ana."),
            _record("t2", "Hola.", language="Spanish!"),
            "{broken json",
            _record("t4", "Oi.", company="unknown"),
            _record("t5", "Hola Luis."),
        ],
    )
    assert done.returncode == 1  # bad records are named, skipped and counted, never fatal
    assert [r["id"] for r in read_jsonl(out)] == ["t1", "t5"]
    assert ":2: record 't2': field 'language'" in done.stderr
    assert ":3: invalid JSON" in done.stderr
    assert ":4: record 't4': field 'company'" in done.stderr
    assert "Traceback" not in done.stderr


def test_all_clean_exits_0(tmp_path: Path) -> None:
    done, out = _scan(tmp_path, [_record("t1", "Hola Ana, ya está en camino.")])
    assert done.returncode == 0 and read_jsonl(out)[0]["passed"] is True


# --- inputs people have -------------------------------------------------------------------

GOOD = "Hola Ana, tu reembolso llega en 10 días hábiles."
BAD = "Hola {first_name}, tu reembolso llega en 10 días hábiles."


def _evals(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [sys.executable, "-m", "evals", "scan", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def _policies(tmp_path: Path) -> Path:
    from builders import ACME_POLICIES

    path = tmp_path / "policies.yaml"
    path.write_text(ACME_POLICIES, encoding="utf-8")
    return path


def _mixed(n: int) -> list[dict[str, object]]:
    return [_record(f"t{i}", BAD if i % 3 == 0 else GOOD) for i in range(n)]


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    import json

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_jsonl_gzip_csv_parquet_and_a_folder_give_the_same_findings(tmp_path: Path) -> None:
    import gzip
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    policies = _policies(tmp_path)
    records = _mixed(12)
    jsonl = _write_jsonl(tmp_path / "a.jsonl", records)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(jsonl.read_bytes()))
    flat = [{**r, "messages": json.dumps(r["messages"], ensure_ascii=False)} for r in records]
    import csv

    with (tmp_path / "a.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(flat[0]))
        writer.writeheader()
        writer.writerows(flat)
    pq.write_table(pa.Table.from_pylist(flat), tmp_path / "a.parquet")
    folder = tmp_path / "logs"
    (folder / "day2").mkdir(parents=True)
    _write_jsonl(folder / "day1.jsonl", records[:5])
    _write_jsonl(folder / "day2" / "part.jsonl", records[5:])
    (folder / "notes.txt").write_text("not a transcript")
    outputs = {}
    books = load_policies_arg(policies)
    for name in ("a.jsonl", "a.jsonl.gz", "a.csv", "a.parquet", "logs"):
        sink = io.StringIO()
        totals, issues = scan(tmp_path / name, books, sink)  # what `evals scan` runs per batch
        assert not issues and (totals.passed, totals.failed, totals.invalid) == (8, 4, 0)
        outputs[name] = sink.getvalue()
    (tmp_path / "out-a.jsonl.jsonl").write_text(outputs["a.jsonl.gz"], encoding="utf-8")
    assert len(set(outputs.values())) == 1
    rows = read_jsonl(tmp_path / "out-a.jsonl.jsonl")
    assert [r["id"] for r in rows] == [f"t{i}" for i in range(12)]
    assert [r["passed"] for r in rows] == [i % 3 != 0 for i in range(12)]


def test_findings_to_parquet_hold_what_the_jsonl_holds(tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    policies = _policies(tmp_path)
    source = _write_jsonl(tmp_path / "t.jsonl", _mixed(9))
    _evals(str(source), "--policies", str(policies), "--out", str(tmp_path / "f.jsonl"))
    done = _evals(str(source), "--policies", str(policies), "--out", str(tmp_path / "f.parquet"))
    assert done.returncode == 1, done.stderr
    table = pq.read_table(tmp_path / "f.parquet").to_pylist()
    lines = read_jsonl(tmp_path / "f.jsonl")
    assert [r["id"] for r in table] == [r["id"] for r in lines]
    assert [r["passed"] for r in table] == [r["passed"] for r in lines]
    assert [json.loads(r["findings"]) for r in table] == [r["findings"] for r in lines]
    assert table[0]["codes"] == ["template.placeholder"] and table[1]["codes"] == []
    assert not (tmp_path / "f.parquet.scan").exists()  # the state folder goes when done


def test_map_reads_other_column_names_and_an_unknown_field_is_refused(tmp_path: Path) -> None:
    policies = _policies(tmp_path)
    records = []
    for r in _mixed(4):
        row = {k: v for k, v in r.items() if k not in ("response", "id")}
        records.append({**row, "bot_reply": r["response"], "ticket": r["id"]})
    source = _write_jsonl(tmp_path / "t.jsonl", records)
    out = tmp_path / "f.jsonl"
    done = _evals(
        str(source),
        "--policies",
        str(policies),
        "--out",
        str(out),
        "--map",
        "response=bot_reply,id=ticket",
    )
    assert done.returncode == 1 and "4 responses: 2 passed, 2 failed, 0 invalid" in done.stderr
    assert [r["id"] for r in read_jsonl(out)] == ["t0", "t1", "t2", "t3"]
    # Without the map, every record is named with its line and the field it lacks.
    done = _evals(str(source), "--policies", str(policies), "--out", str(out))
    assert done.returncode == 1 and f"{source}:2: field 'response'" in done.stderr
    assert "4 invalid" in done.stderr
    done = _evals(str(source), "--policies", str(policies), "--map", "reply=bot_reply")
    assert done.returncode == 2
    assert "'reply' is not a transcript field; valid fields: id, company" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_csv_and_parquet_records_are_named_by_line_and_row(tmp_path: Path) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    policies = _policies(tmp_path)
    rows = [{**r, "messages": json.dumps(r["messages"], ensure_ascii=False)} for r in _mixed(3)]
    rows[1]["language"] = "Spanish!"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    done = _evals(str(tmp_path / "t.parquet"), "--policies", str(policies))
    assert done.returncode == 1
    assert f"{tmp_path / 't.parquet'}: record 'row 2, id t1': field 'language'" in done.stderr
    csv_text = "id,company,language,messages,response\n"
    csv_text += 't0,acme,es,"[{""role"": ""user"", ""content"": ""hola""}]","Hola Ana."\n'
    csv_text += 't1,acme,es,"[{""role"": ""user"",\n""content"": ""hola""}]",\n'
    csv_text += 't2,acme,es,"[{""role"": ""user"", ""content"": ""hola""}]","Hola Ana."\n'
    (tmp_path / "t.csv").write_text(csv_text, encoding="utf-8")
    done = _evals(str(tmp_path / "t.csv"), "--policies", str(policies))
    assert done.returncode == 1
    # The record starting on line 3 (it spans two lines) lacks its response.
    assert f"{tmp_path / 't.csv'}:3: record 't1': field 'response'" in done.stderr
    assert [r["id"] for r in map(json.loads, done.stdout.splitlines())] == ["t0", "t2"]


def test_two_workers_write_what_one_writes_in_input_order(tmp_path: Path) -> None:
    policies = _policies(tmp_path)
    source = _write_jsonl(tmp_path / "t.jsonl", _mixed(450))  # several batches per worker
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"f{workers}.jsonl"
        done = _evals(
            str(source), "--policies", str(policies), "--out", str(out), "--workers", workers
        )
        assert done.returncode == 1, done.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert [r["id"] for r in read_jsonl(tmp_path / "f2.jsonl")] == [f"t{i}" for i in range(450)]


# --- scorecards from transcripts ----------------------------------------------------------


def _conversation(cid: str, bot: str, texts: list[str], intent: str) -> list[dict[str, object]]:
    return [
        _record(f"{cid}-{n}", text, intent=intent, bot=bot, conversation_id=cid)
        for n, text in enumerate(texts)
    ]


def test_transcripts_with_intents_become_a_verified_run_scored_per_bot_and_intent(
    tmp_path: Path,
) -> None:
    import json

    policies = _policies(tmp_path)
    records = []
    for i in range(6):  # bot-a: refunds all good, in conversations of 3 answers
        records += _conversation(f"c{i}", "bot-a", [GOOD] * 3, "refund_status")
    for i in range(4):  # bot-b: one bad answer in each conversation
        records += _conversation(f"d{i}", "bot-b", [GOOD, BAD], "refund_status")
    records += _conversation("e0", "bot-b", [GOOD], "order_status")
    source = _write_jsonl(tmp_path / "t.jsonl", records)
    store = tmp_path / "store"
    done = _evals(
        str(source),
        "--policies",
        str(policies),
        "--out",
        str(tmp_path / "f.jsonl"),
        "--store",
        str(store),
    )
    assert done.returncode == 1, done.stderr  # bot-b's answers fail
    [folder] = (store / "reports").iterdir()
    card = json.loads((folder / "scorecard.json").read_text())
    intent = {(s["target"], s["key"]): s for s in card["scores"] if s["group"] == "intent"}
    a = intent[("bot-a", "refund_status")]
    assert (a["answers"], a["cases"], a["passed"], a["k"], a["cases_all_passed"]) == (
        18,
        6,
        18,
        3,
        6,
    )
    b = intent[("bot-b", "refund_status")]
    assert (b["answers"], b["cases"], b["passed"], b["cases_all_passed"]) == (8, 4, 4, 0)
    assert b["pass_rate_ci"]["low"] < 0.5 < b["pass_rate_ci"]["high"]
    assert [f["code"] for f in b["findings"]] == ["template.placeholder"]
    assert intent[("bot-b", "order_status")]["answers"] == 1
    decisions = {(d["target"], d["intent"]) for d in card["decisions"]}
    assert decisions == {
        ("bot-a", "refund_status"),
        ("bot-b", "refund_status"),
        ("bot-b", "order_status"),
    }
    for name in ("report.html", "report.md", "junit.xml", "scope.yaml", "manifest.json"):
        assert (folder / name).is_file()
    run_id = folder.name
    verified = subprocess.run(
        [*_evals_cmd(), "verify", run_id, "--out", str(store)], capture_output=True, text=True
    )
    assert verified.returncode == 0 and "INTACT" in verified.stdout, verified.stdout
    # An edited answer in the store is caught like in any run.
    import sqlite3

    with sqlite3.connect(store / "runs.sqlite") as db:
        db.execute("UPDATE results SET passed = 1 WHERE target = 'bot-b' AND sample = 1")
    verified = subprocess.run(
        [*_evals_cmd(), "verify", run_id, "--out", str(store)], capture_output=True, text=True
    )
    assert verified.returncode == 1 and "altered" in verified.stdout


def _evals_cmd() -> list[str]:
    import sys

    return [sys.executable, "-m", "evals"]


def test_a_scan_without_intents_writes_findings_and_a_summary_but_no_run(tmp_path: Path) -> None:
    policies = _policies(tmp_path)
    source = _write_jsonl(tmp_path / "t.jsonl", _mixed(6))
    done = _evals(str(source), "--policies", str(policies), "--out", str(tmp_path / "f.jsonl"))
    assert done.returncode == 1
    assert "findings by code:" in done.stderr
    assert "2  template.placeholder (major)" in done.stderr
    assert not (tmp_path / "runs.sqlite").exists() and not (tmp_path / "reports").exists()


def test_a_scored_scan_scope_is_approved_until_its_policy_book_changes(tmp_path: Path) -> None:
    policies = _policies(tmp_path)
    records = []
    for i in range(10):
        records += _conversation(f"c{i}", "bot-a", [GOOD] * 3, "refund_status")
    source = _write_jsonl(tmp_path / "t.jsonl", records)
    store = tmp_path / "store"
    done = _evals(str(source), "--policies", str(policies), "--store", str(store))
    assert done.returncode == 0, done.stderr
    [scope] = (store / "reports").glob("*/scope.yaml")
    approve = [*_evals_cmd(), "approve", str(scope), "--by", "Ana", "--out", str(store)]
    policies.write_text(policies.read_text() + "  text2: x\n")  # the book no longer reads as it did
    refused = subprocess.run(approve, capture_output=True, text=True)
    assert refused.returncode == 1 and "policy book" in refused.stderr + refused.stdout
    policies.write_text(policies.read_text().replace("  text2: x\n", ""))
    approved = subprocess.run(approve, capture_output=True, text=True)
    assert approved.returncode == 0 and "approved by Ana" in approved.stdout + approved.stderr
