"""Compare a candidate run with a baseline answer by answer, and say whether it got worse.

Two runs of the same suite differ by chance even when nothing changed: a sampled model answers
differently on each run. Comparing pass rates alone would flag that noise. Instead every answer is
paired with the baseline's answer to the same case and sample, and only the pairs that disagree
carry information: under no real change a pass->fail is as likely as a fail->pass, which is
McNemar's exact test (one-sided: we only stop a candidate that is worse). Testing every intent
multiplies the chances of a false alarm, so the per-intent tests and each target's overall test
form one family corrected with Holm's procedure: under no change the comparison fails at most
`alpha` of the time.

A scorecard decision (automate / assist / human) that got worse fails the comparison too, even
without a significant test: the decision is what a product owner approved. With `fail_on_new`
set, so does a finding of that severity (or worse) in an answer whose baseline answer had none:
one invented fee is not noise to wait out.

Behind the counts, every pair that changed is listed with both answers and the findings that
appeared and disappeared, and every answer without a pair is listed (`evals.compare_pairs`).
The result is an `evals.comparison.Comparison` record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from evals.compare_pairs import (
    AnswerPair,
    UnpairedAnswer,
    answer_pair,
    pairs_in_order,
    unpaired_answer,
)
from evals.compare_verdicts import judge
from evals.comparison import (
    COMPARISON_VERSION,
    UNKNOWN_INTENT,
    Comparison,
    IntentChange,
    NewFindingCode,
    NotComparable,
    Pairing,
    RunRef,
    TargetChange,
    Verdict,
    VerdictKind,
)
from evals.decision_policy import RANK
from evals.proportions import holm, mcnemar_exact
from evals.records import CaseResult, Run, RunPlan, Severity
from evals.scorecard import Scorecard, build_scorecard
from evals.verdict import result_passed

__all__ = [
    "COMPARISON_VERSION",
    "UNKNOWN_INTENT",
    "Comparison",
    "IntentChange",
    "NewFindingCode",
    "NotComparable",
    "Pairing",
    "RunRef",
    "TargetChange",
    "Verdict",
    "VerdictKind",
    "compare_runs",
    "judge",
    "pair_targets",
]


@dataclass
class _Tally:
    both_pass: int = 0
    both_fail: int = 0
    regressed: int = 0
    improved: int = 0
    baseline_only: int = 0
    candidate_only: int = 0

    def add(self, before: bool, after: bool) -> None:
        if before and after:
            self.both_pass += 1
        elif before:
            self.regressed += 1
        elif after:
            self.improved += 1
        else:
            self.both_fail += 1

    def merged(self, others: Iterable[_Tally]) -> _Tally:
        for other in others:
            self.both_pass += other.both_pass
            self.both_fail += other.both_fail
            self.regressed += other.regressed
            self.improved += other.improved
            self.baseline_only += other.baseline_only
            self.candidate_only += other.candidate_only
        return self

    @property
    def paired(self) -> int:
        return self.both_pass + self.both_fail + self.regressed + self.improved

    @property
    def p_value(self) -> float:
        return mcnemar_exact(worse=self.regressed, better=self.improved)

    def fields(self, significant: bool) -> dict[str, int | float | bool | None]:
        paired = self.paired
        return {
            "paired": paired,
            "both_pass": self.both_pass,
            "both_fail": self.both_fail,
            "regressed": self.regressed,
            "improved": self.improved,
            "baseline_only": self.baseline_only,
            "candidate_only": self.candidate_only,
            "pass_rate_before": (self.both_pass + self.regressed) / paired if paired else None,
            "pass_rate_after": (self.both_pass + self.improved) / paired if paired else None,
            "p_value": self.p_value,
            "significant": significant,
        }


def _target_names(run: Run) -> list[str]:
    names = [t.name for t in run.targets]
    return names + sorted({r.target for r in run.results} - set(names))


def pair_targets(
    baseline: Run, candidate: Run, target_map: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(baseline target, candidate target) pairs: `target_map` first, then equal names; a run
    with one target each pairs those two (a new model against the old one)."""
    before, after = _target_names(baseline), _target_names(candidate)
    pairs: list[tuple[str, str]] = []
    for old, new in (target_map or {}).items():
        if old not in before:
            raise NotComparable(
                f"target '{old}' is not in baseline run '{baseline.id}' "
                f"(its targets: {', '.join(before) or 'none'})"
            )
        if new not in after:
            raise NotComparable(
                f"target '{new}' is not in candidate run '{candidate.id}' "
                f"(its targets: {', '.join(after) or 'none'})"
            )
        if new in {n for _, n in pairs}:
            raise NotComparable(f"candidate target '{new}' is paired twice")
        pairs.append((old, new))
    taken_old, taken_new = {o for o, _ in pairs}, {n for _, n in pairs}
    pairs += [(n, n) for n in before if n in after and n not in taken_old and n not in taken_new]
    if not pairs and len(before) == 1 and len(after) == 1:
        pairs.append((before[0], after[0]))
    if not pairs:
        raise NotComparable(
            f"runs '{baseline.id}' (targets: {', '.join(before) or 'none'}) and "
            f"'{candidate.id}' (targets: {', '.join(after) or 'none'}) have no target in common; "
            "pair them explicitly (--pair BASELINE_TARGET=CANDIDATE_TARGET)"
        )
    return pairs


