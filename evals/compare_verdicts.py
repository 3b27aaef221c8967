"""A comparison in plain language: one verdict per thing a reviewer should know, and which of
them fail it (a significant regression, a worse decision, a new finding under `fail_on_new`).
"""

from __future__ import annotations

from evals.compare_pairs import new_severity
from evals.comparison import Comparison, Verdict
from evals.decision_policy import Outcome
from evals.records import Severity


def _outcome(outcome: Outcome) -> str:
    return outcome.replace("_", " ")


def _p(value: float) -> str:
    return f"{value:.2g}" if value < 0.001 else f"{value:.3g}"


def _new_severity_verdicts(comparison: Comparison) -> list[Verdict]:
    """One verdict per pair where a finding of the `fail_on_new` severity or worse appeared in
    an answer whose baseline answer had none. Without `fail_on_new`, new critical findings are
    still named, as notes."""
    threshold: Severity = comparison.fail_on_new or "critical"
    fails = comparison.fail_on_new is not None
    several = len(comparison.targets) > 1
    out: list[Verdict] = []
    for pair in comparison.pairs:
        found = new_severity(pair, threshold)
        if not found:
            continue
        prefix = f"[{pair.candidate_target}] " if several else ""
        what = "; ".join(f"{f.code} ({f.severity}: {f.message})" for f in found)
        worse = "" if threshold == "critical" else " or worse"
        had = (
            "its baseline call failed (nothing was checked)"
            if pair.before.error is not None
            else f"its baseline answer had no {threshold}{worse} finding"
        )
        out.append(
            Verdict(
                kind="new_severity",
                fails=fails,
                target=pair.candidate_target,
                intent=pair.intent,
                case_id=pair.case_id,
                sample=pair.sample,
                text=f"{prefix}{pair.intent}: case {pair.case_id} sample {pair.sample}: new "
                f"{threshold}{worse} finding {what}; {had}",
            )
        )
    return out


def judge(comparison: Comparison) -> list[Verdict]:
    """The comparison in plain language, one verdict per thing a reviewer should know."""
    alpha = comparison.alpha
    out: list[Verdict] = []
    several = len(comparison.targets) > 1
    before, after = comparison.baseline, comparison.candidate
    if comparison.policies_differ:
        out.append(
            Verdict(
                kind="policy_changed",
                fails=False,
                text=f"decision policies differ (baseline {before.decision_policy.ident}, "
                f"candidate {after.decision_policy.ident}): a decision change may come from the "
                "policy rather than the model",
            )
        )
    if comparison.changed_cases:
        shown = ", ".join(comparison.changed_cases[:5])
        more = len(comparison.changed_cases) - 5
        out.append(
            Verdict(
                kind="cases_changed",
                fails=False,
                text=f"{len(comparison.changed_cases)} case(s) differ in content between the "
                f"runs ({shown}{f', and {more} more' if more > 0 else ''}); their answers are "
                "paired by case id anyway",
            )
        )
    for side, ref in (("baseline", before), ("candidate", after)):
        if ref.status != "finished":
            out.append(
                Verdict(
                    kind="incomplete_run",
                    fails=False,
                    text=f"the {side} run '{ref.id}' is {ref.status}, not finished: answers it "
                    "lacks are counted as unpaired",
                )
            )
    for target in comparison.targets:
        prefix = f"[{target.label}] " if several else ""
        name = target.candidate_target
        if not several and target.baseline_target != target.candidate_target:
            out.append(
                Verdict(
                    kind="pairing",
                    fails=False,
                    target=name,
                    text=f"compared baseline target '{target.baseline_target}' with candidate "
                    f"target '{target.candidate_target}'",
                )
            )
        for change in target.intents:
            where = f"{prefix}{change.intent}: "
            if change.regressed or change.improved:
                flagged = change.regressed > 0 and change.significant
                judged = (
                    f"Holm-adjusted significant at {alpha:g}"
                    if flagged
                    else f"not significant at {alpha:g} after Holm"
                )
                out.append(
                    Verdict(
                        kind="regression" if change.regressed >= change.improved else "improvement",
                        fails=flagged,
                        target=name,
                        intent=change.intent,
                        text=f"{where}{change.regressed} answers regressed, {change.improved} "
                        f"improved, McNemar p={_p(change.p_value)} ({judged})",
                    )
                )
            b, a = change.decision_before, change.decision_after
            if b is not None and a is not None and b != a:
                out.append(
                    Verdict(
                        kind="decision_worse" if change.decision_worse else "decision_better",
                        fails=change.decision_worse,
                        target=name,
                        intent=change.intent,
                        text=f"{where}decision {_outcome(b)} -> {_outcome(a)}",
                    )
                )
            if change.new_findings:
                codes = ", ".join(f"{c.code} ({c.answers} answers)" for c in change.new_findings)
                out.append(
                    Verdict(
                        kind="new_findings",
                        fails=False,
                        target=name,
                        intent=change.intent,
                        text=f"{where}finding codes new in the candidate's failing answers: "
                        + codes,
                    )
                )
        total = target.overall
        if total.regressed or total.improved:
            flagged = total.regressed > 0 and total.significant
            out.append(
                Verdict(
                    kind="regression" if total.regressed >= total.improved else "improvement",
                    fails=flagged,
                    target=name,
                    text=f"{prefix}all intents: {total.regressed} answers regressed, "
                    f"{total.improved} improved, McNemar p={_p(total.p_value)} "
                    f"({'significant' if flagged else 'not significant'} at {alpha:g})",
                )
            )
        if total.baseline_only or total.candidate_only:
            lopsided = [
                f"{c.intent} {c.baseline_only}/{c.candidate_only}"
                for c in target.intents
                if c.baseline_only or c.candidate_only
            ]
            out.append(
                Verdict(
                    kind="unpaired",
                    fails=False,
                    target=name,
                    text=f"{prefix}{total.baseline_only} answers only in the baseline and "
                    f"{total.candidate_only} only in the candidate were not compared "
                    f"(per intent, baseline/candidate: {', '.join(lopsided)})",
                )
            )
    out += _new_severity_verdicts(comparison)
    for side, extra in (
        ("baseline", comparison.baseline_only_targets),
        ("candidate", comparison.candidate_only_targets),
    ):
        for name, answers in extra.items():
            out.append(
                Verdict(
                    kind="unpaired",
                    fails=False,
                    target=name,
                    text=f"target '{name}' is only in the {side} run ({answers} answers, "
                    "not compared)",
                )
            )
    if not any(
        v.kind in ("regression", "improvement", "decision_worse", "decision_better") for v in out
    ):
        paired = sum(t.overall.paired for t in comparison.targets)
        out.append(
            Verdict(
                kind="no_change",
                fails=False,
                text=f"no change: all {paired} paired answers agree and no decision changed",
            )
        )
    return out
