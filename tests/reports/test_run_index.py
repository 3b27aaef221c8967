"""`OUT/index.html`: every run of the store with its date, suite, targets, gates and decisions,
a chart per intent across runs, rewritten after each publish, outside every verified report
folder; and no generated file (reports, scope, manifest, index) names a machine path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case_dict, run_suite, write_suite

import evals
from evals.publish import publish
from evals.store import RunStore
from reports.run_index import CACHE_NAME, INDEX_NAME, RunEntry, entries, render_index

GOOD_ES = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
FABRICATED = GOOD_ES + " Y te regalamos un cupón de 20 €."
BUNDLED_POLICY = Path(evals.__file__).parent / "data" / "decision_policy.yaml"


@dataclass
class Store:
    out: Path
    store: RunStore
    published: list[str]
    unpublished: str
    root: Path


def _bot(replies: list[str]) -> dict[str, Any]:
    return {
        "name": "bot",
        "model": "fake/scripted",
        "concurrency": 1,
        "retries": 0,
        "backoff": 0,
        "params": {"extra": {"replies": replies}},
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Three runs in one store: two published (the bot fails more in the second), one not (its
    reports were never written), under a decision policy file of the suite's own."""
    root = tmp_path_factory.mktemp("index")
    (root / "rules").mkdir()
    (root / "rules" / "policy.yaml").write_text(BUNDLED_POLICY.read_text(encoding="utf-8"))
    cases = [case_dict("r1"), case_dict("r2"), case_dict("w1", intent="return_window")]
    published = []
    store: RunStore | None = None
    for replies in ([GOOD_ES], [FABRICATED, GOOD_ES], [GOOD_ES]):
        suite = write_suite(
            root,
            cases=cases,
            targets=[_bot(replies), {"name": "ref", "model": "reference"}],
            extra={"decision_policy": "rules/policy.yaml"},
        )
        with ThreadPoolExecutor(1) as pool:  # a browser's event loop may be running
            store, run_id = pool.submit(run_suite, suite).result()
        published.append(run_id)
    assert store is not None
    unpublished = published.pop()
    for run_id in published:
        publish(store, run_id)
    return Store(root / "out", store, published, unpublished, root)


def test_every_run_is_listed_with_its_gates_decisions_and_report(runs: Store) -> None:
    page = (runs.out / INDEX_NAME).read_text(encoding="utf-8")
    found = entries(runs.store)
    assert [e.run_id for e in found] == [runs.unpublished, *reversed(runs.published)]
    first, second = (runs.store.run(r) for r in runs.published)
    for run_id in runs.published:
        href = f'href="reports/{run_id}/report.html"'
        assert href in page and (runs.out / "reports" / run_id / "report.html").is_file()
    assert f"reports/{runs.unpublished}/" not in page  # nothing to link to
    row = page.split(f'data-run="{runs.unpublished}"', 1)[1].split("</tr>", 1)[0]
    assert "no published report" in row and "3 (0 failed" not in row
    newest = page.split(f'data-run="{runs.published[1]}"', 1)[1].split("</tr>", 1)[0]
    assert "test-suite" in newest and "bot: fake/scripted" in newest and "ref: reference" in newest
    failed = sum(not r.passed for r in second.results)
    assert failed > 0 and f"{len(second.results)} ({failed} failed, 0 errors)" in newest
    card = publish(runs.store, runs.published[1], folder=runs.root / "again").card
    gates = "passed" if card.passed else "failed"
    assert f'<span class="badge {"pass" if card.passed else "fail"}">{gates}</span>' in newest
    for target in ("bot", "ref"):
        outcomes = [d.outcome for d in card.decisions if d.target == target]
        label = {"insufficient_evidence": "insufficient evidence", "automate": "AUTOMATE"}
        for outcome in set(outcomes):
            shown = label.get(outcome, outcome)
            assert f"{shown}</span> {outcomes.count(outcome)}" in newest
    # one chart per intent; a point per published run and target, its pass rate in the tip
    assert page.count('<figure class="intent"') == 2
    refund = page.split('data-intent="refund_status"', 1)[1].split("</figure>", 1)[0]
    assert refund.count("<circle") == 4
    bot_rates = [
        sum(r.passed for r in run.results if r.target == "bot" and r.case_id != "w1") / 2
        for run in (first, second)
    ]
    assert bot_rates[0] > bot_rates[1]
    for run_id, rate in zip(runs.published, bot_rates, strict=True):
        assert f"{run_id} (" in refund and f"bot: {rate:.0%} of 2 answers passed" in refund


