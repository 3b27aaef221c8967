"""The HTML report: untrusted text stays text, spans are marked exactly, the page needs no network,
and in a real browser injected markup does not run while the filters, the matrix of cases across
targets and the filters kept in the URL do; every answer is shown, passing ones collapsed and
identical samples grouped."""

from __future__ import annotations

import html
import itertools
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from builders import case_dict, run_suite, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.records import (
    SEVERITIES,
    CaseResult,
    Evidence,
    Finding,
    PolicyBook,
    Response,
    RunPlan,
    Span,
)
from evals.scorecard import Scorecard, build_scorecard
from reports.html import SCRIPT, Mark, highlight, locate, render_html, script_hash, write_html
from reports.html_answers import decode

INJECTED_SCRIPT = "<script>window.__pwned=1</script>"
INJECTED_IMG = '<img src=x onerror="window.__pwned=2">'
# Critical (a coupon no clause grants) and major (the <script> reads as a template slot).
FABRICATED = (
    "Tu reembolso de EUR 10.00 llegará en 10 días hábiles y te regalamos un cupón de 20 €. "
    + INJECTED_SCRIPT
)
GOOD_ES = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
GOOD_EN = "Yes, returns are accepted within 30 days of delivery."
# Major only: a hashtag the case forbids.
HASHTAG = f"{GOOD_EN} {INJECTED_IMG} #returns"
CUSTOMER_MARKUP = 'Can I return it? <b onclick="window.__pwned=3">20 days</b> ago & "sealed"'


def _cases() -> list[dict[str, Any]]:
    returns = {
        "intent": "return_window",
        "language": "en",
        "facts": {},
        "expect": {"hashtags": False},
        "reference": GOOD_EN,
    }

    def asking(case_id: str) -> list[dict[str, str]]:
        # distinct conversations: identical prompts would share one recorded answer
        return [{"role": "user", "content": f"{CUSTOMER_MARKUP} ({case_id})"}]

    return [
        case_dict("r1"),
        case_dict("r2"),
        case_dict("w1", messages=asking("w1"), **returns),
        case_dict("w2", messages=asking("w2"), **returns),
    ]


@dataclass
class Report:
    card: Scorecard
    plan: RunPlan
    path: Path
    results: list[CaseResult]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A real run: a scripted bot (one answer per case, in case order) and the reference."""
    root = tmp_path_factory.mktemp("html")
    bot = {
        "name": "bot",
        "model": "fake/scripted",
        "concurrency": 1,
        "retries": 0,
        "backoff": 0,
        # r1 fabricated + <script>, r2 good, w1 <img> + hashtag, w2 a provider error
        "params": {
            "extra": {
                "replies": [FABRICATED, GOOD_ES, HASHTAG, GOOD_EN],
                "errors": {"4": "permanent"},
            }
        },
    }
    suite = write_suite(root, cases=_cases(), targets=[bot, {"name": "ref", "model": "reference"}])
    store, run_id = run_suite(suite)
    plan = store.plan(run_id)
    run = store.run(run_id)
    card = build_scorecard(run, plan)
    path = write_html(card, plan, Path(plan.output_dir) / "reports" / run_id, run.results)
    return Report(card, plan, path, run.results)


class Page(HTMLParser):
    """Every start tag with its (unescaped) attributes, the scripts' text (the ones a browser
    runs), and the data blocks' text (`<script type=...>` with a type that is not JavaScript)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.blocks: list[str] = []
        self.text: list[str] = []
        self._into: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            kind = dict(attrs).get("type")
            self._into = self.scripts if kind in (None, "", "text/javascript") else self.blocks
            self._into.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[-1] += data
        else:
            self.text.append(data)

    def answers(self) -> dict[str, Any]:
        """The failing answers' data block (every answer), decoded."""
        ids = [attrs.get("id") for tag, attrs in self.tags if tag == "script" and attrs.get("type")]
        assert ids == ["answers-first", "answers-data"]
        decoded: dict[str, Any] = decode(self.blocks[1])
        return decoded


def _answer(page: Page, case_id: str, target: str = "bot") -> dict[str, Any]:
    """A target's answer to a case, as the report's data carries it."""
    return next(
        a for a in page.answers()["answers"] if a["case"] == case_id and a["target"] == target
    )


