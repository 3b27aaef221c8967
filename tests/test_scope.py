"""The automation scope and its approval: recorded when it matches, refused when anything
changed (the scope's decisions, the run, or the decision policy)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from builders import case_dict, run_suite, write_suite

from evals.errors import InputError
from evals.publish import publish
from evals.scope import ScopeRefused, approvals, approve, load_scope
from evals.store import RunStore

POLICY_COPY = (Path(__file__).parent.parent / "evals" / "data" / "decision_policy.yaml").read_text()
#: A bot that answers every case with a passing answer (`reference` itself is a baseline and
#: never part of a scope).
BOT = {
    "name": "ref",
    "model": "fake/scripted",
    "params": {"extra": {"replies": [case_dict("c")["reference"]]}},
}


def published(tmp_path: Path, policy: bool = False) -> tuple[Path, RunStore]:
    extra = {}
    if policy:
        (tmp_path / "policy.yaml").write_text(POLICY_COPY, encoding="utf-8")
        extra = {"decision_policy": "policy.yaml"}
    store, run_id = run_suite(write_suite(tmp_path, n_cases=2, targets=[BOT], extra=extra))
    result = publish(store, run_id)
    return result.folder / "scope.yaml", store


def test_scope_lists_every_intent_with_its_decision_and_evidence(tmp_path: Path) -> None:
    scope_path, _ = published(tmp_path)
    scope = load_scope(scope_path)
    assert scope_path.read_text().startswith("# Automation scope of run")
    [target] = scope.targets
    [entry] = target.intents
    assert (target.target, entry.intent, entry.decision) == (
        "ref",
        "refund_status",
        "insufficient_evidence",
    )
    assert entry.evidence.answers == 2 and entry.evidence.pass_rate == 1.0
    assert scope.decision_policy.name == "default" and len(scope.run_fingerprint) == 64


def test_approval_is_recorded_with_who_when_and_hashes(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path)
    approval = approve(
        scope_path, store, by="Ana Product", note="pilot for ES only", confirmed=True
    )
    [stored] = approvals(store)
    assert stored == approval
    assert stored.approved_by == "Ana Product" and stored.note == "pilot for ES only"
    assert len(stored.scope_sha256) == 64


def test_an_edited_decision_is_refused(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path)
    text = scope_path.read_text().replace("decision: insufficient_evidence", "decision: automate")
    scope_path.write_text(text)
    with pytest.raises(
        ScopeRefused, match="the scope says automate, the run decides insufficient_evidence"
    ):
        approve(scope_path, store, by="Ana", note="")
    assert approvals(store) == []


def test_a_changed_run_is_refused(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path)
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE results SET response = replace(response, 'EUR', 'USD')")
    db.close()
    with pytest.raises(ScopeRefused, match="changed since the scope was written"):
        approve(scope_path, store, by="Ana", note="")


def test_a_changed_decision_policy_file_is_refused(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path, policy=True)
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy.read_text().replace("min_answers: 30", "min_answers: 1"))
    with pytest.raises(ScopeRefused, match="changed since the scope was written"):
        approve(scope_path, store, by="Ana", note="")


def test_a_scope_pointing_at_another_policy_hash_is_refused(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path)
    data = yaml.safe_load(scope_path.read_text())
    data["decision_policy"]["hash"] = "0" * 16
    scope_path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScopeRefused, match="decision policy"):
        approve(scope_path, store, by="Ana", note="")


def test_a_broken_scope_file_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    scope_path, store = published(tmp_path)
    data = yaml.safe_load(scope_path.read_text())
    del data["run_id"]
    scope_path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="run_id"):
        approve(scope_path, store, by="Ana", note="")
    with pytest.raises(InputError, match="--by"):
        approve(scope_path, store, by="  ", note="")


#: A suite plugin that registers a data pack at import (the pack exists only through it).
PACK_PLUGIN = """\
from pathlib import Path

from guardrails import packs

packs.register("drift_terms", Path(__file__).with_name("drift_terms.yaml"))
"""
PACK = "name: drift_terms\ndescription: Invented terms.\nconcepts:\n  gadget: [widget, gizmo]\n"


def _evals(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`evals ARGS` in a process of its own: nothing registered by an earlier command lingers."""
    return subprocess.run(
        [sys.executable, "-m", "evals", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_a_book_naming_a_pack_of_a_suite_plugin_still_loads_when_the_scope_is_approved(
    tmp_path: Path,
) -> None:
    (tmp_path / "drift_plugin.py").write_text(PACK_PLUGIN, encoding="utf-8")
    (tmp_path / "drift_terms.yaml").write_text(PACK, encoding="utf-8")
    write_suite(tmp_path, n_cases=2, targets=[BOT], extra={"plugins": ["drift_plugin"]})
    book = tmp_path / "policies" / "acme.yaml"
    book.write_text(yaml.safe_dump({**yaml.safe_load(book.read_text()), "packs": ["drift_terms"]}))
    ran = _evals("run", "suite.yaml", "--replay", "off", "-q", cwd=tmp_path)
    assert ran.returncode in (0, 1), ran.stderr
    [scope] = (tmp_path / "out" / "reports").glob("*/scope.yaml")
    approve_args = ("approve", str(scope), "--by", "qa", "--note", "ok", "--out", "out", "--yes")
    # The plugin is loaded before the books are compared: the pack is found, nothing drifted.
    approved = _evals(*approve_args, cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    assert "no longer load" not in approved.stderr
    # A plugin that no longer loads is drift: the approval is refused, naming it.
    (tmp_path / "drift_plugin.py").unlink()
    refused = _evals(*approve_args, cwd=tmp_path)
    assert refused.returncode != 0
    assert "drift_plugin" in refused.stderr and "no longer load" in refused.stderr