def test_the_index_is_outside_the_verified_folder_and_verify_still_passes(runs: Store) -> None:
    run_id = runs.published[0]
    manifest = (runs.out / "reports" / run_id / "manifest.json").read_text(encoding="utf-8")
    assert INDEX_NAME not in manifest and CACHE_NAME not in manifest
    done = subprocess.run(
        [sys.executable, "-m", "evals", "verify", run_id, "--out", str(runs.out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_unchanged_scorecard_is_not_read_again_and_a_changed_one_is(runs: Store) -> None:
    run_id = runs.published[0]
    path = runs.out / "reports" / run_id / "scorecard.json"
    original = path.read_bytes()
    stat = path.stat()
    try:
        entries(runs.store)  # the cache holds every published run now
        # the same size and time: the cached summary stands, the file is not parsed
        path.write_bytes(b"x" * len(original))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert next(e for e in entries(runs.store) if e.run_id == run_id).scored
        # a changed file is read again: unreadable now, so the run is listed by its counts only
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        again = next(e for e in entries(runs.store) if e.run_id == run_id)
        assert not again.scored and again.answers == 6
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # a damaged cache is ignored, never fatal
    (runs.out / CACHE_NAME).write_text("{not json", encoding="utf-8")
    assert all(e.scored for e in entries(runs.store) if e.run_id in runs.published)


def test_names_from_the_store_are_escaped(tmp_path: Path) -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    entry = RunEntry(
        run_id=f"r{hostile}",
        suite=f"s{hostile}",
        started="2026-01-01T00:00:00+00:00",
        status="finished",
        answers=1,
        passed=0,
        errors=0,
        targets=[f"t: {hostile}"],
        scored=True,
        gates_passed=False,
        gate_failures=[f"gate {hostile}"],
        decisions={f"t{hostile}": {"human": 1}},
        rates=[],
    )
    page = render_index([entry], tmp_path)
    assert "<script" not in page and "<img" not in page
    # no script may run at all, nothing may be loaded
    assert 'content="default-src &#x27;none&#x27;; style-src &#x27;unsafe-inline&#x27;;' in page
    assert "script-src" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4


def test_no_generated_file_names_a_machine_path(runs: Store, tmp_path: Path) -> None:
    """Reports, scorecard, JUnit, scope, manifest and the index, under the suite's own decision
    policy and under the bundled one: no repository, install, home or temporary folder."""
    suite = write_suite(
        tmp_path, n_cases=2, targets=[_bot([FABRICATED]), {"name": "ref", "model": "reference"}]
    )
    with ThreadPoolExecutor(1) as pool:
        store, run_id = pool.submit(run_suite, suite).result()
    publish(store, run_id)
    machine = {
        str(Path(evals.__file__).resolve().parents[1]),  # this checkout
        str(BUNDLED_POLICY.parent),
        str(Path.home()),
        str(tmp_path),
        str(runs.root),
    }
    files = [
        p
        for out in (runs.out, tmp_path / "out")
        for p in out.rglob("*")
        if p.is_file() and p.suffix in (".html", ".md", ".json", ".xml", ".yaml")
    ]
    kinds = {p.name for p in files}
    assert {"report.html", "report.md", "scorecard.json", "junit.xml", "scope.yaml"} <= kinds
    assert {"manifest.json", INDEX_NAME, CACHE_NAME} <= kinds
    for path in files:
        text = path.read_text(encoding="utf-8")
        for folder in machine:
            assert folder not in text, (path, folder)
    # the policy is named by name, version and hash, and where it came from as a label
    own = yaml.safe_load((runs.out / "reports" / runs.published[0] / "scope.yaml").read_text())
    assert own["decision_policy"]["source"] == "rules/policy.yaml"
    bundled = yaml.safe_load((tmp_path / "out" / "reports" / run_id / "scope.yaml").read_text())
    assert bundled["decision_policy"]["source"] == "bundled"
    assert len(bundled["decision_policy"]["hash"]) >= 16


def test_approving_still_finds_the_suite_s_own_policy_file(runs: Store) -> None:
    """The scope names the suite's policy file relative to the suite: `evals approve` finds it
    there from any folder, and refuses when it changed."""
    from evals.scope import ScopeRefused, approve

    scope = runs.out / "reports" / runs.published[0] / "scope.yaml"
    policy = runs.root / "rules" / "policy.yaml"
    before = policy.read_text(encoding="utf-8")
    policy.write_text(before.replace("min_answers: 30", "min_answers: 1"), encoding="utf-8")
    try:
        changed = re.escape("rules/policy.yaml changed since the scope")
        with pytest.raises(ScopeRefused, match=changed):
            approve(scope, runs.store, by="Ana", note="")
    finally:
        policy.write_text(before, encoding="utf-8")


def test_in_a_browser_the_index_shows_every_run_and_leads_to_its_report(
    runs: Store, browser: Any
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((runs.out / INDEX_NAME).as_uri())
    page.wait_for_load_state("load")
    assert page.locator("script").count() == 0
    assert page.locator("tr[data-run]").count() == 3
    assert page.locator("figure.intent").count() == 2
    assert page.locator("figure.intent[data-intent=refund_status] circle").count() == 4
    assert page.locator("figure.intent svg").first.is_visible()
    # the swatches of the legend are coloured by the page's own style
    colour = page.locator(".legend .swatch").first.evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )
    assert colour not in ("", "rgba(0, 0, 0, 0)")
    page.locator(f"tr[data-run='{runs.published[0]}'] a").click()
    page.wait_for_selector("#failing-list[data-ready]", state="attached", timeout=10_000)
    assert runs.published[0] in page.title()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    page.close()
