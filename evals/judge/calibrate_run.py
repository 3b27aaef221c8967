"""`evals calibrate`'s engine: the suite's judge over labelled responses, scored against the
labels (evals/judge/calibration.py), with every call recorded and replayed like a run's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evals.case_files import YAML_SUFFIXES, Located, expand, located_labelled_from_yaml
from evals.errors import InputError, InputIssue
from evals.judge.calibration import (
    Calibration,
    Observation,
    Usage,
    checks_labelled,
    checks_raised,
    judge_fingerprint,
    tabulate_observations,
)
from evals.judge.config import CHECKS, JudgeConfig
from evals.records import Case, LabelledResponse, PolicyBook, ReplayMode, content_hash
from evals.yaml_lines import load_yaml


@dataclass
class CalibrationInputs:
    suite_name: str
    suite_path: Path
    judge: JudgeConfig
    cases: dict[str, Case]
    policies: dict[str, PolicyBook]
    labelled: list[Located[LabelledResponse]]
    files: list[str]
    replay_dir: Path
    mode: ReplayMode
    concurrency: int


def gather_calibration(
    suite_path: Path, labelled_paths: list[Path], mode: ReplayMode | None, limit: int | None
) -> CalibrationInputs:
    """The suite's judge, cases and policy books, and the labelled responses; raise InputError
    naming every problem (file, line, record, field)."""
    from evals.suite_file import gather_suite

    inputs = gather_suite(suite_path, replay_mode=mode, default_mode="auto")
    issues = [i for i in inputs.issues if i.field not in ("output", "--out")]
    suite = inputs.suite
    if suite.judge is None:
        issues.append(
            InputIssue(
                str(inputs.suite_path),
                "the suite configures no judge; add `judge: {model: ...}` (docs/judge.md)",
                field="judge",
            )
        )
    if not labelled_paths:
        issues.append(
            InputIssue(str(inputs.suite_path), "give the labelled responses: --labelled PATH")
        )
    cases = {c.item.id: c.item for c in inputs.cases}
    labelled: list[Located[LabelledResponse]] = []
    files: list[str] = []
    for root in labelled_paths:
        if not root.exists():
            issues.append(InputIssue(str(root), "labelled responses not found", field="--labelled"))
            continue
        for path in expand(root, YAML_SUFFIXES):
            files.append(str(path))
            data, lines = load_yaml(path)
            if not isinstance(data, list):
                issues.append(InputIssue(str(path), "a labelled file is a list of responses"))
                continue
            for located in located_labelled_from_yaml(path, data, lines, issues):
                if located.item.case not in cases:
                    issues.append(
                        located.issue(
                            f"case '{located.item.case}' is not among the suite's cases",
                            record=located.item.id,
                            field="case",
                        )
                    )
                    continue
                labelled.append(located)
    if labelled_paths and not labelled and not issues:
        issues.append(InputIssue(", ".join(map(str, labelled_paths)), "no labelled response"))
    if issues or suite.judge is None:
        raise InputError(issues)
    return CalibrationInputs(
        suite_name=suite.name,
        suite_path=inputs.suite_path,
        judge=suite.judge,
        cases=cases,
        policies=inputs.policies,
        labelled=labelled[:limit] if limit is not None else labelled,
        files=files,
        replay_dir=(inputs.suite_path.parent / suite.replay.dir).resolve(),
        mode=suite.replay.mode or "auto",
        concurrency=suite.concurrency,
    )


def labelled_hash(inputs: CalibrationInputs) -> str:
    """The labelled set's identity: every response judged and the case it answers."""
    parts = [
        located.item.model_dump_json() + inputs.cases[located.item.case].model_dump_json()
        for located in inputs.labelled
    ]
    return content_hash("\n".join(parts), 64)


async def run_calibration(
    inputs: CalibrationInputs, *, advance: Callable[[], None] | None = None
) -> Calibration:
    """Judge every labelled response (as a gating judge would) and score it against its labels."""
    from evals.judge.calls import JudgeCaller
    from evals.runner import call_with_retries

    caller = JudgeCaller(
        inputs.judge,
        replay_dir=inputs.replay_dir,
        mode=inputs.mode,
        call=call_with_retries,
        suite_path=str(inputs.suite_path),
        concurrency=inputs.concurrency,
    )
    usage = Usage()

    async def one(located: Located[LabelledResponse]) -> Observation:
        nonlocal usage
        item = located.item
        case = inputs.cases[item.case]
        outcome = await caller.judge(
            case, inputs.policies[case.company], item.response, gating=CHECKS
        )
        spent = outcome.usage
        usage = Usage(
            calls=usage.calls + spent.calls,
            prompt_tokens=usage.prompt_tokens + (spent.prompt_tokens or 0),
            completion_tokens=usage.completion_tokens + (spent.completion_tokens or 0),
            cost_usd=(usage.cost_usd or 0.0) + spent.cost_usd
            if spent.cost_usd is not None
            else usage.cost_usd,
            latency_ms=round(usage.latency_ms + (spent.latency_ms or 0.0), 3),
        )
        if advance is not None:
            advance()
        failed = outcome.error is not None or outcome.skipped is not None
        return Observation(
            id=item.id,
            language=case.language.split("-")[0],
            labels=checks_labelled(item.families),
            predicted=None if failed else checks_raised(f.code for f in outcome.findings),
        )

    try:
        observations = list(await asyncio.gather(*(one(x) for x in inputs.labelled)))
    finally:
        await caller.close()
    overall, by_language = tabulate_observations(observations, list(inputs.judge.checks))
    return Calibration(
        written=datetime.now(UTC).isoformat(timespec="seconds"),
        suite=inputs.suite_name,
        fingerprint=judge_fingerprint(inputs.judge, labelled_hash(inputs)),
        labelled=inputs.files,
        responses=len(observations),
        errors=sum(o.predicted is None for o in observations),
        families=overall,
        by_language=by_language,
        usage=usage,
    )
