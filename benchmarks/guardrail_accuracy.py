"""Accuracy of every guardrail family on the labelled responses (cases/labelled/).

A family counts as predicted for a response when its guardrail raises any finding that fails
an answer (critical or major; `--all-severities` counts minor too). Prints precision, recall
and F1 per family and per language, false positives on the cases' reference answers, and the
misses (false negatives and false positives) so they can be studied.

`--labelled-dir heldout3` scores the third held-out set (cases/heldout3/) instead: responses
written without looking at the guardrails and never used to tune them, so its figures estimate
how the guardrails generalise, while cases/labelled/ (the default) is the set they were tuned
on. cases/heldout/ and cases/heldout2/ were written the same way, but their misses were studied
once the next set existed: they are tuning sets now (`--labelled-dir heldout`, `heldout2`).

    .venv/bin/python benchmarks/guardrail_accuracy.py [--misses N] [--family policy]
    .venv/bin/python benchmarks/guardrail_accuracy.py --labelled-dir heldout3
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.records import FAMILIES  # noqa: E402
from evals.validate import validate_paths  # noqa: E402
from guardrails import GuardrailContext, GuardrailSet  # noqa: E402


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "cases")
    parser.add_argument("--misses", type=int, default=15, help="misses to list per family")
    parser.add_argument("--family", action="append", help="only list misses of these")
    parser.add_argument("--all-severities", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--labelled-dir",
        default="labelled",
        help="score only the labelled responses in files under CASES/<this folder>/ "
        "(default: labelled, the tuning set; heldout3: the blind held-out set)",
    )
    args = parser.parse_args()

    inventory = validate_paths([args.cases])
    if inventory.issues:
        for issue in inventory.issues:
            print(f"error: {issue}", file=sys.stderr)
        return 2
    cases = {case.id: case for _, case in inventory.cases}
    # Both sets live under --cases (they need its cases and policy books); keep only one, so
    # the held-out figures are never mixed with those of the set the guardrails were tuned on.
    scored_dir = (args.cases / args.labelled_dir).resolve()
    labelled = [
        (file, item)
        for file, item in inventory.labelled
        if Path(file).resolve().is_relative_to(scored_dir)
    ]
    if not labelled:
        print(f"error: {scored_dir}: no labelled responses in this folder", file=sys.stderr)
        return 2
    families: list[str] = [
        f for f in FAMILIES if f in GuardrailSet.build(GuardrailContext()).names()
    ]
    checks = GuardrailSet.build(GuardrailContext(policies=inventory.policies), families)
    failing = {"critical", "major", "minor"} if args.all_severities else {"critical", "major"}

    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    misses: dict[str, list[str]] = defaultdict(list)
    clean = clean_flagged = 0
    # Policy faults a writer marked "[meaning]" (no number, no distinctive term: an invented
    # feature, a stance) are the judge's to catch; count them apart so the rules' figure says
    # what rules can do.
    meaning = meaning_found = 0
    for _, item in labelled:
        case = cases[item.case]
        findings = checks.run(case, item.response)
        predicted = {f.guardrail for f in findings if f.severity in failing}
        if not item.families:
            clean += 1
            clean_flagged += bool(predicted & set(families))
        if "policy" in item.families and item.note.startswith("[meaning]"):
            meaning += 1
            meaning_found += "policy" in predicted
        language = case.language.split("-")[0]
        for family in families:
            expected = family in item.families
            got = family in predicted
            if not expected and not got:
                continue
            slot = 0 if expected and got else (1 if got else 2)
            for key in ((family, "all"), (family, language)):
                counts[key][slot] += 1
            if expected != got:
                detail = "; ".join(
                    f"{f.code} {f.evidence.span.text if f.evidence.span else ''!r}"
                    for f in findings
                    if f.guardrail == family
                )
                misses[family].append(
                    f"{'FN' if expected else 'FP'} {item.id} [{case.id}] labels={item.families}"
                    f" {detail}\n      {item.note[:160]}"
                )

    rows = []
    figures: dict[str, dict[str, float]] = {}
    for family in families:
        tp, fp, fn = counts[(family, "all")]
        p, r, f = f1(tp, fp, fn)
        row = [family, tp, fp, fn, f"{p:.2f}", f"{r:.2f}", f"{f:.2f}"]
        for language in ("es", "en", "pt"):
            row.append(f"{f1(*counts[(family, language)])[2]:.2f}")
        rows.append(row)
        figures[family] = {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}
    where = "" if args.labelled_dir == "labelled" else f" in {args.labelled_dir}/"
    print(f"{len(labelled)} labelled responses{where}, {len(cases)} cases\n")
    print(
        tabulate(
            rows,
            headers=[
                "family",
                "tp",
                "fp",
                "fn",
                "precision",
                "recall",
                "F1",
                "F1 es",
                "F1 en",
                "F1 pt",
            ],
        )
    )

    print(
        f"\nclean labelled responses with a failing finding: {clean_flagged} of {clean}"
        + (f" ({clean_flagged / clean:.0%})" if clean else "")
    )
    if meaning:
        tp, _, fn = counts[("policy", "all")]
        rules_tp, rules_pos = tp - meaning_found, tp + fn - meaning
        print(
            f"policy faults marked [meaning]: {meaning}, of which found {meaning_found}; "
            f"policy recall without them: {rules_tp}/{rules_pos} = "
            f"{rules_tp / rules_pos if rules_pos else 1.0:.2f}"
        )

    reference_fp = []
    for case in cases.values():
        if case.reference is None:
            continue
        for finding in checks.run(case, case.reference):
            if finding.severity in failing:
                reference_fp.append(f"{case.id}: {finding.code} {finding.message}")
    print(
        f"\nreference answers with a failing finding: {len(reference_fp)} of "
        f"{sum(c.reference is not None for c in cases.values())}"
    )
    for line in reference_fp[: args.misses]:
        print("  " + line)

    for family in families:
        if args.family and family not in args.family:
            continue
        if misses[family]:
            print(f"\n{family}: {len(misses[family])} misses")
            for line in misses[family][: args.misses]:
                print("  " + line)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "families": figures,
                    "reference_fp": len(reference_fp),
                    "clean": clean,
                    "clean_flagged": clean_flagged,
                    "meaning": meaning,
                    "meaning_found": meaning_found,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