def _by_key(run: Run, target: str) -> dict[tuple[str, int], CaseResult]:
    return {(r.case_id, r.sample): r for r in run.results if r.target == target}


def _new_codes(before: Iterable[CaseResult], after: Iterable[CaseResult]) -> list[NewFindingCode]:
    seen = {f.code for r in before if not result_passed(r) for f in r.findings}
    answers: dict[str, int] = {}
    severity: dict[str, Severity] = {}
    for result in after:
        if result_passed(result):
            continue
        for code in {f.code for f in result.findings} - seen:
            answers[code] = answers.get(code, 0) + 1
        for f in result.findings:
            severity.setdefault(f.code, f.severity)
    return [
        NewFindingCode(code=code, severity=severity[code], answers=n)
        for code, n in sorted(answers.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _run_ref(run: Run, card: Scorecard) -> RunRef:
    return RunRef(
        id=run.id,
        suite=run.suite,
        status=run.status,
        started=run.started,
        config_hash=run.config_hash,
        versions=run.versions,
        decision_policy=card.decision_policy,
    )


def compare_runs(
    baseline: Run,
    baseline_plan: RunPlan,
    candidate: Run,
    candidate_plan: RunPlan,
    *,
    alpha: float = 0.05,
    target_map: dict[str, str] | None = None,
    fail_on_new: Severity | None = None,
) -> Comparison:
    """Pair the runs' answers by (target, case, sample) and judge every change.

    Raises NotComparable when no target pairs, or when the paired targets share no answer."""
    if not 0 < alpha < 1:
        raise NotComparable(f"alpha must be between 0 and 1 (exclusive), not {alpha}")
    pairs = pair_targets(baseline, candidate, target_map)
    cases_before = {c.id: c for c in baseline_plan.cases}
    cases_after = {c.id: c for c in candidate_plan.cases}

    def intent_of(case_id: str) -> str:
        case = cases_after.get(case_id) or cases_before.get(case_id)
        return case.intent if case is not None else UNKNOWN_INTENT

    card_before = build_scorecard(baseline, baseline_plan)
    card_after = build_scorecard(candidate, candidate_plan)

    tallies: dict[tuple[int, str], _Tally] = {}
    changed: list[AnswerPair] = []
    unpaired: list[UnpairedAnswer] = []
    for index, (old, new) in enumerate(pairs):
        before, after = _by_key(baseline, old), _by_key(candidate, new)
        for key in sorted(before.keys() | after.keys()):
            intent = intent_of(key[0])
            tally = tallies.setdefault((index, intent), _Tally())
            b, a = before.get(key), after.get(key)
            if a is None and b is not None:
                tally.baseline_only += 1
                unpaired.append(unpaired_answer("baseline", intent, b))
            elif b is None and a is not None:
                tally.candidate_only += 1
                unpaired.append(unpaired_answer("candidate", intent, a))
            elif a is not None and b is not None:
                tally.add(result_passed(b), result_passed(a))
                pair = answer_pair(old, new, intent, b, a)
                if pair is not None:
                    changed.append(pair)
        for intent in {d.intent for d in card_before.decisions if d.target == old} | {
            d.intent for d in card_after.decisions if d.target == new
        }:
            tallies.setdefault((index, intent), _Tally())
    if not any(t.paired for t in tallies.values()):
        described = ", ".join(old if old == new else f"{old} -> {new}" for old, new in pairs)
        raise NotComparable(
            f"runs '{baseline.id}' and '{candidate.id}' share no answer to compare for "
            f"target(s) {described}: no (case, sample) is in both"
        )

    # Holm across every per-intent test. An intent without discordant pairs is left out of the
    # family: its exact p is 1 whatever happens, so it could never be rejected and would only
    # make the others harder to flag (the test conditions on the number of discordant pairs).
    # Each target's overall test joins the same family, so the exit code (any rejection) keeps
    # its false-alarm rate at `alpha` under no change (a separate overall test at `alpha` made
    # it about 6% in simulation).
    overall_of = {
        index: _Tally().merged(t for (i, _), t in tallies.items() if i == index)
        for index in range(len(pairs))
    }
    family = {
        f"{index}\x00{intent}": t.p_value
        for (index, intent), t in tallies.items()
        if t.regressed + t.improved
    } | {
        f"{index}\x00\x00overall": t.p_value
        for index, t in overall_of.items()
        if t.regressed + t.improved
    }
    rejected = holm(family, alpha)

    grouped_before = _by_intent(baseline.results, intent_of)
    grouped_after = _by_intent(candidate.results, intent_of)
    targets: list[TargetChange] = []
    for index, (old, new) in enumerate(pairs):
        mine = sorted((intent, t) for (i, intent), t in tallies.items() if i == index)
        intents = []
        for intent, tally in mine:
            before_d = card_before.decision(old, intent)
            after_d = card_after.decision(new, intent)
            worse = (
                before_d is not None
                and after_d is not None
                and RANK[after_d.outcome] < RANK[before_d.outcome]
            )
            intents.append(
                IntentChange(
                    **tally.fields(f"{index}\x00{intent}" in rejected),
                    intent=intent,
                    decision_before=before_d.outcome if before_d else None,
                    decision_after=after_d.outcome if after_d else None,
                    decision_worse=worse,
                    new_findings=_new_codes(
                        grouped_before.get((old, intent), []), grouped_after.get((new, intent), [])
                    ),
                )
            )
        overall = overall_of[index]
        significant = overall.regressed > 0 and f"{index}\x00\x00overall" in rejected
        targets.append(
            TargetChange(
                baseline_target=old,
                candidate_target=new,
                overall=Pairing(**overall.fields(significant)),
                intents=intents,
            )
        )

    paired_old, paired_new = {o for o, _ in pairs}, {n for _, n in pairs}
    draft = Comparison(
        alpha=alpha,
        baseline=_run_ref(baseline, card_before),
        candidate=_run_ref(candidate, card_after),
        policies_differ=card_before.decision_policy.hash != card_after.decision_policy.hash,
        targets=targets,
        baseline_only_targets=_answers_of(baseline, paired_old),
        candidate_only_targets=_answers_of(candidate, paired_new),
        changed_cases=sorted(
            case_id
            for case_id, case in cases_after.items()
            if case_id in cases_before and cases_before[case_id] != case
        ),
        pairs=pairs_in_order(changed),
        unpaired=unpaired,
        fail_on_new=fail_on_new,
        verdicts=[],
        failed=False,
    )
    verdicts = judge(draft)
    return draft.model_copy(update={"verdicts": verdicts, "failed": any(v.fails for v in verdicts)})


def _by_intent(
    results: Iterable[CaseResult], intent_of: Callable[[str], str]
) -> dict[tuple[str, str], list[CaseResult]]:
    grouped: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        grouped.setdefault((result.target, intent_of(result.case_id)), []).append(result)
    return grouped


def _answers_of(run: Run, paired: set[str]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys((n for n in _target_names(run) if n not in paired), 0)
    for result in run.results:
        if result.target in counts:
            counts[result.target] += 1
    return counts
