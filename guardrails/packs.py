"""Domain knowledge as data: the concept terms, benefits, masks and country names the checks
read, in versioned YAML packs, so that the rules in code are the grammar of support language
and what belongs to an industry, a company or a country is data.

- `guardrails/packs/core.yaml` holds the generic support language of every industry (refunds,
  fees, returns, cancellations, windows, a person to talk to, benefits an agent must not
  invent...): always on.
- The other shipped packs (`retail`, `telecom`, `consumer-credit`, `tiers`, `countries`) hold
  the terms of an industry or a region; a policy book chooses them with `packs:`. Without the
  field (`auto`) a book uses every pack whose terms its own text uses (`packs_for`); `[]` is the
  core alone; a list is exactly those packs. A book's `terms:` adds its own words per concept.
- Installed plugins add packs by name (`register`: `evals.plugins` hands over the path of a
  `supportgate.packs` entry point; a suite's plugin module may call it itself).

A pack file's fields: `name`, `description`, `version` (defaults to a hash of the file),
`detect` (`min_concepts`: how many of its concepts or countries a book's text must use for
`auto` to choose it), `concepts` (concept -> terms, folded; a `*` ends a word that may go on),
`benefits` (its concepts that are benefits or commitments: stating one needs a clause granting
it), `masks` (phrases whose words mean no concept: "credit card"), `weak_terms` (words that name
a concept without stating it on their own), `countries` (ISO code -> names) and `counted`
(unit -> nouns a number counts: "3 devices" is a quantity of unit `count:device`). A bad pack is a
`PackError` naming the file and the field.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guardrails.records import PolicyBook, content_hash
from guardrails.text import fold, packs_changed

#: The pack every lexicon starts from.
CORE = "core"
_SHIPPED_DIR = "packs"

ConceptName = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60, description="e.g. refund")
]
PackName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        max_length=60,
        description="lowercase letters, digits, '.', '_' and '-'",
    ),
]
Term = Annotated[str, Field(min_length=1, max_length=200)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]

#: A term's words after folding: each may end in `*` (any ending); `%`, `$`, `€`, `£` and `/`
#: are words of their own. The same tokens `guardrails.lexicon` matches.
_TERM_WORD = re.compile(r"\w+\*?|[%$€£/]")


class PackError(ValueError):
    """A pack file is malformed, or a name is unknown: the message names the file and field."""


class UnknownPack(PackError):
    """A policy book (or a caller) names a pack that is neither shipped nor registered."""


class Detect(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_concepts: int = Field(
        default=1,
        ge=1,
        description="how many of the pack's concepts (or countries) a policy book's text must "
        "use for `packs: auto` to choose the pack",
    )


class Pack(BaseModel):
    """One data pack, as written in its YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PackName
    description: str = Field(min_length=1)
    version: str = Field(default="", description="the file's content hash when not given")
    detect: Detect = Field(default_factory=Detect)
    concepts: dict[ConceptName, list[Term]] = Field(default_factory=dict)
    benefits: list[ConceptName] = Field(default_factory=list)
    masks: list[Term] = Field(default_factory=list)
    weak_terms: list[Term] = Field(default_factory=list)
    countries: dict[CountryCode, list[Term]] = Field(default_factory=dict)
    counted: dict[ConceptName, list[Term]] = Field(
        default_factory=dict,
        description="nouns a number counts, per unit: '3 devices' is a quantity of unit "
        "count:device (whole words, no '*'; read under every policy book, like the units)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Pack:
        for concept, terms in self.concepts.items():
            if not terms:
                raise ValueError(f"concepts.{concept}: a concept needs at least one term")
            for i, term in enumerate(terms):
                _check_term(term, f"concepts.{concept}[{i}]")
        for field in ("masks", "weak_terms"):
            for i, term in enumerate(getattr(self, field)):
                _check_term(term, f"{field}[{i}]")
        for unit, nouns in self.counted.items():
            if not nouns:
                raise ValueError(f"counted.{unit}: a counted unit needs at least one noun")
            for i, noun in enumerate(nouns):
                if "*" in noun or not re.fullmatch(r"\w+", fold(noun)):
                    raise ValueError(f"counted.{unit}[{i}]: '{noun}' is not one whole word")
        for code, names in self.countries.items():
            if not names:
                raise ValueError(f"countries.{code}: a country needs at least one name")
            for i, name in enumerate(names):
                if "*" in name or not _TERM_WORD.search(fold(name)):
                    raise ValueError(f"countries.{code}[{i}]: '{name}' is not a name")
        strays = [b for b in self.benefits if b not in self.concepts]
        if strays:
            raise ValueError(
                f"benefits: {strays} are not concepts of this pack (a pack marks its own "
                "concepts as benefits)"
            )
        return self


def _check_term(term: str, where: str) -> None:
    words = [m.group(0) for m in _TERM_WORD.finditer(fold(term))]
    if not words:
        raise ValueError(f"{where}: '{term}' has no word to match")
    stars = sum(w.endswith("*") for w in words)
    if "*" in term and (term.count("*") != stars or re.search(r"\*\w", fold(term))):
        raise ValueError(f"{where}: '{term}': '*' may only end a word (refund* matches refunds)")


@dataclass(frozen=True, eq=False)  # one object per file read: hashed by identity
class LoadedPack:
    """A validated pack, where it came from and the hash of its file."""

    pack: Pack
    source: str
    digest: str

    @property
    def name(self) -> str:
        return self.pack.name

    @property
    def version(self) -> str:
        return self.pack.version or self.digest


def _pydantic_where(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"field '{loc}': {message}" if loc else message)
    return "; ".join(parts)


def parse_pack(raw: bytes, source: str) -> LoadedPack:
    """A pack from the bytes of its YAML file; `source` names the file in errors."""
    try:
        data: Any = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"{source}: not a readable YAML file: {exc}") from None
    if not isinstance(data, dict):
        raise PackError(f"{source}: a pack is a mapping with name, description and concepts")
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        raise PackError(f"{source}: {_pydantic_where(exc)}") from None
    return LoadedPack(pack, source, content_hash(raw))


