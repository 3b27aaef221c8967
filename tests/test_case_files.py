"""Case files in every format, and errors that name file, line, record and field."""

from __future__ import annotations

import json
from pathlib import Path

from evals.case_files import load_case_file, load_policy_books
from evals.errors import InputIssue

GOOD_CASE = """\
- id: c1
  intent: refund_status
  kind: support
  language: es
  channel: chat
  risk: medium
  company: acme
  messages:
    - role: user
      content: hola
"""

BROKEN = """\
# two cases, each with a mistake
defaults:
  company: acme
  kind: support
cases:
  - id: c1
    intent: refund_status
    language: es
    channel: chat
    risk: medium
    messages:
      - role: user
        content: hola
    expect:
      register: vos
  - id: c2
    intent: refund_status
    language: en
    channel: fax
    risk: medium
    colour: red
    messages:
      - role: user
        content: hi
"""


def test_yaml_errors_name_line_record_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    issues: list[InputIssue] = []
    assert load_case_file(path, issues) == []
    by_field = {i.field: i for i in issues}
    assert by_field["expect.register"].line == 15
    assert by_field["expect.register"].record == "c1"
    assert by_field["channel"].line == 19 and by_field["channel"].record == "c2"
    assert by_field["colour"].line == 21
    assert "unknown field" in by_field["colour"].message
    assert str(by_field["channel"]).startswith(f"{path}:19: record 'c2': field 'channel'")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_CASE + "  - role: user\n    content: [unclosed\n", encoding="utf-8")
    issues: list[InputIssue] = []
    load_case_file(path, issues)
    assert len(issues) == 1
    assert "invalid YAML" in issues[0].message and issues[0].line is not None
    assert issues[0].line >= 11


def test_several_cases_per_file_with_defaults_comments_and_multiline(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "# comment\ndefaults: {company: acme, kind: crisis}\ncases:\n"
        + "\n".join(
            f"  - id: c{i}\n    intent: outage\n    language: en\n    channel: social\n"
            f"    risk: high\n    messages:\n      - role: user\n        content: |\n"
            f"          line one\n          line two\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    issues: list[InputIssue] = []
    cases = load_case_file(path, issues)
    assert issues == []
    assert [c.id for c in cases] == ["c0", "c1", "c2"]
    assert cases[0].kind == "crisis" and cases[0].messages[0].content == "line one\nline two\n"


def _case_row(case_id: str) -> dict[str, object]:
    return {
        "id": case_id,
        "intent": "refund_status",
        "kind": "support",
        "language": "pt-BR",
        "channel": "email",
        "risk": "low",
        "company": "acme",
        "messages": [{"role": "user", "content": "Olá"}],
        "facts": {"amount": "BRL 50.00"},
    }


def test_jsonl_cases_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    bad = _case_row("c2") | {"risk": "extreme"}
    path.write_text(
        json.dumps(_case_row("c1")) + "\n\n" + json.dumps(bad) + "\n{not json\n",
        encoding="utf-8",
    )
    issues: list[InputIssue] = []
    cases = load_case_file(path, issues)
    assert [c.id for c in cases] == ["c1"]
    assert {(i.line, i.field) for i in issues} == {(3, "risk"), (4, None)}
    assert any(i.record == "c2" for i in issues)


def test_csv_and_parquet_through_datasets(tmp_path: Path) -> None:
    import csv

    import datasets

    rows = [_case_row("c1"), _case_row("c2")]
    csv_path = tmp_path / "cases.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()}
            )
    issues: list[InputIssue] = []
    assert [c.id for c in load_case_file(csv_path, issues)] == ["c1", "c2"]
    assert issues == []

    parquet_path = tmp_path / "cases.parquet"
    other = _case_row("c3") | {"facts": {"days": 45}}
    datasets.Dataset.from_list([*rows, other]).to_parquet(str(parquet_path))
    cases = load_case_file(parquet_path, issues)
    assert issues == []
    # Parquet unifies the facts' keys across rows; absent keys must not come back as nulls.
    assert cases[2].facts == {"days": 45}
    assert cases[0].facts == {"amount": "BRL 50.00"}


def test_policy_books_from_yaml_mapping_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "many.yaml").write_text(
        "acme: {name: Acme, text: Refunds in 10 days.}\nbeta: {name: Beta, text: No refunds.}\n",
        encoding="utf-8",
    )
    (tmp_path / "books" / "gamma.md").write_text("# Gamma Telecom\n\nFees: 5%.\n", "utf-8")
    issues: list[InputIssue] = []
    books = load_policy_books([tmp_path / "books"], issues)
    assert issues == []
    assert sorted(books) == ["acme", "beta", "gamma"]
    assert books["gamma"].name == "Gamma Telecom"