def _answer_text(answer: dict[str, Any]) -> str:
    return "".join(p if isinstance(p, str) else p[0] for p in answer["pieces"])


# --- the run is what the tests below rely on ------------------------------------------------


def test_the_run_fails_where_expected(report: Report) -> None:
    failing = {(r.target, r.case_id) for r in report.card.failing}
    assert failing == {("bot", "r1"), ("bot", "w1"), ("bot", "w2")}
    severities = {r.case_id: {f.severity for f in r.findings} for r in report.card.failing}
    assert "critical" in severities["r1"] and severities["w1"] == {"major"}
    assert report.path.name == "report.html" and report.path.parent.name == report.card.run_id


# --- escaping ---------------------------------------------------------------------------------


def _adversarial(report: Report) -> tuple[Scorecard, RunPlan, list[CaseResult]]:
    """The fixture's scorecard with hostile text in the fields a guardrail or a policy fills,
    in a failing answer and in a passing one."""
    hostile = '"><script>window.__pwned=4</script><img src=x onerror=alert(1)>'
    finding = Finding(
        guardrail="policy",
        code="policy.unsupported",
        severity="critical",
        message=f'Says {hostile} and "quotes" \' too',
        evidence=Evidence(
            span=Span(start=0, end=2, text="Tu"),
            checked_against=f"clause {hostile}",
            source=f"policy:{hostile}",
            note=f"note {hostile}",
        ),
    )
    extra = CaseResult(
        run_id=report.card.run_id,
        case_id="r2",
        target="bot",
        sample=1,
        seed=0,
        response=Response(text=f'Tu <a href="https://evil.example/x">link</a> {hostile}'),
        findings=[finding],
        passed=False,
    )
    card = report.card.model_copy(
        update={
            "failing": [*report.card.failing, extra],
            "gate_failures": [*report.card.gate_failures, f"gate {hostile}"],
        }
    )
    passing = extra.model_copy(
        update={
            "target": "ref",
            "response": Response(text=f"Passed {hostile}"),
            "findings": [],
            "passed": True,
        }
    )
    book = PolicyBook(id="acme", name=f"Acme {hostile}", text=f"Refunds. {hostile}")
    plan = report.plan.model_copy(update={"policies": {"acme": book}})
    return card, plan, [*report.results, extra, passing]


def test_untrusted_text_is_escaped_in_text_and_attributes(report: Report) -> None:
    card, plan, results = _adversarial(report)
    page_html = render_html(card, plan, results)
    page = Page(page_html)
    # only our own script; no injected element of any kind
    assert page.scripts == [SCRIPT]
    tags = [tag for tag, _ in page.tags]
    assert "img" not in tags and "b" not in tags
    # the only links are the report's own anchors (the answer's <a href=https://...> is text)
    assert all(str(a.get("href")).startswith("#") for t, a in page.tags if t == "a")
    for _, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], attrs
    # the static part (gates, policy books) carries hostile text as text, quotes escaped
    text = "".join(page.text)
    assert 'gate "><script>window.__pwned=4</script>' in text
    assert 'Refunds. "><script>window.__pwned=4</script>' in text
    assert html.escape('gate "><script>', quote=True) in page_html
    # the answers travel as data, character for character, in a block the browser never runs
    for block in page.blocks:
        assert set(block) <= set(string.ascii_letters + string.digits + "+/=")
    data = page.answers()
    assert INJECTED_SCRIPT in _answer_text(_answer(page, "r1"))
    assert INJECTED_IMG in _answer_text(_answer(page, "w1"))
    assert any(CUSTOMER_MARKUP in m[1] for m in data["cases"]["w1"]["messages"])
    hostile = next(a for a in data["answers"] if a["samples"] == [1] and a["case"] == "r2")
    passing = next(a for a in data["answers"] if a["passed"] and a["samples"] == [1])
    assert _answer_text(passing) == 'Passed "><script>window.__pwned=4</script><img src=x ' + (
        "onerror=alert(1)>"
    )
    assert _answer_text(hostile).startswith('Tu <a href="https://evil.example/x">link</a>')
    severity, code, message, said, _, checked, source, note = hostile["findings"][0]
    text_of = data["strings"]
    assert (severity, text_of[code], said) == ("critical", "policy.unsupported", "Tu")
    assert text_of[message].endswith('and "quotes" \' too')
    for index in (checked, source, note):
        assert "<script>window.__pwned=4</script>" in text_of[index]
    # the span is marked: the piece names the finding it belongs to
    assert hostile["pieces"][0] == ["Tu", "critical", [0]]


