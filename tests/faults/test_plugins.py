"""Plugins: a user's guardrails and targets run, through a suite's `plugins:` list and through
installed entry points, and every run records which plugin code judged it. A plugin that
breaks, or takes a name already taken, stops the command with exit 2 naming it, never a
traceback; an unknown guardrail is caught by `evals validate`, not first by `evals run`.

Everything runs through the real `evals` command in a subprocess, against a tiny plugin written
by the test; one test installs a real distribution into a fresh venv (about 15-40 s)."""

from __future__ import annotations

import hashlib
import json
import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from builders import case_dict, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

import evals
from evals.errors import InputError
from evals.manifest import Manifest, body_sha256
from evals.plugins import check_unchanged
from evals.records import PluginVersion
from guardrails import GuardrailContext, register
from guardrails.registry import DuplicateGuardrail, registered, registering_for, unregister

pytest_plugins = ["pytester"]

EVALS = [sys.executable, "-m", "evals"]
WORKTREE = Path(evals.__file__).resolve().parent.parent

#: The README's example, completed: a guardrail that fails an answer naming a competitor.
NO_COMPETITOR = textwrap.dedent(
    """
    from evals.records import Case, Finding
    from guardrails import GuardrailContext, register

    COMPETITOR = "RivalCo"


    @register("no_competitor")
    def no_competitor(context: GuardrailContext):
        def run(case: Case, text: str) -> list[Finding]:
            at = text.find(COMPETITOR)
            if at < 0:
                return []
            span = {"start": at, "end": at + len(COMPETITOR), "text": COMPETITOR}
            return [
                Finding(
                    guardrail="no_competitor",
                    code="no_competitor.named",
                    severity="major",
                    message="The answer recommends a competitor.",
                    evidence={"span": span, "note": "competitors are never named"},
                )
            ]

        return run
    """
)
BAD = "Mejor compre en RivalCo, es más barato."
GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."