def load_pack(path: Path | str) -> LoadedPack:
    """A pack from a YAML file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackError(f"{path}: cannot read the pack: {exc.strerror or exc}") from None
    return parse_pack(raw, str(path))


# --- the packs known in this process ------------------------------------------------------------


@lru_cache(maxsize=1)
def _shipped() -> dict[str, LoadedPack]:
    folder = resources.files("guardrails").joinpath(_SHIPPED_DIR)
    out: dict[str, LoadedPack] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            loaded = parse_pack(entry.read_bytes(), f"guardrails/packs/{entry.name}")
            if loaded.name != entry.name.removesuffix(".yaml"):
                raise PackError(f"{loaded.source}: field 'name': must be the file's name")
            out[loaded.name] = loaded
    if CORE not in out:
        raise PackError("guardrails/packs/core.yaml is missing: the installation is broken")
    return out


_LOCK = threading.Lock()
#: Packs of installed plugins, by name.
_registered: dict[str, LoadedPack] = {}
#: Called after a pack is registered (caches that depend on the packs known).
_listeners: list[Callable[[], None]] = []


def core() -> LoadedPack:
    return _shipped()[CORE]


def shipped() -> dict[str, LoadedPack]:
    """The packs that ship with supportgate (not the core), by name."""
    return {n: p for n, p in _shipped().items() if n != CORE}


def known() -> dict[str, LoadedPack]:
    """Every pack a policy book may name: shipped and registered, by name."""
    with _LOCK:
        return {**shipped(), **_registered}


def registered() -> dict[str, LoadedPack]:
    """The packs of installed plugins, by name."""
    with _LOCK:
        return dict(_registered)


def get(name: str) -> LoadedPack:
    found = known().get(name)
    if found is None:
        raise UnknownPack(f"unknown pack '{name}'; known packs: {', '.join(sorted(known()))}")
    return found


def _pack_file(name: str, path: Path) -> Path:
    if path.is_file():
        return path
    for candidate in (path / f"{name}.yaml", path / "pack.yaml"):
        if candidate.is_file():
            return candidate
    yamls = sorted(path.glob("*.yaml")) if path.is_dir() else []
    if len(yamls) == 1:
        return yamls[0]
    raise PackError(
        f"{path}: no pack file for '{name}': give a YAML file, or a folder holding {name}.yaml "
        "or pack.yaml"
    )


def register(name: str, path: Path | str) -> LoadedPack:
    """Make a plugin's pack usable by name: `path` is its YAML file, or a folder holding
    `<name>.yaml`, `pack.yaml` or a single YAML file. The file's `name` must be `name`; a
    shipped pack's name, or a name registered from another file, is refused."""
    if name == CORE or name in shipped():
        raise PackError(f"{path}: '{name}' is the name of a pack that ships with supportgate")
    loaded = load_pack(_pack_file(name, Path(path)))
    if loaded.name != name:
        raise PackError(
            f"{loaded.source}: field 'name': the pack is registered as '{name}' but names "
            f"itself '{loaded.name}'"
        )
    with _LOCK:
        earlier = _registered.get(name)
        if earlier is not None and earlier.source != loaded.source:
            raise PackError(
                f"{loaded.source}: pack '{name}' is already registered from {earlier.source}"
            )
        _registered[name] = loaded
    for listener in list(_listeners):
        listener()
    return loaded


def unregister(name: str) -> None:
    with _LOCK:
        _registered.pop(name, None)
    for listener in list(_listeners):
        listener()


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener` whenever a pack is registered or removed."""
    _listeners.append(listener)


def unknown(book: PolicyBook) -> list[str]:
    """The packs a policy book names that are neither shipped nor registered."""
    if book.packs == "auto":
        return []
    names = known()
    return [n for n in book.packs if n != CORE and n not in names]


def packs_for(book: PolicyBook) -> list[str]:
    """The packs a policy book uses (besides the core): those it names, or with `packs: auto`
    (the default) every known pack whose concepts or countries its own text uses, at least
    the pack's `detect.min_concepts` of them. Raises `UnknownPack` for a name not known."""
    if book.packs != "auto":
        missing = unknown(book)
        if missing:
            raise UnknownPack(
                f"policy book '{book.id}': field 'packs': unknown pack(s) {missing}; known "
                f"packs: {', '.join(sorted(known()))}"
            )
        return [n for n in dict.fromkeys(book.packs) if n != CORE]
    return list(_detected(book, tuple(sorted(known().items()))))


@lru_cache(maxsize=256)
def _detected(book: PolicyBook, candidates: tuple[tuple[str, LoadedPack], ...]) -> tuple[str, ...]:
    from guardrails.lexicon import detection_lexicon

    out = []
    for name, loaded in candidates:
        lexicon = detection_lexicon(loaded)
        used = lexicon.concepts_in(book.text) | lexicon.countries_in(book.text)
        if len(used) >= loaded.pack.detect.min_concepts:
            out.append(name)
    return tuple(out)


def describe(book: PolicyBook) -> str:
    """The packs a book uses, for a person: 'retail, telecom (auto)', 'none (core only)'."""
    names = packs_for(book)
    shown = ", ".join(names) if names else "none (core only)"
    return f"{shown} (auto)" if book.packs == "auto" else shown


# A text's quantities count the nouns of every known pack (`guardrails.text`).
on_change(packs_changed)
