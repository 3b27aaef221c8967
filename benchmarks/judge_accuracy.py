"""Accuracy of an LLM judge on every labelled set: `evals calibrate` run once per set, its figures
gathered into one table.

JUDGE_SUITE is any suite file with a `judge:` (only its `judge` is used; its calibration is
ignored). For each labelled set (cases/labelled, heldout, heldout2, heldout3 against
cases/library; benchmarks/sets/industries1 and industries2 against their own library), a suite
is written under --work with that judge, the set's cases and policy books, and the real command
runs: `evals calibrate SUITE --labelled SET --out WORK/SET.json`. Judge verdicts are recorded in
--cassettes (default WORK/cassettes), so a second run replays them.

    .venv/bin/python benchmarks/judge_accuracy.py my-judge.yaml
    .venv/bin/python benchmarks/judge_accuracy.py my-judge.yaml --sets labelled --limit 20

Works unchanged with any litellm model: the judge's model string and key variable come from
JUDGE_SUITE. With the bundled local/smollm2 it is slow (seconds per response on two cores) and
its figures are those of a 135M model, which is not a usable judge.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent

#: name -> (labelled folder, case library, policy books)
SETS = {
    name: (ROOT / "cases" / name, ROOT / "cases" / "library", ROOT / "cases" / "policies")
    for name in ("labelled", "heldout", "heldout2", "heldout3")
} | {
    name: (
        ROOT / "benchmarks" / "sets" / name / "labelled",
        ROOT / "benchmarks" / "sets" / name / "library",
        ROOT / "benchmarks" / "sets" / name / "policies",
    )
    for name in ("industries1", "industries2")
}


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("judge_suite", type=Path, metavar="JUDGE_SUITE")
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--limit", type=int, help="first N labelled responses of each set")
    parser.add_argument("--work", type=Path, default=Path("out") / "judge_accuracy")
    parser.add_argument("--cassettes", type=Path, help="judge cassettes (default: WORK/cassettes)")
    parser.add_argument("--replay", default="auto", choices=["record", "replay", "auto", "off"])
    args = parser.parse_args()

    data = yaml.safe_load(args.judge_suite.read_text(encoding="utf-8"))
    # YAML 1.1 reads an unquoted `on:` key as true.
    judge = {("on" if k is True else k): v for k, v in ((data or {}).get("judge") or {}).items()}
    if not judge:
        print(f"error: {args.judge_suite}: the suite has no `judge:`", file=sys.stderr)
        return 2
    judge.pop("calibration", None)
    judge.setdefault("on", "all")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    cassettes = (args.cassettes or work / "cassettes").resolve()
    rows: list[list[str]] = []
    for name in args.sets:
        labelled, library, policies = SETS[name]
        suite = work / f"{name}.yaml"
        suite.write_text(
            yaml.safe_dump(
                {
                    "name": f"judge-accuracy-{name}",
                    "cases": [{"path": str(library)}],
                    "policies": [str(policies)],
                    "targets": [{"name": "reference", "model": "reference"}],
                    "judge": judge,
                    "replay": {"mode": args.replay, "dir": str(cassettes)},
                    "output": str(work / "out"),
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        out = work / f"{name}.json"
        command = [sys.executable, "-m", "evals", "calibrate", str(suite)]
        command += ["--labelled", str(labelled), "--out", str(out)]
        command += ["--limit", str(args.limit)] if args.limit else []
        began = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return done.returncode
        seconds = time.monotonic() - began
        result = json.loads(out.read_text(encoding="utf-8"))
        usage = result["usage"]
        n = result["responses"]
        tokens = (usage["prompt_tokens"] + usage["completion_tokens"]) / n if n else 0
        for check, f in result["families"].items():
            rows.append(
                [
                    name,
                    check,
                    f"{n} ({result['errors']} err)",
                    f"{_ratio(f['precision'])} [{f['precision_ci']['low']:.2f}, "
                    f"{f['precision_ci']['high']:.2f}]",
                    f"{_ratio(f['recall'])} [{f['recall_ci']['low']:.2f}, "
                    f"{f['recall_ci']['high']:.2f}]",
                    _ratio(f["f1"]),
                    _ratio(f["kappa"]),
                    f"{f['tp']}/{f['fp']}/{f['fn']}/{f['tn']}",
                    f"{tokens:,.0f}",
                    f"{seconds:.0f} s",
                ]
            )
    print(f"judge {judge.get('model')}" + (f", first {args.limit} per set" if args.limit else ""))
    print(
        tabulate(
            rows,
            headers=[
                "set",
                "check",
                "responses",
                "precision [95%]",
                "recall [95%]",
                "F1",
                "kappa",
                "tp/fp/fn/tn",
                "tokens/answer",
                "time",
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
