"""`evals scan` at scale: N distinct transcripts, timed as a whole process.

    .venv/bin/python benchmarks/scan_scale.py --n 10000 100000 [--workers 2] [--scored]
    .venv/bin/python benchmarks/scan_scale.py --n 10000 100000 1000000 --guardrail template
    .venv/bin/python benchmarks/scan_scale.py --n 100000 --noop [--scored]

Each transcript is built from one of the library's answers (the labelled responses and every
case's reference answer: all intents, languages and companies) and made unlike every other:
its sentences are reordered, a customer name, a date and amounts are varied, and a case number
unique to the transcript is stated, so no two answers are the same text and no per-text cache
helps. Records carry `intent`, `bot` and `conversation_id` only with `--scored` (then the scan
is scored into a run store with reports: a store per N); by default the scan writes findings
only. `--noop` replaces the guardrails with one that finds nothing (`noop_guardrail.py`, loaded
as a plugin): what is left is the pipeline's own cost per transcript.

For each N the whole `evals scan` process is timed (wall clock), with the peak resident memory
of its largest process (getrusage of children) and the peak of the whole process tree (main and
workers, sampled from /proc every 0.2 s), the CPU time of all its processes (user + system,
which a shared machine inflates less than the wall clock), and the load average around it: the
machine may be shared, so figures are only comparable at similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.validate import validate_paths  # noqa: E402

NAMES = ["Ana", "Luis", "Marta", "João", "Emily", "Carlos", "Sofía", "Pedro", "Laura", "Tom"]
CASE_NUMBER = {
    "es": "Tu número de caso es {n}.",
    "en": "Your case number is {n}.",
    "pt": "O número do seu caso é {n}.",
}
GREETING = {"es": "Hola {name}.", "en": "Hi {name}.", "pt": "Olá {name}."}
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _vary(text: str, language: str, i: int, rng: random.Random) -> str:
    """The answer made unique: sentences reordered, a name, a date and a case number added."""
    lang = language.split("-")[0]
    sentences = SENTENCE.split(text.strip())
    if len(sentences) > 2 and rng.random() < 0.5:
        middle = sentences[1:-1]
        rng.shuffle(middle)
        sentences = [sentences[0], *middle, sentences[-1]]
    greeting = GREETING.get(lang, GREETING["en"]).format(name=rng.choice(NAMES))
    number = CASE_NUMBER.get(lang, CASE_NUMBER["en"]).format(n=f"{i:07d}-{rng.randrange(100):02d}")
    return " ".join([greeting, *sentences, number])


def write_transcripts(path: Path, n: int, *, scored: bool, seed: int = 0) -> int:
    inventory = validate_paths([ROOT / "cases"])
    cases = {case.id: case for _, case in inventory.cases}
    pool = [(cases[item.case], item.response) for _, item in inventory.labelled]
    pool += [(case, case.reference) for case in cases.values() if case.reference]
    rng = random.Random(seed)
    seen: set[int] = set()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            case, text = pool[rng.randrange(len(pool))]
            response = _vary(text or "", case.language, i, rng)
            digest = hash(response)
            assert digest not in seen, "two transcripts came out the same"
            if len(seen) < 2_000_000:
                seen.add(digest)
            day = 1 + i % 28
            message = case.messages[-1].content + f" ({day:02d}/{1 + i % 12:02d}, ref {i})"
            record = {
                "id": f"t{i}",
                "company": case.company,
                "language": case.language,
                "messages": [m.model_dump() for m in case.messages[:-1]]
                + [{"role": "user", "content": message}],
                "response": response,
                "facts": case.facts,
                "channel": case.channel,
            }
            if scored:
                record |= {
                    "intent": case.intent,
                    "kind": case.kind,
                    "bot": f"bot-{i % 2}",
                    "conversation_id": f"c{i // 3}",
                }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(pool)


def _tree_rss_kb(pid: int) -> int:
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
    return total


def measure(
    source: Path,
    workers: int,
    out: Path,
    guardrails: list[str] | None = None,
    *,
    store: Path | None = None,
    noop: bool = False,
) -> dict[str, float]:
    load_before = os.getloadavg()[0]
    env = dict(os.environ)
    if noop:
        here = str(Path(__file__).resolve().parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        guardrails = ["noop"]
    command = [
        sys.executable,
        "-m",
        "evals",
        "scan",
        str(source),
        "--policies",
        str(ROOT / "cases" / "policies"),
        "--out",
        str(out),
        "--workers",
        str(workers),
        *(arg for name in guardrails or [] for arg in ("--guardrail", name)),
        *(["--plugin", "noop_guardrail"] if noop else []),
        *(["--store", str(store)] if store is not None else []),
    ]
    peak = [0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - t0
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"evals scan failed ({proc.returncode}):\n{stderr[-3000:]}")
    summary = next((line for line in stderr.splitlines() if line.startswith("scanned")), "")
    print(f"    {summary}")
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "largest_process_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "tree_peak_mb": peak[0] / 1024,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scored", action="store_true", help="records carry intents: a run")
    parser.add_argument("--keep", type=Path, help="keep the transcripts and outputs here")
    parser.add_argument(
        "--guardrail",
        action="append",
        help="run only this guardrail (repeatable)",
    )
    parser.add_argument(
        "--noop",
        action="store_true",
        help="guardrails replaced by one that finds nothing: the pipeline's own cost",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for n in args.n:
            source = folder / f"transcripts-{n}.jsonl"
            pool = write_transcripts(source, n, scored=args.scored)
            size = source.stat().st_size / 1e6
            print(f"N={n:,}: {size:,.0f} MB of transcripts from {pool} library answers")
            figures = measure(
                source,
                args.workers,
                folder / f"findings-{n}.jsonl",
                args.guardrail,
                store=folder / f"store-{n}" if args.scored else None,
                noop=args.noop,
            )
            per = figures["seconds"] / n * 1e6
            rows.append((n, figures, per))
            print(
                f"    {figures['seconds']:.1f} s = {n / figures['seconds']:,.0f} transcripts/s "
                f"({per:,.0f} µs each; CPU of all processes {figures['cpu_seconds']:.1f} s = "
                f"{figures['cpu_seconds'] / n * 1e6:,.0f} µs each); peak RSS: largest process "
                f"{figures['largest_process_mb']:.0f} MB, all processes "
                f"{figures['tree_peak_mb']:.0f} MB; load average {figures['load_before']:.1f} "
                f"before, {figures['load_after']:.1f} after",
                flush=True,
            )
            if not args.keep:
                source.unlink()
        if len(rows) > 1:
            base = rows[0][2]
            for n, _, per in rows[1:]:
                print(f"per transcript at {n:,} vs {rows[0][0]:,}: {100 * (per / base - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
