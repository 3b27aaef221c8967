"""Recomputing a run's hash chain from the stored rows, in one pass (see `evals.store_chain`):
what was altered, deleted, inserted or appended after the run stopped, and what the pass
counted (what the manifest records)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from evals.manifest import VerifyStatus
from evals.records import RunPlan
from evals.scan import SCAN_MODEL
from evals.store import CLOSED_STATUSES, ChainLink, RunHeader


def short(value: object) -> str:
    """A value as a problem shows it: its first characters."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 20 else text[:16] + "…"


@dataclass
class ChainWalk:
    """What one pass over a run's chain counts: results, chained results, the last chained
    link's hash and the last link's hash (streamed: a run of millions is never held whole)."""

    results: int = 0
    chained: int = 0
    head: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class ChainCheck:
    """A run's chain as one pass found it: its status (the chain alone) and what it counted;
    what `write_manifest` records, taken from the check made before publishing."""

    status: VerifyStatus
    walk: ChainWalk


def check_chain(
    header: RunHeader, links: Iterable[ChainLink], plan: RunPlan | None
) -> tuple[VerifyStatus, list[str], list[str], ChainWalk]:
    """Recompute the chain from the stored rows, in one pass: (status, problems, notes, what
    the pass counted). Holds the problems found, never the links."""
    legacy_problems: list[str] = []
    legacy = 0
    problems: list[str] = []
    notes: list[str] = []
    walk = ChainWalk()
    # The answers the plan expects: only a plan with a grid of cases asks for them.
    expecting = (
        plan is not None
        and header.status == "finished"
        and any(t.model != SCAN_MODEL for t in plan.suite.targets)
    )
    stored: set[tuple[str, str, object]] = set()
    head_at: int | None = None  # where the head the run recorded was met among chained links
    added: list[str] = []  # labels of the first links after it
    final: ChainLink | None = None

    expected_seq = 0
    before: ChainLink | None = None
    for link in links:
        walk.results += 1
        walk.last = link.chain
        if expecting:
            stored.add((link.case_id, link.target, link.sample))
        if link.unchained:
            legacy += 1
            if header.format_version >= 2:
                legacy_problems.append(
                    f"result ({link.label}) carries no chain hash although the run was recorded "
                    "with hash chaining: it was inserted, or its hash removed, outside supportgate"
                )
            continue
        walk.chained += 1
        walk.head = link.chain
        final = link
        if head_at is not None and len(added) < 10:
            added.append(link.label)
        if head_at is None and header.head is not None and link.chain == header.head:
            head_at = walk.chained
        label = f"result #{link.seq} ({link.label})"
        if link.seq is None or link.prev is None or link.chain is None:
            problems.append(f"{label} lacks part of its chain record (edited outside supportgate)")
        elif not link.intact:
            problems.append(
                f"{label} was altered after it was stored: it no longer matches its hash"
            )
        gap = link.seq is not None and link.seq > expected_seq
        taken = link.seq is not None and link.seq < expected_seq
        if gap:
            first, last = expected_seq, (link.seq or 0) - 1
            which = f"result #{first} was" if first == last else f"results #{first} to #{last} were"
            jump = f"jumps from #{first - 1} to" if first else "starts at"
            problems.append(f"{which} deleted: the chain {jump} #{link.seq}")
        elif taken and before is not None:
            problems.append(
                f"{label} was inserted: position #{link.seq} already belongs to result "
                f"#{before.seq} ({before.label})"
            )
        expected_prev = before.chain if before is not None else header.hash
        if link.intact and link.prev != expected_prev and not gap and not taken:
            if before is None:
                problems.append(
                    "the run header (suite, start time, config hash, versions, targets or plan) "
                    "was changed after the run started: the first result is chained to a "
                    "different header"
                )
            else:
                problems.append(
                    f"result #{before.seq} ({before.label}) was replaced after it was stored: "
                    f"the result after it was chained to a different version of it (altered "
                    "and its hash recomputed, or deleted and another inserted)"
                )
        expected_seq = max(expected_seq, (link.seq or 0) + 1)
        before = link
    if legacy and header.format_version < 2:
        notes.append(
            f"{legacy} result(s) were recorded before hash chaining (store format "
            f"{header.format_version}): nothing proves they are unaltered"
        )
    problems = legacy_problems + problems

    if header.head is not None and header.head != walk.head:
        if head_at is not None:
            if header.status in CLOSED_STATUSES:
                problems.append(
                    f"{walk.chained - head_at} result(s) were added after the run was "
                    f"{header.status}: " + "; ".join(added)
                )
        else:
            problems.append(
                f"the chain no longer reaches the head the run recorded when it stopped "
                f"({short(header.head)}): "
                + (
                    f"the last result #{final.seq} ({final.label}) was altered and its hash "
                    "recomputed, or results after it were deleted"
                    if final is not None
                    else "every chained result was deleted"
                )
            )
    elif header.head is None and header.status in CLOSED_STATUSES and walk.chained:
        problems.append(f"the chain head the run recorded when it was {header.status} was removed")

    if expecting and plan is not None:
        scanned = {t.name for t in plan.suite.targets if t.model == SCAN_MODEL}
        missing = [
            f"case '{c}', target '{t}', sample {s}"
            for c, t, s in plan.expected_answers()
            # A scanned bot answered some conversations, not a grid of cases and samples:
            # its deletions are caught by the chain's positions and head alone.
            if t not in scanned and (c, t, s) not in stored
        ]
        if missing:
            problems.append(
                f"the run finished but {len(missing)} of its result(s) are missing (deleted): "
                + "; ".join(missing[:10])
            )
    if problems:
        return "tampered", problems, notes, walk
    return ("unverifiable" if legacy else "intact"), problems, notes, walk
