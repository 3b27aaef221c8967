"""Speed of the guardrails: responses checked per second on one core with every guardrail on,
and `evals scan` over a large JSONL of transcripts in bounded memory.

    .venv/bin/python benchmarks/guardrail_speed.py [--seconds 5] [--scan 100000] [--per-family]
    .venv/bin/python benchmarks/guardrail_speed.py --distinct 2000 [--per-family] [--profile]

`--distinct N` is the figure that counts (issue #15 item 5): N distinct 100-140-word answers in
es, en and pt (`benchmarks/distinct_answers.py`: the library's reference and labelled answers
with their sentences reordered, numbers and names changed, no two equal), each checked once
with every per-text cache emptied just before it (`cold_caches`: every cache of the package
keyed on a text or a part of one, and every cache of a case; only the compiled lexicons, the
language model, word stems, the per-book `index_policy` and its `per_policy` tables stay warm),
timed in CPU seconds (`time.process_time`) around the check alone; each answer is timed
`--repeat` times (default 3, cold each time) and its least time counts, so other processes on
a shared machine inflate the figure less. It reports answers per CPU-second for all families
and, with `--per-family`, for each family alone (each paying the shared analysis it uses).
`--profile` prints the top of a cProfile of the all-family pass, in CPU time (the wall clock
charges a wait for a core to whatever runs then), after one unprofiled pass (so word-level
caches are as warm as in the timed figure); `--family NAME` (repeatable) times and profiles
only those families (with `response`), each paying the shared analysis it reads; `--stages`
times the shared analysis (sentences, quantities, concept spans, mentions, the case's ground)
stage by stage, in CPU microseconds per answer.

Measured on 2026-12-07 (2 shared cores, load average 8-12, --distinct 2000 --repeat 3): about
175-200 answers per CPU-second. At e2bdabe the same command gave 99, but there a policy book's
tables sat among the per-text caches and were rebuilt for every answer; with them warm there
too (as they are in a real run) e2bdabe gave about 210 and this code 220-237: the refactors
since are structure, within noise for speed. Issue #15's 2,000 is about ten times away.

Later the same day (branch `speed`, 600 distinct answers, --repeat 3, main and the branch run
alternately, six rounds, load average 4.5-7.5): main 148-187 (median about 178), the branch
158-217 (median about 203) answers per CPU-second with every family on: about 12% faster,
with findings identical (`guardrail_golden.py --against main`). The time is spread thin: a
sampling profile (py-spy) of the all-family pass has no function above 5% of it by itself;
policy and facts are about 39% and 37% inclusive (the first family run pays the shared
analysis: mentions 13%, quantities 10%), tone 10%.

Branch `factspeed` (2026-12-08, --distinct 500 --repeat 3, main and the branch alternately,
load average 1.7-2.6; findings identical by `guardrail_golden.py --against main`): facts alone
main 384-573 (median 567), branch 711-777 (median 739) answers per CPU-second, about 30% more;
all families main 146-177 (median 168), branch 165-205 (median 177), within the noise of a
shared machine. What facts no longer does per answer: read the words near a quantity once per
word of every fact's name, read a sentence's mentions for quantities no fact could be stated
in, read the case's dates, fees, exposure lists and conversation numbers for an answer with no
date, "free", exposure verb or count. What is left is mostly the shared analysis (a sentence's
quantities about 50 us, its concept spans and mentions) and the case's ground.

Branch `speed` (2026-12-08, 300 distinct answers, --repeat 3; the start of the branch and its
end run side by side as two processes, asked in turn for the same 10 answers at a time, so
both see the same load): all families 141 -> 145 answers per CPU-second (+3%), policy alone
281 -> 301 (+7%), facts, tone and privacy unchanged within 2%; findings identical
(`guardrail_golden.py --against main`). A CPU-time profile of the all-family pass (200
answers) counts 1.50 -> 1.35 million calls: the book's stems were intersected with every
sentence clause by clause, less its generic stems, per answer (now once per book), and the
clauses stating another value were read even when none stating the answer's value shared a
word. The time left is spread thin: no function above 4% by itself; policy about half of
it, facts a quarter, tone a tenth, the shared analysis (quantities, concept spans, mentions)
about a sixth. Figures taken one process after the other on this machine move by 15-20%
between runs, more than any change above: compare interleaved runs.

The per-response figure uses the labelled responses (real answers of every family, good and
bad), reporting the rate for all of them and for a 120-word answer. The scan figure writes
N transcripts to a temporary JSONL file and scans it through the same code `evals scan` uses,
reporting wall time, records per second and the peak resident memory of this process.
`--per-family` also times each guardrail alone on the labelled responses (every family pays
the shared text analysis it uses, as the first family of a full run does).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "benchmarks"))

from evals.records import Case  # noqa: E402
from evals.scan import scan  # noqa: E402
from evals.validate import validate_paths  # noqa: E402
from guardrails import GuardrailContext, GuardrailSet  # noqa: E402
from guardrails.grounding import clear_caches  # noqa: E402

#: Caches that hold no text's analysis: compiled lexicons and patterns (the counted nouns' too), the
#: language model, word stems and units, a fact name's words (`facts._key_words`, keyed on the name,
#: the company and the unit: a vocabulary, warm in any real run), the per-book policy index, and
#: plans keyed on a case's settings. Every other cache of the package is emptied before each answer
#: of `--distinct`, so a new cache of an answer's analysis cannot flatter the figure.
WARM = frozenset(
    {
        "_markers",
        "_marker_table",
        "_company_names",
        "index_policy",
        "lexicon_for",
        "_detected",
        "_shipped",
        "detector",
        "confusable_letters",
        "concepts",
        "_emergency",
        "_beyond",
        "_urgent_gate",
        "_otherwise",
        "data_kinds",
        "negations",
        "_index_for",
        "_sensitive_plan",
        "_plan",
        "_imports",
        "builtin_version",
        "stems",
        "_long_stems",
        "same_word",
        "_key_words",
        "word_unit",
        "key_unit",
        "stem",
        "_counted",
    }
)


def text_caches() -> list[Callable[[], None]]:
    """`cache_clear` of every `functools` cache in the guardrails package not in `WARM`."""
    import guardrails

    found: dict[int, Callable[[], None]] = {}
    for info in pkgutil.iter_modules(guardrails.__path__):
        module = importlib.import_module(f"guardrails.{info.name}")
        for name, value in vars(module).items():
            if (
                hasattr(value, "cache_clear")
                and hasattr(value, "cache_info")
                and getattr(value, "__module__", None) == module.__name__
                and name not in WARM
            ):
                found[id(value)] = value.cache_clear
    return list(found.values())


def cold_caches(clears: list[Callable[[], None]]) -> None:
    """Forget every analysed text, case and policy-index table (see `WARM` for what stays)."""
    clear_caches()
    for clear in clears:
        clear()


def distinct_rate(
    checks: GuardrailSet,
    pool: list[tuple[Case, str]],
    clears: list[Callable[[], None]],
    repeat: int = 1,
) -> float:
    """Answers per CPU-second, each answer checked with cold caches; with `repeat` > 1 every
    answer is checked that many times (cold each time) and its least CPU time counts, which
    keeps other processes on a shared machine from inflating the figure."""
    best = [float("inf")] * len(pool)
    for _ in range(repeat):
        for i, (case, text) in enumerate(pool):
            cold_caches(clears)
            cpu0 = time.process_time()
            checks.run(case, text)
            best[i] = min(best[i], time.process_time() - cpu0)
    return len(pool) / sum(best)


def stage_costs(
    pool: list[tuple[Case, str]], clears: list[Callable[[], None]], repeat: int
) -> list[tuple[str, float]]:
    """CPU microseconds per answer of the shared analysis, stage by stage, each stage timed
    from cold caches together with the stages it reads (so each figure includes the ones
    above it), each answer's least of `repeat`."""
    from guardrails.analysis import analyse
    from guardrails.grounding import case_ground
    from guardrails.lexicon import concept_spans

    def sentences(case: Case, text: str) -> object:
        return analyse(text, case.language)

    def quantities(case: Case, text: str) -> object:
        return [s.quantities for s in analyse(text, case.language).sentences]

    def concepts(case: Case, text: str) -> object:
        return [concept_spans(s.text) for s in analyse(text, case.language).sentences]

    def mentions(case: Case, text: str) -> object:
        return [s.mentions for s in analyse(text, case.language).sentences]

    def ground(case: Case, text: str) -> object:
        return case_ground(case)

    stages: list[tuple[str, Callable[[Case, str], object]]] = [
        ("sentences (split, per-sentence records)", sentences),
        ("quantities of every sentence (with sentences)", quantities),
        ("concept spans of every sentence (with sentences)", concepts),
        ("mentions with polarity (with concept spans)", mentions),
        ("case ground (the case's facts and conversation)", ground),
    ]
    out = []
    for name, stage in stages:
        best = [float("inf")] * len(pool)
        for _ in range(repeat):
            for i, (case, text) in enumerate(pool):
                cold_caches(clears)
                cpu0 = time.process_time()
                stage(case, text)
                best[i] = min(best[i], time.process_time() - cpu0)
        out.append((name, sum(best) / len(pool) * 1e6))
    return out


