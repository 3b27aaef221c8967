"""Runner throughput benchmark: N cases against a mock OpenAI-compatible server.

The mock server (aiohttp, in a separate process, 127.0.0.1 on a free port) answers every chat
completion after a fixed latency. The floor is N x latency / concurrency (1000 x 0.1 s / 50 =
2.0 s). Three things are measured, each `--repeat` times (best and median are reported):

- raw aiohttp: `concurrency` aiohttp workers posting N requests to the same server: what this
  machine can do without any harness (the practical floor);
- in-process: `asyncio.run(Engine(...).execute())` in this process, litellm imported (and warmed
  up by a short run) before the clock starts; its import time is reported separately, measured in
  a fresh interpreter;
- whole process: `evals run SUITE --replay off --out DIR -q` as a child process: wall time, CPU
  time (user + system) and peak RSS of that child, start-up and litellm import included.

Also reported: the litellm import (fresh interpreter), the plan build (suite and N cases read from
YAML), the guardrails' CPU per case, and the TCP connections the server saw (50 = keep-alive
works). `--guardrails none` measures the engine without guardrails. Run it from the repository root:

    .venv/bin/python benchmarks/runner_throughput.py --n 1000 --latency 0.1 --concurrency 50 \
        --repeat 3

Only loopback traffic; the server is stopped at the end, also on error, Ctrl-C, or if this
process dies. Figures and what the profile showed: benchmarks/runner_throughput.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

KEY_ENV = "SUPPORTGATE_BENCH_API_KEY"
MODEL = "mock-model"
ANSWER = (
    "I'm sorry about the double charge. We confirm a reported duplicate charge within 2 business "
    "days and reverse it within 5 business days of the confirmation. If you prefer, I can "
    "transfer you to a person in the in-app chat."
)
POLICY_TEXT = (
    "# Benchmark Co: support policy\n\n"
    "- A reported duplicate charge is confirmed within 2 business days and reversed within 5 "
    "business days of the confirmation.\n"
    "- Human agents answer in the in-app chat every day, 8:00 to 22:00.\n"
)


# --- the mock server (runs in its own process) ---------------------------------------------


def _serve(latency: float, conn: Connection) -> None:
    """Child process: an OpenAI-compatible chat-completions endpoint on 127.0.0.1:<free port>."""
    from aiohttp import web

    parent_pid = os.getppid()

    body = {
        "object": "chat.completion",
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 48, "total_tokens": 168},
    }
    counter = 0
    connections: set[Any] = set()  # client (host, port)s: keep-alive reuse shows here

    async def chat(request: web.Request) -> web.Response:
        nonlocal counter
        await request.read()
        if request.transport is not None:
            connections.add(request.transport.get_extra_info("peername"))
        await asyncio.sleep(latency)
        counter += 1
        payload = {"id": f"chatcmpl-bench-{counter}", "created": int(time.time()), **body}
        return web.Response(body=json.dumps(payload), content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        """Requests and connections since the last /stats (each measurement reads it once)."""
        nonlocal counter
        data = {"requests": counter, "connections": len(connections)}
        counter = 0
        connections.clear()
        return web.json_response(data)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_post("/chat/completions", chat)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(runner.addresses[0][1])  # the free port the OS chose
        conn.close()
        try:
            while True:  # until the parent terminates this process, or dies without doing so
                if os.getppid() != parent_pid:
                    return
                await asyncio.sleep(0.5)
        finally:
            await runner.cleanup()

    asyncio.run(main())


@contextmanager
def mock_server(latency: float) -> Iterator[int]:
    """Start the server in a separate (spawned) process; yield its port; always stop it."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_serve, args=(latency, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(30):
            raise RuntimeError("the mock server did not start within 30 s")
        port: int = parent.recv()
        yield port
    finally:
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


# --- inputs ---------------------------------------------------------------------------------


