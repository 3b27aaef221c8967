"""The HTML report at scale, and its verdict banner.

- The banner is never green over failing answers: amber when the gates passed but answers failed,
  red when a gate failed, green only when both the gates and every answer passed.
- At 50,000 answers the report stays one small self-contained file whose filters and pager reach
  every answer (a late page too), and an injected script in an answer still does not run.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from builders import case_dict, run_suite, write_suite
from hypothesis import given
from hypothesis import strategies as st

from evals.records import CaseResult, Evidence, Finding, Response, Span
from evals.scorecard import Scorecard, build_scorecard
from reports.html import render_html, write_html
from reports.html_answers import decode
from reports.verdict import Totals, judge, verdict

FABRICATED = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles y te regalamos un cupón de 20 €."
GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
SCALE = 50_000


def _card(root: Path, replies: list[str], **gates: Any) -> tuple[Scorecard, Any]:
    """A real run of a scripted bot (one reply per case, in order) with the suite's gates."""
    bot = {
        "name": "bot",
        "model": "fake/scripted",
        "concurrency": 1,
        "retries": 0,
        "backoff": 0,
        "params": {"extra": {"replies": replies}},
    }
    suite = write_suite(
        root,
        cases=[case_dict(f"c{i}") for i in range(len(replies))],
        targets=[bot],
        extra={"gates": gates} if gates else None,
    )
    # in a thread of its own: playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        store, run_id = pool.submit(run_suite, suite).result()
    plan = store.plan(run_id)
    return build_scorecard(store.run(run_id), plan), plan


def _banner(page_html: str) -> tuple[str, str]:
    """The banner's state and its text (tags dropped)."""
    block = page_html.split('<div id="verdict"', 1)[1].split("</div>", 1)[0]
    state = block.split('data-state="', 1)[1].split('"', 1)[0]
    text = " ".join(part.split(">", 1)[-1] for part in block.split("<"))
    return state, " ".join(text.split())


# --- the banner -----------------------------------------------------------------------------


def test_the_banner_is_red_by_default_over_critical_answers(tmp_path: Path) -> None:
    card, plan = _card(tmp_path, [FABRICATED, FABRICATED, FABRICATED])
    assert len(card.failing) == 3  # every answer carries a critical finding
    state, text = _banner(render_html(card, plan))
    assert state == "fail" and "Gates FAILED" in text, text  # the default max_critical: 0
    assert "All gates passed" not in text
    assert "3 of 3 answers with a critical finding" in text
    assert "decisions:" in text and "human" in text


def test_the_banner_is_amber_and_names_the_gate_switched_off_over_critical_answers(
    tmp_path: Path,
) -> None:
    card, plan = _card(tmp_path, [FABRICATED, FABRICATED, FABRICATED], max_critical=None)
    assert card.passed and len(card.failing) == 3
    state, text = _banner(render_html(card, plan))
    assert state == "warn", text
    assert "Gates passed, but 3 of 3 answers failed" in text
    assert "gate off:" in text and "critical" in text
    assert "All gates passed" not in text


def test_the_banner_is_green_only_when_every_answer_passed(tmp_path: Path) -> None:
    card, plan = _card(tmp_path, [GOOD, GOOD])
    assert card.failing == [] and card.passed
    state, text = _banner(render_html(card, plan))
    assert state == "pass" and "All gates passed; all 2 answers passed" in text
    assert "0 of 2 answers with a critical finding" in text


def test_the_banner_is_red_with_the_reasons_when_a_gate_fails(tmp_path: Path) -> None:
    card, plan = _card(tmp_path, [FABRICATED, GOOD], min_pass_rate=0.9)
    assert card.gate_failures
    state, text = _banner(render_html(card, plan))
    assert state == "fail"
    assert "Gates FAILED" in text and "1 of 2 answers failed" in text
    assert "pass rate 0.50 is below the required 0.90" in text


def test_the_banner_counts_the_failing_list_even_if_the_scores_miss_it(tmp_path: Path) -> None:
    card, _ = _card(tmp_path, [GOOD, GOOD])
    bad = [
        *card.failing,
        CaseResult(
            run_id=card.run_id,
            case_id="c0",
            target="bot",
            sample=7,
            seed=0,
            response=Response(text=FABRICATED),
            passed=False,
        ),
    ]
    assert verdict(card.model_copy(update={"failing": bad})).state == "warn"


