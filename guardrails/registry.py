"""The guardrail seam: a guardrail is a factory, registered by name, that returns a check
`(case, response_text) -> list[Finding]`. Built-in families and users' own guardrails register
the same way; the engine never knows which entry point (run, scan, pytest, inline) calls it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evals.records import Case, Finding, PolicyBook, content_hash

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
    version: str


_REGISTRY: dict[str, Registration] = {}


def register(name: str, *, version: str = "1") -> Callable[[Factory], Factory]:
    """Decorator: register `factory` under `name` (replacing an earlier one of that name)."""

    def decorate(factory: Factory) -> Factory:
        _REGISTRY[name] = Registration(name, factory, version)
        return factory

    return decorate


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> dict[str, Registration]:
    return dict(_REGISTRY)


def registry_version(names: list[str] | None = None) -> str:
    """A content version of the guardrails in use: their names and versions."""
    chosen = sorted(names if names is not None else _REGISTRY)
    return content_hash(",".join(f"{n}@{_REGISTRY[n].version}" for n in chosen if n in _REGISTRY))


class UnknownGuardrail(KeyError):
    pass


@dataclass(frozen=True)
class GuardrailSet:
    """Checks built once per run (or per scan) and applied to every response."""

    checks: tuple[tuple[str, Check], ...]

    @classmethod
    def build(cls, context: GuardrailContext, names: list[str] | None = None) -> GuardrailSet:
        if not _REGISTRY:
            # Every answer would pass unchecked: refuse rather than report a clean run.
            raise UnknownGuardrail(
                "no guardrail is registered (is another package named 'guardrails' shadowing "
                "supportgate's?); nothing can be checked"
            )
        chosen = names if names is not None else sorted(_REGISTRY)
        missing = [n for n in chosen if n not in _REGISTRY]
        if missing:
            raise UnknownGuardrail(
                f"unknown guardrail(s) {missing}; registered: {sorted(_REGISTRY)}"
            )
        return cls(tuple((n, _REGISTRY[n].factory(context)) for n in chosen))

    def names(self) -> list[str]:
        return [name for name, _ in self.checks]

    def run(self, case: Case, text: str) -> list[Finding]:
        findings: list[Finding] = []
        for _, check in self.checks:
            findings.extend(check(case, text))
        return findings