def evals_cli(
    *args: str | Path, cwd: Path | None = None, path: list[Path] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [*EVALS, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def scripted(*replies: str) -> list[dict[str, Any]]:
    return [{"name": "bot", "model": "fake/scripted", "params": {"extra": {"replies": [*replies]}}}]


def plugin_suite(root: Path, **extra: Any) -> Path:
    """Two cases, two samples each: sample 0 names the competitor, sample 1 does not."""
    settings: dict[str, Any] = {
        "guardrails": ["no_competitor"],
        "plugins": ["no_competitor"],
        "replay": {"mode": "off"},
    }
    settings.update(extra)
    return write_suite(root, n_cases=2, samples=2, targets=scripted(BAD, GOOD), extra=settings)


def only_line(text: str, needle: str) -> str:
    [line] = [line for line in text.splitlines() if needle in line]
    return line


def show_json(out: Path) -> dict[str, Any]:
    done = evals_cli("show", "latest", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def manifest_of(out: Path) -> dict[str, Any]:
    [path] = list((out / "reports").glob("*/manifest.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --- a module beside the suite ------------------------------------------------------------


def test_a_guardrail_module_beside_the_suite_judges_the_run_and_is_recorded(
    tmp_path: Path,
) -> None:
    suite = plugin_suite(tmp_path)
    module = tmp_path / "no_competitor.py"
    module.write_text(NO_COMPETITOR, encoding="utf-8")
    # Run from elsewhere: the module is found in the suite's folder, not the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checked = evals_cli("validate", suite, cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    done = evals_cli("run", suite, "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "2 of 4 answers failed" in done.stdout

    run = show_json(tmp_path / "out")
    verdicts = {
        (r["case_id"], r["sample"]): (r["passed"], [f["code"] for f in r["findings"]])
        for r in run["results"]
    }
    # The bad answer is caught by the plugin with its evidence; the good one passes.
    assert verdicts == {
        ("c000", 0): (False, ["no_competitor.named"]),
        ("c000", 1): (True, []),
        ("c001", 0): (False, ["no_competitor.named"]),
        ("c001", 1): (True, []),
    }
    [caught] = [f for r in run["results"] for f in r["findings"]][:1]
    assert caught["evidence"]["span"] == {"start": 16, "end": 23, "text": "RivalCo"}

    digest = hashlib.sha256(module.read_bytes()).hexdigest()
    [plugin] = run["versions"]["plugins"]
    assert plugin["group"] == "suite" and plugin["name"] == "no_competitor"
    assert plugin["distribution"] is None and plugin["version"] == f"sha256:{digest}"
    assert plugin["source"] == f"module from no_competitor.py in {tmp_path}, sha256 {digest}"
    assert plugin["provides"] == ["no_competitor"]
    # The guardrail's own version is the hash of its module, as for any user's guardrail.
    assert run["versions"]["guardrail_versions"]["no_competitor"] == digest[:16]
    assert manifest_of(tmp_path / "out")["plugins"] == {"suite:no_competitor": plugin}

    shown = evals_cli("show", "latest", "--out", tmp_path / "out")
    assert f"plugin no_competitor (suite): module from no_competitor.py in {tmp_path}" in (
        shown.stdout
    )
    verified = evals_cli("verify", "latest", "--out", tmp_path / "out")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # A manifest claiming other plugin code, even with its body hash recomputed, is caught.
    [path] = list((tmp_path / "out" / "reports").glob("*/manifest.json"))
    pristine = path.read_text(encoding="utf-8")
    forged = Manifest.model_validate_json(pristine)
    claimed = forged.plugins["suite:no_competitor"].model_copy(update={"version": "sha256:00"})
    forged = forged.model_copy(update={"plugins": {"suite:no_competitor": claimed}})
    forged = forged.model_copy(update={"body_sha256": body_sha256(forged)})
    path.write_text(forged.model_dump_json(), encoding="utf-8")
    verified = evals_cli("verify", "latest", "--out", tmp_path / "out")
    assert verified.returncode == 1
    assert "a plugin changed since the manifest was written" in verified.stdout + verified.stderr
    path.write_text(pristine, encoding="utf-8")

    # An edit to the module is a new version: the next run records another hash.
    module.write_text(NO_COMPETITOR.replace("RivalCo", "OtraCo"), encoding="utf-8")
    assert evals_cli("run", suite, "-q", cwd=elsewhere).returncode == 0
    runs = evals_cli("show", "latest", "--out", tmp_path / "out", "--json")
    edited = json.loads(runs.stdout)["versions"]["plugins"][0]["version"]
    assert (
        edited == f"sha256:{hashlib.sha256(module.read_bytes()).hexdigest()}" != plugin["version"]
    )


def test_an_unknown_guardrail_is_refused_by_validate_at_its_line_with_the_fix(
    tmp_path: Path,
) -> None:
    """Before: `guardrails: [policy, no_competitor]` validated, and `evals run` exited 2."""
    suite = plugin_suite(tmp_path, guardrails=["policy", "no_competitr"])
    (tmp_path / "no_competitor.py").write_text(NO_COMPETITOR, encoding="utf-8")
    line = suite.read_text(encoding="utf-8").splitlines().index("- no_competitr") + 1
    for command in (["validate", suite], ["run", suite]):
        done = evals_cli(*command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        error = only_line(done.stderr, "unknown guardrail")
        assert f"{suite}:{line}: record 'no_competitr': field 'guardrails[1]'" in error
        assert "Did you mean 'no_competitor'?" in error
    assert not (tmp_path / "out" / "runs.sqlite").exists()  # nothing ran

    # Without its module, the guardrail is unknown, and the message says how to load it.
    suite = plugin_suite(tmp_path, plugins=[])
    done = evals_cli("validate", suite)
    assert done.returncode == 2
    assert "list it under `plugins:`" in only_line(done.stderr, "unknown guardrail 'no_competitor'")
    # The good case: with the module listed, the same suite validates.
    plugin_suite(tmp_path)
    assert evals_cli("validate", suite).returncode == 0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import json\nraise RuntimeError('no licence file found')\n", "RuntimeError: no licence"),
        ("import no_such_dependency_xyz\n", "No module named 'no_such_dependency_xyz'"),
        ("def broken(:\n", "SyntaxError"),
    ],
)
def test_a_plugin_module_that_fails_exits_2_naming_it_its_line_and_the_cause(
    tmp_path: Path, source: str, expected: str
) -> None:
    suite = plugin_suite(tmp_path)
    (tmp_path / "no_competitor.py").write_text(source, encoding="utf-8")
    line = suite.read_text(encoding="utf-8").splitlines().index("plugins:") + 2
    # `run` goes through the same loading as `validate`: once is enough to show it stops too.
    for command in ("validate", "run") if expected.startswith("RuntimeError") else ("validate",):
        done = evals_cli(command, suite)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        error = only_line(done.stderr, "failed to import")
        assert f"{suite}:{line}: record 'no_competitor': field 'plugins[0]'" in error
        assert expected in error and str(tmp_path / "no_competitor.py") in error
    assert not (tmp_path / "out" / "runs.sqlite").exists()


def test_a_missing_or_misnamed_module_is_named_with_where_it_was_looked_for(
    tmp_path: Path,
) -> None:
    suite = plugin_suite(tmp_path, plugins=["checks.no_competitor", "../no_competitor.py"])
    done = evals_cli("validate", suite)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'../no_competitor.py' is not a module name" in done.stderr
    # The path is refused by the suite's schema, so nothing is imported at all.
    suite = plugin_suite(tmp_path, plugins=["checks.no_competitor"])
    done = evals_cli("validate", suite)
    assert done.returncode == 2
    error = only_line(done.stderr, "no module named 'checks.no_competitor'")
    assert f"in {tmp_path}" in error and "checks/no_competitor.py" in error
    # Put there, it loads: a package beside the suite works like a module.
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "checks" / "no_competitor.py").write_text(NO_COMPETITOR, encoding="utf-8")
    assert evals_cli("run", suite, "-q").returncode == 0
    [plugin] = show_json(tmp_path / "out")["versions"]["plugins"]
    assert plugin["source"].startswith(f"module from checks in {tmp_path}, sha256 ")


def test_a_name_already_registered_is_refused_naming_who_has_it(tmp_path: Path) -> None:
    suite = plugin_suite(tmp_path, plugins=["no_competitor", "copycat"])
    (tmp_path / "no_competitor.py").write_text(NO_COMPETITOR, encoding="utf-8")
    (tmp_path / "copycat.py").write_text(
        "from guardrails import register\n\n@register('no_competitor')\n"
        "def lenient(context):\n    return lambda case, text: []\n",
        encoding="utf-8",
    )
    done = evals_cli("run", suite)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = only_line(done.stderr, "plugins[1]")
    assert "plugin module 'copycat' failed to import" in error
    assert "guardrail 'no_competitor' is already registered by plugin module 'no_competitor'" in (
        error
    )
    assert f"(at {tmp_path / 'copycat.py'}:3)" in error
    # A built-in cannot be replaced behind the run's back either.
    (tmp_path / "copycat.py").write_text(
        "from guardrails import register\n\n@register('policy')\n"
        "def lenient(context):\n    return lambda case, text: []\n",
        encoding="utf-8",
    )
    done = evals_cli("run", suite)
    assert done.returncode == 2
    assert "guardrail 'policy' is already registered by supportgate (guardrails.policy)" in (
        done.stderr
    )


def test_registering_outside_a_plugin_still_replaces_and_inside_one_cannot_steal() -> None:
    def factory(context: GuardrailContext) -> Any:
        return lambda case, text: []

    try:
        register("plugin_probe")(factory)
        register("plugin_probe")(factory)  # the user's own code: replacing stays allowed
        with registering_for("plugin A"):
            register("plugin_probe_a")(factory)
            register("plugin_probe_a")(factory)  # its own name again: fine
        assert registered()["plugin_probe_a"].plugin == "plugin A"
        with registering_for("plugin B"), pytest.raises(DuplicateGuardrail, match="plugin A"):
            register("plugin_probe_a")(factory)
        assert registered()["plugin_probe_a"].plugin == "plugin A"
        with registering_for("plugin B"), pytest.raises(DuplicateGuardrail, match="tone"):
            register("tone")(factory)
    finally:
        unregister("plugin_probe")
        unregister("plugin_probe_a")
    assert "tone" in registered() and registered()["tone"].plugin is None


def test_evals_scan_loads_a_plugin_module_given_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "no_competitor.py").write_text(NO_COMPETITOR, encoding="utf-8")
    (tmp_path / "policies.yaml").write_text(
        "acme:\n  name: Acme Pay\n  text: Refunds take 10 business days.\n", encoding="utf-8"
    )
    rows = [
        {
            "id": "bad",
            "company": "acme",
            "language": "es",
            "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
            "response": BAD,
        },
        {
            "id": "good",
            "company": "acme",
            "language": "es",
            "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
            "response": GOOD,
        },
    ]
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    scan = ["scan", transcripts, "--policies", tmp_path / "policies.yaml"]
    done = evals_cli(*scan, "--guardrail", "no_competitor", cwd=tmp_path)
    assert done.returncode == 2 and "unknown guardrail" in done.stderr
    done = evals_cli(
        *scan, "--plugin", "no_competitor", "--guardrail", "no_competitor", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    found = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert [f["code"] for f in found["bad"]["findings"]] == ["no_competitor.named"]
    assert found["good"]["passed"] and not found["good"]["findings"]
    done = evals_cli(*scan, "--plugin", "nowhere_xyz", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "field '--plugin': no module named 'nowhere_xyz'" in done.stderr


# --- installed distributions: entry points --------------------------------------------------


def fake_distribution(site_dir: Path, name: str, version: str, entry_points: str) -> None:
    """A distribution as an installer leaves it (a .dist-info folder), found on sys.path."""
    info = site_dir / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")


def test_an_installed_plugin_that_breaks_exits_2_naming_its_distribution(tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    fake_distribution(
        site_dir,
        "acme-broken",
        "0.3.1",
        """
        [supportgate.guardrails]
        acme_rules = acme_broken:install
        [supportgate.targets]
        acme = acme_broken:not_a_factory
        """,
    )
    (site_dir / "acme_broken.py").write_text(
        "not_a_factory = 42\n\ndef install():\n    raise ValueError('rule file missing')\n",
        encoding="utf-8",
    )
    suite = plugin_suite(tmp_path / "s", guardrails=None, plugins=[])
    done = evals_cli("validate", suite, path=[site_dir])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    rules = only_line(done.stderr, "acme_rules")
    assert "plugin 'acme_rules' (supportgate.guardrails = acme_broken:install" in rules
    assert "distribution acme-broken 0.3.1" in rules
    assert (
        f"failed to load: ValueError: rule file missing (at {site_dir / 'acme_broken.py'}:4)"
        in (rules)
    )
    target = only_line(done.stderr, "'acme'")
    assert "acme-broken 0.3.1" in target and "is a int, not a target factory" in target
    done = evals_cli("run", suite, path=[site_dir])
    assert done.returncode == 2 and "Traceback" not in done.stderr and "acme_rules" in done.stderr
    # Without it on the path the same suite runs.
    assert evals_cli("validate", suite).returncode == 0


PLUGIN_PACKAGE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "mycorp-checks"
        version = "1.2.3"

        [project.entry-points."supportgate.guardrails"]
        no_competitor = "mycorp_checks.rules"

        [project.entry-points."supportgate.targets"]
        mycorp = "mycorp_checks.bot:make_client"

        [project.entry-points."supportgate.packs"]
        mycorp_terms = "mycorp_checks.terms"

        [tool.setuptools]
        packages = ["mycorp_checks", "mycorp_checks.terms"]

        [tool.setuptools.package-data]
        "mycorp_checks.terms" = ["*.yaml"]
        """,
    "mycorp_checks/__init__.py": "",
    "mycorp_checks/rules.py": NO_COMPETITOR,
    "mycorp_checks/bot.py": """
        from evals.targets.base import Completion

        REPLIES = [
            "Mejor compre en RivalCo, es más barato.",
            "Tu reembolso de EUR 10.00 llegará en 10 días hábiles.",
        ]


        class Bot:
            def __init__(self, target):
                self.target = target

            async def start(self):
                pass

            async def complete(self, request):
                return Completion(text=REPLIES[request.sample % 2], model=self.target.model)

            async def close(self):
                pass


        def make_client(target):
            return Bot(target)
        """,
    "mycorp_checks/terms/__init__.py": "",
    "mycorp_checks/terms/mycorp_terms.yaml": """
        name: mycorp_terms
        description: Rival companies a support answer must not recommend.
        concepts:
          competitor: [rivalco]
        """,
}


def test_a_plugin_installed_in_a_fresh_venv_answers_and_judges_a_run(tmp_path: Path) -> None:
    """The slow one (15-40 s): a real wheel of a real distribution, installed by pip into a new
    venv that sees supportgate (this worktree) and its dependencies through a .pth file."""
    package = tmp_path / "mycorp-checks"
    for relative, text in PLUGIN_PACKAGE.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(textwrap.dedent(text), encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    python = venv / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    # supportgate from this worktree first, then the running interpreter's packages (pip and
    # setuptools among them): no download.
    (venv_site / "supportgate-test.pth").write_text(
        "\n".join([str(WORKTREE), *site.getsitepackages()]) + "\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    install = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            package,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert install.returncode == 0, install.stderr
    assert (venv_site / "mycorp_checks" / "rules.py").is_file()  # installed, not on a path

    suite = write_suite(
        tmp_path / "suite",
        n_cases=2,
        samples=2,
        targets=[{"name": "mycorp-bot", "model": "mycorp/support-v2"}],
        extra={"guardrails": ["no_competitor"], "replay": {"mode": "off"}},
    )

    def run_evals(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "evals", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )

    probe = run_evals("--help")
    assert probe.returncode == 0, probe.stderr
    checked = run_evals("validate", suite)
    assert checked.returncode == 0, checked.stderr
    done = run_evals("run", suite, "-q")
    assert done.returncode == 0, done.stderr
    assert "2 of 4 answers failed" in done.stdout
    shown = run_evals("show", "latest", "--out", tmp_path / "suite" / "out", "--json")
    run = json.loads(shown.stdout)
    assert {(r["sample"], r["passed"]) for r in run["results"]} == {(0, False), (1, True)}
    assert {r["response"]["model"] for r in run["results"]} == {"mycorp/support-v2"}
    assert [f["code"] for r in run["results"] for f in r["findings"]] == ["no_competitor.named"] * 2

    plugins = {p["group"]: p for p in run["versions"]["plugins"]}
    assert set(plugins) == {"supportgate.guardrails", "supportgate.targets", "supportgate.packs"}
    for plugin in plugins.values():
        assert plugin["distribution"] == "mycorp-checks" and plugin["version"] == "1.2.3"
        assert plugin["source"] == "distribution mycorp-checks 1.2.3"
    assert plugins["supportgate.guardrails"]["provides"] == ["no_competitor"]
    assert plugins["supportgate.targets"]["provides"] == ["mycorp/..."]
    [pack] = plugins["supportgate.packs"]["provides"]
    assert Path(pack) == (venv_site / "mycorp_checks" / "terms").resolve()
    # The guardrail's version is still the hash of the code that judged.
    rules = (venv_site / "mycorp_checks" / "rules.py").read_bytes()
    assert (
        run["versions"]["guardrail_versions"]["no_competitor"]
        == (hashlib.sha256(rules).hexdigest()[:16])
    )
    manifest = manifest_of(tmp_path / "suite" / "out")
    assert manifest["plugins"]["supportgate.guardrails:no_competitor"]["version"] == "1.2.3"
    assert run_evals("verify", "latest", "--out", tmp_path / "suite" / "out").returncode == 0

    # The same suite in a process without the plugin: the guardrail is unknown, caught early,
    # and the plugin's model prefix is not routed anywhere (litellm knows no 'mycorp').
    done = evals_cli("validate", suite)
    assert done.returncode == 2
    assert "unknown guardrail 'no_competitor'" in done.stderr
    assert "model 'mycorp/support-v2' names no provider" in done.stderr


def test_a_resume_refuses_plugin_code_changed_since_the_run_started(tmp_path: Path) -> None:
    from evals.runner import start_run
    from evals.store import RunStore
    from evals.suite_file import build_plan

    # Its own names: this module is imported into the test process too.
    source = NO_COMPETITOR.replace('"no_competitor"', '"resume_probe"').replace(
        "no_competitor.named", "resume_probe.named"
    )
    module = tmp_path / "resume_probe_checks.py"
    module.write_text(source, encoding="utf-8")
    suite = plugin_suite(tmp_path, plugins=["resume_probe_checks"], guardrails=["resume_probe"])
    try:
        plan = build_plan(suite)
        store = RunStore.in_folder(tmp_path / "out")
        run_id = start_run(plan, store)  # stored, nothing answered yet: as if interrupted
        store.close()
    finally:
        unregister("resume_probe")
    module.write_text(source.replace("RivalCo", "OtraCo"), encoding="utf-8")
    resume = ["run", "--resume", run_id, "--out", tmp_path / "out", "-q"]
    done = evals_cli(*resume)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = only_line(done.stderr, "plugin 'resume_probe_checks'")
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert f"was module from resume_probe_checks.py in {tmp_path}, sha256 {digest}" in error
    assert "judged by other code" in error
    # The code it started with: the run completes, judged by it.
    module.write_text(source, encoding="utf-8")
    done = evals_cli(*resume)
    assert done.returncode == 0, done.stderr
    assert "2 of 4 answers failed" in done.stdout


_PLUGINS = st.lists(
    st.builds(
        PluginVersion,
        name=st.sampled_from(["a", "b", "c"]),
        group=st.sampled_from(["suite", "supportgate.guardrails"]),
        value=st.just("m"),
        version=st.sampled_from(["1.0", "1.1", "sha256:ab"]),
        source=st.just("s"),
    ),
    max_size=4,
    unique_by=lambda p: (p.group, p.name),
)


@settings(max_examples=200, deadline=None)
@given(recorded=_PLUGINS, loaded=_PLUGINS)
def test_a_resume_goes_on_exactly_when_every_plugin_is_at_the_version_it_started_with(
    recorded: list[PluginVersion], loaded: list[PluginVersion]
) -> None:
    def versions(plugins: list[PluginVersion]) -> dict[tuple[str, str], str]:
        return {(p.group, p.name): p.version for p in plugins}

    try:
        check_unchanged(recorded, loaded, "r1")
    except InputError as exc:
        assert versions(recorded) != versions(loaded)
        changed = {
            key
            for key in versions(recorded).keys() | versions(loaded).keys()
            if versions(recorded).get(key) != versions(loaded).get(key)
        }
        assert {(i.record, i.message.split("(")[1].split(")")[0]) for i in exc.issues} == {
            (name, group) for group, name in changed
        }
    else:
        assert versions(recorded) == versions(loaded)


def test_the_pytest_plugin_loads_a_suites_plugins_and_fails_the_item_it_catches(
    pytester: pytest.Pytester,
) -> None:
    # Its own names: the pytester run imports this module into the test process.
    source = NO_COMPETITOR.replace('"no_competitor"', '"pytest_probe"').replace(
        "no_competitor.named", "pytest_probe.named"
    )
    (pytester.path / "pytest_probe_checks.py").write_text(source, encoding="utf-8")
    echo = [{"name": "bot", "model": "fake/scripted", "params": {"extra": {"echo": True}}}]
    write_suite(
        pytester.path,
        targets=echo,
        cases=[
            case_dict("bad", messages=[{"role": "user", "content": BAD}]),
            case_dict("good", messages=[{"role": "user", "content": GOOD}]),
        ],
        extra={
            "plugins": ["pytest_probe_checks"],
            "guardrails": ["pytest_probe"],
            "replay": {"mode": "off"},
            "gates": {"cases_must_pass": True},
        },
    )
    try:
        done = pytester.runpytest(
            "-p", "evals.pytest_plugin", "--evals-suite", "suite.yaml", "--evals-replay", "off"
        )
    finally:
        unregister("pytest_probe")
    done.assert_outcomes(passed=1, failed=1)
    done.stdout.fnmatch_lines(
        [
            "*refund_status/es/bad[[]bot[]]*",
            "*major pytest_probe.named: The answer recommends a competitor.*",
            '*span [[]16:23[]]: "RivalCo"*',
        ]
    )
    assert "good[bot] FAILED" not in done.stdout.str()
