"""A guardrail that finds nothing, for `benchmarks/scan_scale.py --noop` only: a scan with it
(and the always-on empty-answer check) times the pipeline around the checks (reading, parsing
and validating records, handing them to workers, writing findings, checkpoints, the run store)
without the checks themselves. Not a user option: it is loaded as a plugin by the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable

from evals.records import Case, Finding
from guardrails import GuardrailContext, register


@register("noop")
def noop(context: GuardrailContext) -> Callable[[Case, str], list[Finding]]:
    def run(case: Case, text: str) -> list[Finding]:
        return []

    return run