def write_inputs(
    folder: Path, n: int, port: int, concurrency: int, guardrails: list[str] | None = None
) -> Path:
    """A policy book, N cases and a suite (the YAML formats evals reads); return the suite.
    `guardrails` None runs every registered guardrail, [] none."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(
        yaml.safe_dump({"id": "benchco", "name": "Benchmark Co", "text": POLICY_TEXT}),
        encoding="utf-8",
    )
    cases = [
        {
            "id": f"case-{i:05d}",
            "intent": f"intent-{i % 10}",
            "messages": [
                {
                    "role": "user",
                    "content": f"Hi, I was charged twice for order {10000 + i}. "
                    "When do I get my money back?",
                }
            ],
            "facts": {"order": str(10000 + i)},
        }
        for i in range(n)
    ]
    defaults = {
        "kind": "support",
        "language": "en",
        "channel": "chat",
        "risk": "low",
        "company": "benchco",
    }
    (folder / "cases.yaml").write_text(
        yaml.safe_dump({"defaults": defaults, "cases": cases}, sort_keys=False),
        encoding="utf-8",
    )
    suite = {
        "name": "throughput",
        "cases": [{"path": "cases.yaml"}],
        "policies": ["policy.yaml"],
        "targets": [
            {
                "name": "mock",
                "model": f"openai/{MODEL}",
                "api_base": f"http://127.0.0.1:{port}/v1",
                "api_key_env": KEY_ENV,
                "concurrency": concurrency,
                "timeout": 30,
            }
        ],
        "samples": 1,
        "concurrency": concurrency,
        "replay": {"mode": "off", "dir": "cassettes"},
        "output": str(folder / "out"),
    }
    if guardrails is not None:
        suite["guardrails"] = guardrails
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def check_store(out: Path, n: int) -> str:
    """Every case answered, none with an error: the run did the work it was timed for."""
    db = sqlite3.connect(out / "runs.sqlite")
    try:
        total, errors = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(error IS NOT NULL), 0) FROM results"
        ).fetchone()
        first_error = db.execute("SELECT error FROM results WHERE error IS NOT NULL").fetchone()
    finally:
        db.close()
    if total != n or errors:
        detail = f"; first error: {first_error[0]}" if first_error else ""
        raise RuntimeError(f"{out}: {total} results (expected {n}), {errors} errors{detail}")
    return f"{total} results, 0 errors"


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    rss_mb: float | None = None
    connections: int | None = None  # TCP connections the server saw (keep-alive reuse)


def server_stats(port: int) -> dict[str, int]:
    """Requests and connections the mock server saw since the previous call (then resets)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        data: dict[str, int] = json.load(response)
    return data


def measured(port: int, n: int, measure: Callable[[], Sample]) -> Sample:
    server_stats(port)  # reset the counters
    sample = measure()
    stats = server_stats(port)
    if stats["requests"] < n:
        raise RuntimeError(f"the server answered {stats['requests']} requests, expected {n}")
    sample.connections = stats["connections"]
    return sample