@given(
    gates=st.lists(st.text(min_size=1, max_size=20), max_size=3),
    answers=st.integers(0, 100),
    failed=st.integers(0, 100),
    errors=st.integers(0, 100),
    outcomes=st.lists(st.sampled_from(["automate", "assist", "human", "insufficient_evidence"])),
)
def test_green_exactly_when_gates_and_every_answer_passed(
    gates: list[str], answers: int, failed: int, errors: int, outcomes: list[str]
) -> None:
    failed, errors = min(failed, answers), min(errors, answers - min(failed, answers))
    v = judge(gates, Totals(answers, failed, errors, critical=failed), Counter(outcomes))
    assert (v.state == "pass") == (not gates and failed + errors == 0 and answers > 0)
    assert (v.state == "fail") == bool(gates)
    assert v.gate_failures == tuple(gates)
    if v.state != "pass":
        assert "All gates passed" not in v.headline
        if answers:
            assert f"{failed + errors} of {answers} answers failed" in v.headline


# --- at 50,000 answers ----------------------------------------------------------------------


def _blown_up(card: Scorecard, n: int) -> Scorecard:
    """The card with its failing list replaced by `n` distinct answers: one in ten critical, the
    rest minor, and a script injection in the very last answer (the last page)."""
    failing = []
    for i in range(n):
        severity = "critical" if i % 10 == 0 else "minor"
        text = f"Answer {i}: te regalamos un cupón de {i} €."
        if i == n - 1:
            text = f"Answer {i}: {XSS}"
        span = text.split(": ", 1)[1]
        # model_construct: 50,000 known-valid records without validating each (seconds saved)
        evidence = Evidence.model_construct(
            span=Span.model_construct(start=text.index(span), end=len(text), text=span),
            checked_against="Refunds are processed within 10 business days.",
            source=None,
            note=None,
        )
        finding = Finding.model_construct(
            guardrail="policy",
            code="policy.unsupported",
            severity=severity,
            message="a coupon no clause grants",
            evidence=evidence,
        )
        failing.append(
            CaseResult.model_construct(
                run_id=card.run_id,
                case_id="c2" if i == n - 1 else f"c{i % 3}",
                target="bot",
                sample=i,
                seed=i,
                response=Response.model_construct(text=text),
                findings=[finding],
                passed=False,
            )
        )
    return card.model_copy(update={"failing": failing})


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scorecard, Path]:
    """A real small run whose failing list is blown up to 50,000 distinct answers."""
    root = tmp_path_factory.mktemp("big")
    card, plan = _card(root, [FABRICATED, GOOD, GOOD])
    big_card = _blown_up(card, SCALE)
    path = write_html(big_card, plan, root / "report")
    return big_card, path


def test_at_50000_answers_the_file_stays_small_and_carries_every_answer(
    big: tuple[Scorecard, Path],
) -> None:
    card, path = big
    size = path.stat().st_size
    assert size < 8_000_000, size  # the markup of every answer made 38 MB
    page_html = path.read_text(encoding="utf-8")
    assert page_html.count("<article") == 0  # answers are data, rendered a page at a time
    block = page_html.split('id="answers-data">', 1)[1].split("</script>", 1)[0]
    data = decode(block)
    assert len(data["answers"]) == SCALE
    assert {(a["case"], a["samples"][0]) for a in data["answers"]} == {
        (r.case_id, r.sample) for r in card.failing
    }
    # the first page travels alone too, to be on screen while the rest is decoded: the same
    # answers, their texts resolved through its own string table
    head = decode(page_html.split('id="answers-first">', 1)[1].split("</script>", 1)[0])

    def resolved(src: dict[str, Any], answer: dict[str, Any]) -> list[Any]:
        texts = src["strings"]
        return [answer["case"], answer["samples"], answer["pieces"]] + [
            [texts[f[i]] for i in (1, 2, 5, 6, 7)] for f in answer["findings"]
        ]

    assert len(head["answers"]) == 50 and head["stability"] == []
    assert [resolved(head, a) for a in head["answers"]] == [
        resolved(data, a) for a in data["answers"][:50]
    ]
    last = data["answers"][-1]
    assert last["samples"] == [SCALE - 1] and last["pieces"][-1] == [XSS, "minor", [0]]


