"""The Ray engine of `evals scan` (`evals/scan_ray.py`) judges every record as the local engine
does: same findings in the same order, same pass/fail, same input issues with their lines.

The Ray tests share one local Ray of 2 CPUs (started once for this module: about 10-20 s on
the shared 2-core machine) and are skipped, saying why, when `ray` is not installed (the `dev`
extra installs it, so CI runs them)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evals.cli import app
from evals.errors import InputError
from evals.records import PolicyBook
from evals.scan import scan
from evals.scan_ray import plan_shards, read_findings, run_ray_scan
from evals.validate import validate_paths

ROOT = Path(__file__).resolve().parents[2]


def _library() -> tuple[list[dict[str, Any]], dict[str, PolicyBook]]:
    """The library's reference answers and the labelled answers (good and bad) as transcripts."""
    inventory = validate_paths(
        [ROOT / "cases" / "library", ROOT / "cases" / "labelled", ROOT / "cases" / "policies"]
    )
    assert not inventory.issues
    cases = {case.id: case for _, case in inventory.cases}
    answers = [(case, case.reference) for case in cases.values() if case.reference]
    answers += [(cases[item.case], item.response) for _, item in inventory.labelled]
    records = []
    for i, (case, text) in enumerate(answers):
        record: dict[str, Any] = {
            "id": f"t{i}",
            "company": case.company,
            "language": case.language,
            "messages": [m.model_dump() for m in case.messages],
            "response": text,
            "facts": case.facts,
            "intent": case.intent,
            "kind": case.kind,
            "channel": case.channel,
            "risk": case.risk,
        }
        if i % 2:  # production transcripts come without `expect`: half of them here
            record["expect"] = case.expect.model_dump(mode="json", by_alias=True)
        records.append(record)
    return records, inventory.policies


