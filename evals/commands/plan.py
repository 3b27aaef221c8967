"""The `evals plan` command: how many cases give a good chance of reaching each decision."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evals.cli_app import Command, app, examples, input_error, require_store, resolve_run_id

if TYPE_CHECKING:
    from evals.records import Risk

#: The grid of `evals plan --table`: answer failure rates per tier.
TABLE_RATES = (0.0, 0.005, 0.01, 0.025, 0.05)
TABLE_TIERS: tuple[Risk, ...] = ("low", "medium", "high", "critical")


def _rate(value: float) -> str:
    return f"{value * 100:.3g}%"


def _cases(value: int | None, limit: int) -> str:
    return f"more than {limit:,}" if value is None else f"{value:,}"


@app.command(
    cls=Command,
    short_help="Cases needed for an 80% chance of reaching assist and automate.",
    epilog=examples(
        "evals plan --tier low --k 3 --failure-rate 0.025",
        "evals plan --run latest --target acme-bot --intent plan_prices --out out",
        "evals plan --table",
    ),
)
def plan(
    tier: Annotated[
        str | None,
        typer.Option(metavar="TIER", help="risk tier: low, medium, high or critical"),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("--k", metavar="N", help="samples per case (default: the policy's k)"),
    ] = None,
    failure_rate: Annotated[
        float | None,
        typer.Option(metavar="RATE", help="true share of answers that fail, e.g. 0.025"),
    ] = None,
    crisis: Annotated[
        bool, typer.Option("--crisis", help="a crisis intent (capped at assist by default)")
    ] = False,
    dispersion: Annotated[
        float | None,
        typer.Option(
            metavar="RHO",
            help="failures cluster in cases with this intra-case correlation (0-1); "
            "default: every answer fails independently",
        ),
    ] = None,
    critical_share: Annotated[
        float,
        typer.Option(metavar="SHARE", help="share of failed answers with a critical finding"),
    ] = 0.0,
    chance: Annotated[
        float, typer.Option(metavar="P", help="the chance of reaching each decision to plan for")
    ] = 0.8,
    cases: Annotated[
        int | None,
        typer.Option(metavar="N", help="also show the chance at this many cases"),
    ] = None,
    decision_policy: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="a decision policy file (default: the bundled one)"),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run", metavar="RUN_ID", help="take tier, k and failure rate from a stored run"
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option(metavar="NAME", help="with --run: the target")
    ] = None,
    intent: Annotated[
        str | None, typer.Option(metavar="INTENT", help="with --run: the intent")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="with --run: the run store's folder")
    ] = Path("out"),
    table: Annotated[
        bool, typer.Option("--table", help="the power table: tiers x failure rates")
    ] = False,
) -> None:
    """How many cases (of k samples) give an intent a good chance (80% by default) of reaching
    assist and automate, if its answers fail at a given rate: computed exactly through the same
    decision rule that decides runs. From a stored run (--run, --target, --intent), the tier,
    k and observed failure rate are the run's."""
    from tabulate import tabulate

    from evals.decision_policy import load_decision_policy
    from evals.errors import InputError
    from evals.planning import PLAN_LIMIT, Assumptions, Planner, assumptions_from_run

    try:
        policy = load_decision_policy(decision_policy)
        if not 0 < chance < 1:
            raise InputError.single("--chance", "must be between 0 and 1 (exclusive)")
        if k is not None and not 1 <= k <= 100:
            raise InputError.single("--k", "samples per case must be between 1 and 100", field="k")
        if table:
            k_table = k if k is not None else policy.evidence.min_samples_per_case
            rows = []
            for risk in TABLE_TIERS:
                for rate in TABLE_RATES:
                    planner = Planner(policy, Assumptions(risk=risk, k=k_table, failure_rate=rate))
                    rows.append(
                        [
                            risk,
                            _rate(rate),
                            _cases(planner.cases_for("assist", chance), PLAN_LIMIT),
                            _cases(planner.cases_for("automate", chance), PLAN_LIMIT)
                            if policy.tiers[risk].automate is not None
                            else "never (tier)",
                        ]
                    )
            print(
                f"cases of {k_table} samples for a chance of {chance:.0%} of reaching each "
                f"decision (independent failures, decision policy {policy.name}@"
                f"{policy.version}):"
            )
            headers = ["tier", "failure rate", "assist", "automate"]
            print(tabulate(rows, headers=headers, disable_numparse=True))
            return
        observed = None
        if run_id is not None:
            from evals.decision_policy import plan_policy
            from evals.scorecard import build_scorecard
            from evals.store import RunStore

            if target is None or intent is None:
                raise InputError.single("--run", "give --target and --intent with --run")
            require_store(out)
            store = RunStore.in_folder(out)
            resolved = resolve_run_id(run_id, out)
            stored_plan = store.plan(resolved)
            if decision_policy is None:
                policy = plan_policy(stored_plan)
            card = build_scorecard(store.run(resolved), stored_plan, policy)
            score = card.score(target, "intent", intent)
            decision = card.decision(target, intent)
            if score is None or decision is None:
                known = sorted({(d.target, d.intent) for d in card.decisions})
                raise InputError.single(
                    "--intent",
                    f"run {resolved} has no decision for target '{target}', intent '{intent}' "
                    f"(it has: {', '.join(f'{t}/{i}' for t, i in known[:12])})",
                )
            assume = assumptions_from_run(score, decision.risk)
            observed = (score, decision)
            cases = cases or score.cases
        else:
            if tier not in TABLE_TIERS or failure_rate is None:
                raise InputError.single(
                    "--tier", "give --tier (low, medium, high, critical) and --failure-rate"
                )
            if not 0 <= failure_rate <= 1 or not 0 <= critical_share <= 1:
                raise InputError.single("--failure-rate", "rates and shares are between 0 and 1")
            if dispersion is not None and not 0 < dispersion < 1:
                raise InputError.single("--dispersion", "must be between 0 and 1 (exclusive)")
            assume = Assumptions(
                risk=next(r for r in TABLE_TIERS if r == tier),
                k=k if k is not None else policy.evidence.min_samples_per_case,
                failure_rate=failure_rate,
                kind="crisis" if crisis else "support",
                dispersion=dispersion,
                critical_share=critical_share,
            )
        if not 1 <= assume.k <= 100:
            raise InputError.single("--k", "samples per case must be between 1 and 100")
    except InputError as exc:
        input_error(exc)
    planner = Planner(policy, assume)
    model = (
        "independently"
        if assume.dispersion is None
        else f"clustered in cases (correlation {assume.dispersion:g})"
    )
    print(
        f"{assume.risk}-risk {assume.kind} intent, {assume.k} samples per case, answers failing "
        f"{model} at {_rate(round(assume.failure_rate, 6))}"
        + (f", {assume.critical_share:.0%} of failures critical" if assume.critical_share else "")
        + f"; decision policy {policy.name}@{policy.version}"
    )
    if observed is not None:
        score, decision = observed
        print(
            f"observed in run: {score.passed} of {score.answers} answers passed over "
            f"{score.cases} cases; decided {decision.outcome.replace('_', ' ')}"
        )
    rows = []
    for level in ("assist", "automate"):
        needed = planner.cases_for(level, chance)
        row = [
            level,
            _cases(needed, PLAN_LIMIT),
            "-" if needed is None else f"{needed * assume.k:,}",
        ]
        if cases:
            row.append(f"{planner.chance(cases, level):.1%}")
        rows.append(row)
    headers = ["decision", f"cases for a chance of {chance:.0%}", "answers"]
    if cases:
        headers.append(f"chance at {cases} cases")
    print(tabulate(rows, headers=headers, disable_numparse=True))
