"""`evals calibrate`: bad input is named (file, line, record, field) with exit 2; a scripted judge
that agrees with the labels is calibrated and may gate, and the figures it writes are right; the
bundled 135M model, replayed from its recorded verdicts, is refused for gating and its findings
stay advisory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import write_suite
from typer.testing import CliRunner

from evals.cli import app
from evals.errors import InputError
from evals.judge.calibration import figures, read_calibration

SMOLLM2 = Path(__file__).resolve().parent / "judge_smollm2"
ROOT = Path(__file__).resolve().parents[2]
CLEAN = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
FAULT = "Tu reembolso de EUR 10.00 llegará mañana y te regalamos un cupón."


def judge_reply(flag: bool) -> str:
    claims = (
        [
            {
                "text": "te regalamos un cupón",
                "check": "policy",
                "verdict": "unsupported",
                "cite": None,
                "reason": "no coupon clause",
            }
        ]
        if flag
        else []
    )
    return json.dumps({"claims": claims}, ensure_ascii=False)


def labelled_suite(root: Path, n: int = 40, judge: dict[str, Any] | None = None) -> Path:
    """A suite whose scripted judge flags exactly the labelled faults, n responses (half faulty),
    and a decision policy whose judge thresholds that sample can clear."""
    from builders import case_dict

    cases = [case_dict(f"c{i:03d}") for i in range(n)]
    labelled = [
        {
            "id": f"l{i:03d}",
            "case": f"c{i:03d}",
            "response": FAULT if i % 2 else CLEAN,
            "families": ["policy"] if i % 2 else [],
        }
        for i in range(n)
    ]
    (root / "labelled").mkdir(parents=True)
    (root / "labelled" / "acme.yaml").write_text(
        yaml.safe_dump(labelled, allow_unicode=True), encoding="utf-8"
    )
    policy = yaml.safe_load(
        (
            Path(__file__).resolve().parents[2] / "evals" / "data" / "decision_policy.yaml"
        ).read_text()
    )
    policy["judge"] = {"min_positives": 10, "min_precision": 0.8, "min_recall": 0.8}
    (root / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    replies = [judge_reply(bool(i % 2)) for i in range(n)]
    config = {
        "model": "fake/scripted",
        "params": {"extra": {"replies": replies}},
        "checks": ["policy"],
        "on": "all",
        "concurrency": 1,
        "calibration": "calibration.json",
        **(judge or {}),
    }
    return write_suite(
        root,
        cases=cases,
        targets=[{"name": "ref", "model": "reference"}],
        extra={"judge": config, "decision_policy": "policy.yaml", "concurrency": 1},
    )


def test_bad_input_is_named_with_file_line_record_and_field(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = write_suite(tmp_path / "plain", n_cases=1)
    done = runner.invoke(app, ["calibrate", str(plain), "--labelled", str(plain)])
    assert done.exit_code == 2 and "configures no judge" in done.output

    suite = labelled_suite(tmp_path / "s", n=2)
    done = runner.invoke(app, ["calibrate", str(suite)])
    assert done.exit_code == 2 and "--labelled" in done.output
    stray = tmp_path / "stray.yaml"
    stray.write_text("- id: x1\n  case: nowhere\n  response: hola\n  families: []\n")
    done = runner.invoke(app, ["calibrate", str(suite), "--labelled", str(stray)])
    assert done.exit_code == 2
    assert f"{stray}:2" in done.output and "x1" in done.output and "case" in done.output
    assert "Traceback" not in done.output


def test_an_edited_calibration_file_is_refused_by_run_and_read(tmp_path: Path) -> None:
    suite = labelled_suite(tmp_path, n=4)
    runner = CliRunner()
    done = runner.invoke(app, ["calibrate", str(suite), "--labelled", str(tmp_path / "labelled")])
    assert done.exit_code == 0, done.output
    path = tmp_path / "calibration.json"
    data = json.loads(path.read_text())
    data["families"]["policy"]["tp"] += 100
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="edited"):
        read_calibration(path)
    done = runner.invoke(app, ["run", str(suite), "-q"])
    assert done.exit_code == 2 and "calibration" in done.output


def test_a_judge_that_agrees_with_the_labels_is_calibrated_and_gates(tmp_path: Path) -> None:
    suite = labelled_suite(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["calibrate", str(suite), "--labelled", str(tmp_path / "labelled")])
    assert done.exit_code == 0, done.output
    assert "may gate: ['policy']" in done.output
    calibration = read_calibration(tmp_path / "calibration.json")
    policy = calibration.families["policy"]
    assert (policy.tp, policy.fp, policy.fn, policy.tn) == (20, 0, 0, 20)
    assert policy.kappa == 1.0 and policy.precision_ci.low > 0.8
    assert calibration.by_language["es"]["policy"] == policy
    assert len(calibration.fingerprint.labelled_sha256) == 64

    # The calibrated judge gates: the reference answers pass every rule, and the half the
    # judge flags now fail, critical, so the run fails.
    done = runner.invoke(app, ["run", str(suite), "-q", "--out", str(tmp_path / "gating")])
    assert done.exit_code == 1, done.output
    card = json.loads(next((tmp_path / "gating").glob("reports/*/scorecard.json")).read_text())
    assert card["judge"]["status"]["state"] == "calibrated"
    failing = card["failing"]
    assert failing and all(
        [f["code"] for f in r["findings"]] == ["judge.unsupported"]
        and r["findings"][0]["severity"] == "critical"
        for r in failing
    )

    # Any change to the judge (here its max_tokens) makes the calibration stale: advisory.
    data = yaml.safe_load(suite.read_text())
    data["judge"]["params"]["max_tokens"] = 50
    suite.write_text(yaml.safe_dump(data, allow_unicode=True))
    done = runner.invoke(app, ["run", str(suite), "-q", "--out", str(tmp_path / "stale")])
    assert done.exit_code == 0, done.output
    card = json.loads(next((tmp_path / "stale").glob("reports/*/scorecard.json")).read_text())
    assert card["judge"]["status"]["state"] == "uncalibrated"
    assert "stale" in card["judge"]["status"]["reasons"][0]
    assert card["judge"]["advisory_answers"] > 0 and not card["failing"]


def test_figures_match_hand_computed_values() -> None:
    f = figures(tp=8, fp=2, fn=4, tn=6)
    assert f.precision == 0.8 and f.recall == pytest.approx(8 / 12)
    # kappa: observed 14/20, expected (10*12 + 10*8)/400 = 0.5
    assert f.kappa == pytest.approx((0.7 - 0.5) / 0.5)
    assert 0.44 < f.precision_ci.low < 0.5 and 0.94 < f.precision_ci.high < 0.97


def test_the_bundled_model_as_judge_is_refused_for_gating_and_stays_advisory(
    tmp_path: Path,
) -> None:
    """Replays the verdicts the real local/smollm2 gave (recorded in judge_smollm2/cassettes):
    its calibration is poor, so its findings are advisory and count in no gate."""
    import shutil

    work = tmp_path / "judge_smollm2"
    shutil.copytree(SMOLLM2, work, ignore=shutil.ignore_patterns("out"))
    suite = work / "suite.yaml"
    text = suite.read_text(encoding="utf-8").replace("../../../cases", str(ROOT / "cases"))
    suite.write_text(text, encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(
        app,
        ["calibrate", str(suite), "--labelled", str(work / "labelled.yaml"), "--replay", "replay"],
    )
    assert done.exit_code == 0, done.output
    assert "may gate" not in done.output and "advisory (may not gate)" in done.output
    calibration = read_calibration(work / "calibration.json")
    assert calibration.fingerprint.model == "local/smollm2" and calibration.responses == 4
    # what the real model did: it copied the prompt's JSON example until max_tokens cut it
    # off, twice per response, so every response is a judge error and nothing is calibrated
    assert calibration.errors == 4
    recorded = (work / "cassettes" / "judge" / "judge.jsonl").read_text().splitlines()
    assert len(recorded) == 10 and all('"model":"local/smollm2"' in line for line in recorded)
    done = runner.invoke(
        app, ["run", str(suite), "-q", "--replay", "replay", "--out", str(work / "out")]
    )
    assert done.exit_code == 0, done.output  # the reference answers pass; nothing the judge
    card = json.loads(next((work / "out" / "reports").glob("*/scorecard.json")).read_text())
    assert card["judge"]["status"]["gating"] == []  # says can fail them
    assert all(s["pass_rate"] == 1.0 for s in card["scores"] if s["group"] == "target")
    assert card["judge"]["advisory_answers"] == 1
    markdown = next((work / "out" / "reports").glob("*/report.md")).read_text()
    advisory = markdown.split("### judge (uncalibrated)", 1)[1]
    assert "judge.error" in advisory and "did not validate twice" in advisory