def _transcripts(path: Path, copies: int, broken: bool = True) -> int:
    """`copies` rounds of the library's answers (distinct ids), with unreadable lines, invalid
    records and blank lines among them when `broken`; returns the number of lines written."""
    records, _ = _library()
    lines = []
    for round_ in range(copies):
        for record in records:
            lines.append(json.dumps(record | {"id": f"{record['id']}-{round_}"}))
            if broken and len(lines) % 97 == 0:
                lines += [
                    "{not json",
                    json.dumps(record | {"id": f"x{len(lines)}", "language": "Spanish!"}),
                    "",
                    json.dumps(record | {"id": f"y{len(lines)}", "company": "nobody"}),
                    "[1, 2]",
                ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _local(source: Path, policies: dict[str, PolicyBook]) -> tuple[Any, list[str], list[Any]]:
    sink = io.StringIO()
    totals, issues = scan(source, policies, sink)
    return totals, [str(i) for i in issues], [json.loads(x) for x in sink.getvalue().splitlines()]


# --- no Ray needed ---------------------------------------------------------------------------


def test_the_shard_plan_cuts_at_line_ends_and_numbers_lines_like_the_local_engine(
    tmp_path: Path,
) -> None:
    source = tmp_path / "t.jsonl"
    source.write_bytes(b'{"a": 1}\n\n{"b": 2}\nnot json\n{"c": 3}')  # last line unterminated
    shards = plan_shards([source], shard_lines=2)
    assert [(s.start, s.end, s.first_line) for s in shards] == [
        (0, 10, 1),
        (10, 28, 3),
        (28, 36, 5),
    ]
    one = plan_shards([source], shard_lines=1000)
    assert [(s.start, s.end, s.first_line) for s in one] == [(0, 36, 1)]


def test_an_output_folder_that_holds_files_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    _, policies = _library()
    source = tmp_path / "t.jsonl"
    _transcripts(source, 1)
    out = tmp_path / "found"
    out.mkdir()
    (out / "earlier.parquet").write_bytes(b"keep me")
    with pytest.raises(InputError, match="already holds files"):
        run_ray_scan(source, policies, out)
    assert (out / "earlier.parquet").read_bytes() == b"keep me"
    with pytest.raises(InputError) as caught:
        run_ray_scan([tmp_path / "absent.jsonl", tmp_path / "t.csv"], policies, tmp_path / "new")
    assert [i.message for i in caught.value.issues] == [
        "no such file",
        "the Ray engine reads .jsonl and .parquet files; not this one",
    ]


def test_without_ray_installed_the_engine_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    _, policies = _library()
    source = tmp_path / "t.jsonl"
    _transcripts(source, 1)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    with pytest.raises(InputError, match=r"pip install 'supportgate\[ray\]'"):
        run_ray_scan(source, policies, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_ray_address_where_nothing_answers_exits_2_at_once_instead_of_waiting(
    tmp_path: Path,
) -> None:
    import socket
    import time

    _, policies = _library()
    source = tmp_path / "t.jsonl"
    _transcripts(source, 1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for address, says in [
        (f"127.0.0.1:{port}", f"nothing answers at 127.0.0.1:{port}"),
        (f"ray://127.0.0.1:{port}", f"nothing answers at 127.0.0.1:{port}"),
        ("head-node", "give auto, HOST:PORT or ray://HOST:PORT"),
    ]:
        started = time.monotonic()
        with pytest.raises(InputError, match=says) as caught:
            run_ray_scan(source, policies, tmp_path / "out", address=address)
        assert caught.value.issues[0].file == f"--ray-address {address}"
        assert time.monotonic() - started < 10
    assert not (tmp_path / "out").exists()


def test_importing_the_ray_engine_does_not_import_ray() -> None:
    code = "import sys, evals.scan_ray, evals.cli; assert 'ray' not in sys.modules, 'ray imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_spark_recipe_gives_the_local_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `mapInPandas` function of docs/scale.md, run on pandas batches as Spark would."""
    import shutil

    import pandas as pd

    doc = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")
    recipe = doc.split("# recipe: spark mapInPandas\n", 1)[1].split("# end of recipe", 1)[0]
    shutil.copytree(ROOT / "cases" / "policies", tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(recipe, "docs/scale.md", "exec"), namespace)  # our own documentation

    records, policies = _library()
    lines = [json.dumps(r) for r in records[:300]]
    lines[10:10] = ["{not json", json.dumps(records[0] | {"company": "nobody"}), "   "]
    source = tmp_path / "t.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    totals, issues, local_rows = _local(source, policies)

    batches = [pd.DataFrame({"value": lines[i : i + 100]}) for i in range(0, len(lines), 100)]
    out = pd.concat(list(namespace["check_partition"](iter(batches))))
    checked = out[out["status"].isin(["passed", "failed"])].to_dict("records")
    assert [
        {"id": r["id"], "passed": r["passed"], "findings": json.loads(r["findings"])}
        | ({"error": r["error"]} if isinstance(r["error"], str) else {})
        for r in checked
    ] == local_rows
    assert sum(out["status"] == "failed") == totals.failed > 0 and totals.passed > 0
    assert sorted(out["status"][out["issues"].notna()]) == ["invalid", "unreadable"]
    assert len(issues) == 2


# --- on a local Ray of 2 CPUs ----------------------------------------------------------------


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Ray scan (a local Ray of 2 CPUs; starting it is most of the time) of three inputs,
    and the local engine's scan of each: thousands of library answers with broken lines among
    them; a file of every kind of bad line; the same records as a Parquet file."""
    try:
        import ray
    except ImportError:
        pytest.skip("ray is not installed: pip install 'supportgate[ray]' (the dev extra has it)")
    import logging
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = tmp_path_factory.mktemp("scan_ray")
    records, policies = _library()
    many = tmp / "many.jsonl"
    _transcripts(many, 3)

    good, bad = records[0], records[3]
    lines = [
        json.dumps(good),
        "",
        "{not json",
        json.dumps(bad | {"language": "Spanish!"}),
        '{"id": "deep", "x": ' + "[" * 200 + "]" * 200 + "}",
        json.dumps(bad | {"id": "z", "company": "nobody"}),
        "[1, 2]",
        json.dumps(bad | {"id": "last"}),
    ]
    broken = tmp / "broken.jsonl"
    broken.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")  # and a non-UTF-8 line

    flat = [  # Parquet columns hold the same keys on every row: no facts or expect here
        {k: v for k, v in r.items() if k not in ("facts", "expect")} for r in records[:400]
    ]
    flat_jsonl = tmp / "flat.jsonl"
    flat_jsonl.write_text("\n".join(json.dumps(r) for r in flat) + "\n", encoding="utf-8")
    table = tmp / "flat.parquet"
    pq.write_table(pa.Table.from_pylist(flat), table, row_group_size=100)

    local = {str(p): _local(p, policies) for p in (many, broken, flat_jsonl)}
    # Through the command line: records with no intent (findings only), both engines.
    plain = tmp / "plain.jsonl"
    plain.write_text(
        "".join(json.dumps({k: v for k, v in r.items() if k != "intent"}) + "\n" for r in flat),
        encoding="utf-8",
    )
    books = str(ROOT / "cases" / "policies")
    cli_local = CliRunner().invoke(
        app,
        ["scan", str(plain), "--policies", books, "--workers", "2", "--out", str(tmp / "l.jsonl")],
    )
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        out = tmp / "found"
        # Small shards: many shard edges, some of them inside the broken stretches.
        totals, issues = run_ray_scan([many, broken, table], policies, out, shard_lines=64)
        cli_ray = CliRunner().invoke(
            app,
            ["scan", str(plain), "--policies", books, "--engine", "ray", "--out", str(tmp / "r")],
        )
    finally:
        ray.shutdown()
    return {
        "local": local,
        "out": out,
        "totals": totals,
        "issues": issues,
        "many": many,
        "broken": broken,
        "table": table,
        "flat": flat_jsonl,
        "plain": plain,
        "cli": (cli_local, tmp / "l.jsonl", cli_ray, tmp / "r"),
    }


def test_ray_findings_equal_the_local_engines_on_thousands_of_records(
    compared: dict[str, Any],
) -> None:
    many = compared["many"]
    totals, _, rows = compared["local"][str(many)]
    assert totals.records > 2500
    # The set holds both kinds: bad answers are caught, good ones pass.
    assert 300 < totals.failed < totals.records - 300 and totals.invalid > 0
    ray_rows = list(read_findings(compared["out"], source=many))
    assert ray_rows == rows  # same verdicts, same findings in the same order, every record
    assert len(list(compared["out"].glob("*.parquet"))) > 1  # the work was spread over blocks


def test_ray_totals_and_issues_are_the_local_engines_across_shard_edges(
    compared: dict[str, Any],
) -> None:
    many, broken = compared["many"], compared["broken"]
    local = [compared["local"][str(compared[k])] for k in ("many", "broken", "flat")]
    ray_totals = compared["totals"]
    assert ray_totals.records == sum(t.records for t, _, _ in local)
    assert ray_totals.passed == sum(t.passed for t, _, _ in local)
    assert ray_totals.failed == sum(t.failed for t, _, _ in local)
    assert ray_totals.invalid == sum(t.invalid for t, _, _ in local)
    ray_issues = [str(i) for i in compared["issues"]]
    _, broken_issues, broken_rows = compared["local"][str(broken)]
    assert [i for i in ray_issues if i.startswith(str(broken))] == broken_issues
    assert [i for i in ray_issues if i.startswith(str(many))] == compared["local"][str(many)][1]
    named = "\n".join(broken_issues)
    for where in (
        ":3: invalid JSON",
        ":4: record 't3': field 'language'",
        ":5: ",
        ":7: a line must",
        ":9: not UTF-8",
        "field 'company'",
    ):
        assert where in named
    assert list(read_findings(compared["out"], source=broken)) == broken_rows


def test_parquet_row_groups_give_the_findings_of_the_same_records_as_jsonl(
    compared: dict[str, Any],
) -> None:
    _, _, rows = compared["local"][str(compared["flat"])]
    assert len(rows) == 400
    assert list(read_findings(compared["out"], source=compared["table"])) == rows


def test_evals_scan_engine_ray_writes_what_the_local_engine_writes(
    compared: dict[str, Any],
) -> None:
    cli_local, local_out, cli_ray, ray_out = compared["cli"]
    assert cli_local.exit_code == cli_ray.exit_code == 1, cli_ray.output  # some answers fail
    local_rows = [json.loads(x) for x in local_out.read_text(encoding="utf-8").splitlines()]
    assert len(local_rows) == 400
    assert list(read_findings(ray_out, source=compared["plain"])) == local_rows
    assert "written to" in cli_ray.stderr and "Parquet" in cli_ray.stderr


def test_engine_ray_refuses_what_it_does_not_take_before_starting(tmp_path: Path) -> None:
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text("", encoding="utf-8")
    books = str(ROOT / "cases" / "policies")
    common = ["scan", str(transcripts), "--policies", books, "--engine", "ray"]
    for extra, said in (
        (["--out", str(tmp_path / "o"), "--map", "response=reply"], "--map"),
        (["--out", str(tmp_path / "o"), "--resume"], "--resume"),
        ([], "--out FOLDER"),
    ):
        done = CliRunner().invoke(app, common + extra)
        assert done.exit_code == 2 and said in done.stderr, done.output
    wrong = CliRunner().invoke(app, [*common[:4], "--ray-address", "auto"])
    assert wrong.exit_code == 2 and "--ray-address needs --engine ray" in wrong.stderr
