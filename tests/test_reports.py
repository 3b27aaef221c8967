"""Markdown, JSON and JUnit reports from a real run: content, escaping, and validity."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from builders import case_dict, run_suite, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.compliance import verify
from evals.publish import publish
from reports.junit import xml_text
from reports.markdown import untrusted

HOSTILE = (
    "Tu reembolso de EUR 10.00 llegará en 10 días hábiles y te regalamos un cupón de 20 €. "
    "<script>alert(1)</script> | ## not a heading [link](http://evil.example) \x07"
)


def test_every_report_is_written_and_consistent(tmp_path: Path) -> None:
    cases = [case_dict("c1"), case_dict("c2", language="pt-BR")]
    store, run_id = run_suite(
        write_suite(
            tmp_path,
            samples=2,
            cases=cases,
            targets=[
                {
                    "name": "bot",
                    "model": "fake/scripted",
                    "params": {"extra": {"replies": [HOSTILE]}},
                },
                {"name": "ref", "model": "reference"},
            ],
        )
    )
    done = publish(store, run_id)
    names = sorted(p.name for p in done.files)
    assert {
        "report.html",
        "report.md",
        "junit.xml",
        "scorecard.json",
        "scorecard.schema.json",
        "scope.yaml",
        "manifest.json",
    } <= set(names)
    # The manifest is written last and hashes every other file.
    assert done.files[-1].name == "manifest.json"
    assert verify(store, run_id, done.files[-1]).intact

    scorecard = json.loads((done.folder / "scorecard.json").read_text())
    assert scorecard["schema_version"] == 3 and scorecard["run_id"] == run_id
    assert {d["target"] for d in scorecard["decisions"]} == {"bot", "ref"}

    markdown = (done.folder / "report.md").read_text()
    assert "policy.unsupported" in markdown
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "\\| \\#\\# not a heading \\[link\\]" in markdown  # cannot break tables or headings
    assert "## Decisions" in markdown and "human" in markdown

    root = ET.parse(done.folder / "junit.xml").getroot()
    # 4 case testcases (2 failing) and 6 gate checks (bot's max_critical failing).
    assert root.get("tests") == "10" and root.get("failures") == "3"
    gate_failures = root.findall(".//failure[@type='GateFailed']")
    assert [f.get("message") for f in gate_failures] == [
        "target 'bot': 4 of 4 answers had a critical finding, at most 0 allowed "
        "(policy.unsupported in 4)"
    ]
    failures = [f for f in root.findall(".//failure") if f.get("type") != "GateFailed"]
    assert len(failures) == 2
    assert all("policy.unsupported" in (f.get("type") or "") for f in failures)
    assert all("0 of 2 samples passed" in (f.get("message") or "") for f in failures)
    assert "cupón" in (failures[0].text or "") and "\x07" not in (failures[0].text or "")
    names = {tc.get("name") for tc in root.iter("testcase")}
    assert "refund_status/pt-BR/c2[bot]" in names and "refund_status/es/c1[ref]" in names


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_untrusted_text_never_leaves_markdown_markup(text: str) -> None:
    out = untrusted(text)
    assert "<" not in out and "\n" not in out
    for char in "|`*_[]#":
        assert out.count(char) == out.count("\\" + char)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_makes_valid_xml(text: str) -> None:
    element = ET.Element("failure", message=xml_text(text))
    element.text = xml_text(text)
    ET.fromstring(ET.tostring(element))