def test_at_50000_answers_paging_and_filters_reach_a_late_answer_and_xss_stays_text(
    big: tuple[Scorecard, Path], browser: Any
) -> None:
    card, path = big
    severities = [(r.case_id, r.findings[0].severity) for r in card.failing]
    critical = sum(1 for _, severity in severities if severity == "critical")
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=30_000)
    count, info = page.locator("#filter-count"), page.locator("#page-info")
    articles = page.locator("#failing-list article")

    assert count.inner_text() == f"{SCALE} of {SCALE} answers match ({SCALE} failing)"
    assert articles.count() == 50 and "page 1 of 1000" in info.inner_text()
    assert articles.first.get_attribute("class") == "failing w-critical"  # worst first

    # the very last answer, on the last page: its markup is text, and it did not run
    page.click("#page-last")
    assert "page 1000 of 1000" in info.inner_text()
    assert page.locator(f"#answer-{SCALE - 1}").get_attribute("data-case") == "c2"
    answer = page.locator(f"#answer-{SCALE - 1} .answer")
    assert answer.inner_text() == f"Answer {SCALE - 1}: {XSS}"
    assert answer.locator("mark").inner_text() == XSS
    assert page.locator("#failing-list img, #failing-list script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"

    # filters run over every answer, not over the rendered page
    page.select_option("#filter-severity", "critical")
    assert count.inner_text() == f"{critical} of {SCALE} answers match ({critical} failing)"
    assert f"page 1 of {-(-critical // 50)}" in info.inner_text()
    page.fill("#page-number", "80")
    page.dispatch_event("#page-number", "change")
    assert "page 80 of 100" in info.inner_text()
    assert articles.first.get_attribute("id") == f"answer-{79 * 50}"  # criticals lead the order
    page.select_option("#filter-severity", "minor")
    page.fill("#filter-case", "c2")
    expected = severities.count(("c2", "minor"))
    assert count.inner_text() == f"{expected} of {SCALE} answers match ({expected} failing)"
    page.click("#filter-reset")
    assert count.inner_text() == f"{SCALE} of {SCALE} answers match ({SCALE} failing)"

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    page.close()


# --- when the answers cannot be read --------------------------------------------------------


def _open(browser: Any, path: Path, init: str | None = None) -> tuple[Any, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if init:
        page.add_init_script(init)
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


def test_a_damaged_answers_block_says_so_instead_of_showing_nothing(
    tmp_path: Path, browser: Any
) -> None:
    card, plan = _card(tmp_path, [FABRICATED, GOOD])
    path = write_html(card, plan, tmp_path / "report")
    page_html = path.read_text(encoding="utf-8")
    head, rest = page_html.split('id="answers-data">', 1)
    block, tail = rest.split("</script>", 1)
    good, errors = _open(browser, path)
    good.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=10_000)
    assert good.locator("#failing-list article").count() == 1 and errors == []
    good.close()
    for damaged in (block[: len(block) // 2], "not base64 at all!", ""):
        path.write_text(f'{head}id="answers-data">{damaged}</script>{tail}', encoding="utf-8")
        page, errors = _open(browser, path)
        status = page.locator("#answers-status")
        status.filter(has_text="could not be read").wait_for(timeout=10_000)
        assert page.locator("#failing-list article").count() == 0
        assert page.locator("#verdict").get_attribute("data-state") != "pass"  # static, intact
        assert errors == []
        page.close()


def test_a_browser_without_decompression_streams_is_told_what_to_do(
    tmp_path: Path, browser: Any
) -> None:
    card, plan = _card(tmp_path, [FABRICATED, GOOD])
    path = write_html(card, plan, tmp_path / "report")
    page, errors = _open(browser, path, init="delete window.DecompressionStream;")
    text = page.locator("#answers-status").inner_text()
    assert "cannot decompress" in text and "report.md" in text
    assert errors == []
    page.close()


def test_the_same_run_gives_the_same_bytes(tmp_path: Path) -> None:
    card, plan = _card(tmp_path, [FABRICATED, GOOD])
    assert render_html(card, plan) == render_html(card, plan)  # manifests hash the report


def test_printing_shows_every_matching_answer_then_the_page_again(
    tmp_path: Path, browser: Any
) -> None:
    card, plan = _card(tmp_path, [FABRICATED, GOOD])
    path = write_html(_blown_up(card, 120), plan, tmp_path / "report")
    page, errors = _open(browser, path)
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=10_000)
    articles = page.locator("#failing-list article")
    assert articles.count() == 50
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert articles.count() == 120
    assert page.locator("#page-info").inner_text() == "all 120 matching answers"
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert articles.count() == 50 and errors == []
    page.close()
