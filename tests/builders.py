"""Test builders: tiny policy books, cases and suites written to a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

POLICY = {
    "id": "acme",
    "name": "Acme Pay",
    "text": "Refunds are processed within 10 business days.\n"
    "Returns are accepted within 30 days of delivery.\n",
}


def case_dict(case_id: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": case_id,
        "intent": "refund_status",
        "kind": "support",
        "language": "es",
        "channel": "chat",
        "risk": "medium",
        "company": "acme",
        "messages": [{"role": "user", "content": f"¿Dónde está mi reembolso? ({case_id})"}],
        "facts": {"amount": "EUR 10.00"},
        "reference": "Tu reembolso de EUR 10.00 llegará en 10 días hábiles.",
    }
    base.update(overrides)
    return base


def write_suite(
    root: Path,
    *,
    n_cases: int = 3,
    samples: int = 1,
    targets: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    cases: list[dict[str, Any]] | None = None,
) -> Path:
    """A complete suite in `root`: policies/acme.yaml, cases/cases.yaml, suite.yaml."""
    (root / "policies").mkdir(parents=True, exist_ok=True)
    (root / "cases").mkdir(exist_ok=True)
    (root / "policies" / "acme.yaml").write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    cases = cases if cases is not None else [case_dict(f"c{i:03d}") for i in range(n_cases)]
    (root / "cases" / "cases.yaml").write_text(
        yaml.safe_dump({"cases": cases}, allow_unicode=True), encoding="utf-8"
    )
    suite: dict[str, Any] = {
        "name": "test-suite",
        "cases": [{"path": "cases/*.yaml"}],
        "policies": ["policies"],
        "samples": samples,
        "targets": targets
        or [{"name": "fake", "model": "fake/scripted", "params": {"extra": {"echo": True}}}],
        "output": str(root / "out"),
    }
    suite.update(extra or {})
    path = root / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_suite(suite: Path, **plan_args: Any) -> tuple[Any, str]:
    """Run a suite in-process (no subprocess); return its RunStore and run id."""
    import asyncio

    from evals.progress import SilentProgress
    from evals.runner import Engine, start_run
    from evals.store import RunStore
    from evals.suite_file import build_plan

    plan = build_plan(suite, **plan_args)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id, progress=SilentProgress()).execute())
    return store, run_id


def stored_results(store: Path) -> int:
    """How many results a run store holds (0 while it does not exist or has no table yet)."""
    import sqlite3

    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(store)
        try:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


ACME_POLICIES = "acme:\n  name: Acme Pay\n  text: Refunds take 10 business days.\n"


def scan_cli(
    tmp_path: Path, records: list[object], policies: str = ACME_POLICIES
) -> tuple[Any, Path]:
    """`evals scan` of `records` (dicts, or raw lines) in a subprocess; (process, findings file)."""
    import subprocess
    import sys

    transcripts = tmp_path / "transcripts.jsonl"
    transcripts.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
        encoding="utf-8",
    )
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(policies, encoding="utf-8")
    out = tmp_path / "findings.jsonl"
    scan = (sys.executable, "-m", "evals", "scan")
    done = subprocess.run(
        [*scan, str(transcripts), "--policies", str(policy_file), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, out
