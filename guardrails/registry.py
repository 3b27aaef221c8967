"""The guardrail seam: a guardrail is a factory, registered by name, that returns a check
`(case, response_text) -> list[Finding]`. Built-in families and users' own guardrails register
the same way; the engine never knows which entry point (run, scan, pytest, inline) calls it.

`GuardrailSet.run` is the one seam every entry point goes through: the checks read the answer
normalised (`guardrails.normalise`: invisible characters removed, look-alike letters of other
scripts made Latin, NFKC) and their evidence spans are mapped back into the original answer.
The `response` check (an empty answer fails) always runs, whichever guardrails are chosen."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from guardrails import response
from guardrails.normalise import normalise
from guardrails.records import Case, Finding, PolicyBook, content_hash
from guardrails.versions import is_builtin, version_of

Check = Callable[[Case, str], list[Finding]]


@dataclass(frozen=True)
class GuardrailContext:
    """What a factory may use to build its check: the policy books and its options."""

    policies: Mapping[str, PolicyBook] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


Factory = Callable[[GuardrailContext], Check]


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    explicit_version: str | None = None
    #: The plugin that registered it (`evals.plugins`), or None: built in or the user's code.
    plugin: str | None = None

    @property
    def version(self) -> str:
        """A hash of the code (and data) that judges: see `guardrails.versions`."""
        return version_of(self.factory, self.explicit_version)


def _response_factory(context: GuardrailContext) -> Check:
    del context
    return response.check_empty


_REGISTRY: dict[str, Registration] = {
    response.GUARDRAIL: Registration(response.GUARDRAIL, _response_factory)
}


#: The plugin being loaded (`registering_for`), whose registrations are attributed to it.
_PLUGIN: ContextVar[str | None] = ContextVar("supportgate_plugin", default=None)


#: The built-in families: each registers itself when its module is imported, which
#: `load_builtins` does the first time the registry is read or written (so importing the
#: records, the registry or `guardrails` itself costs none of their import time).
BUILTIN_FAMILIES = ("facts", "handoff", "language", "policy", "privacy", "template", "tone")
_builtins_loaded = False


def load_builtins() -> None:
    """Import the built-in families once (they register themselves); before any plugin
    registers, so a plugin can never take a built-in family's name."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    token = _PLUGIN.set(None)  # first used inside a plugin's import: these are not its own
    try:
        for family in BUILTIN_FAMILIES:
            importlib.import_module(f"guardrails.{family}")
    finally:
        _PLUGIN.reset(token)


class DuplicateGuardrail(ValueError):
    """A plugin registers a name that another plugin, or supportgate itself, registered."""


@contextmanager
def registering_for(plugin: str) -> Iterator[None]:
    """Attribute every `register` call inside the block to `plugin`; a name it registers that
    is already registered by someone else is refused (`DuplicateGuardrail`)."""
    token = _PLUGIN.set(plugin)
    try:
        yield
    finally:
        _PLUGIN.reset(token)


def register(name: str, *, version: str | None = None) -> Callable[[Factory], Factory]:
    """Decorator: register `factory` under `name` (replacing an earlier one of that name,
    except while a plugin loads: then a name registered by anyone else is refused).

    Its version is a hash of the source of the factory's module unless `version` is given
    (a built-in family's is always a hash of its code: `guardrails.versions`)."""

    def decorate(factory: Factory) -> Factory:
        load_builtins()
        plugin = _PLUGIN.get()
        earlier = _REGISTRY.get(name)
        if plugin is not None and earlier is not None and earlier.plugin != plugin:
            module = getattr(earlier.factory, "__module__", "?")
            owner = earlier.plugin or (
                f"supportgate ({module})" if is_builtin(earlier.factory) else f"module {module}"
            )
            raise DuplicateGuardrail(f"guardrail '{name}' is already registered by {owner}")
        _REGISTRY[name] = Registration(name, factory, version, plugin)
        return factory

    return decorate


def unregister(name: str) -> None:
    if name == response.GUARDRAIL:
        raise ValueError("the 'response' guardrail (an empty answer fails) cannot be removed")
    load_builtins()
    _REGISTRY.pop(name, None)


def registered() -> dict[str, Registration]:
    load_builtins()
    return dict(_REGISTRY)


def _with_response(names: list[str] | None) -> list[str]:
    load_builtins()
    chosen = list(names) if names is not None else sorted(_REGISTRY)
    return chosen if response.GUARDRAIL in chosen else [response.GUARDRAIL, *chosen]


def guardrail_versions(names: list[str] | None = None) -> dict[str, str]:
    """Each guardrail in use (`names`, or all registered; `response` always) and its version."""
    return {n: _REGISTRY[n].version for n in sorted(_with_response(names)) if n in _REGISTRY}


def registry_version(names: list[str] | None = None) -> str:
    """A content version of the guardrails in use: their names and versions."""
    return content_hash(",".join(f"{n}@{v}" for n, v in guardrail_versions(names).items()))


class UnknownGuardrail(KeyError):
    pass


@dataclass(frozen=True)
class GuardrailSet:
    """Checks built once per run (or per scan) and applied to every response."""

    checks: tuple[tuple[str, Check], ...]
    #: The policy books of the run: a case is checked with the concept lexicon of its
    #: company's book (its data packs and terms: `guardrails.lexicon.lexicon_for`).
    policies: Mapping[str, PolicyBook] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, context: GuardrailContext, names: list[str] | None = None) -> GuardrailSet:
        load_builtins()
        if not set(_REGISTRY) - {response.GUARDRAIL}:
            # Every answer would pass unchecked: refuse rather than report a clean run.
            raise UnknownGuardrail(
                "no guardrail is registered (is another package named 'guardrails' shadowing "
                "supportgate's?); nothing can be checked"
            )
        chosen = _with_response(names)
        missing = [n for n in chosen if n not in _REGISTRY]
        if missing:
            raise UnknownGuardrail(
                f"unknown guardrail(s) {missing}; registered: {sorted(_REGISTRY)}"
            )
        from guardrails.lexicon import lexicon_for  # its data loads on first use

        for book in context.policies.values():
            lexicon_for(book)  # a pack no longer known fails here (UnknownPack), before any answer
        return cls(tuple((n, _REGISTRY[n].factory(context)) for n in chosen), context.policies)

    def names(self) -> list[str]:
        return [name for name, _ in self.checks]

    def run(self, case: Case, text: str) -> list[Finding]:
        """Every check's findings on the normalised `text`, their spans in `text` itself."""
        from guardrails.lexicon import lexicon_for, using  # its data loads on first use

        view = normalise(text)
        findings: list[Finding] = []
        with using(lexicon_for(self.policies.get(case.company))):
            for _, check in self.checks:
                findings.extend(check(case, view.text))
        return view.restore(findings)
