"""`evals scan` follows the contract in DESIGN.md."""

from __future__ import annotations

import subprocess
from pathlib import Path

from builders import read_jsonl, scan_cli


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
