"""`OUT/index.html`: every run in a store, newest first, with its date, suite, targets, gates and
decisions, a link to its report, and a chart per intent of the pass rate across runs.

Why it is built the way it is:

- It is rewritten (atomically) after every publish (`evals run`, `evals report`), from the store
  (`RunStore.runs()`) and each run's published `reports/<run>/scorecard.json`: the scorecard
  the run's report shows, decided under the policy it was published with. A run never
  published there (still running, interrupted before its reports, or reported elsewhere with
  `--to`) is listed from the store's counts, without decisions.
- Cheap at any number of runs: a run's summary is read from its scorecard once and kept in
  `OUT/index-cache.json`, keyed by the scorecard file's size and modification time, so a
  publish re-reads only the scorecards that changed (a big run's scorecard carries every
  failing answer, and parsing it costs about as much as the run's report).
- Outside every run's report folder, so no manifest lists it and `evals verify` ignores it.
- The same rules as the report: one self-contained file, no network, no script at all (the
  Content-Security-Policy allows none), every name from the store escaped; charts are inline
  SVG drawn here.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from pydantic import Field, ValidationError

from evals.records import Record
from evals.scorecard import Scorecard
from evals.store import RunStore, RunSummary
from reports.tables import OUTCOME_LABELS

INDEX_NAME = "index.html"
CACHE_NAME = "index-cache.json"
#: Bump when `RunEntry` changes: an older cache is then ignored, not misread.
CACHE_VERSION = 1
OUTCOMES = ("automate", "assist", "human", "insufficient_evidence")
EMPTY_CHARTS = '<p class="muted">No scored runs yet.</p>'
#: Every other line dashed, so lines that lie on each other (equal rates) both show.
DASHES = ("", ' stroke-dasharray="6 4"')
#: Line colours of the targets in the charts, in turn.
PALETTE = ("#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#57606a", "#9a6700")


@cache
def _css() -> str:
    return (resources.files("reports") / "data" / "run_index.css").read_text(encoding="utf-8")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


class IntentRate(Record):
    target: str
    intent: str
    pass_rate: float
    answers: int


class RunEntry(Record):
    """One run as the index shows it."""

    run_id: str
    suite: str
    started: str
    status: str
    answers: int
    passed: int
    errors: int
    targets: list[str] = Field(default_factory=list, description="name: model")
    scored: bool = Field(default=False, description="read from a published scorecard")
    gates_passed: bool | None = None
    gate_failures: list[str] = Field(default_factory=list)
    decisions: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="per target: how many intents got each outcome"
    )
    rates: list[IntentRate] = Field(default_factory=list)
    policy: str = ""


class CacheEntry(Record):
    key: tuple[int, int]
    entry: RunEntry


class Cache(Record):
    version: int = CACHE_VERSION
    runs: dict[str, CacheEntry] = Field(default_factory=dict)


def _from_store(run: RunSummary) -> RunEntry:
    return RunEntry(
        run_id=run.id,
        suite=run.suite,
        started=run.started,
        status=run.status,
        answers=run.results,
        passed=run.passed,
        errors=run.errors,
    )


def summarise(card: Scorecard, run: RunSummary) -> RunEntry:
    """What the index shows of a published run."""
    decisions: dict[str, dict[str, int]] = {}
    for d in card.decisions:
        per = decisions.setdefault(d.target, {})
        per[d.outcome] = per.get(d.outcome, 0) + 1
    return _from_store(run).model_copy(
        update={
            "targets": [f"{t.name}: {t.model}" for t in card.targets],
            "scored": True,
            "gates_passed": card.passed,
            "gate_failures": card.gate_failures,
            "decisions": decisions,
            "rates": [
                IntentRate(target=s.target, intent=s.key, pass_rate=s.pass_rate, answers=s.answers)
                for s in card.scores
                if s.group == "intent"
            ],
            "policy": card.decision_policy.ident,
        }
    )


def _read_cache(path: Path) -> Cache:
    try:
        cached = Cache.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return Cache()
    return cached if cached.version == CACHE_VERSION else Cache()


def entries(store: RunStore) -> list[RunEntry]:
    """Every run of the store, newest first, each from its published scorecard when there is
    one (read again only when the file changed since the cache was written)."""
    out = store.path.parent
    cache_path = out / CACHE_NAME
    old = _read_cache(cache_path)
    new = Cache()
    found = []
    for run in store.runs():
        card_path = out / "reports" / run.id / "scorecard.json"
        try:
            stat = card_path.stat()
        except OSError:
            found.append(_from_store(run))
            continue
        key = (stat.st_size, stat.st_mtime_ns)
        hit = old.runs.get(run.id)
        if hit is not None and hit.key == key and hit.entry.status == run.status:
            entry = hit.entry.model_copy(
                update={"answers": run.results, "passed": run.passed, "errors": run.errors}
            )
        else:
            try:
                entry = summarise(Scorecard.model_validate_json(card_path.read_bytes()), run)
            except (OSError, ValidationError, ValueError):
                entry = _from_store(run)  # unreadable or from an older version: counts only
        new.runs[run.id] = CacheEntry(key=key, entry=entry)
        found.append(entry)
    _write_atomically(cache_path, new.model_dump_json())
    return found


# --- rendering ---------------------------------------------------------------------------------


def _when(started: str) -> str:
    try:
        return f"{datetime.fromisoformat(started):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return started


def _decisions(entry: RunEntry) -> str:
    if not entry.decisions:
        return '<span class="muted">-</span>'
    rows = []
    for target, counts in sorted(entry.decisions.items()):
        parts = ", ".join(
            f'<span class="badge d-{o}">{esc(OUTCOME_LABELS[o])}</span> {counts[o]}'
            for o in OUTCOMES
            if counts.get(o)
        )
        rows.append(f"<li><code>{esc(target)}</code>: {parts}</li>")
    return f"<ul>{''.join(rows)}</ul>"


def _gates(entry: RunEntry) -> str:
    if entry.gates_passed is None:
        return '<span class="muted">no published report</span>'
    if entry.gates_passed:
        return '<span class="badge pass">passed</span>'
    shown = "".join(f"<li>{esc(r)}</li>" for r in entry.gate_failures[:3])
    more = len(entry.gate_failures) - 3
    if more > 0:
        shown += f"<li>and {more} more</li>"
    return f'<span class="badge fail">failed</span><ul>{shown}</ul>'


def _row(entry: RunEntry, out: Path) -> str:
    report = out / "reports" / entry.run_id / "report.html"
    run = f"<code>{esc(entry.run_id)}</code>"
    if report.is_file():
        href = "reports/" + quote(entry.run_id, safe="") + "/report.html"
        run = f'<a href="{esc(href)}">{run}</a>'
    targets = "".join(f"<li>{esc(t)}</li>" for t in entry.targets) or "-"
    failed = entry.answers - entry.passed
    policy = f'<br><span class="muted">policy {esc(entry.policy)}</span>' if entry.policy else ""
    return (
        f'<tr data-run="{esc(entry.run_id)}"><td>{esc(_when(entry.started))}</td><td>{run}<br>'
        f'<span class="muted">{esc(entry.status)}</span>{policy}</td><td>{esc(entry.suite)}</td>'
        f"<td><ul>{targets}</ul></td><td>{_gates(entry)}</td><td>{_decisions(entry)}</td>"
        f'<td class="num">{entry.answers} ({failed} failed, {entry.errors} errors)</td></tr>'
    )


def intent_chart(intent: str, runs: Sequence[RunEntry]) -> str:
    """The pass rate of one intent across runs (oldest left), a line per target."""
    points = [
        (i, rate) for i, run in enumerate(runs) for rate in run.rates if rate.intent == intent
    ]
    targets = sorted({r.target for _, r in points})
    width, left, right, top, bottom = 640, 44, 12, 10, 26
    height = 170
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(runs) - 1)

    def x(i: int) -> float:
        return left + (step * i if len(runs) > 1 else plot_w / 2)

    def y(rate: float) -> float:
        return top + plot_h * (1 - rate)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(intent)}: pass rate per run and target">'
    ]
    for tick in (0, 0.5, 1.0):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            f'stroke="#d0d7de"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="#57606a">{tick:.0%}</text>'
        )
    for n, target in enumerate(targets):
        colour = PALETTE[n % len(PALETTE)]
        mine = [(i, r) for i, r in points if r.target == target]
        line = " ".join(f"{x(i):.1f},{y(r.pass_rate):.1f}" for i, r in mine)
        parts.append(
            f'<g data-target="{esc(target)}"><polyline points="{line}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{DASHES[n % len(DASHES)]}/>'
        )
        for i, r in mine:
            tip = (
                f"{runs[i].run_id} ({_when(runs[i].started)}), {target}: "
                f"{r.pass_rate:.0%} of {r.answers} answers passed"
            )
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(r.pass_rate):.1f}" r="3.5" fill="{colour}">'
                f"<title>{esc(tip)}</title></circle>"
            )
        parts.append("</g>")
    parts.append(
        f'<text x="{left}" y="{height - 8}" fill="#57606a">oldest</text>'
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end" fill="#57606a">newest'
        "</text></svg>"
    )
    legend = "".join(
        f'<li><span class="swatch" data-colour="{n % len(PALETTE)}"></span>'
        f"<code>{esc(t)}</code></li>"
        for n, t in enumerate(targets)
    )
    return (
        f'<figure class="intent" data-intent="{esc(intent)}">{"".join(parts)}'
        f'<figcaption><code>{esc(intent)}</code>: pass rate per run <ul class="legend">'
        f"{legend}</ul></figcaption></figure>"
    )


def content_security_policy() -> str:
    """No script at all, no network: styles and data images only."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'"
    )


