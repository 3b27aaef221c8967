"""Plugins: guardrails, targets and data packs that other code provides, and the record of
which were loaded for a run.

Two ways in:

- entry points of installed distributions, loaded for every run, scan and validation:
  `supportgate.guardrails` (a module that registers guardrails when imported, or a callable,
  called with no argument, that registers them), `supportgate.targets` (the entry point's name
  is a model prefix: a target whose model is `NAME/...` is served by the client that the
  callable `factory(target)` returns) and `supportgate.packs` (a data pack of concept terms:
  a package or a path holding the pack's YAML file, registered under the entry point's name
  with `guardrails.packs.register`, so a policy book can name it in `packs:`);
- a suite's `plugins: [mypkg.checks]`: modules imported before the run, from `sys.path`, or,
  when not found there, from the suite's folder (appended to `sys.path`, so a file beside the
  suite can never shadow an installed module).

Each plugin is recorded (`PluginVersion`): its distribution and version, or, for a module that
no distribution installed, its path and a hash of its source. A plugin that fails to import or
raises, registers a name already taken, or provides what its group cannot use, is an input
error naming the plugin, its distribution and the cause, never a traceback.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib
import importlib.metadata as metadata
import importlib.resources
import importlib.util
import os
import re
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.errors import InputError, InputIssue
from evals.records import PLUGIN_MODULE, PluginVersion, Suite, Target
from guardrails.registry import registered, registering_for

if TYPE_CHECKING:
    from evals.targets.base import TargetClient

GUARDRAILS_GROUP = "supportgate.guardrails"
TARGETS_GROUP = "supportgate.targets"
PACKS_GROUP = "supportgate.packs"
GROUPS = (GUARDRAILS_GROUP, TARGETS_GROUP, PACKS_GROUP)
#: The group recorded for a module of a suite's `plugins:` list.
SUITE_GROUP = "suite"
#: Model prefixes that supportgate serves itself; a target plugin cannot take them.
RESERVED_PREFIXES = frozenset({"reference", "fake", "local"})

TargetFactory = Callable[[Target], "TargetClient"]

#: Entry points loaded in this process, by (group, name, value), and what they provided.
_entry_points: dict[tuple[str, str, str], PluginVersion] = {}
#: Target plugins by model prefix: the factory and the plugin's label.
_target_factories: dict[str, tuple[TargetFactory, str]] = {}
_packs: dict[str, Path] = {}
#: Suite modules imported in this process, by (module, folder).
_modules: dict[tuple[str, str], PluginVersion] = {}


#: supportgate's own source folders: a plugin's error is placed at its own code, not ours.
_OWN_CODE = tuple(
    str(Path(__file__).resolve().parent.parent / package) for package in ("evals", "guardrails")
)


def cause(exc: BaseException) -> str:
    """The last line of the traceback, and the last place in the plugin's code it passed."""
    text = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(("<frozen", *_OWN_CODE))
        and "/importlib/" not in frame.filename
    ]
    if isinstance(exc, SyntaxError) and exc.filename:  # raised where the code was compiled
        text += f" (at {exc.filename}:{exc.lineno})"
    elif frames:
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text


def _distribution(ep: metadata.EntryPoint) -> tuple[str | None, str]:
    dist = ep.dist
    if dist is None:
        names = _top_level_distributions().get(ep.module.split(".")[0], [])
        if not names:
            return None, "unknown"
        dist = metadata.distribution(names[0])
    return str(dist.metadata["Name"]), str(dist.version)


def _label(ep: metadata.EntryPoint, dist: str | None, version: str) -> str:
    origin = f"distribution {dist} {version}" if dist else "no known distribution"
    return f"plugin '{ep.name}' ({ep.group} = {ep.value}, {origin})"


def _issue(label: str, message: str) -> InputIssue:
    return InputIssue(f"entry point {label}", message)


def _defined_in(factory: object, module: str) -> bool:
    owner = getattr(factory, "__module__", "") or ""
    return owner == module or owner.startswith(module + ".")


def _provided_guardrails(label: str, module: str) -> list[str]:
    """The guardrails `label` registered, or that were defined in `module` (imported already)."""
    return sorted(
        name
        for name, reg in registered().items()
        if reg.plugin == label or _defined_in(reg.factory, module)
    )


