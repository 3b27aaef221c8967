"""Speed of the guardrails: responses checked per second on one core with every guardrail on,
and `evals scan` over a large JSONL of transcripts in bounded memory.

    .venv/bin/python benchmarks/guardrail_speed.py [--seconds 5] [--scan 100000] [--per-family]

The per-response figure uses the labelled responses (real answers of every family, good and
bad), reporting the rate for all of them and for a 120-word answer. The scan figure writes
N transcripts to a temporary JSONL file and scans it through the same code `evals scan` uses,
reporting wall time, records per second and the peak resident memory of this process.
`--per-family` also times each guardrail alone on the labelled responses (every family pays
the shared text analysis it uses, as the first family of a full run does).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.scan import scan  # noqa: E402
from evals.validate import validate_paths  # noqa: E402
from guardrails import GuardrailContext, GuardrailSet  # noqa: E402
from guardrails.grounding import clear_caches  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    parser.add_argument("--scan", type=int, default=100_000, help="transcripts to scan")
    parser.add_argument(
        "--per-family", action="store_true", help="also time each guardrail on its own"
    )
    args = parser.parse_args()

    inventory = validate_paths([ROOT / "cases"])
    cases = {case.id: case for _, case in inventory.cases}
    checks = GuardrailSet.build(GuardrailContext(policies=inventory.policies))
    items = [(cases[item.case], item.response) for _, item in inventory.labelled]
    words = [len(text.split()) for _, text in items]
    print(f"guardrails: {', '.join(checks.names())}")
    print(f"{len(items)} labelled responses, median {statistics.median(words):.0f} words")

    # Warm caches (policy indexes, compiled patterns, the language model) before timing.
    for case, text in items:
        checks.run(case, text)

    def rate(pool: list[tuple[object, str]], guardrails: GuardrailSet = checks) -> float:
        done = 0
        cpu0 = time.process_time()
        while time.process_time() - cpu0 < args.seconds:
            clear_caches()  # every pass analyses every text again: no answer is free
            for case, text in pool:
                guardrails.run(case, text)  # type: ignore[arg-type]
            done += len(pool)
        return done / (time.process_time() - cpu0)

    all_rate = rate(items)  # type: ignore[arg-type]
    near_120 = [(c, t) for c, t in items if 100 <= len(t.split()) <= 140]
    rate_120 = rate(near_120) if near_120 else float("nan")  # type: ignore[arg-type]
    print(f"all labelled responses: {all_rate:,.0f} responses per CPU-second")
    print(f"100-140-word responses ({len(near_120)}): {rate_120:,.0f} responses per CPU-second")
    if args.per_family:
        alone = {
            name: GuardrailSet.build(GuardrailContext(policies=inventory.policies), [name])
            for name in checks.names()
        }
        figures = {name: rate(items, one) for name, one in alone.items()}  # type: ignore[arg-type]
        print(
            "per family (all labelled responses, alone): "
            + ", ".join(
                f"{name} {r:,.0f}/s" for name, r in sorted(figures.items(), key=lambda x: x[1])
            )
        )

    # Scan: N transcripts streamed from JSONL, output streamed to a sink.
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "transcripts.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for i in range(args.scan):
                case, text = items[i % len(items)]
                handle.write(
                    json.dumps(
                        {
                            "id": f"t{i}",
                            "company": case.company,  # type: ignore[attr-defined]
                            "language": case.language,  # type: ignore[attr-defined]
                            "messages": [
                                m.model_dump()
                                for m in case.messages  # type: ignore[attr-defined]
                            ],
                            "response": text,
                            "facts": case.facts,  # type: ignore[attr-defined]
                            "intent": case.intent,  # type: ignore[attr-defined]
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        size_mb = source.stat().st_size / 1e6
        rss_before = peak_rss_mb()
        target = Path(tmp) / "findings.jsonl"
        t0 = time.perf_counter()
        with target.open("w", encoding="utf-8") as sink:
            totals, issues = scan(source, inventory.policies, sink)
        elapsed = time.perf_counter() - t0
        out_mb = target.stat().st_size / 1e6
    print(
        f"scan: {totals.records:,} transcripts ({size_mb:.0f} MB) in {elapsed:.1f} s = "
        f"{totals.records / elapsed:,.0f}/s; {len(issues)} invalid; peak RSS "
        f"{peak_rss_mb():.0f} MB (before the scan {rss_before:.0f} MB); {out_mb:.0f} MB of findings"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