async def _raw_aiohttp(url: str, n: int, concurrency: int) -> None:
    import aiohttp

    payload = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"Authorization": "Bearer dummy"}
    remaining = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for _ in remaining:
                async with session.post(url, json=payload, headers=headers) as response:
                    data = await response.json()
                    assert data["choices"][0]["message"]["content"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def measure_raw(port: int, n: int, concurrency: int) -> Sample:
    import aiohttp  # noqa: F401  # imported before the clock starts

    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(_raw_aiohttp(url, n, concurrency))
    return Sample(time.perf_counter() - t0, time.process_time() - cpu0)


def measure_import() -> float:
    """Seconds to import and configure litellm the way the engine does, in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); "
        "from evals.targets.litellm_target import import_litellm; import_litellm(); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure_in_process(suite: Path, out: Path, n: int) -> tuple[Sample, float]:
    """The engine alone: (its wall/CPU, seconds to build the plan from the suite's files)."""
    from evals.progress import SilentProgress
    from evals.runner import Engine, start_run
    from evals.store import RunStore
    from evals.suite_file import build_plan

    t0 = time.perf_counter()
    plan = build_plan(suite, replay_mode="off", output=out)
    plan_s = time.perf_counter() - t0
    store = RunStore.in_folder(Path(plan.output_dir))
    try:
        run_id = start_run(plan, store)
        cpu0, t0 = time.process_time(), time.perf_counter()
        asyncio.run(Engine(plan, store, run_id, progress=SilentProgress()).execute())
        sample = Sample(time.perf_counter() - t0, time.process_time() - cpu0)
    finally:
        store.close()
    check_store(out, n)
    return sample, plan_s


def measure_guardrails(suite: Path) -> float:
    """CPU seconds the suite's guardrails take to check the mock answer once per case (the
    engine does exactly this for every answer)."""
    from evals.suite_file import build_plan
    from guardrails.registry import GuardrailContext, GuardrailSet

    plan = build_plan(suite, replay_mode="off")
    checks = GuardrailSet.build(GuardrailContext(policies=plan.policies), plan.suite.guardrails)
    cpu0 = time.process_time()
    for case in plan.cases:
        checks.run(case, ANSWER)
    return time.process_time() - cpu0


def evals_command() -> list[str]:
    script = Path(sys.executable).with_name("evals")
    if script.exists():
        return [str(script)]
    found = shutil.which("evals")
    if found:
        return [found]
    return [sys.executable, "-c", "from evals.cli import main; main()"]


def measure_whole(suite: Path, out: Path, n: int) -> Sample:
    command = [*evals_command(), "run", str(suite), "--replay", "off", "--out", str(out), "-q"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CI", None)  # CI would force replay mode; --replay off wins anyway
    t0 = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    output = child.stdout.read()  # drain before waiting, so a full pipe cannot block the child
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # 1: a gate failed (the guardrails found something)
        raise RuntimeError(
            f"{' '.join(command)} exited {child.returncode}:\n{output.decode(errors='replace')}"
        )
    check_store(out, n)
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss)


# --- report ---------------------------------------------------------------------------------


def best_median(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def report(
    args: argparse.Namespace,
    samples: dict[str, list[Sample]],
    imports: list[float],
    plans: list[float],
    guards: list[float],
    script_rss_mb: float,
) -> None:
    from tabulate import tabulate

    n = args.n
    floor = n * args.latency / args.concurrency
    rows: list[list[Any]] = []
    lines: list[str] = []

    def add(label: str, unit: str, values: list[float], fmt: Callable[[float], str]) -> None:
        if not values:
            return
        best, median = best_median(values)
        rows.append([label, fmt(best), fmt(median), " ".join(fmt(v) for v in values), unit])
        u = f" {unit}" if unit else ""
        lines.append(f"{label}: best {fmt(best)}{u}, median {fmt(median)}{u}")

    def secs(v: float) -> str:
        return f"{v:.2f}"

    def ms(v: float) -> str:
        return f"{v:.2f}"

    def mb(v: float) -> str:
        return f"{v:.0f}"

    count = mb

    names = {"raw": "raw aiohttp", "inproc": "in-process", "whole": "whole process"}
    for key in ("raw", "inproc", "whole"):
        got = samples.get(key) or []
        if not got:
            continue
        add(f"{names[key]} wall", "s", [s.wall_s for s in got], secs)
        add(f"{names[key]} CPU per case", "ms", [1000 * s.cpu_s / n for s in got], ms)
        if key == "whole":
            add(f"{names[key]} CPU total", "s", [s.cpu_s for s in got], secs)
            add(f"{names[key]} peak RSS", "MB", [s.rss_mb or 0.0 for s in got], mb)
        add(f"{names[key]} TCP connections", "", [s.connections or 0 for s in got], count)
    add("litellm import (fresh interpreter)", "s", imports, secs)
    add("plan build (suite + N cases from YAML)", "s", plans, secs)
    add("guardrails CPU per case", "ms", [1000 * g / n for g in guards], ms)
    print()
    print(
        f"N={n} cases, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
        f"repeat {args.repeat}; guardrails: {args.guardrails}; "
        f"floor N x latency / concurrency = {floor:.2f} s; {os.cpu_count()} CPUs"
    )
    headers = ["measure", "best", "median", "runs", "unit"]
    print(tabulate(rows, headers=headers, disable_numparse=True))
    print()
    for line in lines:
        print(line)
    print(f"benchmark script peak RSS (in-process runs, litellm loaded): {script_rss_mb:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="cases (default 1000)")
    parser.add_argument(
        "--latency", type=float, default=0.1, help="server latency in seconds (0.1)"
    )
    parser.add_argument("--concurrency", type=int, default=50, help="calls in flight (50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (3)")
    parser.add_argument(
        "--guardrails",
        default="all",
        help="'all' (every registered guardrail, as a suite without a list), 'none', or a "
        "comma-separated list",
    )
    parser.add_argument(
        "--only",
        choices=["raw", "inproc", "whole", "import"],
        action="append",
        help="measure only these (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    only = set(args.only or ["raw", "inproc", "whole", "import"])
    os.environ[KEY_ENV] = "sk-bench-dummy"  # the target's api_key_env; never a real key
    samples: dict[str, list[Sample]] = {"raw": [], "inproc": [], "whole": []}
    imports: list[float] = []
    plans: list[float] = []
    guards: list[float] = []
    guardrails: list[str] | None = (
        None
        if args.guardrails == "all"
        else [g for g in args.guardrails.split(",") if g and args.guardrails != "none"]
    )

    with (
        tempfile.TemporaryDirectory(prefix="supportgate-bench-") as tmp,
        mock_server(args.latency) as port,
    ):
        folder = Path(tmp)
        suite = write_inputs(folder, args.n, port, args.concurrency, guardrails)
        print(f"mock server on 127.0.0.1:{port}; inputs in {folder}", file=sys.stderr)
        if "inproc" in only:
            # The engine imports litellm lazily; import it before the clock starts, and warm up
            # with a short run (litellm imports more modules on its first calls).
            from evals.targets.litellm_target import import_litellm

            import_litellm()
            warm = min(args.n, 100)
            warm_suite = write_inputs(folder / "warm", warm, port, args.concurrency, guardrails)
            measured(
                port, warm, lambda: measure_in_process(warm_suite, folder / "warm-out", warm)[0]
            )
        for i in range(args.repeat):
            if "raw" in only:
                s = measured(port, args.n, lambda: measure_raw(port, args.n, args.concurrency))
                samples["raw"].append(s)
                print(f"[{i + 1}] raw aiohttp: {s}", file=sys.stderr)
            if "inproc" in only:
                out = folder / f"inproc-{i}"
                plan_s = 0.0

                def inproc(out: Path = out) -> Sample:
                    nonlocal plan_s
                    sample, plan_s = measure_in_process(suite, out, args.n)
                    return sample

                s = measured(port, args.n, inproc)
                samples["inproc"].append(s)
                plans.append(plan_s)
                guards.append(measure_guardrails(suite))
                print(f"[{i + 1}] in-process: {s}; plan {plan_s:.2f} s", file=sys.stderr)
            if "whole" in only:
                out = folder / f"whole-{i}"

                def whole(out: Path = out) -> Sample:
                    return measure_whole(suite, out, args.n)

                s = measured(port, args.n, whole)
                samples["whole"].append(s)
                print(f"[{i + 1}] whole process: {s}", file=sys.stderr)
            if "import" in only:
                imports.append(measure_import())
                print(f"[{i + 1}] litellm import: {imports[-1]:.2f} s", file=sys.stderr)
    script_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(args, samples, imports, plans, guards, script_rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