def _load_guardrails(ep: metadata.EntryPoint, label: str) -> list[str]:
    with registering_for(label):
        loaded = ep.load()
        if not isinstance(loaded, types.ModuleType):
            if not callable(loaded):
                raise TypeError(
                    f"{ep.value} is a {type(loaded).__name__}, neither a module nor a callable "
                    "that registers guardrails"
                )
            loaded()
    return _provided_guardrails(label, ep.module)


def _load_target(ep: metadata.EntryPoint, label: str) -> list[str]:
    prefix = ep.name
    if "/" in prefix or not prefix.strip() or prefix in RESERVED_PREFIXES:
        raise ValueError(
            f"'{prefix}' cannot be a model prefix: it must be one word without '/', and not one "
            f"of supportgate's own ({', '.join(sorted(RESERVED_PREFIXES))})"
        )
    factory = ep.load()
    if not callable(factory):
        raise TypeError(f"{ep.value} is a {type(factory).__name__}, not a target factory")
    _target_factories[prefix] = (factory, label)
    return [f"{prefix}/..."]


def _load_pack(ep: metadata.EntryPoint, label: str) -> list[str]:
    from guardrails import packs

    del label
    loaded = ep.load()
    if isinstance(loaded, types.ModuleType):
        path = Path(str(importlib.resources.files(loaded)))
    elif isinstance(loaded, str | os.PathLike):
        path = Path(loaded)
    else:
        raise TypeError(f"{ep.value} is a {type(loaded).__name__}, neither a package nor a path")
    if not path.exists():
        raise FileNotFoundError(f"the pack's data is not at {path}")
    packs.register(ep.name, path.resolve())  # a malformed pack names its file and field
    _packs[ep.name] = path.resolve()
    return [str(path.resolve())]


_LOADERS: dict[str, Callable[[metadata.EntryPoint, str], list[str]]] = {
    GUARDRAILS_GROUP: _load_guardrails,
    TARGETS_GROUP: _load_target,
    PACKS_GROUP: _load_pack,
}


def _group(group: str) -> list[metadata.EntryPoint]:
    """The group's entry points, each once (a distribution found twice on sys.path is one)."""
    return list(_scan(group, tuple(sys.path)))


@functools.cache
def _scan(group: str, path: tuple[str, ...]) -> tuple[metadata.EntryPoint, ...]:
    # Reading every distribution's metadata takes about 50 ms a group: once per sys.path.
    del path
    seen: dict[tuple[str, str], metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=group):
        seen.setdefault((ep.name, ep.value), ep)
    return tuple(sorted(seen.values(), key=lambda ep: (ep.name, ep.value)))


@functools.cache
def _top_level_distributions() -> dict[str, list[str]]:
    """Import name -> distributions (about 1 s to build: only for a suite module that is not
    in the suite's folder)."""
    return dict(metadata.packages_distributions())


def load_entry_points(issues: list[InputIssue]) -> list[PluginVersion]:
    """Load every installed plugin (once per process); add an issue for each that fails."""
    for group in GROUPS:
        entries = _group(group)
        if group == TARGETS_GROUP:
            names = [ep.name for ep in entries]
            for ep in entries:
                if names.count(ep.name) > 1:
                    others = [e.value for e in entries if e.name == ep.name and e is not ep]
                    dist, version = _distribution(ep)
                    issues.append(
                        _issue(
                            _label(ep, dist, version),
                            f"the model prefix '{ep.name}' is also declared by {others}; "
                            "uninstall one of them",
                        )
                    )
            entries = [ep for ep in entries if names.count(ep.name) == 1]
        for ep in entries:
            key = (group, ep.name, ep.value)
            if key in _entry_points:
                continue
            try:
                dist, version = _distribution(ep)
            except Exception as exc:  # a broken distribution's metadata
                dist, version = None, f"unreadable ({cause(exc)})"
            label = _label(ep, dist, version)
            try:
                provides = _LOADERS[group](ep, label)
            except Exception as exc:  # whatever the plugin raises: named, never a traceback
                issues.append(_issue(label, f"failed to load: {cause(exc)}"))
                continue
            source = f"distribution {dist} {version}" if dist else "no known distribution"
            _entry_points[key] = PluginVersion(
                name=ep.name,
                group=group,
                value=ep.value,
                distribution=dist,
                version=version,
                source=source,
                provides=provides,
            )
    return sorted(_entry_points.values(), key=lambda p: (p.group, p.name, p.value))


