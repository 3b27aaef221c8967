"""What a guardrail's version means: a hash of the code and data that judge an answer, so a run
records which rules judged it and a changed rule changes the version by itself.

A built-in family's version hashes the source of its module and of every module of the
`guardrails` package it imports, transitively (read from the import statements), plus the
modules every check runs through (the registry, the normalisation of the text, the `response`
check) and every data file shipped in the package (the data packs among them), and the packs
installed plugins registered (`guardrails.packs.register`), plus the system tools its code runs
through as found on this machine (`TOOLS`: Apertium, which translates policy books, by its
packages' versions or `unavailable`), since the same code judges differently without them. A
user's guardrail is versioned by the source of the module that defines it, unless it was
registered with an explicit version.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import marshal
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

from guardrails.records import content_hash

PACKAGE = "guardrails"
PACKAGE_DIR = Path(__file__).resolve().parent
#: Modules every guardrail's check runs through (see `GuardrailSet.run`).
CORE = ("registry", "normalise", "response", "versions")
#: Modules of the package that call a system tool, and the tool: a family whose code runs
#: through one of them is identified also by that tool as this machine has it.
TOOLS = {"translation": "apertium"}


def _module_path(module: str) -> Path:
    return PACKAGE_DIR / f"{module}.py"


@cache
def _imports(module: str) -> frozenset[str]:
    """The modules of the package that `module` imports (at any depth of its source)."""
    tree = ast.parse(_module_path(module).read_bytes(), filename=str(_module_path(module)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level == 0 and (not parts or parts[0] != PACKAGE):
                continue
            inside = parts[1:] if node.level == 0 else parts
            if inside:
                found.add(inside[0])
            else:  # `from guardrails import text` / `from . import text`
                found.update(alias.name for alias in node.names)
    return frozenset(name for name in found if _module_path(name).is_file())


def closure(modules: tuple[str, ...]) -> list[str]:
    """`modules` and every package module they import, transitively, sorted."""
    seen: set[str] = set()
    todo = [m for m in modules if _module_path(m).is_file()]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_imports(module) - seen)
    return sorted(seen)


def _data_files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and path.name != "py.typed"
        and "__pycache__" not in path.parts
    )


@cache
def builtin_version(module: str) -> str:
    """The content version of a built-in family whose factory is in `guardrails.<module>`."""
    parts: list[bytes] = []
    for name in closure((module, *CORE)):
        parts += [name.encode(), b"\0", _module_path(name).read_bytes(), b"\0"]
    for path in _data_files():
        parts += [path.relative_to(PACKAGE_DIR).as_posix().encode(), b"\0", path.read_bytes()]
    return content_hash(b"".join(parts))


def is_builtin(factory: Callable[..., object]) -> bool:
    module = sys.modules.get(getattr(factory, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().parent == PACKAGE_DIR


def _plugin_packs() -> str:
    """The registered (plugin) data packs and their file hashes: data the built-in checks read
    besides their own (`guardrails.packs`)."""
    from guardrails import packs

    return ",".join(f"{name}@{p.digest}" for name, p in sorted(packs.registered().items()))


def tools_of(module: str) -> str:
    """The system tools the family in `guardrails.<module>` runs through, as found here
    ('apertium=<versions>' or 'apertium=unavailable'); empty when it uses none."""
    found = []
    for tool_module, tool in sorted(TOOLS.items()):
        if tool_module in closure((module,)):
            # Imported by name: reading the tool's state is not judging through its code, so
            # versions.py (which every family's version hashes) does not import it.
            engine = importlib.import_module(f"{PACKAGE}.{tool_module}")
            usable = not engine.unavailable()
            found.append(f"{tool}={(engine.version() if usable else None) or 'unavailable'}")
    return ",".join(found)


def version_of(factory: Callable[..., object], explicit: str | None) -> str:
    """A registered factory's version: see the module's docstring."""
    if is_builtin(factory):
        package, _, name = factory.__module__.rpartition(".")
        family = name if package else "__init__"
        version = builtin_version(family)
        extra = [part for part in (_plugin_packs(), tools_of(family)) if part]
        return content_hash("+".join([version, *extra])) if extra else version
    if explicit:
        return explicit
    module = sys.modules.get(getattr(factory, "__module__", "") or "")
    try:
        source = inspect.getsource(module) if module is not None else inspect.getsource(factory)
    except (OSError, TypeError):
        try:
            source = inspect.getsource(factory)
        except (OSError, TypeError):  # defined where no source is kept (exec, a REPL)
            code = getattr(factory, "__code__", None)
            return content_hash(marshal.dumps(code)) if code is not None else "unversioned"
    return content_hash(source)
