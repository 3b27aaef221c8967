"""Bounded inputs, path kinds, the run lock and shared cassettes: hostile or broken input exits 2
naming file and line (never a traceback, a hang or unbounded memory) and concurrent writers
lose nothing."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import POLICY, case_dict, stored_results, write_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals import bounded_json
from evals.bounded_json import BadJSON
from evals.cassettes import Cassette, CassetteEntry, now
from evals.errors import InputError
from evals.store import RunStore
from evals.validate import validate_paths
from evals.yaml_lines import MAX_ALIAS_NODES, load_yaml

EVALS = [sys.executable, "-m", "evals"]
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space: a YAML bomb would need far more


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def evals(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(
        [*EVALS, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        preexec_fn=_limit_memory,
    )


def assert_input_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr)


def case_jsonl(case_id: str, **overrides: Any) -> str:
    return json.dumps(case_dict(case_id, **overrides), ensure_ascii=False)


BOMB = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "cases: []",
    ]
)


# --- YAML ----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["cases/cases.yaml", "policies/acme.yaml", "suite.yaml"])
def test_a_billion_laughs_exits_2_quickly_in_bounded_memory(tmp_path: Path, where: str) -> None:
    suite = write_suite(tmp_path)
    (tmp_path / where).write_text(BOMB + "\n", encoding="utf-8")
    started = time.monotonic()
    done = evals("validate", str(tmp_path))
    assert time.monotonic() - started < 15
    assert_input_error(done, f"{tmp_path / where}:", "aliases expand")
    if where == "suite.yaml":
        assert_input_error(evals("run", str(suite), "-q"), f"{suite}:", "aliases expand")


def test_aliases_within_the_budget_still_work(tmp_path: Path) -> None:
    shared = "\n".join(f"    - {{role: user, content: 'line {i}'}}" for i in range(5))
    text = (
        "x-messages: &msgs\n"
        + shared
        + "\ncases:\n"
        + "".join(
            f"  - {{id: c{i}, intent: refund, language: es, company: acme, messages: *msgs}}\n"
            for i in range(10)
        )
    )
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    data, lines = load_yaml(path)
    assert len(data["cases"]) == 10 and data["cases"][9]["messages"][4]["content"] == "line 4"
    assert lines[("cases", 9)] == 17


def test_alias_budget_is_counted_not_expanded(tmp_path: Path) -> None:
    # Just over the budget in one alias level: refused; the same data written out: accepted.
    width = MAX_ALIAS_NODES // 100 + 10
    item = "[" + ", ".join(["x"] * 99) + "]"
    over = tmp_path / "over.yaml"
    over.write_text(f"a: &a {item}\nb: [{', '.join(['*a'] * width)}]\n", encoding="utf-8")
    with pytest.raises(InputError, match="aliases expand"):
        load_yaml(over)
    written = tmp_path / "written.yaml"
    written.write_text(f"a: {item}\nb: [{', '.join([item] * width)}]\n", encoding="utf-8")
    data, _ = load_yaml(written)
    assert len(data["b"]) == width


@pytest.mark.parametrize(
    "value", ["2024-13-45", "!!timestamp x", "!!binary 'a'", "!!float abc", "!!int 12x"]
)
def test_a_scalar_that_cannot_be_constructed_is_named_with_its_line(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"id: acme\nname: Acme\ntext: t\nsince: {value}\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML") as caught:
        load_yaml(path)
    assert caught.value.issues[0].line == 4


def test_recursive_alias_and_deep_nesting_are_input_errors(tmp_path: Path) -> None:
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("a: &a [1, *a]\n", encoding="utf-8")
    with pytest.raises(InputError, match="refers to its own anchor"):
        load_yaml(recursive)
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nested deeper than"):
        load_yaml(deep)


def test_duplicate_keys_exit_2_with_line_and_key(tmp_path: Path) -> None:
    write_suite(tmp_path)
    cases = tmp_path / "cases" / "cases.yaml"
    good = yaml.safe_dump({"cases": [case_dict("c1")]}, allow_unicode=True)
    first = 1 + good.splitlines().index("  company: acme")
    cases.write_text(good + "  company: globex\n", encoding="utf-8")
    repeat = len(good.splitlines()) + 1
    done = evals("validate", str(cases))
    assert_input_error(
        done, f"{cases}:{repeat}:", f"duplicate key 'company' (first at line {first})"
    )
    # the same file without the repeat is fine
    cases.write_text("\n".join(cases.read_text().splitlines()[:-1]) + "\n", encoding="utf-8")
    assert evals("validate", str(tmp_path)).returncode == 0


def test_a_5000_digit_yaml_integer_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"id: acme\nname: Acme\ntext: t\nversion: {'9' * 5000}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert caught.value.issues[0].line == 4 and "5000 characters" in str(caught.value)
    path.write_text(f"id: acme\nname: Acme\ntext: t\nversion: 0x{'f' * 100}\n")
    with pytest.raises(InputError, match="quote it"):
        load_yaml(path)
    path.write_text(f"id: acme\nname: Acme\ntext: t\nversion: '{'9' * 100}'\n")
    assert load_yaml(path)[0]["version"] == "9" * 100


# --- JSON ----------------------------------------------------------------------------------


def test_jsonl_nested_200000_deep_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    deep = '{"id": "c2", "facts": ' + "[" * 200_000 + "]" * 200_000 + "}"
    path.write_text(case_jsonl("c1") + "\n" + deep + "\n" + case_jsonl("c3") + "\n")
    done = evals("validate", str(path))
    assert_input_error(done, f"{path}:2:", "nested deeper than 100")
    assert f"{path}:1" not in done.stderr and f"{path}:3" not in done.stderr


def test_a_5000_digit_json_integer_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    big = json.dumps(case_dict("c2"))[:-1] + f', "seed": {"7" * 5000}}}'
    path.write_text(case_jsonl("c1") + "\n" + big + "\n", encoding="utf-8")
    done = evals("validate", str(path))
    assert_input_error(done, f"{path}:2: field 'seed': integer with 5000 digits")


def test_scan_transcripts_are_bounded_and_named(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(yaml.safe_dump({"acme": {"name": "Acme", "text": POLICY["text"]}}))
    good = {
        "id": "t1",
        "company": "acme",
        "language": "es",
        "messages": [{"role": "user", "content": "hola"}],
        "response": "Hola, ¿en qué puedo ayudarte?",
    }
    path = tmp_path / "transcripts.jsonl"
    path.write_bytes(
        (json.dumps(good) + "\n").encode()
        + b'{"id": "t2", "facts": '
        + b"[" * 200_000
        + b"]" * 200_000
        + b"}\n"
        + b'{"id": "t3", "response": "caf\xe9"}\n'
        + json.dumps({**good, "id": "t4", "seed": int("9" * 100)}).encode()
        + b"\n"
    )
    done = evals("scan", str(path), "--policies", str(policies))
    # Bad records are named, skipped and counted (exit 1); the scan itself goes on.
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in (
        f"{path}:2: JSON nested deeper than 100",
        f"{path}:3: not UTF-8 text",
        f"{path}:4: field 'seed': integer with 100 digits",
        "3 invalid",
    ):
        assert needle in done.stderr, (needle, done.stderr)
    assert '"id": "t1"' in done.stdout  # the good record is still checked


def test_csv_cells_holding_json_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    deep = "[" * 1000 + "]" * 1000
    path.write_text(
        "id,intent,kind,channel,risk,language,company,message,facts\n"
        'c1,refund,support,chat,low,es,acme,hola,"{""amount"": ""EUR 1""}"\n'
        f'c2,refund,support,chat,low,es,acme,hola,"{deep}"\n',
        encoding="utf-8",
    )
    done = evals("validate", str(path))
    assert_input_error(done, f"{path}:3: record 'c2': field 'facts': JSON nested deeper than")
    assert "record 'c1'" not in done.stderr


def test_a_cassette_with_invalid_utf8_names_the_cassette_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    cassette = Cassette(folder, "fake")
    cassette.put(_entry("c1"))
    with (folder / "fake.jsonl").open("ab") as handle:
        handle.write(b'{"key": "caf\xe9"}\n')
    done = evals("validate", str(folder))
    assert_input_error(done, f"{folder / 'fake.jsonl'}:2: not UTF-8 text")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}', max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids),
        max_leaves=40,
    ),
    st.integers(min_value=0, max_value=12),
)
def test_depth_check_agrees_with_the_real_depth(value: Any, limit: int) -> None:
    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert bounded_json.nesting_depth_exceeds(json.dumps(value), limit) == (depth(value) > limit)


def test_json_bounds_accept_what_is_within_them() -> None:
    ok = "[" * 100 + "]" * 100
    assert bounded_json.loads(ok) is not None
    assert bounded_json.loads('{"n": ' + "9" * 64 + "}")["n"] == int("9" * 64)
    assert bounded_json.loads('{"s": "[[[[' + "[" * 500 + '"}')["s"].startswith("[")
    with pytest.raises(BadJSON, match="nested deeper"):
        bounded_json.loads("[" * 101 + "]" * 101)
    with pytest.raises(BadJSON) as caught:
        bounded_json.loads('{"n": ' + "9" * 65 + "}")
    assert caught.value.field == "n"


# --- path kinds ----------------------------------------------------------------------------


def test_output_naming_an_existing_file_exits_2_before_any_call(tmp_path: Path) -> None:
    out_file = tmp_path / "out"
    out_file.write_text("not a folder")
    suite = write_suite(tmp_path)
    assert_input_error(evals("run", str(suite), "-q"), "output folder", "is a file")
    assert_input_error(evals("run", str(suite), "--out", str(suite), "-q"), "is a file")
    assert out_file.read_text() == "not a folder"


def test_replay_dir_naming_a_file_exits_2_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "cassettes.txt").write_text("notes")
    suite = write_suite(
        tmp_path,
        extra={"replay": {"mode": "record", "dir": "cassettes.txt"}},
    )
    done = evals("run", str(suite), "-q")
    assert_input_error(done, "field 'replay.dir'", "is a file, not a folder")
    assert not (tmp_path / "out" / "runs.sqlite").exists()  # nothing ran, nothing was paid for
    ok = write_suite(tmp_path / "ok", extra={"replay": {"mode": "record", "dir": "cassettes"}})
    assert evals("run", str(ok), "-q").returncode == 0
    assert (tmp_path / "ok" / "cassettes" / "fake.jsonl").is_file()


def test_folders_where_files_belong_exit_2(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").mkdir()
    assert_input_error(evals("validate", str(tmp_path / "suite.yaml")), "is a folder, not a file")
    assert_input_error(evals("run", str(tmp_path / "suite.yaml")), "is a folder")
    (tmp_path / "empty").mkdir()
    assert_input_error(evals("validate", str(tmp_path / "empty")), "holds no case")
    write_suite(tmp_path / "s")
    policies = tmp_path / "s" / "policies"
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text("")
    done = evals("scan", str(transcripts), "--policies", str(policies), "--out", str(tmp_path))
    assert_input_error(done, "--out is a folder")
    done = evals("scan", str(tmp_path / "missing.jsonl"), "--policies", str(policies))
    assert_input_error(done, "missing.jsonl: no such file")


def test_a_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, extra={"cases": [{"path": "cases/*"}]})
    os.mkfifo(tmp_path / "cases" / "more.yaml")
    os.mkfifo(tmp_path / "piped.jsonl")
    done = evals("validate", str(tmp_path / "piped.jsonl"), timeout=30)
    assert_input_error(done, "piped.jsonl: not a regular file")
    done = evals("run", str(suite), "-q", timeout=30)
    assert_input_error(done, "more.yaml: is not a regular file")


def test_a_decision_policy_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").mkdir()
    suite = write_suite(tmp_path, extra={"decision_policy": "policy.yaml"})
    done = evals("run", str(suite), "-q")
    assert_input_error(done, "field 'decision_policy'", "is a folder, not a file")


def test_a_path_the_system_cannot_look_at_is_named(tmp_path: Path) -> None:
    long = "p" * 5000  # longer than any file name: stat() fails with ENAMETOOLONG
    suite = write_suite(
        tmp_path,
        extra={"policies": ["policies", long], "replay": {"mode": "record", "dir": long}},
    )
    issues = validate_paths([suite]).issues
    assert len(issues) == 2 and all("File name too long" in i.message for i in issues), issues
    assert issues[0].file == str(tmp_path / long)  # the policy path
    assert issues[1].field == "replay.dir"
    assert [i.message for i in validate_paths([tmp_path / long]).issues] == [
        "cannot use this path: File name too long"
    ]


# --- the run lock --------------------------------------------------------------------------


def test_a_second_resume_of_a_running_run_exits_2_and_a_killed_run_resumes(
    tmp_path: Path,
) -> None:
    targets = [{"name": "fake", "model": "fake/scripted", "params": {"extra": {"latency": 0.05}}}]
    suite = write_suite(tmp_path, n_cases=400, targets=targets, extra={"concurrency": 1})
    store = tmp_path / "out" / "runs.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen(
        [*EVALS, "run", str(suite), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while stored_results(store) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        run_id = sqlite3.connect(store).execute("SELECT id FROM runs").fetchone()[0]
        second = evals("run", "--resume", run_id, "--out", str(store.parent), "-q")
        assert_input_error(
            second, f"run '{run_id}' is being written by another process", f"{run_id}.lock"
        )
        assert proc.poll() is None  # the first run was not disturbed
        with pytest.raises(InputError, match="being written by another process"):
            RunStore.in_folder(store.parent).lock_run(run_id)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The dead process's lock died with it: nothing stale blocks the resume.
    later = RunStore.in_folder(store.parent)
    assert later.lock_run(run_id).name == f"{run_id}.lock"
    later.close()


# --- shared cassettes ----------------------------------------------------------------------


def _entry(case: str, sample: int = 0) -> CassetteEntry:
    return CassetteEntry(
        key=f"{case}-{sample}",
        target="fake",
        model="fake/scripted",
        case=case,
        sample=sample,
        text=f"answer for {case}",
        recorded=now(),
    )


def test_two_suites_recording_into_one_folder_keep_both_runs_answers(tmp_path: Path) -> None:
    shared = tmp_path / "cassettes"
    # Each run lasts seconds, so both load, append and compact while the other is running.
    targets = [{"name": "fake", "model": "fake/scripted", "params": {"extra": {"latency": 0.1}}}]
    suites = []
    for name in ("one", "two"):
        cases = [case_dict(f"{name}{i:03d}") for i in range(40)]
        suites.append(
            write_suite(
                tmp_path / name,
                cases=cases,
                targets=targets,
                extra={"replay": {"mode": "record", "dir": str(shared)}, "concurrency": 2},
            )
        )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    procs = [
        subprocess.Popen(
            [*EVALS, "run", str(s), "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for s in suites
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    lines = (shared / "fake.jsonl").read_text(encoding="utf-8").splitlines()
    cases = {json.loads(line)["case"] for line in lines}
    assert len(lines) == 80 and len(cases) == 80
    assert not list(shared.glob("*.tmp"))
    assert validate_paths([shared]).issues == []


def test_a_line_torn_by_a_kill_is_dropped_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    first = Cassette(folder, "fake")
    first.put(_entry("c1"))
    full = _entry("c2").model_dump_json()
    with (folder / "fake.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(full[: len(full) // 2])  # killed mid-append
    again = Cassette(folder, "fake")
    assert len(again) == 1
    again.put(_entry("c3"))
    lines = (folder / "fake.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["case"] for line in lines] == ["c1", "c3"]
    # a complete entry merely missing its final newline (a hand edit) is kept
    with (folder / "fake.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(_entry("c4").model_dump_json())
    Cassette(folder, "fake").put(_entry("c5"))
    assert len(Cassette(folder, "fake")) == 4


def test_compaction_merges_what_other_processes_appended(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    mine, theirs = Cassette(folder, "fake"), Cassette(folder, "fake")
    folder.mkdir()
    (folder / ".fake.killed.tmp").write_text('{"half')  # a compaction killed mid-write
    mine.put(_entry("b"))
    theirs.put(_entry("a"))
    theirs.compact()
    mine.compact()
    lines = (folder / "fake.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["case"] for line in lines] == ["a", "b"]
    assert (folder / "fake.jsonl").stat().st_mode & 0o004  # still readable by others
    assert sorted(p.name for p in folder.iterdir()) == ["fake.jsonl"]


def test_a_corrupt_complete_line_is_still_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    Cassette(folder, "fake").put(_entry("c1"))
    with (folder / "fake.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"key": 1}\n')
    with pytest.raises(InputError) as caught:
        Cassette(folder, "fake")
    assert caught.value.issues[0].line == 2


# --- fuzz ----------------------------------------------------------------------------------

SUITE_TEXT = yaml.safe_dump(
    {
        "name": "fuzz",
        "cases": [{"path": "cases.yaml"}],
        "policies": ["policies"],
        "targets": [{"name": "fake", "model": "fake/scripted"}],
    }
)
CASES_TEXT = yaml.safe_dump({"cases": [case_dict("c1"), case_dict("c2")]}, allow_unicode=True)
POLICY_TEXT = yaml.safe_dump(POLICY)
JSONL_TEXT = "\n".join(case_jsonl(f"j{i}") for i in range(2)) + "\n"
SEEDS = {
    "suite.yaml": SUITE_TEXT,
    "cases.yaml": CASES_TEXT,
    "policies/acme.yaml": POLICY_TEXT,
    "cases.jsonl": JSONL_TEXT,
}
HOSTILE = [
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"[" * 300,
    b"{" * 300,
    b"9" * 5000,
    b"\xff\xfe",
    b"\x00",
    b"\n  - ",
    b": ",
    b"!!python/object:os.system ",
    b"\t",
    b'"',
    b"\\u",
    b"id: x\nid: y\n",
]
#: Values a field may be replaced with, whole: each has broken a loader somewhere.
VALUES = [
    b"9" * 5000,
    b"-" + b"9" * 5000,
    b"[" * 2000 + b"]" * 2000,
    b"&a [*a]",
    b"2024-13-45",
    b"!!float abc",
    b"!!int 12x",
    b"!!binary ***",
    b"!!timestamp x",
    b"1e99999",
    b"NaN",
    b"{{{",
    b"null",
    b"[]",
    b"{}",
    b'"\\ud800"',
]
#: Field values found in the seed files, to be replaced whole.
TOKENS = [b"acme", b"medium", b"chat", b"es", b"support", b"refund_status", b"fake", b"1", b"c1"]


def _mutate(draw: st.DrawFn, data: bytearray, tokens: list[bytes]) -> bytes:
    """`data` after 1-4 random edits: an insertion, a deletion, a flipped byte, a hostile
    snippet, or one of `tokens` replaced whole by a hostile value."""
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "hostile", "value"]))
        if action == "value":
            token = draw(st.sampled_from(tokens))
            found = data.find(token, at)
            start = found if found >= 0 else data.find(token)
            if start >= 0:
                data[start : start + len(token)] = draw(st.sampled_from(VALUES))
        elif action == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=40))]
        elif action == "flip" and at < len(data):
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif action == "hostile":
            data[at:at] = draw(st.sampled_from(HOSTILE))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    return name, _mutate(draw, bytearray(SEEDS[name].encode("utf-8")), TOKENS)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutated())
def test_mutated_inputs_give_input_errors_never_exceptions(
    tmp_path: Path, mutation: tuple[str, bytes]
) -> None:
    name, data = mutation
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    (root / "policies").mkdir()
    for seed, text in SEEDS.items():
        (root / seed).write_text(text, encoding="utf-8")
    (root / name).write_bytes(data)
    inventory = validate_paths([root])  # must not raise
    for issue in inventory.issues:
        assert issue.file.startswith(str(root))
        assert str(issue).startswith(str(root))


TRANSCRIPTS = "\n".join(
    json.dumps(
        {
            "id": f"t{i}",
            "company": "acme",
            "language": "es",
            "intent": "refund_status",
            "messages": [{"role": "user", "content": "¿Dónde está mi reembolso?"}],
            "facts": {"amount": "EUR 10.00"},
            "response": "Tu reembolso de EUR 10.00 llegará en 10 días hábiles.",
        },
        ensure_ascii=False,
    )
    for i in range(2)
).encode()


@st.composite
def mutated_transcripts(draw: st.DrawFn) -> bytes:
    tokens = [b'"acme"', b'"es"', b'"EUR 10.00"', b'"t0"', b"{", b"["]
    return _mutate(draw, bytearray(TRANSCRIPTS), tokens)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutated_transcripts())
def test_mutated_transcripts_give_issues_never_exceptions(tmp_path: Path, data: bytes) -> None:
    from evals.records import PolicyBook
    from evals.scan import scan

    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "transcripts.jsonl"
    path.write_bytes(data)
    out = io.StringIO()
    totals, issues = scan(path, {"acme": PolicyBook.model_validate(POLICY)}, out)  # no raise
    assert totals.records == totals.passed + totals.failed + totals.invalid
    assert all(issue.file == str(path) for issue in issues)
    assert len(out.getvalue().splitlines()) == totals.passed + totals.failed


def test_kill_9_while_recording_leaves_a_readable_cassette(tmp_path: Path) -> None:
    targets = [{"name": "fake", "model": "fake/scripted", "params": {"extra": {"latency": 0.01}}}]
    suite = write_suite(
        tmp_path,
        n_cases=300,
        targets=targets,
        extra={"replay": {"mode": "record"}, "concurrency": 8},
    )
    cassette = tmp_path / "cassettes" / "fake.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen([*EVALS, "run", str(suite), "-q"], stdout=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if cassette.exists() and cassette.stat().st_size > 20_000:
                break
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert validate_paths([cassette.parent]).issues == []
    kept = len(Cassette(cassette.parent, "fake"))
    assert 0 < kept < 300
    # Recording again completes the cassette; nothing torn is left in it.
    assert evals("run", str(suite), "--replay", "auto", "-q").returncode == 0
    assert len(Cassette(cassette.parent, "fake")) == 300
    assert cassette.read_bytes().endswith(b"\n")
