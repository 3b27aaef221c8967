"""supportgate installs anywhere: the sdist and wheel that `python -m build` makes carry every
module and data file a run needs (decision policy, lexicons, report assets, the scaffold, the
demo suite and its cases and policies), and in a fresh venv outside the repo, with the wheel
installed, `evals init`, `evals run` and `evals verify` exit 0.

Builds offline (`--no-isolation`, with the dev extra's setuptools and build) and installs the
wheel with `--no-deps`: the fresh venv borrows the running interpreter's already-installed
dependencies through a `.pth` line. A plain path line in a `.pth` file puts that folder on
sys.path without processing the `.pth` files inside it, so the editable install's finder there
never loads; the test proves `evals`, `guardrails` and `reports` come from the new venv. Takes
about 30-60 s (two builds, a venv, a few commands).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("evals", "guardrails", "reports")
#: The repo's cases/ folders that the wheel carries as evals/demo/.
DEMO_FOLDERS = ("suites", "library", "policies")


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False
    )
    assert result.returncode == 0, (
        f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def _source_files() -> dict[str, Path]:
    """Every file an installed supportgate must carry, by its path inside the wheel."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out[path.relative_to(ROOT).as_posix()] = path
    for folder in DEMO_FOLDERS:
        for path in (ROOT / "cases" / folder).rglob("*"):
            if path.is_file():
                out["evals/demo/" + path.relative_to(ROOT / "cases").as_posix()] = path
    return out


def _copy_source(to: Path) -> None:
    """What a build reads, copied, so no build output lands in the repo."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out", "*.egg-info", "build", "dist")
    for name in (*PACKAGES, "cases"):
        shutil.copytree(ROOT / name, to / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, to / name)


def test_the_built_wheel_runs_init_run_and_verify_in_a_fresh_venv_outside_the_repo(
    tmp_path: Path,
) -> None:
    source, dist = tmp_path / "src", tmp_path / "dist"
    _copy_source(source)
    # sdist first, then the wheel built from the unpacked sdist: both must carry everything.
    _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("supportgate-*.whl")
    (sdist,) = dist.glob("supportgate-*.tar.gz")

    expected = _source_files()
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {name: archive.read(name) for name in archive.namelist()}
    missing = sorted(set(expected) - set(in_wheel))
    assert not missing, f"the wheel lacks {missing}"
    for name, path in expected.items():
        assert in_wheel[name] == path.read_bytes(), name
    assert any(
        n.endswith("entry_points.txt") and b"evals = evals.cli:main" in in_wheel[n]
        for n in in_wheel
    )
    with tarfile.open(sdist) as archive:
        prefix = archive.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(prefix + "/") for name in archive.getnames()}
    sdist_expected = {
        name.replace("evals/demo/", "cases/", 1) if name.startswith("evals/demo/") else name
        for name in expected
    }
    assert not sorted(sdist_expected - in_sdist), "the sdist lacks files"

    # A fresh venv, outside the repo, with the wheel and the running interpreter's
    # dependencies (through a .pth path line, after the venv's own site-packages).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        cwd=tmp_path,
    )
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).strip()
    )
    (site / "_supportgate_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "CI")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    where = _run(
        [
            str(python),
            "-c",
            "import sys, evals, guardrails, reports\n"
            "from evals.suite_file import DEMO_SUITE\n"
            "from evals.decision_policy import DEFAULT_POLICY_PATH\n"
            "for m in (evals, guardrails, reports): print(m.__file__)\n"
            "print(DEMO_SUITE); print(DEFAULT_POLICY_PATH)\n"
            "print(' '.join(type(f).__name__ for f in sys.meta_path))",
        ],
        cwd=work,
        env=env,
    ).splitlines()
    for line in where[:5]:
        path = Path(line).resolve()
        assert path.is_relative_to(site.resolve()), f"{line} is not from the new venv"
        assert path.is_file()
        assert not path.is_relative_to(ROOT), line
    assert where[3].endswith("evals/demo/suites/demo.yaml")
    assert "EditableFinder" not in where[5], where[5]

    evals = str(venv / "bin" / "evals")
    _run([evals, "init", "project"], cwd=work, env=env)
    project = work / "project"
    validated = _run([evals, "validate", "suite.yaml", "labelled"], cwd=project, env=env)
    assert "references: 6 of 6 pass the guardrails" in validated
    ran = _run([evals, "run", "suite.yaml", "-q"], cwd=project, env=env)
    assert "all gates passed" in ran
    verified = _run([evals, "verify", "latest"], cwd=project, env=env)
    assert "INTACT" in verified
    # The bundled demo suite and its library are usable from the installed package.
    demo = _run([evals, "validate", where[3]], cwd=work, env=env)
    assert "references:" in demo and "cases" in demo
