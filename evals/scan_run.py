"""A scan of transcripts that carry intents, scored like a run: a stored run whose targets are
the bots (model `scan`), whose cases are the conversations and whose samples are the answers of
one conversation in input order, so `evals publish`, `verify`, `show` and `compare` work on it
unchanged and pass^k counts a conversation's answers as one case.

While the scan reads, `AnswerSpool` spools each answer beside the findings (checkpointed with
them, see `evals.scan_output`). When every record is read, `store_scan` writes the run into the
run store in spool order: the conversations into the store's `scan_cases` (not into the plan,
which would grow with them), each answer numbered within its (bot, conversation) by what the
store already holds, skipping what a killed earlier attempt stored (so a resumed scan stores
each answer once, in the same chain). The reports are then published from streaming aggregates
(`evals.scan_score`). Nothing here holds more than a batch of answers, whatever the scan's size.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

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
#: Conversations the spool remembers having written the case of: a conversation met again
#: after this many others repeats its case in the spool (the store keeps the first), so the
#: spool's memory is bounded however many conversations the scan holds.
RECENT_CASES = 20_000


class AnswerSpool:
    """Renders the spool lines that `store_scan` reads back: [bot, conversation, its case (on
    its first answer, else null), response, findings, passed], in input order."""

    def __init__(self) -> None:
        self.recent: OrderedDict[str, None] = OrderedDict()

    def lines(self, checked: list[Checked]) -> list[str]:
        out = []
        for item in checked:
            answer = item.answer
            if answer is None or item.issues:
                continue
            first = answer.case_id not in self.recent
            self.recent[answer.case_id] = None
            self.recent.move_to_end(answer.case_id)
            if len(self.recent) > RECENT_CASES:
                self.recent.popitem(last=False)
            out.append(
                f"[{json.dumps(answer.target)},{json.dumps(answer.case_id)},"
                f"{answer.case_json if first else 'null'},{answer.response_json},"
                f"{answer.findings_json},{'true' if answer.passed else 'false'}]"
            )
        return out


_DECODER = json.JSONDecoder()


def _spooled_cases(spool: Path) -> Iterator[tuple[str, str, object]]:
    """(bot, conversation, case or None) of each spooled answer, in order: the head of each
    line only (the response and findings after it are not parsed)."""
    with spool.open("r", encoding="utf-8") as handle:
        for raw in handle:
            target, end = _DECODER.raw_decode(raw, 1)
            case_id, end = _DECODER.raw_decode(raw, end + 1)
            case = None if raw.startswith("null", end + 1) else _DECODER.raw_decode(raw, end + 1)[0]
            yield str(target), str(case_id), case


#: A spooled answer as the store takes it (parsed and validated in one step, by pydantic).
_SPOOLED = TypeAdapter(tuple[str, str, Any, Response, list[Finding], bool])


def _spooled_answers(
    spool: Path, skip: int
) -> Iterator[tuple[str, str, Response, list[Finding], bool]]:
    """(bot, conversation, response, findings, passed) of each spooled answer after the first
    `skip` (which are passed over unparsed)."""
    with spool.open("rb") as handle:
        for index, raw in enumerate(handle):
            if index >= skip:
                target, case_id, _, response, findings, passed = _SPOOLED.validate_json(raw)
                yield target, case_id, response, findings, passed


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


def scan_plan(origin: ScanOrigin, spool: Path, store: RunStore, run_id: str) -> RunPlan:
    """The run plan of a scored scan: its bots as targets, samples the most answers any
    conversation has. Its conversations (each as a case with the conversation up to its first
    answer) go into the store's `scan_cases`, in the order the scan met them."""
    bots: set[str] = set()
    cases: list[Case] = []

    def keys() -> Iterator[tuple[str, str]]:
        for target, case_id, case_json in _spooled_cases(spool):
            bots.add(target)
            if case_json is not None:
                cases.append(Case.model_validate(case_json))
                if len(cases) >= STORE_BATCH:
                    store.add_scan_cases(run_id, cases)
                    cases.clear()
            yield target, case_id

    most = max(1, store.largest_group(keys()))
    store.add_scan_cases(run_id, cases)
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
        cases=[],
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
    known = store.has_run(run_id)
    if not known:
        plan = scan_plan(origin, spool, store, run_id)
        store.create_run(run_id, plan, plan_versions(plan))
    # Results are appended in spool order, a batch per transaction: what is stored is a prefix.
    done = store.result_count(run_id)
    batch: list[CaseResult] = []
    #: the next sample of the (conversation, bot) pairs of this batch (the store has the rest)
    following: dict[tuple[str, str], int] = {}
    for target, case_id, response, findings, passed in _spooled_answers(spool, done):
        key = (case_id, target)
        sample = following.get(key)
        if sample is None:
            sample = store.next_sample(run_id, *key)
        following[key] = sample + 1
        batch.append(
            CaseResult(
                run_id=run_id,
                case_id=case_id,
                target=target,
                sample=sample,
                seed=0,
                response=response,
                findings=findings,
                passed=passed,
            )
        )
        if len(batch) >= STORE_BATCH:
            store.add_results(batch)
            batch = []
            following.clear()
    store.add_results(batch)
    if store.run_header(run_id).status != "finished":
        store.set_status(run_id, "finished")
    # A run found already stored is a resumed scan: if a killed attempt got as far as its
    # manifest, it is replaced only while the store still matches it (what `force` checks).
    return publish(store, run_id, force=known)