def test_csp_allows_only_the_page_script_and_no_network(report: Report) -> None:
    page = Page(report.path.read_text(encoding="utf-8"))
    metas = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert len(metas) == 1 and metas[0]["http-equiv"] == "Content-Security-Policy"
    policy = str(metas[0]["content"])
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == script_hash(page.scripts[0])
    assert "unsafe" not in directives["script-src"] and "connect-src" not in directives


def test_no_resource_is_loaded_from_the_network(report: Report) -> None:
    card, plan, results = _adversarial(report)
    page_html = render_html(card, plan, results)
    for tag, attrs in Page(page_html).tags:
        for name in ("src", "href", "action", "xlink:href", "poster", "data", "srcset"):
            value = str(attrs.get(name) or "")
            assert not value.lower().startswith(("http:", "https:", "//")), (tag, name, value)
    for attribute in ("src", "href"):
        for quote in ('"', "'", ""):
            assert f"{attribute}={quote}http" not in page_html.replace(" ", "")
    style = page_html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style


def test_provider_errors_are_shown_as_errors(report: Report) -> None:
    w2 = _answer(Page(report.path.read_text(encoding="utf-8")), "w2")
    assert w2["severities"] == ["error"] and w2["worst"] == "error"
    assert "scripted permanent error" in str(w2["error"])


def test_a_run_with_no_failures_renders(tmp_path: Path) -> None:
    store, run_id = run_suite(
        write_suite(tmp_path, n_cases=2, targets=[{"name": "ref", "model": "reference"}])
    )
    plan = store.plan(run_id)
    card = build_scorecard(store.run(run_id), plan)
    assert card.failing == [] and card.passed
    path = write_html(card, plan, tmp_path / "new" / "folder")
    assert path == tmp_path / "new" / "folder" / "report.html"
    page_html = path.read_text(encoding="utf-8")
    assert "Every answer passed." in page_html and "All gates passed" in page_html
    assert "insufficient evidence" in page_html
    assert page_html.count("<svg") == 1 and "No findings." in page_html  # pass rate chart only


# --- highlighting -----------------------------------------------------------------------------


@dataclass
class Marked:
    """A highlighted fragment read back: plain text, and each mark's text range and findings."""

    text: str = ""
    marks: list[tuple[int, int, list[str], str]] = field(default_factory=list)


def read_marks(fragment: str) -> Marked:
    out = Marked()

    class Reader(HTMLParser):
        depth = 0
        start = 0
        refs: list[str] = []  # noqa: RUF012
        cls = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            assert tag == "mark" and self.depth == 0, "marks must not nest"
            self.depth = 1
            self.start = len(out.text)
            found = dict(attrs)
            self.refs = str(found["data-findings"]).split()
            self.cls = str(found["class"])

        def handle_endtag(self, tag: str) -> None:
            assert tag == "mark" and self.depth == 1
            self.depth = 0
            out.marks.append((self.start, len(out.text), self.refs, self.cls))

        def handle_data(self, data: str) -> None:
            out.text += data

    reader = Reader(convert_charrefs=True)
    reader.feed(fragment)
    reader.close()
    assert reader.depth == 0
    return out


def assert_exact(text: str, marks: list[Mark]) -> Marked:
    read = read_marks(highlight(text, marks))
    assert read.text == text
    for mark in marks:
        mine = [(a, b) for a, b, refs, _ in read.marks if mark.ref in refs]
        # contiguous pieces that cover exactly the span
        assert mine[0][0] == mark.start and mine[-1][1] == mark.end
        assert all(b == c for (_, b), (c, _) in itertools.pairwise(mine))
        assert "".join(text[a:b] for a, b in mine) == text[mark.start : mark.end]
    unmarked = [i for i in range(len(text)) if not any(m.start <= i < m.end for m in marks)]
    assert all(not (a <= i < b) for i in unmarked for a, b, _, _ in read.marks)
    return read


