"""JUnit XML: one testcase per case and target, failing with the findings' messages, and one
testcase per gate check (failed: <failure>, switched off: <skipped>).

A case passes when its samples pass under the suite's flaky policy (`gates.flaky`); a case
whose every sample failed with a provider error is an <error>, not a <failure>. The body lists
the failing samples with their findings and evidence. Text that XML
1.0 cannot carry (control characters a model may emit) is replaced, never dropped silently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from evals.gates import case_passes
from evals.records import CaseResult, RunPlan
from evals.scorecard import Scorecard
from reports.judge_section import shown_message

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", text)


def _describe(result: CaseResult) -> list[str]:
    head = f"sample {result.sample} (seed {result.seed}): "
    if result.response.error:
        return [head + f"error: {result.response.error}"]
    lines = [head + ("passed" if result.passed else "failed")]
    for f in result.findings:
        line = f"  {f.severity} {f.code}: {shown_message(f)}"
        if f.evidence.span is not None:
            line += f' said "{f.evidence.span.text}" @{f.evidence.span.start}-{f.evidence.span.end}'
        if f.evidence.checked_against:
            line += f' checked against "{f.evidence.checked_against}"'
        if f.evidence.note:
            line += f" ({f.evidence.note})"
        lines.append(line)
    lines.append(f"  answer: {result.response.text}")
    return lines


def _gate_suite(root: ET.Element, card: Scorecard) -> dict[str, int]:
    """One testcase per gate check: a failed check is a <failure>, a switched-off one is
    <skipped>, so CI shows which gate failed the build, and which were not applied."""
    suite = ET.SubElement(root, "testsuite", name=xml_text(f"{card.suite}[gates]"))
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    seen: dict[str, int] = {}
    for check in card.gates.checks:
        name = f"{check.gate}[{check.target or 'run'}]"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name += f"#{seen[name]}"
        testcase = ET.SubElement(
            suite, "testcase", classname=xml_text(f"{card.suite}.gates"), name=xml_text(name)
        )
        props = ET.SubElement(testcase, "properties")
        ET.SubElement(props, "property", name="setting", value=xml_text(check.setting))
        counts["tests"] += 1
        if check.status == "failed":
            counts["failures"] += 1
            ET.SubElement(testcase, "failure", message=xml_text(check.reason), type="GateFailed")
        elif check.status == "off":
            counts["skipped"] += 1
            ET.SubElement(testcase, "skipped", message=xml_text(check.reason))
        else:
            ET.SubElement(testcase, "system-out").text = xml_text(check.reason)
    for key, count in counts.items():
        suite.set(key, str(count))
    return counts


def render_junit(card: Scorecard, plan: RunPlan) -> bytes:
    cases = {c.id: c for c in plan.cases}
    flaky_policy = plan.suite.gates.flaky
    by_key: dict[tuple[str, str], list[CaseResult]] = {}
    for result in card.failing:
        by_key.setdefault((result.target, result.case_id), []).append(result)
    root = ET.Element("testsuites", name=xml_text(card.suite))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for target in [t.name for t in card.targets]:
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"{card.suite}[{target}]"))
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for outcome in [o for o in card.cases if o.target == target]:
            case = cases.get(outcome.case_id)
            intent = case.intent if case else outcome.intent
            language = case.language if case else outcome.language
            samples = sorted(by_key.get((target, outcome.case_id), []), key=lambda r: r.sample)
            testcase = ET.SubElement(
                suite,
                "testcase",
                classname=xml_text(f"{card.suite}.{target}.{intent}"),
                name=xml_text(f"{intent}/{language}/{outcome.case_id}[{target}]"),
            )
            props = ET.SubElement(testcase, "properties")
            for name, value in (
                ("stability", outcome.stability),
                ("samples_passed", f"{outcome.passed}/{outcome.samples}"),
                ("run_id", card.run_id),
            ):
                ET.SubElement(props, "property", name=name, value=xml_text(value))
            counts["tests"] += 1
            if case_passes(outcome, flaky_policy):
                continue
            body = "\n".join(line for r in samples for line in _describe(r))
            codes = sorted({f.code for r in samples for f in r.findings})
            if outcome.errors == outcome.samples:
                counts["errors"] += 1
                element = ET.SubElement(
                    testcase,
                    "error",
                    message=xml_text(samples[0].response.error or "error") if samples else "error",
                    type="ProviderError",
                )
            else:
                counts["failures"] += 1
                summary = (
                    f"{outcome.passed} of {outcome.samples} samples passed ({outcome.stability})"
                )
                messages = sorted({shown_message(f) for r in samples for f in r.findings})
                element = ET.SubElement(
                    testcase,
                    "failure",
                    message=xml_text(f"{summary}: " + "; ".join(messages[:5])),
                    type=",".join(codes) or "failed",
                )
            element.text = xml_text(body)
        for key, count in counts.items():
            suite.set(key, str(count))
            totals[key] += count
    for key, count in _gate_suite(root, card).items():
        totals[key] = totals.get(key, 0) + count
    for key, total in totals.items():
        root.set(key, str(total))
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def write_junit(card: Scorecard, plan: RunPlan, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "junit.xml"
    path.write_bytes(render_junit(card, plan))
    return path
