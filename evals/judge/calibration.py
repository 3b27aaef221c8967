"""Calibration: how far the judge agrees with people who labelled answers, and the file that
says so.

`evals calibrate` runs the suite's judge over labelled responses (the `cases/labelled` format:
each response lists the guardrail families it must trigger) and counts, per family the judge
checks (policy, facts, and rubric against the `tone` label) and per language, the judge's true
and false positives and negatives. A family counts as predicted when the judge raises any
finding of it; a response on which the judge errored counts in `errors`, not in the confusion
counts (an error rate is a threshold of its own). The figures: precision, recall and F1 with
95% Wilson intervals, and Cohen's kappa against the labels.

The file holds a fingerprint of what was calibrated (judge model, parameters, checks, votes,
prompt hash, and the labelled set's hash): a run whose judge differs in any of the judge's parts
finds its calibration stale (evals/judge/status.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from evals.errors import InputError
from evals.judge.calls import judge_target
from evals.judge.config import CHECKS, JudgeConfig
from evals.judge.findings import CHECK_OF_CODE, FAMILY_OF_CHECK
from evals.judge.prompt import prompt_hash
from evals.proportions import wilson
from evals.records import Record, content_hash

#: Version of the calibration file's JSON.
CALIBRATION_VERSION = 1
#: A calibration file larger than this is not read.
MAX_CALIBRATION_BYTES = 16 * 1024 * 1024


class Fingerprint(Record):
    """What a calibration measured: change any judge part and it no longer applies."""

    model: str
    params: dict[str, Any]
    checks: list[str]
    votes: int
    prompt_sha256: str = Field(description="the judge prompt's version (template and checks)")
    labelled_sha256: str = Field(description="hash of the labelled responses and their cases")

    def judge_part(self) -> dict[str, Any]:
        return self.model_dump(exclude={"labelled_sha256"})


def judge_fingerprint(config: JudgeConfig, labelled_sha256: str = "") -> Fingerprint:
    target = judge_target(config)
    return Fingerprint(
        model=config.model,
        params=target.identity()["params"],
        checks=list(config.checks),
        votes=config.votes,
        prompt_sha256=prompt_hash(),
        labelled_sha256=labelled_sha256,
    )


class Interval(Record):
    low: float
    high: float


class Figures(Record):
    """One family's agreement with the labels."""

    responses: int = Field(description="labelled responses judged without error")
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None = Field(description="None: the judge flagged nothing")
    precision_ci: Interval
    recall: float | None = Field(description="None: no labelled fault of this family")
    recall_ci: Interval
    f1: float | None
    kappa: float | None = Field(description="Cohen's kappa; None when undefined")


def figures(tp: int, fp: int, fn: int, tn: int) -> Figures:
    n = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    kappa = None
    if n:
        observed = (tp + tn) / n
        expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
        kappa = (observed - expected) / (1 - expected) if expected < 1 else None
    p_low, p_high = wilson(tp, tp + fp)
    r_low, r_high = wilson(tp, tp + fn)
    return Figures(
        responses=n,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=precision,
        precision_ci=Interval(low=p_low, high=p_high),
        recall=recall,
        recall_ci=Interval(low=r_low, high=r_high),
        f1=f1,
        kappa=kappa,
    )


class Usage(Record):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: float = 0.0


class Calibration(Record):
    """The calibration file (`evals calibrate --out`)."""

    schema_version: int = CALIBRATION_VERSION
    written: str
    suite: str
    fingerprint: Fingerprint
    labelled: list[str] = Field(description="the labelled files, as given")
    responses: int = Field(description="labelled responses judged")
    errors: int = Field(description="responses on which the judge errored")
    families: dict[str, Figures] = Field(
        description="per check (policy, facts, rubric: labelled tone), as the labels say"
    )
    by_language: dict[str, dict[str, Figures]] = Field(
        description="per language (the case's primary subtag), per family"
    )
    usage: Usage
    sha256: str = Field(default="", description="hash of every other field")

    def figures_for(self, checks: Iterable[str]) -> dict[str, Figures]:
        return {c: self.families[c] for c in checks if c in self.families}

    def body_hash(self) -> str:
        return content_hash(self.model_dump_json(exclude={"sha256"}), 64)


class Observation(Record):
    """One labelled response as the judge saw it."""

    id: str
    language: str
    labels: list[str] = Field(description="checks whose family the labels say must be raised")
    predicted: list[str] | None = Field(description="checks the judge raised; None: error")


def checks_raised(codes: Iterable[str]) -> list[str]:
    """The checks (policy, facts, rubric) that findings with these codes belong to."""
    raised = {CHECK_OF_CODE[c] for c in codes if c in CHECK_OF_CODE}
    return [c for c in CHECKS if c in raised]


def checks_labelled(families: Iterable[str]) -> list[str]:
    """The checks whose labelled family (policy, facts, tone for rubric) a response carries."""
    labelled = set(families)
    return [c for c in CHECKS if FAMILY_OF_CHECK[c] in labelled]


def tabulate_observations(
    observations: list[Observation], checks: list[str]
) -> tuple[dict[str, Figures], dict[str, dict[str, Figures]]]:
    families: list[str] = [c for c in CHECKS if c in checks]
    counts: dict[tuple[str, str], list[int]] = {}
    for item in observations:
        if item.predicted is None:
            continue
        for family in families:
            expected = family in item.labels
            got = family in item.predicted
            slot = (0 if got else 2) if expected else (1 if got else 3)
            for key in ((family, "all"), (family, item.language)):
                counts.setdefault(key, [0, 0, 0, 0])[slot] += 1
    overall = {f: figures(*counts.get((f, "all"), [0, 0, 0, 0])) for f in families}
    languages = sorted({lang for _, lang in counts if lang != "all"})
    by_language = {
        lang: {f: figures(*counts[(f, lang)]) for f in families if (f, lang) in counts}
        for lang in languages
    }
    return overall, by_language


def write_calibration(calibration: Calibration, path: Path) -> None:
    sealed = calibration.model_copy(update={"sha256": calibration.body_hash()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sealed.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_calibration(path: Path, *, field: str = "judge.calibration") -> Calibration:
    """Read a calibration file; a missing, oversized, unparsable or edited file is an input
    error naming the file and what is wrong."""
    if not path.is_file():
        raise InputError.single(path, "calibration file not found", field=field)
    if path.stat().st_size > MAX_CALIBRATION_BYTES:
        raise InputError.single(path, "calibration file over 16 MiB", field=field)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration.model_validate(data)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            message = f"not a calibration file: {where}: {first['msg']}"
        else:
            message = f"not a calibration file: {str(exc)[:200]}"
        raise InputError.single(path, message, field=field) from None
    if calibration.sha256 != calibration.body_hash():
        raise InputError.single(
            path,
            "calibration file edited since `evals calibrate` wrote it (its sha256 does not "
            "match its content); calibrate again",
            field=field,
        )
    return calibration
