"""`evals scan` engines on one machine: the local scan in one process, the local scan in two
processes (each on half of the lines), and the Ray engine on a local Ray of 2 CPUs, on the
same N transcripts; then checks that every engine gave every record the same findings.

    .venv/bin/python benchmarks/scan_engines.py [--n 100000] [--engines local,local2,ray]

The transcripts cycle through the labelled responses (as benchmarks/guardrail_speed.py does).
Times are wall clock; the Ray figure is given with and without starting Ray. On one machine
Ray is expected to cost, not win: it pays for worker start-up, task scheduling and Parquet
writing, and it has no more cores than two local processes.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.records import PolicyBook  # noqa: E402
from evals.scan import scan  # noqa: E402
from evals.scan_ray import read_findings, run_ray_scan  # noqa: E402
from evals.validate import validate_paths  # noqa: E402


def write_transcripts(path: Path, n: int) -> dict[str, PolicyBook]:
    inventory = validate_paths([ROOT / "cases"])
    cases = {case.id: case for _, case in inventory.cases}
    items = [(cases[item.case], item.response) for _, item in inventory.labelled]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            case, text = items[i % len(items)]
            record = {
                "id": f"t{i}",
                "company": case.company,
                "language": case.language,
                "messages": [m.model_dump() for m in case.messages],
                "response": text,
                "facts": case.facts,
                "intent": case.intent,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return inventory.policies


def _scan_file(args: tuple[Path, Path, dict[str, PolicyBook]]) -> None:
    source, target, policies = args
    with target.open("w", encoding="utf-8") as sink:
        scan(source, policies, sink)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _descendants_cpu() -> float:
    """CPU seconds of every live process under this one (Ray's GCS, raylet and workers), read
    from /proc (Linux)."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        stats[int(entry.name)] = (int(fields[1]), ticks / os.sysconf("SC_CLK_TCK"))
    mine, total, grew = {os.getpid()}, 0.0, True
    while grew:
        grew = False
        for pid, (parent, cpu) in stats.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                total += cpu
                grew = True
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="transcripts to scan")
    parser.add_argument("--engines", default="local,local2,ray", help="comma-separated")
    args = parser.parse_args()
    engines = args.engines.split(",")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "transcripts.jsonl"
        policies = write_transcripts(source, args.n)
        print(f"{args.n:,} transcripts, {source.stat().st_size / 1e6:.0f} MB")
        outputs: dict[str, list[dict[str, object]]] = {}

        for engine in engines:  # in the order given
            if engine == "local":
                target = tmp / "local.jsonl"
                t0, cpu0 = time.perf_counter(), time.process_time()
                _scan_file((source, target, policies))
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                rate = args.n / elapsed
                print(f"local, 1 process: {elapsed:.1f} s = {rate:,.0f}/s; {cpu:.0f} CPU-s")
                outputs["local"] = [json.loads(x) for x in target.read_text("utf-8").splitlines()]

            elif engine == "local2":
                lines = source.read_text("utf-8").splitlines(keepends=True)
                half = len(lines) // 2
                parts = [tmp / "a.jsonl", tmp / "b.jsonl"]
                parts[0].write_text("".join(lines[:half]), "utf-8")
                parts[1].write_text("".join(lines[half:]), "utf-8")
                del lines
                targets = [tmp / "a.out.jsonl", tmp / "b.out.jsonl"]
                t0, cpu0 = time.perf_counter(), _children_cpu()
                with multiprocessing.get_context("spawn").Pool(2) as pool:
                    jobs = [(p, t, policies) for p, t in zip(parts, targets, strict=True)]
                    pool.map(_scan_file, jobs)
                    pool.close()
                    pool.join()
                elapsed, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
                print(
                    f"local, 2 processes (half each): {elapsed:.1f} s = {args.n / elapsed:,.0f}/s;"
                    f" {cpu:.0f} CPU-s"
                )
                outputs["local2"] = [
                    json.loads(x) for t in targets for x in t.read_text("utf-8").splitlines()
                ]

            elif engine == "ray":
                import ray

                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                t0 = time.perf_counter()
                ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
                started = time.perf_counter() - t0
                t1, cpu0 = time.perf_counter(), time.process_time()
                totals, _ = run_ray_scan(source, policies, tmp / "ray")
                pipeline = time.perf_counter() - t1
                cpu = time.process_time() - cpu0 + _descendants_cpu()  # Ray's own start included
                ray.shutdown()
                print(
                    f"ray, 2 CPUs: {started + pipeline:.1f} s ="
                    f" {args.n / (started + pipeline):,.0f}/s"
                    f" (starting Ray {started:.1f} s; the pipeline {pipeline:.1f} s ="
                    f" {args.n / pipeline:,.0f}/s); {cpu:.0f} CPU-s (driver during the pipeline,"
                    f" and every Ray process from its start); {totals.records:,} records"
                )
                outputs["ray"] = list(read_findings(tmp / "ray"))

    print(f"load average after: {os.getloadavg()}")
    names = list(outputs)
    same = all(outputs[n] == outputs[names[0]] for n in names[1:])
    print(f"findings identical across {', '.join(names)}: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