def test_overlapping_and_adjacent_spans_with_emoji_and_accents() -> None:
    text = "¡Olá! 😀 Te regalamos un cupón de café 🎉 <b>"
    cupon = text.index("cupón")
    marks = [
        Mark(text.index("😀"), text.index("😀") + 1, "emoji", "minor", "tone.emoji"),
        Mark(text.index("regalamos"), cupon + 5, "gift", "critical", 'a "gift" <b>'),
        Mark(cupon, cupon + 5, "coupon", "major", "coupon"),  # inside the gift span
        Mark(cupon + 5, len(text), "tail", "minor", "adjacent"),  # starts where they end
    ]
    read = assert_exact(text, marks)
    covered = {text[a:b]: (refs, cls) for a, b, refs, cls in read.marks}
    assert covered["cupón"] == (["gift", "coupon"], "m-critical")
    assert covered["😀"] == (["emoji"], "m-minor")
    assert " de café 🎉 <b>" in covered
    fragment = highlight(text, marks)
    assert "&lt;b&gt;" in fragment and 'title="a &quot;gift&quot; &lt;b&gt;"' in fragment


SPAN_TEXT = st.text(alphabet=st.sampled_from("aé ñ😀🎉<>&\"'\nZ"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), text=SPAN_TEXT)
def test_any_spans_are_marked_exactly_and_never_break_markup(
    data: st.DataObject, text: str
) -> None:
    n = len(text)
    bounds = st.tuples(st.integers(0, n), st.integers(0, n)).map(sorted)
    pairs = data.draw(st.lists(bounds.filter(lambda p: p[0] < p[1]), max_size=6)) if n else []
    severity = st.sampled_from(SEVERITIES)
    marks = [Mark(a, b, f"f{i}", data.draw(severity), f"m{i}") for i, (a, b) in enumerate(pairs)]
    assert_exact(text, marks)


def test_spans_whose_offsets_miss_fall_back_to_their_text_or_to_nothing() -> None:
    text = "Te regalamos un cupón."
    assert locate(text, Span(start=3, end=12, text="regalamos")) == (3, 12)
    assert locate(text, Span(start=0, end=5, text="cupón")) == (16, 21)
    assert locate(text, Span(start=0, end=4, text="nada")) is None
    assert locate(text, Span(start=40, end=50, text="x")) is None


