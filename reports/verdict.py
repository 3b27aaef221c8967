"""The run's verdict in one line and a few facts: what passed and what did not.

A report opens on this. It must never read as a success over failing answers, so the colour
depends on the answers as well as on the gates:

- `pass` (green): every gate passed AND every answer passed (and there was at least one);
- `warn` (amber): the gates passed, but some answers failed (or none was scored);
- `fail` (red): a gate failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from evals.scorecard import Scorecard
from reports.tables import OUTCOME_LABELS

State = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Totals:
    """Answers over every target."""

    answers: int
    failed: int
    errors: int
    critical: int

    @property
    def not_passed(self) -> int:
        return self.failed + self.errors


@dataclass(frozen=True)
class Verdict:
    state: State
    headline: str
    gate_failures: tuple[str, ...]
    facts: tuple[str, ...]


def totals(card: Scorecard) -> Totals:
    """Sum the per-target scores; the failing list counts too, should it hold more."""
    per_target = [s for s in card.scores if s.group == "target"]
    failed = sum(s.failed for s in per_target)
    errors = sum(s.errors for s in per_target)
    listed_errors = sum(1 for r in card.failing if r.response.error is not None)
    errors = max(errors, listed_errors)
    failed = max(failed, len(card.failing) - errors)
    return Totals(
        answers=max(sum(s.answers for s in per_target), failed + errors),
        failed=failed,
        errors=errors,
        critical=sum(s.critical_answers for s in per_target),
    )


def judge(
    gate_failures: list[str],
    t: Totals,
    decisions: Counter[str],
    gates_off: tuple[str, ...] = (),
) -> Verdict:
    """The verdict from the gates' failures, the answer totals and the decisions reached;
    `gates_off` names the switched-off gates that let something through."""
    n = t.not_passed
    if gate_failures:
        state: State = "fail"
        headline = f"Gates FAILED ({len(gate_failures)}): {n} of {t.answers} answers failed"
    elif t.answers == 0:
        state, headline = "warn", "Gates passed, but no answer was scored"
    elif n:
        state = "warn"
        headline = f"Gates passed, but {n} of {t.answers} answers failed"
    else:
        state, headline = "pass", f"All gates passed; all {t.answers} answers passed"
    facts = [
        f"answers: {t.answers} scored, {t.answers - n} passed, {t.failed} failed a guardrail, "
        f"{t.errors} provider errors",
        f"{t.critical} of {t.answers} answers with a critical finding",
    ]
    facts += [f"gate off: {reason}" for reason in gates_off]
    if decisions:
        facts.append(
            "decisions: " + ", ".join(f"{decisions[o]} {OUTCOME_LABELS[o]}" for o in OUTCOME_LABELS)
        )
    return Verdict(state, headline, tuple(gate_failures), tuple(facts))


def verdict(card: Scorecard) -> Verdict:
    off = tuple(c.reason for c in card.gates.checks if c.status == "off" and c.observed)
    return judge(card.gate_failures, totals(card), Counter(d.outcome for d in card.decisions), off)
