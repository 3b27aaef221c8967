"""`evals scan` memory stays flat in the number of transcripts: a bounded window of batches
is in flight, and the whole process's peak RSS does not grow with the input.

The RSS test runs two whole scans (about 30-60 s on a loaded 2-core machine)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from builders import ACME_POLICIES

from evals.records import PolicyBook
from evals.scan import RawRecord, ScanSetup
from evals.scan_workers import BATCH, IN_FLIGHT, checked_in_order


def _line(i: int) -> bytes:
    record = {
        "id": f"t{i}",
        "company": "acme",
        "language": "es",
        "messages": [{"role": "user", "content": f"¿Y mi reembolso {i}?"}],
        "response": f"Hola Ana, tu caso {i} está en curso." + (" {name}" if i % 5 == 0 else ""),
    }
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def test_the_pool_reads_at_most_a_fixed_window_ahead_and_keeps_input_order() -> None:
    import yaml

    books = {
        k: PolicyBook.model_validate({"id": k, **v})
        for k, v in yaml.safe_load(ACME_POLICIES).items()
    }
    setup = ScanSetup(policies=books, guardrails=("template",))
    read = [0]

    def records(n: int) -> Iterator[RawRecord]:
        for i in range(n):
            read[0] += 1
            yield RawRecord("t.jsonl", i, i + 1, _line(i))

    workers = 2
    window = (workers * IN_FLIGHT + 1) * BATCH
    seen = 0
    ids: list[str | None] = []
    for batch in checked_in_order(records(40 * BATCH), setup, workers):
        seen += len(batch)
        ids += [c.id for c in batch]
        assert read[0] - seen <= window, (read[0], seen)
    assert ids == [f"t{i}" for i in range(40 * BATCH)]


def _peak_tree_rss_kb(command: list[str]) -> tuple[int, str]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def tree(pid: int) -> int:
        total, pids = 0, [pid]
        while pids:
            current = pids.pop()
            try:
                status = Path(f"/proc/{current}/status").read_text()
                total += int(status.split("VmRSS:")[1].split()[0])
                pids += map(
                    int, Path(f"/proc/{current}/task/{current}/children").read_text().split()
                )
            except (OSError, IndexError):
                continue
        return total

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate(timeout=600)
    sampler.join()
    return peak[0], stderr


def test_peak_memory_of_a_whole_scan_does_not_grow_with_the_input(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    peaks = {}
    for n in (2_000, 20_000):
        source = tmp_path / f"t{n}.jsonl"
        source.write_bytes(b"".join(_line(i) for i in range(n)))
        out = tmp_path / f"f{n}.jsonl"
        command = [
            sys.executable,
            "-m",
            "evals",
            "scan",
            str(source),
            "--policies",
            str(policies),
            "--out",
            str(out),
            "--guardrail",
            "template",
            "--workers",
            "2",
        ]
        peaks[n], stderr = _peak_tree_rss_kb(command)
        assert f"scanned {n} responses" in stderr, stderr
        assert sum(1 for _ in out.open()) == n
    # Ten times the transcripts, at most 16 MB more across the three processes.
    assert peaks[20_000] - peaks[2_000] < 16 * 1024, peaks


def _scored_line(i: int) -> bytes:
    record = json.loads(_line(i))
    record |= {
        "intent": "refund_status" if i % 3 else "order_status",
        "bot": f"bot-{i % 2}",
        "conversation_id": f"c{i // 3}",
    }
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def test_peak_memory_of_a_whole_scored_scan_does_not_grow_with_the_input(tmp_path: Path) -> None:
    """A scored scan (run store, scorecard, reports, manifest) at 2,000 and 20,000 answers: the
    reports list bounded samples and the scores are streamed aggregates, so the peak stays put
    (before, the run was scored from every answer in memory: ~13 KB each)."""
    policies = tmp_path / "policies.yaml"
    policies.write_text(ACME_POLICIES, encoding="utf-8")
    peaks = {}
    for n in (2_000, 20_000):
        source = tmp_path / f"t{n}.jsonl"
        source.write_bytes(b"".join(_scored_line(i) for i in range(n)))
        command = [sys.executable, "-m", "evals", "scan", str(source), "--policies"]
        command += [str(policies), "--out", str(tmp_path / f"f{n}.jsonl")]
        command += ["--store", str(tmp_path / f"store{n}"), "--guardrail", "template"]
        peaks[n], stderr = _peak_tree_rss_kb([*command, "--workers", "2"])
        assert f"scanned {n} responses" in stderr and "Traceback" not in stderr, stderr
        [folder] = (tmp_path / f"store{n}" / "reports").iterdir()
        card = json.loads((folder / "scorecard.json").read_text())
        totals = [s for s in card["scores"] if s["group"] == "target"]
        assert sum(s["answers"] for s in totals) == n
        # each conversation of 3 answers is a case of both bots (answers alternate bots)
        assert sum(s["cases"] for s in totals) == 2 * -(-n // 3)
    # Ten times the answers, at most 24 MB more across the three processes.
    assert peaks[20_000] - peaks[2_000] < 24 * 1024, peaks
