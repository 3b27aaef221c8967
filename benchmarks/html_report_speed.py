"""Speed of the HTML report at scale: file size, time to first paint and time until the failing
answers can be browsed, in headless Chromium, at 5,000 and 50,000 results.

    .venv/bin/python benchmarks/html_report_speed.py [--results 5000 50000] [--fail-rate 0.6]
                                                      [--keep DIR]

Each size synthesises a run of distinct answers (two targets, three samples per case, twelve
intents in three languages; a share of the answers fails with a critical or major finding whose
span and policy clause the report shows, 1% are provider errors), scores it with the real
scorecard, writes `report.html`, and opens it from disk in /usr/bin/chromium through playwright:

- first paint: the browser's `first-contentful-paint` (the static summary on screen);
- first answers: the report's `supportgate-first-answers` mark (the first page of failing
  answers, carried in a block of its own, on screen; the answers-ready figure when every answer
  was decoded first);
- answers ready: the report's `supportgate-answers-ready` mark (every answer decoded, filters
  and pager working), all three from navigation start;
- filter + last page: wall time to filter on a severity and jump to the last page, and to find
  one case by id (the drill-down working over every answer).

Nothing here touches the network; the page's CSP forbids it anyway.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.records import (  # noqa: E402
    Case,
    CaseResult,
    CaseSource,
    Evidence,
    Finding,
    Message,
    PolicyBook,
    Response,
    Run,
    RunPlan,
    Span,
    Suite,
    Target,
    Versions,
)
from evals.scorecard import Scorecard, build_scorecard  # noqa: E402
from reports.html import write_html  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGETS = ("bot-a", "bot-b")
SAMPLES = 3
INTENTS = [f"intent_{i:02d}" for i in range(12)]
LANGUAGES = ("es", "en", "pt")
CLAUSES = [
    f"Clause {i}: refunds for orders paid by card are processed within {i + 5} business days "
    "of receiving the returned item; shipping costs are not refunded."
    for i in range(20)
]
PROMISE = "and we are giving you a {n} EUR coupon for the trouble"


def synthesise(
    n_results: int, fail_rate: float, seed: int = 0
) -> tuple[Scorecard, RunPlan, list[CaseResult]]:
    """A scored run of `n_results` distinct answers, and the answers (the report shows them
    all: failing ones open, passing ones collapsed)."""
    rng = random.Random(seed)
    n_cases = max(1, n_results // (len(TARGETS) * SAMPLES))
    cases = [
        Case(
            id=f"case-{i:06d}",
            intent=INTENTS[i % len(INTENTS)],
            kind="support",
            language=LANGUAGES[i % len(LANGUAGES)],
            channel="chat",
            risk="medium",
            company="acme",
            messages=[
                Message(
                    role="user",
                    content=f"Hello, I returned order #{100000 + i} on day {i % 28 + 1} and "
                    "still have no refund. When will the money be back on my card?",
                )
            ],
            facts={"order": f"#{100000 + i}", "amount": f"EUR {10 + i % 90}.00"},
        )
        for i in range(n_cases)
    ]
    book = PolicyBook(id="acme", name="Acme", text="\n".join(CLAUSES))
    targets = [Target(name=t, model=f"synthetic/{t}") for t in TARGETS]
    suite = Suite(
        name="html-speed",
        cases=[CaseSource(path="synthetic")],
        targets=targets,
        samples=SAMPLES,
    )
    plan = RunPlan(
        suite=suite,
        suite_path="synthetic.yaml",
        cases=cases,
        policies={"acme": book},
        replay_dir="cassettes",
        output_dir="out",
    )
    results = []
    run_id = f"speed-{n_results}"
    for case in cases:
        for target in TARGETS:
            for sample in range(SAMPLES):
                if len(results) >= n_results:
                    break
                days = rng.randint(3, 30)
                text = (
                    f"Hello! Your refund for order {case.facts['order']} will reach your card "
                    f"within {days} business days"
                )
                findings = []
                error = None
                roll = rng.random()
                if roll < 0.01:
                    error, text = "provider error: HTTP 503 after 3 attempts", ""
                elif roll < fail_rate:
                    promise = PROMISE.format(n=rng.randint(5, 50))
                    start = len(text) + 1
                    text = f"{text} {promise}. Sample {sample}."
                    clause = CLAUSES[rng.randrange(len(CLAUSES))]
                    findings.append(
                        Finding(
                            guardrail="policy",
                            code="policy.unsupported",
                            severity="critical",
                            message="promises a coupon no clause of the policy grants",
                            evidence=Evidence(
                                span=Span(start=start, end=start + len(promise), text=promise),
                                checked_against=clause,
                                source="policy:acme",
                                note="no clause in the policy supports it",
                            ),
                        )
                    )
                    if rng.random() < 0.5:
                        findings.append(
                            Finding(
                                guardrail="facts",
                                code="facts.wrong_value",
                                severity="major",
                                message=f"says {days} business days; the policy says 10",
                                evidence=Evidence(
                                    span=Span(start=0, end=6, text="Hello!"),
                                    checked_against=clause,
                                ),
                            )
                        )
                else:
                    text = f"{text}, as our policy says. Sample {sample}."
                results.append(
                    CaseResult(
                        run_id=run_id,
                        case_id=case.id,
                        target=target,
                        sample=sample,
                        seed=sample,
                        response=Response(
                            text=text,
                            latency_ms=rng.uniform(200, 2000),
                            error=error,
                            attempts=3 if error else 1,
                        ),
                        findings=findings,
                        passed=not findings and error is None,
                    )
                )
    run = Run(
        id=run_id,
        suite=suite.name,
        started=datetime(2026, 1, 1, tzinfo=UTC),
        finished=datetime(2026, 1, 1, 1, tzinfo=UTC),
        status="finished",
        config_hash="synthetic",
        versions=Versions(package="bench", guardrails="bench", policy_books={}, cases="bench"),
        targets=targets,
        results=results,
    )
    return build_scorecard(run, plan), plan, results


def measure(browser: Any, path: Path, case_id: str) -> dict[str, float]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    started = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=300_000)
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=300_000)
    opened = time.perf_counter() - started
    paint = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)[0]"
    )
    ready = page.evaluate(
        "performance.getEntriesByName('supportgate-answers-ready').map(e => e.startTime)[0]"
    )
    preview = page.evaluate(
        "performance.getEntriesByName('supportgate-first-answers').map(e => e.startTime)[0]"
    )
    started = time.perf_counter()
    page.select_option("#filter-severity", "critical")
    page.click("#page-last")
    page.wait_for_selector("#failing-list article")
    filtered = time.perf_counter() - started
    started = time.perf_counter()
    page.click("#filter-reset")
    page.fill("#filter-case", case_id)
    page.wait_for_selector(f'#failing-list article[data-case="{case_id}"]')
    found = time.perf_counter() - started
    page.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return {
        "first_paint_s": paint / 1000,
        "first_answers_s": (preview if preview is not None else ready) / 1000,
        "answers_ready_s": ready / 1000,
        "load_wall_s": opened,
        "filter_last_page_s": filtered,
        "find_case_s": found,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--fail-rate", type=float, default=0.6, help="share of failing answers")
    parser.add_argument("--keep", type=Path, help="write the reports here instead of a temp dir")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n in args.results:
                started = time.perf_counter()
                card, plan, results = synthesise(n, args.fail_rate)
                scored = time.perf_counter() - started
                folder = (args.keep or Path(tmp)) / f"results-{n}"
                started = time.perf_counter()
                path = write_html(card, plan, folder, results)
                written = time.perf_counter() - started
                late = sorted(card.failing, key=lambda r: r.case_id)[-1].case_id
                timing = measure(browser, path, late)
                size = path.stat().st_size / 1e6
                print(
                    f"{n:>6} results, {len(card.failing)} failing: report.html {size:.1f} MB "
                    f"(synthesised+scored {scored:.1f} s, written {written:.1f} s); "
                    + ", ".join(f"{k} {v:.2f}" for k, v in timing.items())
                )
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
