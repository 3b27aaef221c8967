"""`evals validate` checks what can be checked before a run: reference answers and labelled
responses through the guardrails, companies against the policy books a suite names, right
counts for suites, errors sorted by file and line with did-you-mean hints; and a replay miss
says why it missed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from builders import POLICY, case_dict, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.errors import did_you_mean, field_names
from evals.records import Case, Expect
from evals.validate import validate_paths

EVALS = [sys.executable, "-m", "evals"]

BAD_REFERENCE = (
    "Your charge was made within the last 14 days, so it can be refunded within 10 business days."
)
GOOD_REFERENCE = "Your refund of EUR 10.00 will arrive within 10 business days."


def evals(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EVALS, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` containing `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return 1 + next(i for i, line in enumerate(lines) if text in line)


def english_case(case_id: str, reference: str, **overrides: object) -> dict[str, object]:
    return case_dict(
        case_id,
        language="en",
        messages=[{"role": "user", "content": "I was charged yesterday, can I get a refund?"}],
        facts={"days_since_charge": 1, "amount": "EUR 10.00"},
        reference=reference,
        **overrides,
    )


# --- references and labelled responses ----------------------------------------------------


def test_a_reference_that_contradicts_its_facts_exits_1_naming_its_line(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        cases=[english_case("c-good", GOOD_REFERENCE), english_case("c-bad", BAD_REFERENCE)],
    )
    cases = tmp_path / "cases" / "cases.yaml"
    done = evals("validate", str(suite))
    assert done.returncode == 1, done.stdout + done.stderr
    line = line_of(cases, "reference: Your charge was made")
    assert f"fail: {cases}:{line}: record 'c-bad': field 'reference': the reference" in done.stderr
    assert "facts.contradiction (critical) '14 days'" in done.stderr
    assert "c-good" not in done.stderr and "Traceback" not in done.stderr
    assert "references: 1 of 2 pass the guardrails" in done.stdout
    # the same suite with the reference corrected passes
    write_suite(
        tmp_path,
        cases=[english_case("c-good", GOOD_REFERENCE), english_case("c-bad", GOOD_REFERENCE)],
    )
    done = evals("validate", str(suite))
    assert done.returncode == 0, done.stderr
    assert "references: 2 of 2 pass the guardrails" in done.stdout


def test_a_reference_is_judged_by_the_suites_gates(tmp_path: Path) -> None:
    """A suite that fails only on critical findings does not fail a reference for a major one."""
    short = "Refunds take 10 business days."  # misses the required amount: facts.missing, major
    case = english_case("c1", short, expect={"required_facts": ["amount"]})
    suite = write_suite(tmp_path, cases=[case])
    failing = evals("validate", str(suite))
    assert failing.returncode == 1 and "facts.missing (major)" in failing.stderr
    write_suite(tmp_path, cases=[case], extra={"gates": {"fail_on": ["critical"]}})
    assert evals("validate", str(suite)).returncode == 0
    # its case file given too is still judged as the suite judges it
    assert evals("validate", str(tmp_path)).returncode == 0


def test_labelled_mismatches_are_counted_listed_or_fail_as_asked(tmp_path: Path) -> None:
    write_suite(tmp_path, cases=[english_case("c1", GOOD_REFERENCE)])
    labelled = tmp_path / "labelled.yaml"
    labelled.write_text(
        yaml.safe_dump(
            [
                {"id": "l-right", "case": "c1", "response": BAD_REFERENCE, "families": ["facts"]},
                {"id": "l-clean", "case": "c1", "response": GOOD_REFERENCE, "families": []},
                {"id": "l-wrong", "case": "c1", "response": BAD_REFERENCE, "families": []},
            ]
        ),
        encoding="utf-8",
    )
    lines = labelled.read_text(encoding="utf-8").splitlines()
    line = 1 + [i for i, text in enumerate(lines) if "families:" in text][2]  # l-wrong's
    report = evals("validate", str(tmp_path))
    assert report.returncode == 0, report.stderr
    assert "2 of 3 raise exactly their labelled families; 1 differ" in report.stdout
    assert "l-wrong" not in report.stdout
    listed = evals("validate", str(tmp_path), "--labelled", "list")
    assert listed.returncode == 0
    assert "record 'l-wrong': field 'families': labelled none (clean)" in listed.stdout
    assert "raises facts it is not labelled with: facts.contradiction" in listed.stdout
    assert "l-right" not in listed.stdout and "l-clean" not in listed.stdout
    strict = evals("validate", str(tmp_path), "--labelled", "strict")
    assert strict.returncode == 1
    assert f"fail: {labelled}:{line}: record 'l-wrong': field 'families'" in strict.stderr
    assert "FAILED: 0 reference answer(s) fail the guardrails, 1 labelled response(s) differ" in (
        strict.stderr
    )
    alone = evals("validate", str(labelled))
    assert alone.returncode == 0 and "0 of 0 raise" in alone.stdout
    assert "3 not checked (give their case files and policy books too)" in alone.stdout
    off = evals("validate", str(tmp_path), "--labelled", "off")
    assert off.returncode == 0 and "labelled responses:" not in off.stdout
    bad = evals("validate", str(tmp_path), "--labelled", "sometimes")
    assert bad.returncode == 2 and "--labelled must be one of" in bad.stderr


def test_the_projects_own_cases_validate_with_exit_0() -> None:
    root = Path(__file__).resolve().parents[2]
    done = evals("validate", str(root / "cases"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "references: 225 of 225 pass the guardrails" in done.stdout


# --- suites: counts and where errors are -------------------------------------------------


def test_a_suite_counts_the_cases_and_books_it_loads(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=4)
    done = evals("validate", str(suite))
    assert done.returncode == 0, done.stderr
    assert "ok: 4 cases, 1 policy books, 0 labelled responses, 1 suites" in done.stdout
    # the same cases given both ways are counted once
    both = evals("validate", str(tmp_path))
    assert "ok: 4 cases, 1 policy books, 0 labelled responses, 1 suites" in both.stdout


def test_an_unknown_company_is_named_at_the_case_line_against_the_suites_books(
    tmp_path: Path,
) -> None:
    suite = write_suite(tmp_path, cases=[case_dict("c1"), case_dict("c2", company="globex")])
    cases = tmp_path / "cases" / "cases.yaml"
    line = line_of(cases, "company: globex")
    done = evals("validate", str(suite))
    assert done.returncode == 2
    assert (
        f"error: {cases}:{line}: record 'c2': field 'company': no policy book for company "
        "'globex' in the suite's policies (policies) (known: acme)" in done.stderr
    )
    assert f"error: {suite.resolve()}" not in done.stderr  # not blamed on the suite file
    # the case file alone: its company is resolved against the `policies` folder beside it
    alone = evals("validate", str(cases))
    assert alone.returncode == 2
    assert f"{cases}:{line}: record 'c2': field 'company': no policy book" in alone.stderr
    assert f"policy books in {tmp_path / 'policies'}" in alone.stdout


def test_a_case_file_with_no_policy_books_near_says_which_folder_it_needs(
    tmp_path: Path,
) -> None:
    lone = tmp_path / "drafts" / "a" / "b" / "c"
    lone.mkdir(parents=True)
    path = lone / "cases.yaml"
    path.write_text(yaml.safe_dump({"cases": [case_dict("c1")]}), encoding="utf-8")
    done = evals("validate", str(path))
    assert done.returncode == 2
    assert "cannot check companies acme: no policy book was given" in done.stderr
    assert f"evals validate {path} POLICY_FOLDER" in done.stderr
    policies = tmp_path / "books.yaml"
    policies.write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    assert evals("validate", str(path), str(policies)).returncode == 0


def test_a_suites_own_problems_carry_the_line_of_their_field(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    suite = write_suite(
        tmp_path,
        extra={
            "cases": [{"path": "cases/*.yaml"}, {"path": "nowhere/*.yaml"}],
            "replay": {"mode": "auto", "dir": "a-file"},
        },
    )
    done = evals("validate", str(suite))
    assert done.returncode == 2
    where = suite.resolve()
    source = line_of(suite, "nowhere/*.yaml")
    folder = line_of(suite, "dir: a-file")
    assert (
        f"error: {where}:{source}: field 'cases[1].path': case source matches no file"
        in done.stderr
    )
    assert f"error: {where}:{folder}: field 'replay.dir': the replay folder" in done.stderr


# --- sorted errors with did-you-mean ----------------------------------------------------------


def test_a_misspelt_field_says_what_it_probably_meant(tmp_path: Path) -> None:
    path = tmp_path / "cases" / "cases.yaml"
    write_suite(
        tmp_path,
        cases=[
            case_dict("c1", expect={"required_fact": ["amount"]}),
            case_dict("c2", refrence="x"),
        ],
    )
    done = evals("validate", str(path))
    assert done.returncode == 2
    line = line_of(path, "required_fact:")
    assert (
        f"{path}:{line}: record 'c1': field 'expect.required_fact': unknown field "
        "(did you mean `required_facts`?)" in done.stderr
    )
    assert "field 'refrence': unknown field (did you mean `reference`?)" in done.stderr


def test_errors_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    # c1's company is found unknown after loading, c3's channel while loading: found out of
    # order, printed in order
    write_suite(
        tmp_path,
        cases=[case_dict("c1", company="globex"), case_dict("c2"), case_dict("c3", channel="fax")],
    )
    other = tmp_path / "cases" / "more.yaml"
    other.write_text(yaml.safe_dump({"cases": [case_dict("c9", risk="extreme")]}), "utf-8")
    done = evals("validate", str(tmp_path))
    assert done.returncode == 2
    places = [
        line.split(": ")[1] for line in done.stderr.splitlines() if line.startswith("error: ")
    ]
    keyed = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places]
    assert len(keyed) == 3 and keyed == sorted(keyed), done.stderr
    assert keyed[0][0].endswith("cases.yaml") and keyed[2][0].endswith("more.yaml")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_field_missing_one_letter_is_recognised(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([Case, Expect]))
    names = sorted(n for n in field_names(model, ()) if len(n) >= 5)
    name = data.draw(st.sampled_from(names))
    cut = data.draw(st.integers(0, len(name) - 1))
    typo = name[:cut] + name[cut + 1 :]
    assert did_you_mean(typo, field_names(model, ())) == f" (did you mean `{name}`?)"


def test_nothing_is_proposed_for_a_field_like_no_other() -> None:
    assert did_you_mean("zzzzqqq", field_names(Case, ())) == ""
    assert "required_facts" in field_names(Case, ("expect",))
    assert "content" in field_names(Case, ("messages", 0))


def test_validate_paths_keeps_its_file_case_pairs(tmp_path: Path) -> None:
    """The benchmarks read `inventory.cases` and `.labelled` as (file, record) pairs."""
    write_suite(tmp_path, n_cases=2)
    inventory = validate_paths([tmp_path / "cases", tmp_path / "policies"])
    assert not inventory.issues
    assert [(Path(f).name, c.id) for f, c in inventory.cases] == [
        ("cases.yaml", "c000"),
        ("cases.yaml", "c001"),
    ]


# --- replay misses explained -----------------------------------------------------------------

FAKE = [{"name": "fake", "model": "fake/scripted", "params": {"extra": {"echo": True}}}]


def _edit_suite(suite: Path, **changes: object) -> None:
    data = yaml.safe_load(suite.read_text(encoding="utf-8"))
    data.update(changes)
    suite.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_miss_after_a_system_prompt_change_names_it_and_shows_the_diff(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=1, targets=FAKE)
    recorded = evals("run", str(suite), "--replay", "record", "-q", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    target = {**FAKE[0], "system_prompt": "You help customers of {company_name}.\n{policy_text}"}
    _edit_suite(suite, targets=[target])
    done = evals("run", str(suite), "--replay", "replay", "-q", cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "replay miss: no recorded answer for case 'c000' sample 0 of target 'fake'" in out
    assert "differs in system prompt from the closest entry (sample 0" in out
    assert "+You help customers of {company_name}." in out
    assert "-POLICY ({company_name}):" in out
    assert "policy text" not in out and "parameters" not in out and "conversation" not in out
    assert f"evals run {suite.resolve()} --replay auto" in out
    # that command records just the missing answer, and the suite replays again
    again = evals("run", str(suite), "--replay", "auto", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert evals("run", str(suite), "--replay", "replay", "-q", cwd=tmp_path).returncode == 0


def _miss(tmp_path: Path, change: str) -> str:
    """Record one case, change one thing, and explain the miss of case c000 sample `sample`."""
    from evals.cassettes import (
        Cassette,
        CassetteEntry,
        cassette_key,
        explain_miss,
        now,
        prompt_parts,
    )
    from evals.prompts import render_messages
    from evals.records import PolicyBook, Target

    policy = PolicyBook.model_validate(POLICY)
    case = Case.model_validate(case_dict("c000"))
    target = Target.model_validate(FAKE[0])
    cassette = Cassette(tmp_path / "cassettes", "fake")
    cassette.put(
        CassetteEntry(
            key=cassette_key(target, render_messages(case, target, policy), 0),
            target="fake",
            model=target.model,
            case=case.id,
            sample=0,
            text="recorded",
            recorded=now(),
            prompt=None if change.startswith("old") else prompt_parts(case, target, policy),
        )
    )
    sample = 0
    if change == "policy":
        policy = policy.model_copy(update={"text": policy.text + "Returns cost EUR 5.\n"})
    elif change == "conversation":
        case = Case.model_validate(
            case_dict("c000", messages=[{"role": "user", "content": "¿Y mi dinero?"}])
        )
    elif change in ("params", "old cassette, new params"):
        target = Target.model_validate({**FAKE[0], "params": {"temperature": 0.2}})
    elif change == "case field":
        case = Case.model_validate(case_dict("c000", channel="email"))
    elif change in ("sample", "old cassette"):
        sample = 1
    elif change == "new case":
        case = Case.model_validate(case_dict("c999"))
    return explain_miss(cassette, case, target, policy, sample, "suite.yaml")


def test_each_kind_of_change_is_named(tmp_path: Path) -> None:
    policy = _miss(tmp_path / "p", "policy")
    assert "differs in policy text" in policy and "policy book acme (text" in policy
    conversation = _miss(tmp_path / "c", "conversation")
    assert "differs in conversation" in conversation
    assert "+user: ¿Y mi dinero?" in conversation
    params = _miss(tmp_path / "k", "params")
    assert "differs in parameters" in params and "temperature: None -> 0.2" in params
    field = _miss(tmp_path / "f", "case field")
    assert "differs in case fields" in field and "channel: 'chat' -> 'email'" in field
    sample = _miss(tmp_path / "s", "sample")
    assert "sample 1 was never recorded for this prompt (recorded samples: 0)" in sample
    new = _miss(tmp_path / "n", "new case")
    assert "case 'c999'" in new and "this case was never recorded for this target" in new
    for text in (policy, conversation, params, field, sample, new):
        assert text.startswith("replay miss:") and "evals run suite.yaml --replay auto" in text


def test_a_cassette_recorded_before_prompt_parts_still_replays(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=2, targets=FAKE)
    assert evals("run", str(suite), "--replay", "record", "-q", cwd=tmp_path).returncode == 0
    cassette = tmp_path / "cassettes" / "fake.jsonl"
    old = [yaml.safe_load(line) for line in cassette.read_text(encoding="utf-8").splitlines()]
    assert all("prompt" in entry for entry in old)
    import json

    cassette.write_text(
        "".join(json.dumps({k: v for k, v in e.items() if k != "prompt"}) + "\n" for e in old),
        encoding="utf-8",
    )
    done = evals("run", str(suite), "--replay", "replay", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # the exact prompt is recognised from the key even without the parts
    explained = _miss(tmp_path / "old", "old cassette")
    assert "sample 1 was never recorded for this prompt (recorded samples: 0)" in explained
    changed = _miss(tmp_path / "old2", "old cassette, new params")
    assert "differs in prompt or parameters" in changed and "recorded before" in changed