def distinct(args: argparse.Namespace) -> int:
    from distinct_answers import distinct_answers

    inventory = validate_paths([ROOT / "cases"])
    policies = inventory.policies
    checks = GuardrailSet.build(GuardrailContext(policies=policies), args.family or None)
    pool = list(distinct_answers(inventory, args.distinct))
    words = [len(text.split()) for _, text in pool]
    langs = Counter(case.language[:2] for case, _ in pool)
    clears = text_caches()
    print(f"guardrails: {', '.join(checks.names())}")
    print(
        f"{len(pool)} distinct answers ({min(words)}-{max(words)} words; "
        + ", ".join(f"{lang} {n}" for lang, n in sorted(langs.items()))
        + f"); {len(clears)} text caches emptied before each answer"
    )
    for case, text in pool[:50]:  # load the language model, lexicons and policy indexes
        checks.run(case, text)
    if args.profile:
        import cProfile
        import pstats

        # One pass first: the timed figure is each answer's least of --repeat, so its words'
        # vocabulary caches (stems, the matcher's per-word table) are warm, as they are here.
        distinct_rate(checks, pool, clears)
        # CPU time of this process, not wall time: on a shared machine the wall clock charges
        # the waits for a core to whatever function was running (often `process_time`).
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        distinct_rate(checks, pool, clears)
        profile.disable()
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.profile)
    rate = distinct_rate(checks, pool, clears, args.repeat)
    label = ", ".join(args.family) if args.family else "all families"
    print(
        f"{label}: {rate:,.0f} answers per CPU-second (least of {args.repeat} per answer; "
        f"{1e6 / rate:,.0f} us per answer)"
    )
    if args.stages:
        print("shared analysis, CPU us per answer (cold caches; each stage with what it reads):")
        for name, micros in stage_costs(pool, clears, args.repeat):
            print(f"  {name}: {micros:,.0f}")
    if args.per_family:
        for name in checks.names():
            one = GuardrailSet.build(GuardrailContext(policies=policies), [name])
            alone = distinct_rate(one, pool, clears, args.repeat)
            print(f"  {name}: {alone:,.0f} answers per CPU-second")
    return 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    parser.add_argument("--scan", type=int, default=100_000, help="transcripts to scan")
    parser.add_argument(
        "--per-family", action="store_true", help="also time each guardrail on its own"
    )
    parser.add_argument(
        "--distinct", type=int, metavar="N", help="time N distinct answers with cold caches"
    )
    parser.add_argument(
        "--profile", type=int, metavar="ROWS", help="with --distinct: print a cProfile top"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="with --distinct: time each answer this many times (cold each time), keep the least",
    )
    parser.add_argument("--sort", default="tottime", help="with --profile: cProfile sort key")
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help="with --distinct: time (and profile) only this guardrail family; repeatable",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="with --distinct: also time the shared analysis stage by stage (us per answer)",
    )
    args = parser.parse_args()
    if args.distinct:
        return distinct(args)

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
