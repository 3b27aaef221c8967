"""`evals init` writes a starter project that validates, runs and verifies at once, and never
replaces a file without --force; the JSON Schemas of the input formats are the ones the records
generate, and they accept the scaffold and the library while rejecting what the loaders reject."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from evals.records import Case
from evals.scaffold import FILES
from evals.schemas import SCHEMAS, file_name, render

ROOT = Path(__file__).resolve().parents[2]
EVALS = [sys.executable, "-m", "evals"]
SCHEMA_DIR = ROOT / "docs" / "schemas"
SCAFFOLD_FILES = {
    "EVALS.md",
    ".gitignore",
    ".github/workflows/evals.yml",
    "suite.yaml",
    "policies/ruedalibre.yaml",
    "cases/deposit_refund.yaml",
    "cases/late_return_fee.yaml",
    "labelled/ruedalibre.yaml",
    "transcripts/example.jsonl",
}


def evals(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EVALS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
        env={**os.environ, **(env or {})},
    )


def written(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# --- the starter project ---------------------------------------------------------------------


def test_init_then_validate_run_and_verify_pass_at_once(tmp_path: Path) -> None:
    project = tmp_path / "support-evals"
    init = evals("init", str(project), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert written(project) == SCAFFOLD_FILES

    validate = evals("validate", "suite.yaml", "labelled", "--labelled", "strict", cwd=project)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "references: 6 of 6 pass the guardrails" in validate.stdout
    assert "labelled responses: 4 of 4 raise exactly their labelled families" in validate.stdout

    run = evals("run", "suite.yaml", "-q", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "18 of 18 answers passed" in run.stdout
    # As CI runs it: replay only, no key, no model.
    ci = evals("run", "suite.yaml", "--replay", "replay", "-q", cwd=project, env={"CI": "true"})
    assert ci.returncode == 0, ci.stdout + ci.stderr

    verify = evals("verify", "latest", cwd=project)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "INTACT" in verify.stdout
    # The run is verifiable from a copy of out/ alone, as the CI examples upload it.
    (tmp_path / "downloaded").mkdir()
    (project / "out").rename(tmp_path / "downloaded" / "out")
    again = evals("verify", "latest", "--out", "out", cwd=tmp_path / "downloaded")
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_scaffolds_cases_fail_a_bad_answer_and_its_scan_example_flags_one_of_three(
    tmp_path: Path,
) -> None:
    assert evals("init", "p", cwd=tmp_path).returncode == 0
    project = tmp_path / "p"
    scan = evals("scan", "transcripts/example.jsonl", "--policies", "policies", cwd=project)
    assert scan.returncode == 1, scan.stderr
    verdicts = {r["id"]: r["passed"] for r in map(json.loads, scan.stdout.splitlines())}
    assert verdicts == {
        "chat-2026-05-07-0001": True,
        "chat-2026-05-07-0002": True,
        "chat-2026-05-07-0003": False,
    }
    # A reference answer that invents a benefit makes validate fail, naming the file.
    cases = project / "cases" / "late_return_fee.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(
        text.replace("so the charge is EUR 24.", "so the charge is EUR 24. We added a free day."),
        encoding="utf-8",
    )
    bad = evals("validate", "suite.yaml", cwd=project)
    assert bad.returncode == 1
    assert "late_return_fee.yaml" in bad.stdout + bad.stderr


def test_init_refuses_to_replace_existing_files_and_names_them(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    project.mkdir()
    (project / "suite.yaml").write_text("mine\n")
    (project / ".gitignore").write_text("node_modules/\n")
    (project / "notes.txt").write_text("keep me\n")

    refused = evals("init", str(project), cwd=tmp_path)
    assert refused.returncode == 2
    assert f"{project / 'suite.yaml'}: already exists" in refused.stderr
    assert f"{project / '.gitignore'}: already exists" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    # Nothing was written: not even the files that were not in the way.
    assert written(project) == {"suite.yaml", ".gitignore", "notes.txt"}
    assert (project / "suite.yaml").read_text() == "mine\n"

    forced = evals("init", str(project), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (project / "suite.yaml").read_bytes() == (FILES / "suite.yaml").read_bytes()
    assert (project / "notes.txt").read_text() == "keep me\n"
    assert written(project) == SCAFFOLD_FILES | {"notes.txt"}


def test_force_never_replaces_a_folder_nor_writes_through_a_link(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    (project / "suite.yaml").mkdir(parents=True)
    outside = tmp_path / "outside.md"
    outside.write_text("not yours\n")
    (project / "EVALS.md").symlink_to(outside)

    folder_in_way = evals("init", str(project), "--force", cwd=tmp_path)
    assert folder_in_way.returncode == 2
    assert f"{project / 'suite.yaml'}: is a folder; move it away" in folder_in_way.stderr

    (project / "suite.yaml").rmdir()
    os.mkfifo(project / "suite.yaml")  # a write would block forever on a pipe
    pipe_in_way = evals("init", str(project), "--force", cwd=tmp_path)
    assert pipe_in_way.returncode == 2
    assert f"{project / 'suite.yaml'}: is a pipe, socket or device" in pipe_in_way.stderr

    (project / "suite.yaml").unlink()
    forced = evals("init", str(project), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert outside.read_text() == "not yours\n"
    assert not (project / "EVALS.md").is_symlink()
    assert (project / "EVALS.md").read_bytes() == (FILES / "EVALS.md").read_bytes()


def test_a_file_where_the_project_or_one_of_its_folders_goes_exits_2(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    result = evals("init", "taken", cwd=tmp_path)
    assert result.returncode == 2
    assert "taken: is a file, not a folder" in result.stderr

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "cases").write_text("x")
    result = evals("init", "p", "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{Path('p') / 'cases'}: is a file, not a folder" in result.stderr
    assert written(tmp_path / "p") == {"cases"}


def test_ci_choice_writes_one_workflow_or_none(tmp_path: Path) -> None:
    assert evals("init", "g", "--ci", "gitlab", cwd=tmp_path).returncode == 0
    assert written(tmp_path / "g") == SCAFFOLD_FILES - {".github/workflows/evals.yml"} | {
        ".gitlab-ci.yml"
    }
    assert evals("init", "n", "--ci", "none", cwd=tmp_path).returncode == 0
    assert written(tmp_path / "n") == SCAFFOLD_FILES - {".github/workflows/evals.yml"}
    bad = evals("init", "j", "--ci", "jenkins", cwd=tmp_path)
    assert bad.returncode == 2 and "jenkins" in bad.stderr
    assert not (tmp_path / "j").exists()


def test_the_documented_ci_examples_are_the_files_init_writes() -> None:
    examples = ROOT / "docs" / "examples"
    assert (examples / "github-actions.yml").read_bytes() == (
        FILES / "dot-github" / "workflows" / "evals.yml"
    ).read_bytes()
    assert (examples / "gitlab-ci.yml").read_bytes() == (FILES / "dot-gitlab-ci.yml").read_bytes()
    for workflow in (examples / "github-actions.yml", examples / "gitlab-ci.yml"):
        text = workflow.read_text(encoding="utf-8")
        yaml.safe_load(text)
        # Validate, replay (never a live call), upload the whole out/ folder, verify later.
        assert 'evals validate "$SUITE"' in text
        assert 'evals run "$SUITE" --replay replay' in text
        assert "out/" in text and "evals verify latest --out out" in text
        assert "pip install -e ." not in text


# --- JSON Schemas ------------------------------------------------------------------------------


def test_committed_schemas_are_exactly_what_the_records_generate(tmp_path: Path) -> None:
    assert sorted(p.name for p in SCHEMA_DIR.iterdir()) == sorted(map(file_name, SCHEMAS))
    for name in SCHEMAS:
        committed = (SCHEMA_DIR / file_name(name)).read_text(encoding="utf-8")
        assert committed == render(name), (
            f"docs/schemas/{file_name(name)} is stale: run `evals schema --out docs/schemas`"
        )
        jsonschema.Draft202012Validator.check_schema(json.loads(committed))
    # The command writes the same files.
    result = evals("schema", "--out", str(tmp_path / "s"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in SCHEMAS:
        assert (tmp_path / "s" / file_name(name)).read_text() == render(name)
    unknown = evals("schema", "sute", cwd=tmp_path)
    assert unknown.returncode == 2 and "did you mean `suite`" in unknown.stderr


def _schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(render(name)))


def _errors(name: str, data: Any) -> list[str]:
    return [e.message for e in _schema(name).iter_errors(data)]


def _scaffold_documents() -> list[tuple[str, Path, Any]]:
    docs: list[tuple[str, Path, Any]] = [
        ("suite", FILES / "suite.yaml", None),
        ("policy-book", FILES / "policies" / "ruedalibre.yaml", None),
        ("labelled-responses", FILES / "labelled" / "ruedalibre.yaml", None),
    ]
    docs += [("case-file", path, None) for path in sorted((FILES / "cases").glob("*.yaml"))]
    out = [(name, path, yaml.safe_load(path.read_text(encoding="utf-8"))) for name, path, _ in docs]
    transcripts = FILES / "transcripts" / "example.jsonl"
    for line in transcripts.read_text(encoding="utf-8").splitlines():
        out.append(("transcript", transcripts, json.loads(line)))
    return out


def test_the_scaffold_and_the_library_validate_against_the_schemas() -> None:
    for name, path, data in _scaffold_documents():
        assert _errors(name, data) == [], path
    library = ROOT / "cases"
    for path in sorted((library / "library").rglob("*.yaml")):
        assert _errors("case-file", yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path
    for path in sorted((library / "policies").glob("*.yaml")):
        assert _errors("policy-book", yaml.safe_load(path.read_text(encoding="utf-8"))) == []
    for path in sorted((library / "labelled").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert _errors("labelled-responses", data) == [], path


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("suite", lambda d: d["targets"][0].update(modle="openai/gpt-4o-mini")),
        ("suite", lambda d: d.update(samples=0)),
        ("policy-book", lambda d: d.pop("text")),
        ("case-file", lambda d: d["cases"][0]["expect"].update(registr="tu")),
        ("case-file", lambda d: d["cases"][0].update(channel="fax")),
        ("labelled-responses", lambda d: d[0].update(families=["politeness"])),
        ("transcript", lambda d: d.pop("response")),
    ],
)
def test_each_schema_rejects_a_mistake_the_loader_rejects(name: str, edit: Any) -> None:
    data = next(doc for kind, _, doc in _scaffold_documents() if kind == name)
    edit(data)
    assert _errors(name, data), f"the {name} schema accepted {data!r}"


CASE = yaml.safe_load((FILES / "cases" / "deposit_refund.yaml").read_text(encoding="utf-8"))
FULL_CASE = {**CASE["defaults"], **CASE["cases"][0]}


@settings(max_examples=60, deadline=None)
@given(
    drop=st.sets(st.sampled_from(sorted(FULL_CASE))),
    extra=st.sampled_from([None, "intnet", "reference_answer", "lang"]),
)
def test_the_case_schema_accepts_what_the_record_accepts_and_rejects_what_it_rejects(
    drop: set[str], extra: str | None
) -> None:
    data = {k: v for k, v in FULL_CASE.items() if k not in drop}
    if extra is not None:
        data[extra] = "x"
    try:
        Case.model_validate(data)
        problem = None
    except ValidationError as exc:
        problem = str(exc)
    schema_errors = _errors("case-file", data)
    if problem is None:
        assert schema_errors == [], (sorted(drop), extra)
    elif not schema_errors:
        # What only the loader can see: a rule across fields, which the schema says in words.
        assert "required_facts names facts that are not given" in problem, problem


def _field_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                names |= set(value)
            names |= _field_names(value)
    elif isinstance(schema, list):
        for item in schema:
            names |= _field_names(item)
    return names


def test_docs_formats_names_every_field_of_every_schema() -> None:
    formats = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    for name in SCHEMAS:
        assert f"schemas/{file_name(name)}" in formats
        undocumented = sorted(
            field for field in _field_names(json.loads(render(name))) if f"`{field}`" not in formats
        )
        assert undocumented == [], f"docs/formats.md does not name {undocumented} ({name})"