def _source_files(module: types.ModuleType) -> tuple[Path, list[Path]]:
    """The file (or package folder) a module's top-level package lives in, and its sources."""
    top = sys.modules.get(module.__name__.split(".")[0], module)
    file = getattr(top, "__file__", None)
    if file is not None and Path(file).name != "__init__.py":
        return Path(file), [Path(file)]
    paths = list(getattr(top, "__path__", []))
    folder = Path(file).parent if file is not None else Path(paths[0])
    return folder, sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _module_version(module: types.ModuleType, folder: Path) -> tuple[str | None, str, str]:
    """(distribution, version, source) of an imported module of a suite's `plugins:` list."""
    where, files = _source_files(module)
    local = where.resolve().is_relative_to(folder.resolve())
    names = [] if local else _top_level_distributions().get(module.__name__.split(".")[0], [])
    if names:
        dist = metadata.distribution(names[0])
        name, version = str(dist.metadata["Name"]), str(dist.version)
        return name, version, f"distribution {name} {version}"
    # One file: the sha256 of its bytes (what `sha256sum` prints). A package: of each of its
    # sources' path and bytes, in path order.
    digest = hashlib.sha256()
    if where.is_file():
        digest.update(where.read_bytes())
    else:
        for path in files:
            digest.update(path.relative_to(where).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    shown = where.resolve()
    place = f"{shown.relative_to(folder.resolve()).as_posix()} in {folder}" if local else str(shown)
    return None, f"sha256:{digest.hexdigest()}", f"module from {place}, sha256 {digest.hexdigest()}"


def _findable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that is missing or not a package
        return False


def load_modules(
    modules: Iterable[str], folder: Path, file: str, issues: list[InputIssue]
) -> list[PluginVersion]:
    """Import `modules` (a suite's `plugins:`), from sys.path or else from `folder`; add an
    issue (`file`, field `plugins[i]`) for each that fails."""
    out: list[PluginVersion] = []
    for index, name in enumerate(modules):
        key = (name, str(folder.resolve()))
        if key in _modules:
            out.append(_modules[key])
            continue
        # A suite's list is named by its field; a command-line option by itself.
        where = file if file.startswith("--") else f"plugins[{index}]"
        label = f"plugin module '{name}' (listed by {file})"
        if not re.fullmatch(PLUGIN_MODULE, name):
            issues.append(
                InputIssue(
                    file,
                    f"'{name[:200]}' is not a module name: write it dotted, e.g. mypkg.checks",
                    record=name[:200],
                    field=where,
                )
            )
            continue
        try:
            if name not in sys.modules and not _findable(name):
                if str(folder) not in sys.path:
                    sys.path.append(str(folder))
                    importlib.invalidate_caches()
                if not _findable(name):
                    issues.append(
                        InputIssue(
                            file,
                            f"no module named '{name}' on sys.path or in {folder}: install "
                            f"it, or put {name.replace('.', '/')}.py there",
                            record=name,
                            field=where,
                        )
                    )
                    continue
            with registering_for(label):
                module = importlib.import_module(name)
            dist, version, source = _module_version(module, folder)
        except Exception as exc:  # whatever the module raises: named, never a traceback
            issues.append(
                InputIssue(
                    file,
                    f"plugin module '{name}' failed to import: {cause(exc)}",
                    record=name,
                    field=where,
                )
            )
            continue
        record = PluginVersion(
            name=name,
            group=SUITE_GROUP,
            value=name,
            distribution=dist,
            version=version,
            source=source,
            provides=_provided_guardrails(label, name),
        )
        _modules[key] = record
        out.append(record)
    return out


def load_plugins(
    modules: Iterable[str] = (),
    *,
    folder: Path | None = None,
    file: str = "--plugin",  # the suite file, or the command-line option
    issues: list[InputIssue] | None = None,
) -> list[PluginVersion]:
    """Every installed plugin and the given modules, loaded (once per process) and recorded.

    Problems go to `issues` when given; otherwise they are raised as one InputError."""
    found: list[InputIssue] = []
    loaded = load_entry_points(found)
    loaded += load_modules(modules, folder or Path.cwd(), file, found)
    if issues is not None:
        issues.extend(found)
    elif found:
        raise InputError(found)
    return loaded


def suite_plugins(
    suite: Suite, suite_path: Path, issues: list[InputIssue] | None = None
) -> list[PluginVersion]:
    """`load_plugins` for a suite: its `plugins:` list, from sys.path or the suite's folder."""
    return load_plugins(
        suite.plugins, folder=suite_path.parent, file=str(suite_path), issues=issues
    )


def check_guardrail_names(suite: Suite, suite_path: Path, issues: list[InputIssue]) -> None:
    """Each guardrail the suite lists must be registered once its plugins are loaded."""
    known = sorted(registered())
    for index, name in enumerate(suite.guardrails or []):
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        issues.append(
            InputIssue(
                str(suite_path),
                f"unknown guardrail '{name}'.{hint} Registered: {', '.join(known)}. A guardrail "
                "of your own is registered by its module: list it under `plugins:` (or install "
                f"it with a '{GUARDRAILS_GROUP}' entry point)",
                record=name,
                field=f"guardrails[{index}]",
            )
        )


def target_factory(model: str) -> tuple[TargetFactory, str] | None:
    """The plugin factory serving this model string (`PREFIX/...`) and the plugin's label,
    if a plugin does."""
    prefix, slash, _ = model.partition("/")
    if not slash:
        return None
    if prefix not in _target_factories and any(ep.name == prefix for ep in _group(TARGETS_GROUP)):
        load_plugins()  # raises an InputError naming the plugin if it cannot load
    return _target_factories.get(prefix)


def serves(model: str) -> bool:
    """Whether an installed target plugin declares this model string's prefix (cheap: reads
    the entry points' names, imports nothing)."""
    prefix, slash, name = model.partition("/")
    return bool(slash and name.strip()) and any(ep.name == prefix for ep in _group(TARGETS_GROUP))


def packs() -> dict[str, Path]:
    """The data packs installed plugins provide, by entry point name (loaded by
    `load_plugins`, registered with `guardrails.packs`)."""
    return dict(_packs)


def plugin_client(target: Target) -> TargetClient | None:
    """The client a target plugin builds for `target`, checked to be one; None when no plugin
    serves its model. A plugin that fails is an InputError naming it."""
    found = target_factory(target.model)
    if found is None:
        return None
    factory, label = found
    try:
        client: Any = factory(target)
    except Exception as exc:  # whatever the plugin raises: named, never a traceback
        raise InputError.single(
            f"entry point {label}",
            f"failed to build a client for target '{target.name}': {cause(exc)}",
            record=target.name,
            field="model",
        ) from None
    missing = [m for m in ("start", "complete", "close") if not callable(getattr(client, m, None))]
    if missing:
        raise InputError.single(
            f"entry point {label}",
            f"returned a {type(client).__name__} without {', '.join(missing)}() for target "
            f"'{target.name}': a target client needs async start(), complete(request), close()",
            record=target.name,
            field="model",
        )
    result: TargetClient = client
    return result


def check_unchanged(recorded: list[PluginVersion], loaded: list[PluginVersion], run: str) -> None:
    """A resumed run must be judged by the plugin code it started with: raise an InputError
    naming each plugin added, removed or at another version since the run started."""
    before = {(p.group, p.name, p.value): p for p in recorded}
    now = {(p.group, p.name, p.value): p for p in loaded}
    issues = []
    for key in sorted(before.keys() | now.keys()):
        then, current = before.get(key), now.get(key)
        if then is not None and current is not None and then.version == current.version:
            continue
        said = then.source if then is not None else "not loaded"
        is_now = current.source if current is not None else "not loaded"
        issues.append(
            InputIssue(
                f"run {run}",
                f"plugin '{key[1]}' ({key[0]}) was {said} when the run started, and is "
                f"{is_now} now: the remaining answers would be judged by other code. Restore "
                "it, or start a new run",
                record=key[1],
                field="versions.plugins",
            )
        )
    if issues:
        raise InputError(issues)
