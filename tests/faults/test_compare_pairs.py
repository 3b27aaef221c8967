"""`evals compare` names what changed, case by case (#17 item 1): the regressed and improved
pairs with both answers and a word diff, the findings that appeared and disappeared, the
answers without a pair, and `--fail-on-new` that fails on a new critical or major finding."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from builders import write_suite
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compare import make_plan, make_run
from typer.testing import CliRunner

from evals.cli import app
from evals.compare import compare_runs
from evals.records import CaseResult, Evidence, Finding, Response, Run, Span
from reports.compare_html import render_compare_html
from reports.compare_table import render_comparison
from reports.word_diff import MAX_TOKENS, terminal_diff, word_diff

GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
FEE = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles, menos una tarifa de EUR 5.00."


def evals(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evals", *args], capture_output=True, text=True, timeout=120
    )


def cli_run(root: Path, replies: list[str], out: Path) -> str:
    """A real `evals run` (in process) of 3 cases, one call at a time so reply i answers case i;
    returns its run id."""
    target = {
        "name": "bot",
        "model": "fake/scripted",
        "concurrency": 1,
        "params": {"extra": {"replies": replies}},
    }
    suite = write_suite(root, n_cases=3, targets=[target], extra={"output": str(out)})
    done = CliRunner().invoke(app, ["run", str(suite)])
    assert done.exit_code in (0, 1), done.output
    ids = re.findall(r"\d{8}-\d{6}-[0-9a-f]+", done.output)
    assert ids, done.output
    return ids[0]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The baseline answers every case well; the candidate invents a fee in case c002. Built
    once for the module: the tests below only read the store."""
    root = tmp_path_factory.mktemp("runs")
    out = root / "out"
    baseline = cli_run(root / "a", [GOOD], out)
    candidate = cli_run(root / "b", [GOOD, GOOD, FEE], out)
    return out, baseline, candidate


def test_a_compare_of_runs_differing_in_one_answer_names_it_and_fail_on_new_exits_1(
    tmp_path: Path, two_runs: tuple[Path, str, str]
) -> None:
    out, baseline, candidate = two_runs
    report = tmp_path / "cmp.json"

    done = evals("compare", baseline, candidate, "--out", str(out), "--json", str(report))
    # one regressed answer is not significant, so without --fail-on-new it passes, but says so
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "REGRESSED: bot / refund_status / case c002 sample 0: passed -> failed" in text
    assert '+ appeared:    policy.unsupported (critical) "EUR 5.00"' in text
    assert "días [-hábiles.-]{+hábiles, menos una tarifa de EUR 5.00.+}" in text
    assert "c000" not in text and "c001" not in text  # unchanged answers are not listed
    assert "no regression flagged (1 answer(s) regressed, listed below the table; 1" in text
    assert "\x1b[" not in text  # not a terminal: no colour codes
    assert re.search(r"refund_status\s+3\s+1\s+0\s+100%\s+67%\s+-33 pts", text)

    data = json.loads(report.read_text(encoding="utf-8"))
    (pair,) = data["pairs"]
    assert (pair["case_id"], pair["sample"], pair["change"]) == ("c002", 0, "regressed")
    assert (pair["before"]["text"], pair["after"]["text"]) == (GOOD, FEE)
    assert [(f["code"], f["severity"]) for f in pair["appeared"]] == [
        ("policy.unsupported", "critical")
    ]
    assert pair["disappeared"] == [] and data["unpaired"] == []

    gated = evals("compare", baseline, candidate, "--out", str(out), "--fail-on-new", "critical")
    assert gated.returncode == 1, gated.stderr
    assert (
        "REGRESSION: refund_status: case c002 sample 0: new critical finding policy.unsupported"
        in gated.stdout
    )
    assert "1 regression(s) flagged" in gated.stdout

    # the same gate over two runs that agree passes
    same = evals("compare", baseline, baseline, "--out", str(out), "--fail-on-new", "major")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "answers that changed" not in same.stdout


def test_the_html_comparison_shows_both_answers_and_leaves_the_run_verifiable(
    tmp_path: Path, two_runs: tuple[Path, str, str]
) -> None:
    out, baseline, candidate = two_runs
    done = evals("compare", baseline, candidate, "--out", str(out))
    assert done.returncode == 0, done.stderr
    page_path = out / "compare" / f"{baseline}-vs-{candidate}.html"
    assert f"HTML comparison written to {page_path}" in done.stdout
    page = page_path.read_text(encoding="utf-8")
    assert 'data-case="c002"' in page and "policy.unsupported" in page
    assert "<ins>hábiles, menos una tarifa de EUR 5.00.</ins>" in page
    assert (
        f'<div class="answer">{GOOD}</div>' in page and f'<div class="answer">{FEE}</div>' in page
    )
    assert "<script" not in page and "default-src &#x27;none&#x27;" in page
    # a passing comparison with a regressed answer is amber, never green
    assert 'data-state="warn"' in page and "1 answer(s) with a new critical finding" in page
    # the page is not dropped among the candidate's manifest-listed reports: verify still passes
    verified = CliRunner().invoke(app, ["verify", candidate, "--out", str(out)])
    assert verified.exit_code == 0, verified.output

    chosen = tmp_path / "elsewhere" / "cmp.html"
    elsewhere = ["compare", baseline, candidate, "--out", str(out), "--html", str(chosen)]
    assert CliRunner().invoke(app, elsewhere).exit_code == 0
    assert "policy.unsupported" in chosen.read_text(encoding="utf-8")