def render_index(runs: Sequence[RunEntry], out: Path) -> str:
    """The index page of a store's runs (`runs` newest first)."""
    rows = "".join(_row(r, out) for r in runs)
    oldest_first = list(reversed(runs))
    intents = sorted({r.intent for run in runs for r in run.rates})
    charts = "".join(intent_chart(i, [r for r in oldest_first if r.scored]) for i in intents)
    swatches = "".join(
        f".swatch[data-colour='{n}']{{background:{colour}}}" for n, colour in enumerate(PALETTE)
    )
    table = (
        '<div class="scroll"><table><tr><th>started</th><th>run</th><th>suite</th>'
        "<th>targets</th><th>gates</th><th>decisions (intents)</th><th>answers</th></tr>"
        f"{rows}</table></div>"
        if runs
        else '<p class="muted">No runs in this store yet.</p>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(content_security_policy())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
        f"<title>supportgate runs ({len(runs)})</title><style>{_css()}{swatches}</style>"
        f"</head><body><h1>supportgate runs ({len(runs)})</h1>"
        '<p class="muted">Every run in this store, newest first: open a run for its report. '
        "Decisions count intents per target; gates are the run's checks (errors, critical "
        "findings, pass rates, required decisions).</p>"
        f'<section id="runs">{table}</section>'
        '<section id="trends"><h2>Pass rate per intent across runs</h2>'
        '<p class="muted">Each point is one run (oldest left); each line a target. Runs '
        "without a published report are left out.</p>"
        f"{charts or EMPTY_CHARTS}</section>"
        "</body></html>\n"
    )


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # a reader never sees half a file; two writers: the last one wins


def write_index(store: RunStore) -> Path:
    """Write `index.html` beside the store (atomically) and return its path."""
    out = store.path.parent
    path = out / INDEX_NAME
    _write_atomically(path, render_index(entries(store), out))
    return path
