"""A scan of transcripts that carry intents, scored like a run: a stored run whose targets are
the bots (model `scan`), whose cases are the conversations and whose samples are the answers of
one conversation in input order, so `evals publish`, `verify`, `show` and `compare` work on it
unchanged and pass^k counts a conversation's answers as one case.

While the scan reads, `AnswerSpool` numbers each answer within its (bot, conversation) and
spools it beside the findings (checkpointed with them, see `evals.scan_output`). When every
record is read, `store_scan` writes the run into the run store, appending in spool order and
skipping what a killed earlier attempt already stored (so a resumed scan stores each answer
once, in the same chain), and the reports are published from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from evals.decision_policy import DecisionPolicy
from evals.publish import Published, publish
from evals.records import (
    Case,
    CaseResult,
    CaseSource,
    Finding,
    PolicyBook,
    Response,
    RunPlan,
    Suite,
    Target,
)
from evals.scan import SCAN_MODEL, Checked
from evals.store import RunStore

#: Results appended to the store per transaction.
STORE_BATCH = 1000


class AnswerSpool:
    """Numbers the answers of each (bot, conversation) in input order and renders the spool
    lines that `store_scan` reads back."""

    def __init__(self, spool: Path | None = None) -> None:
        self.samples: dict[tuple[str, str], int] = {}
        self.cases: set[str] = set()
        if spool is not None and spool.exists():  # a resumed scan: count what is spooled
            for target, case_id, sample, case_json, *_ in _spooled(spool):
                self.samples[(str(target), str(case_id))] = int(str(sample)) + 1
                if case_json is not None:
                    self.cases.add(str(case_id))

    def lines(self, checked: list[Checked]) -> list[str]:
        out = []
        for item in checked:
            answer = item.answer
            if answer is None or item.issues:
                continue
            key = (answer.target, answer.case_id)
            sample = self.samples.get(key, 0)
            self.samples[key] = sample + 1
            first = answer.case_id not in self.cases
            self.cases.add(answer.case_id)
            out.append(
                f"[{json.dumps(answer.target)},{json.dumps(answer.case_id)},{sample},"
                f"{answer.case_json if first else 'null'},{answer.response_json},"
                f"{answer.findings_json},{'true' if answer.passed else 'false'}]"
            )
        return out


def _spooled(spool: Path) -> Iterator[list[object]]:
    with spool.open("rb") as handle:
        for raw in handle:
            row = json.loads(raw)
            assert isinstance(row, list)
            yield row


@dataclass(frozen=True)
class ScanOrigin:
    """What the stored run records about where the scan came from."""

    name: str
    inputs: list[str]
    policies_path: Path
    policies: dict[str, PolicyBook]
    guardrails: list[str] | None
    decision_policy: DecisionPolicy | None
    store_folder: Path


def scan_plan(origin: ScanOrigin, spool: Path) -> RunPlan:
    """The run plan of a scored scan: its conversations as cases (each with the conversation
    up to its first answer), its bots as targets."""
    cases: dict[str, Case] = {}
    bots: set[str] = set()
    most = 1
    for target, _, sample, case_json, *_ in _spooled(spool):
        bots.add(str(target))
        most = max(most, int(str(sample)) + 1)
        if case_json is not None:
            case = Case.model_validate(case_json)
            cases.setdefault(case.id, case)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in origin.name)
    suite = Suite(
        name=("scan-" + safe)[:200],
        description=f"evals scan of {', '.join(origin.inputs)}",
        cases=[CaseSource(path=p) for p in origin.inputs],
        policies=[str(origin.policies_path)],
        targets=[Target(name=bot, model=SCAN_MODEL) for bot in sorted(bots)],
        samples=min(most, 1000),
        guardrails=origin.guardrails,
        output=str(origin.store_folder),
    )
    return RunPlan(
        suite=suite,
        suite_path=origin.inputs[0] if origin.inputs else "",
        cases=list(cases.values()),
        policies=origin.policies,
        replay_dir="",
        decision_policy=(
            origin.decision_policy.model_dump(mode="json") if origin.decision_policy else None
        ),
        output_dir=str(origin.store_folder.resolve()),
    )


def store_scan(store: RunStore, run_id: str, origin: ScanOrigin, spool: Path) -> Published:
    """Write the spooled answers as run `run_id` (creating it, or completing what an earlier,
    killed attempt stored) and publish its reports beside the store."""
    from evals.runner import plan_versions

    store.lock_run(run_id)
    known = {r.id for r in store.runs()}
    if run_id not in known:
        plan = scan_plan(origin, spool)
        store.create_run(run_id, plan, plan_versions(plan))
        done: set[tuple[str, str, int]] = set()
    else:
        done = store.done_keys(run_id)
    batch: list[CaseResult] = []
    for target, case_id, sample, _, response, findings, passed in _spooled(spool):
        key = (str(target), str(case_id), int(str(sample)))
        if (key[1], key[0], key[2]) in done:  # done_keys are (case, target, sample)
            continue
        assert isinstance(findings, list)
        batch.append(
            CaseResult(
                run_id=run_id,
                case_id=key[1],
                target=key[0],
                sample=key[2],
                seed=0,
                response=Response.model_validate(response),
                findings=[Finding.model_validate(f) for f in findings],
                passed=bool(passed),
            )
        )
        if len(batch) >= STORE_BATCH:
            store.add_results(batch)
            batch = []
    store.add_results(batch)
    if store.run_header(run_id).status != "finished":
        store.set_status(run_id, "finished")
    # A run found already stored is a resumed scan: if a killed attempt got as far as its
    # manifest, it is replaced only while the store still matches it (what `force` checks).
    return publish(store, run_id, force=run_id in known)
