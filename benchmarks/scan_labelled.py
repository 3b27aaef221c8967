"""Show that `evals scan` reproduces the accuracy benchmark on the labelled responses.

Writes the labelled responses (cases/labelled/) as scan transcripts (JSONL, docs/formats.md,
with each case's facts, intent and expectations), runs the real `evals scan` command
on them, scores its output per guardrail family, runs `benchmarks/guardrail_accuracy.py`, and
compares the two tables figure by figure. Exit 0 when they agree, 1 when any figure differs.

    .venv/bin/python benchmarks/scan_labelled.py [--keep FOLDER]

`--no-expect` writes the transcripts without their `expect` (as production transcripts come):
the figures then show what the guardrails find from the conversation alone, and are printed
without the comparison (the benchmark always reads the cases' expectations).
`--labelled-dir heldout3` scans another labelled folder (as in guardrail_accuracy.py).

    .venv/bin/python benchmarks/scan_labelled.py --no-expect [--labelled-dir heldout3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.guardrail_accuracy import f1  # noqa: E402
from evals.records import FAMILIES  # noqa: E402
from evals.validate import validate_paths  # noqa: E402

FAILING = {"critical", "major"}


def write_transcripts(
    path: Path, labelled_dir: str = "labelled", with_expect: bool = True
) -> dict[str, list[str]]:
    """The labelled set as scan input; returns each transcript's expected families."""
    inventory = validate_paths([ROOT / "cases" / "library", ROOT / "cases" / labelled_dir])
    if inventory.issues:
        raise SystemExit("\n".join(str(i) for i in inventory.issues))
    cases = {case.id: case for _, case in inventory.cases}
    expected = {}
    with path.open("w", encoding="utf-8") as out:
        for _, item in inventory.labelled:
            case = cases[item.case]
            record = {
                "id": item.id,
                "company": case.company,
                "language": case.language,
                "messages": [m.model_dump() for m in case.messages],
                "response": item.response,
                "facts": case.facts,
                "intent": case.intent,
                "expect": case.expect.model_dump(mode="json", by_alias=True),
                "kind": case.kind,
                "channel": case.channel,
                "risk": case.risk,
            }
            if not with_expect:
                del record["expect"]
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            expected[item.id] = list(item.families)
    return expected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="keep the transcripts and scan output here")
    parser.add_argument(
        "--no-expect",
        action="store_true",
        help="strip each case's expect, as in production transcripts (no comparison)",
    )
    parser.add_argument("--labelled-dir", default="labelled", help="folder under cases/")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="scan-labelled-"))
    folder.mkdir(parents=True, exist_ok=True)
    transcripts, scanned = folder / "transcripts.jsonl", folder / "scanned.jsonl"
    expected = write_transcripts(transcripts, args.labelled_dir, not args.no_expect)

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "evals", "scan", str(transcripts), "--policies",
         str(ROOT / "cases" / "policies"), "--out", str(scanned)],
        capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        print(done.stderr, file=sys.stderr)
        return 2
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in scanned.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        got = {f["guardrail"] for f in row["findings"] if f["severity"] in FAILING}
        for family in FAMILIES:
            want = family in expected[row["id"]]
            if want or family in got:
                counts[family][0 if want and family in got else (1 if family in got else 2)] += 1

    if args.no_expect:
        rows = [
            [family, *counts[family], *(f"{x:.2f}" for x in f1(*counts[family]))]
            for family in FAMILIES
        ]
        print(f"evals scan: {len(expected)} transcripts without expect in {elapsed:.1f}s\n")
        print(tabulate(rows, headers=["family", "tp", "fp", "fn", "P", "R", "F1 (scan)"]))
        return 0
    accuracy_json = folder / "accuracy.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "guardrail_accuracy.py"), "--misses", "0",
         "--json", str(accuracy_json), "--labelled-dir", args.labelled_dir],
        check=True, capture_output=True,
    )  # fmt: skip
    benchmark = json.loads(accuracy_json.read_text())["families"]
    rows, differ = [], 0
    for family in FAMILIES:
        tp, fp, fn = counts[family]
        p, r, f = f1(tp, fp, fn)
        ref = benchmark.get(family, {})
        same = (tp, fp, fn) == (ref.get("tp"), ref.get("fp"), ref.get("fn"))
        differ += not same
        rows.append(
            [family, tp, fp, fn, f"{p:.2f}", f"{r:.2f}", f"{f:.2f}",
             f"{ref.get('f1', 0):.2f}", "yes" if same else "NO"]
        )  # fmt: skip
    print(f"evals scan: {len(expected)} transcripts in {elapsed:.1f}s (whole command)\n")
    print(
        tabulate(
            rows,
            headers=["family", "tp", "fp", "fn", "P", "R", "F1 (scan)", "F1 (benchmark)", "same"],
        )
    )
    print("\nscan reproduces the benchmark" if not differ else f"\n{differ} families differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