def test_the_word_diff_is_coloured_on_a_terminal_only(
    two_runs: tuple[Path, str, str],
) -> None:
    """Through a pseudo-terminal the marks are red and green; piped (above) they are plain."""
    import os
    import pty
    import select
    import time

    out, baseline, candidate = two_runs
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    process = subprocess.Popen(
        [sys.executable, "-m", "evals", "compare", baseline, candidate, "--out", str(out)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        assert process.wait(timeout=30) == 0
    text = b"".join(chunks).decode("utf-8")
    assert "\x1b[31m[-hábiles.-]\x1b[0m" in text
    assert "\x1b[32m{+hábiles, menos una tarifa de EUR 5.00.+}\x1b[0m" in text


def test_bad_options_exit_2_with_a_clear_message(
    tmp_path: Path, two_runs: tuple[Path, str, str]
) -> None:
    out, baseline, candidate = two_runs
    compare = ["compare", baseline, candidate, "--out", str(out)]
    bad = CliRunner().invoke(app, [*compare, "--fail-on-new", "minor"])
    assert bad.exit_code == 2, bad.output
    assert "--fail-on-new wants critical or major, not 'minor'" in bad.output
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    unwritable = CliRunner().invoke(app, [*compare, "--html", str(blocker / "c.html")])
    assert unwritable.exit_code == 2, unwritable.output
    assert f"{blocker / 'c.html'}: cannot write the comparison" in unwritable.output
    assert not isinstance(unwritable.exception, OSError)
    store = out / "runs.sqlite"
    size = store.stat().st_size
    for option in ("--html", "--json"):
        refused = CliRunner().invoke(app, [*compare, option, str(store)])
        assert refused.exit_code == 2 and "that is a run store" in refused.output
    assert store.stat().st_size == size  # the stored runs are untouched


# --- the comparison record, built directly ---------------------------------------------------


def finding(code: str, severity: str, quote: str) -> Finding:
    return Finding(
        guardrail=code.split(".")[0],
        code=code,
        severity=severity,  # type: ignore[arg-type]
        message=f"{code} found",
        evidence=Evidence(span=Span(start=0, end=len(quote), text=quote)),
    )


def answered(run_id: str, case_id: str, text: str, *findings: Finding) -> CaseResult:
    failing = any(f.severity in ("critical", "major") for f in findings)
    return CaseResult(
        run_id=run_id,
        case_id=case_id,
        target="bot",
        sample=0,
        seed=0,
        response=Response(text=text),
        findings=list(findings),
        passed=not failing,
    )


def one_case_runs(before: CaseResult, after: CaseResult) -> tuple[Any, Run, Run]:
    plan = make_plan({"refund_status": 1})
    base = make_run("a", plan, lambda c, s: True, samples=1)
    cand = make_run("b", plan, lambda c, s: True, samples=1)
    case_id = plan.cases[0].id
    return (
        plan,
        base.model_copy(update={"results": [before.model_copy(update={"case_id": case_id})]}),
        cand.model_copy(update={"results": [after.model_copy(update={"case_id": case_id})]}),
    )


def test_fail_on_new_counts_only_pairs_whose_baseline_had_none_that_severe() -> None:
    major = finding("template.placeholder", "major", "{first_name}")
    critical = finding("policy.unsupported", "critical", "EUR 5.00")
    other_critical = finding("facts.contradiction", "critical", "EUR 20.00")
    ok = answered("a", "x", GOOD)

    def outcome(before: CaseResult, after: CaseResult, threshold: Any) -> bool:
        """Whether the gate failed the comparison (a critical also worsens the decision, which
        fails it on its own: that is not what is tested here)."""
        plan, base, cand = one_case_runs(before, after)
        comparison = compare_runs(base, plan, cand, plan, fail_on_new=threshold)
        return any(v.fails for v in comparison.verdicts if v.kind == "new_severity")

    # a clean answer turning critical fails either gate; without the gate it is only a note
    assert outcome(ok, answered("b", "x", FEE, critical), "critical")
    assert outcome(ok, answered("b", "x", FEE, critical), "major")
    assert not outcome(ok, answered("b", "x", FEE, critical), None)
    # a major that appears fails the major gate only
    assert outcome(ok, answered("b", "x", "{first_name}", major), "major")
    assert not outcome(ok, answered("b", "x", "{first_name}", major), "critical")
    # the baseline answer already had a major: a new critical fails 'critical', not 'major'
    before = answered("a", "x", "{first_name}", major)
    assert outcome(before, answered("b", "x", FEE, critical), "critical")
    assert not outcome(before, answered("b", "x", FEE, critical), "major")
    # the baseline already had a critical: another critical code is listed, not failed on
    plan, base, cand = one_case_runs(
        answered("a", "x", FEE, critical), answered("b", "x", "EUR 20.00", other_critical)
    )
    comparison = compare_runs(base, plan, cand, plan, fail_on_new="critical")
    assert not comparison.failed  # both answers fail with a critical: nothing got worse
    (pair,) = comparison.pairs
    assert pair.change == "findings_changed"
    assert [f.code for f in pair.appeared] == ["facts.contradiction"]
    assert [f.code for f in pair.disappeared] == ["policy.unsupported"]


def test_improved_pairs_and_unpaired_answers_are_listed_not_only_counted() -> None:
    plan = make_plan({"refund_status": 4})
    before = make_run("a", plan, lambda c, s: c.id != "refund_status-01")
    after = make_run("b", plan, lambda c, s: c.id != "refund_status-02", samples=2)
    comparison = compare_runs(before, plan, after, plan)
    changes = {(p.case_id, p.sample, p.change) for p in comparison.pairs}
    assert changes == {
        ("refund_status-01", 0, "improved"),
        ("refund_status-01", 1, "improved"),
        ("refund_status-02", 0, "regressed"),
        ("refund_status-02", 1, "regressed"),
    }
    assert comparison.pairs[0].change == "regressed"  # regressed first
    assert {(u.side, u.case_id, u.sample) for u in comparison.unpaired} == {
        ("baseline", f"refund_status-{i:02d}", 2) for i in range(4)
    }
    text = render_comparison(comparison)
    assert "only in the baseline: bot / refund_status / case refund_status-03 sample 2" in text
    assert (
        "IMPROVED: bot / refund_status / case refund_status-01 sample 1: failed -> passed" in text
    )
    assert "- disappeared: template.placeholder (major)" in text
    shown = render_comparison(comparison, shown=1)
    assert "... and 3 more: every one is in --json and the HTML comparison" in shown
    assert "... and 3 more" in shown.split("answers without a pair")[1]


def test_model_text_cannot_inject_markup_or_terminal_escapes() -> None:
    hostile = 'Hola <script>alert(1)</script> "x" \x1b[2J\x1b]0;owned\x07 \u202efin'
    plan, base, cand = one_case_runs(
        answered("a", "x", GOOD),
        answered("b", "x", hostile, finding("policy.unsupported", "critical", "<img src=x>")),
    )
    comparison = compare_runs(base, plan, cand, plan)
    page = render_compare_html(comparison)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x&gt;" in page
    for colour in (False, True):
        text = render_comparison(comparison, colour=colour)
        assert "\x1b[2J" not in text and "\x1b]0" not in text and "\x07" not in text
        assert "\\x1b[2J" in text and "\u202e" not in text and "\\u202efin" in text
    assert "\x1b[32m{+" in render_comparison(comparison, colour=True)


# --- the word diff ---------------------------------------------------------------------------

WORDS = st.lists(st.sampled_from(["a", "b", "fee", "EUR", "5.00", " ", "\n", "  ", "días"]))


@settings(max_examples=200, deadline=None)
@given(before=WORDS, after=WORDS)
def test_the_word_diff_rebuilds_both_answers(before: list[str], after: list[str]) -> None:
    a, b = "".join(before), "".join(after)
    pieces = word_diff(a, b)
    assert "".join(t for op, t in pieces if op != "ins") == a
    assert "".join(t for op, t in pieces if op != "del") == b
    assert all(t for _, t in pieces)
    if a == b:
        assert all(op == "same" for op, _ in pieces)


def test_the_word_diff_marks_changes_and_stays_bounded_on_huge_answers() -> None:
    assert terminal_diff("pay EUR 5 now", "pay EUR 7 now") == "pay EUR [-5-]{+7+} now"
    huge_a = " ".join(f"w{i}" for i in range(MAX_TOKENS))
    huge_b = " ".join(f"v{i}" for i in range(MAX_TOKENS))
    assert word_diff(huge_a, huge_b) == [("del", huge_a), ("ins", huge_b)]
    assert word_diff("", "") == []