# --- every answer, identical samples grouped ------------------------------------------------


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Three cases, three samples each: a bot alternating a fabricated and a good answer, and
    the reference (the same answer three times per case)."""
    root = tmp_path_factory.mktemp("sampled")
    bot = {
        "name": "bot",
        "model": "fake/scripted",
        "concurrency": 1,
        "retries": 0,
        "backoff": 0,
        "params": {"extra": {"replies": [FABRICATED, GOOD_ES]}},
    }
    suite = write_suite(
        root, n_cases=3, samples=3, targets=[bot, {"name": "ref", "model": "reference"}]
    )
    # in a thread of its own: the module's browser (playwright's event loop) may be running
    with ThreadPoolExecutor(1) as pool:
        store, run_id = pool.submit(run_suite, suite).result()
    plan = store.plan(run_id)
    run = store.run(run_id)
    card = build_scorecard(run, plan)
    path = write_html(card, plan, Path(plan.output_dir) / "reports" / run_id, run.results)
    return Report(card, plan, path, run.results)


def test_every_answer_is_in_the_data_and_identical_samples_are_grouped(sampled: Report) -> None:
    data = Page(sampled.path.read_text(encoding="utf-8")).answers()
    answers = data["answers"]
    assert sum(len(a["samples"]) for a in answers) == len(sampled.results) == 18
    # the reference's three identical samples of each case: one entry, samples 0, 1 and 2
    ref = [a for a in answers if a["target"] == "ref"]
    assert len(ref) == 3 and all(a["samples"] == [0, 1, 2] and a["passed"] for a in ref)
    # the bot's answers differ between samples: grouped only where the text is the same
    by_key = {(r.target, r.case_id, r.sample): r for r in sampled.results}
    for a in answers:
        texts = {by_key[(a["target"], a["case"], i)].response.text for i in a["samples"]}
        assert texts == {_answer_text(a)}
    # failing answers first, then passing ones
    passed = [a["passed"] for a in answers]
    assert passed == sorted(passed) and False in passed
    # the matrix: each case across both targets, samples passed of samples run
    matrix = data["matrix"]
    assert matrix["targets"] == ["bot", "ref"]
    cells = {(row[0], t): row[3][i] for row in matrix["rows"] for i, t in enumerate(["bot", "ref"])}
    for o in sampled.card.cases:
        assert cells[(o.case_id, o.target)] == [o.passed, o.samples, o.errors]


RESULT_KEYS = st.tuples(
    st.sampled_from(["a", "b"]),  # target
    st.sampled_from(["c1", "c2"]),  # case
    st.integers(0, 3),  # sample
)


@settings(max_examples=100, deadline=None)
@given(
    keys=st.lists(RESULT_KEYS, unique=True, max_size=16),
    data=st.data(),
)
def test_grouping_partitions_the_answers_and_never_merges_different_ones(
    keys: list[tuple[str, str, int]], data: st.DataObject
) -> None:
    from reports.html_answers import answer_groups

    results = []
    for target, case_id, sample in keys:
        text = data.draw(st.sampled_from(["same", "other", ""]))
        passed = data.draw(st.booleans())
        results.append(
            CaseResult(
                run_id="r",
                case_id=case_id,
                target=target,
                sample=sample,
                seed=sample,
                response=Response(text=text, error=None if text else "boom"),
                findings=[],
                passed=passed and bool(text),
            )
        )
    groups = answer_groups(results)
    flat = [(r.target, r.case_id, r.sample) for g in groups for r in g]
    assert sorted(flat) == sorted(keys)  # every answer exactly once
    for group in groups:
        first = group[0]
        for r in group:
            assert (r.target, r.case_id, r.response.text) == (
                first.target,
                first.case_id,
                first.response.text,
            )
            assert (r.passed and r.response.ok) == (first.passed and first.response.ok)
    verdicts = [g[0].passed and g[0].response.ok for g in groups]
    assert verdicts == sorted(verdicts)  # failing first


# --- in a real browser ------------------------------------------------------------------------


def _open(browser: Any, path: Path, fragment: str = "") -> tuple[Any, list[str], list[str]]:
    """A page on the report, answers loaded; the errors and requests it makes are collected."""
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri() + fragment)
    page.wait_for_load_state("load")
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=10_000)
    page.wait_for_selector("#matrix-table[data-ready]", state="attached", timeout=10_000)
    return page, errors, requests


def _until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is true (`wait_for_function` evaluates its predicate
    with `eval`, which the report's CSP forbids, so poll with `evaluate`)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


def _below_the_bar(page: Any) -> None:
    """The first listed answer starts below the sticky filter bar, inside the window."""
    bar = page.locator("#filters").bounding_box()
    first = page.locator("#failing-list article").first.bounding_box()
    height = page.viewport_size["height"]
    assert bar is not None and first is not None
    assert bar["y"] + bar["height"] <= first["y"] + 1 < height, (bar, first)


def test_in_a_browser_injected_markup_stays_text_and_filters_work(
    report: Report, browser: Any
) -> None:
    started = time.perf_counter()
    page, errors, requests = _open(browser, report.path)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img").count() == 0 and page.locator("script:not([type])").count() == 1
    assert page.locator("script[type]").count() == 2  # the answers' data blocks
    r1, w1, w2 = (
        page.locator(f"article[data-target=bot][data-case={c}]") for c in ("r1", "w1", "w2")
    )
    assert INJECTED_SCRIPT in r1.locator(".answer").inner_text()
    assert INJECTED_IMG in w1.locator(".answer").inner_text()
    assert CUSTOMER_MARKUP in w1.locator(".conversation").inner_text()
    assert r1.locator("mark", has_text="regalamos").count() == 1
    assert page.locator("#filters").is_visible()  # the script ran (CSP hash matches)
    count = page.locator("#filter-count")
    assert count.inner_text() == "8 of 8 answers match (3 failing)"

    page.select_option("#filter-intent", "return_window")
    assert r1.is_hidden() and w1.is_visible() and w2.is_visible()
    assert count.inner_text() == "4 of 8 answers match (2 failing)"
    page.select_option("#filter-severity", "major")
    assert r1.is_hidden() and w1.is_visible() and w2.is_hidden()
    page.select_option("#filter-intent", "")
    assert r1.is_visible() and w1.is_visible() and w2.is_hidden()  # r1 has a major one too
    page.select_option("#filter-severity", "critical")
    assert r1.is_visible() and w1.is_hidden() and w2.is_hidden()
    page.select_option("#filter-severity", "error")
    assert r1.is_hidden() and w1.is_hidden() and w2.is_visible()
    page.select_option("#filter-severity", "")

    page.select_option("#filter-target", "ref")
    assert r1.is_hidden() and w1.is_hidden() and w2.is_hidden()
    assert count.inner_text() == "4 of 8 answers match (0 failing)"
    bot_section = page.locator("section.target[data-target=bot]")
    assert bot_section.is_hidden() and page.locator("section.target[data-target=ref]").is_visible()
    page.select_option("#filter-target", "")

    decision = report.card.decision("bot", "refund_status")
    assert decision is not None
    page.select_option("#filter-decision", decision.outcome)
    assert r1.is_visible()
    other = report.card.decision("bot", "return_window")
    assert other is not None
    if other.outcome != decision.outcome:
        assert w1.is_hidden() and w2.is_hidden()

    page.click("#filter-reset")
    assert r1.is_visible() and w1.is_visible() and w2.is_visible()
    assert count.inner_text() == "8 of 8 answers match (3 failing)"
    # a case in an intent's stability table (rendered when opened) leads to its answers
    details = page.locator(
        "details[data-stability-section][data-target=bot][data-intent=refund_status]"
    )
    details.locator("summary").click()
    stable_fail = details.locator("tr", has_text="stable fail")
    stable_fail.first.wait_for(timeout=10_000)  # rendered by the (asynchronous) toggle event
    assert stable_fail.count() == 1
    details.locator("a[data-goto-case=r1]").click()
    assert page.locator("#filter-case").input_value() == "r1"
    assert count.inner_text() == "1 of 8 answers match (1 failing)"
    assert r1.is_visible() and w1.count() == 0 and w2.count() == 0
    page.click("#filter-reset")
    assert count.inner_text() == "8 of 8 answers match (3 failing)"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # readable on a phone: nothing but wide tables (which scroll in their own box) overflows
    page.set_viewport_size({"width": 420, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    page.close()
    assert time.perf_counter() - started < 20


def test_in_a_browser_hostile_text_in_a_passing_answer_and_the_matrix_stays_text(
    report: Report, browser: Any, tmp_path: Path
) -> None:
    card, plan, results = _adversarial(report)
    path = tmp_path / "report.html"
    path.write_text(render_html(card, plan, results), encoding="utf-8")
    page, errors, requests = _open(browser, path, "#status=passed&target=ref")
    hostile = page.locator("article[data-target=ref][data-case=r2]", has_text="sample 1")
    hostile.locator("details.spot > summary").click()
    assert hostile.locator(".answer").inner_text().startswith('Passed "><script>window.__pwned=4')
    assert page.locator("#matrix-table button.cell").count() == 8  # 4 cases x 2 targets
    assert page.locator("img").count() == 0 and page.locator("script:not([type])").count() == 1
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert errors == [] and all(url.startswith("file://") for url in requests)
    page.close()


def test_in_a_browser_passing_answers_are_collapsed_and_filters_live_in_the_url(
    report: Report, browser: Any
) -> None:
    page, errors, _ = _open(browser, report.path)
    count = page.locator("#filter-count")
    listed = page.locator("#failing-list article")
    statuses = listed.evaluate_all("nodes => nodes.map(n => n.dataset.status)")
    assert statuses == ["failed"] * 3 + ["passed"] * 5  # every answer; failing ones first
    # a passing answer is there, collapsed; opened, it shows what was said, as text
    ref_r1 = page.locator("article[data-target=ref][data-case=r1]")
    assert ref_r1.locator(".answer").is_hidden()
    ref_r1.locator("details.spot > summary").click()
    assert ref_r1.locator(".answer").inner_text() == GOOD_ES
    # filter by verdict and by finding code; both go into the URL
    page.select_option("#filter-status", "passed")
    assert count.inner_text() == "5 of 8 answers match (0 failing)"
    assert page.evaluate("location.hash") == "#status=passed"
    w1 = next(r for r in report.card.failing if r.case_id == "w1")
    code = w1.findings[0].code
    having = [r for r in report.results if any(f.code == code for f in r.findings)]
    page.select_option("#filter-status", "failed")
    page.select_option("#filter-code", code)
    assert page.evaluate("location.hash") == f"#status=failed&code={code}"
    assert count.inner_text() == f"{len(having)} of 8 answers match ({len(having)} failing)"
    assert listed.first.get_attribute("data-case") == "w1"
    # reload: the view comes back from the URL
    page.reload()
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=10_000)
    assert page.locator("#filter-code").input_value() == code
    assert count.inner_text() == f"{len(having)} of 8 answers match ({len(having)} failing)"
    # back undoes the last filter, forward redoes it
    page.go_back()
    _until(page, "location.hash === '#status=failed'")
    assert page.locator("#filter-code").input_value() == ""
    assert page.locator("#filter-status").input_value() == "failed"
    assert count.inner_text() == "3 of 8 answers match (3 failing)"
    page.go_back()
    _until(page, "location.hash === '#status=passed'")
    assert count.inner_text() == "5 of 8 answers match (0 failing)"
    page.go_forward()
    page.go_forward()
    _until(page, f"document.getElementById('filter-code').value === '{code}'")
    assert count.inner_text() == f"{len(having)} of 8 answers match ({len(having)} failing)"
    # a value the report does not know is ignored, not shown as a filter
    page.evaluate("location.hash = 'status=bogus&target=nobody'")
    _until(page, "document.getElementById('filter-count').textContent.startsWith('8 ')")
    assert page.locator("#filter-status").input_value() == ""
    # the sticky bar never covers the first answer after a filter, wherever the reader was
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.select_option("#filter-status", "failed")
    _below_the_bar(page)
    assert errors == []
    page.close()
    # a link to a filtered view opens on its answers, below the bar
    linked, errors, _ = _open(browser, report.path, f"#code={code}&target=bot")
    assert linked.locator("#filter-target").input_value() == "bot"
    assert linked.locator("#filter-count").inner_text().startswith(f"{len(having)} of 8 ")
    _below_the_bar(linked)
    assert errors == []
    linked.close()


def test_in_a_browser_the_matrix_shows_each_case_across_targets(
    sampled: Report, browser: Any
) -> None:
    page, errors, _ = _open(browser, sampled.path)
    matrix = page.locator("#matrix-table table.matrix")
    heads = matrix.locator("th.target").all_inner_texts()
    assert heads == ["bot", "ref"]
    assert matrix.locator("tr[data-case]").count() == 3
    for o in sampled.card.cases:
        cell = matrix.locator(f"tr[data-case={o.case_id}] td[data-target={o.target}] button")
        assert cell.inner_text() == f"{o.passed}/{o.samples}"
        state = "pass" if o.passed == o.samples else "fail" if o.passed == 0 else "mixed"
        assert f"c-{state}" in str(cell.get_attribute("class"))
    # identical samples are shown once, with their count
    ref_c0 = page.locator("article[data-target=ref][data-case=c000]")
    assert ref_c0.count() == 1 and ref_c0.locator(".times").inner_text() == "×3"
    # a cell opens exactly those answers, below the filter bar, and the URL says so
    failing = next(o for o in sampled.card.cases if o.target == "bot" and o.passed < o.samples)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    matrix.locator(f"tr[data-case={failing.case_id}] td[data-target=bot] button").click()
    assert page.locator("#filter-target").input_value() == "bot"
    assert page.locator("#filter-case").input_value() == failing.case_id
    listed = page.locator("#failing-list article")
    keys = listed.evaluate_all("nodes => nodes.map(n => [n.dataset.target, n.dataset.case])")
    assert keys and all(k == ["bot", failing.case_id] for k in keys)
    shown = (
        sum(int(t.lstrip("×")) for t in listed.locator(".times").all_inner_texts())
        + listed.count()
        - listed.locator(".times").count()
    )
    assert shown == failing.samples
    fails = failing.samples - failing.passed
    assert page.locator("#filter-count").inner_text() == (
        f"{failing.samples} of 18 answers match ({fails} failing)"
    )
    assert page.evaluate("location.hash") == f"#target=bot&case={failing.case_id}"
    _below_the_bar(page)
    # the matrix follows the filters: a case search narrows it
    page.click("#filter-reset")
    page.fill("#filter-case", "c001")
    assert matrix.locator("tr[data-case]").count() == 1
    assert errors == []
    page.close()
