"""A policy book's clauses in the answer's language, translated by Apertium.

A Spanish answer to an English policy book speaks of the same subjects in other words: "the
meter check costs EUR 45" is "la revisión del contador cuesta EUR 45". Comparing the answer's
words with a clause's (`guardrails.stems`) only works in one language; Apertium, a rule-based
machine-translation engine (Debian packages `apertium`, `apertium-eng-spa`, `apertium-es-pt`),
puts each clause into the answer's language so the same comparison works across languages,
with no concept list for the industry.

The clauses of a book are translated once per (book text, target language): one Apertium call
per book and language (the clauses through stdin, separated by a line Apertium keeps, so each
translated clause knows its original), kept in memory and on disk under
`$XDG_CACHE_HOME/supportgate/translations/` (`~/.cache/...`), keyed by a hash of the text, the
pair and Apertium's version. A cache that cannot be written only costs the next run the call.

Where Apertium or a language pair is missing, nothing is translated and `unavailable()` says
why: the policy check still runs on the book's own words, and the run shows the loss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

#: The Apertium pairs that take a text from one language to another (en<->pt through es).
ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "es"): ("eng-spa",),
    ("es", "en"): ("spa-eng",),
    ("es", "pt"): ("es-pt",),
    ("pt", "es"): ("pt-es",),
    ("en", "pt"): ("eng-spa", "es-pt"),
    ("pt", "en"): ("pt-es", "spa-eng"),
}
PAIRS = ("eng-spa", "spa-eng", "es-pt", "pt-es")
#: A line between two clauses that Apertium passes through unchanged.
SEPARATOR = "§§§"
#: Seconds one Apertium pipeline may take for a whole book.
TIMEOUT = 60.0
#: Characters of a book its language is identified from.
SAMPLE_CHARS = 3000
#: Environment variable that names the apertium binary (tests point it at a missing one).
BINARY_ENV = "SUPPORTGATE_APERTIUM"

_memory: dict[str, tuple[str, ...] | None] = {}


def _binary() -> str | None:
    name = os.environ.get(BINARY_ENV, "apertium")
    return shutil.which(name)


@cache
def _installed_pairs(binary: str) -> frozenset[str]:
    try:
        listed = subprocess.run(
            [binary, "-l"], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in listed.stdout.splitlines() if line.strip())


def unavailable() -> list[str]:
    """Why policy books cannot be translated here (empty when every pair is installed)."""
    binary = _binary()
    if binary is None:
        return [
            "apertium is not installed: policy books are not translated into the answer's "
            "language, so answers in another language than their book are grounded only "
            "through the concept lexicon (scripts/install installs it)"
        ]
    missing = [p for p in PAIRS if p not in _installed_pairs(binary)]
    if missing:
        return [
            f"apertium language pairs missing ({', '.join(missing)}): policy books are not "
            "translated between those languages (scripts/install installs them)"
        ]
    return []


@cache
def version() -> str | None:
    """The installed Apertium and pair packages' versions (dpkg), or None without Apertium."""
    if _binary() is None:
        return None
    packages = ("apertium", "apertium-eng-spa", "apertium-es-pt")
    try:
        shown = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package}=${Version}\n", *packages],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "apertium"
    return " ".join(shown.stdout.split()) or "apertium"


def language_of(text: str) -> str | None:
    """The language (es, en, pt) a policy book is written in, by the project's identifier."""
    # (imported here: `guardrails.language` registers a guardrail, which loads this module)
    from guardrails.language import detector

    found = detector().detect_language_of(" ".join(text[:SAMPLE_CHARS].split()))
    if found is None:
        return None
    code = str(found.iso_code_639_1.name).lower()
    return code if code in ("es", "en", "pt") else None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "supportgate" / "translations"


def _key(texts: Sequence[str], route: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{version()}\0{'|'.join(route)}\0".encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _read(path: Path, count: int) -> tuple[str, ...] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(loaded, list) or len(loaded) != count:
        return None
    if all(isinstance(t, str) for t in loaded):
        return tuple(loaded)
    return None


def _write(path: Path, texts: tuple[str, ...]) -> None:
    """Keep a translation on disk; a failure loses only the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as out:
            json.dump(list(texts), out, ensure_ascii=False)
        Path(out.name).replace(path)
    except OSError:
        return


def _run(binary: str, route: tuple[str, ...], text: str) -> str | None:
    for pair in route:
        try:
            done = subprocess.run(
                [binary, "-u", pair],
                input=text,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        text = done.stdout
    return text


def _one_line(text: str) -> str:
    """A clause without a line that would read as the separator."""
    return "\n".join(" " if line.strip() == SEPARATOR else line for line in text.split("\n"))


def translate(texts: Sequence[str], source: str, target: str) -> tuple[str, ...] | None:
    """`texts` (a book's clauses) in `target`, one translation per text and in order; None when
    the languages are the same, no route joins them, Apertium is unavailable or fails."""
    route = ROUTES.get((source, target))
    binary = _binary()
    if route is None or binary is None or not texts:
        return None
    if any(p not in _installed_pairs(binary) for p in route):
        return None
    key = _key(texts, route)
    if key in _memory:
        return _memory[key]
    path = _cache_dir() / f"{key}.json"
    found = _read(path, len(texts))
    if found is None:
        joined = f"\n{SEPARATOR}\n".join(_one_line(t) for t in texts)
        out = _run(binary, route, joined)
        parts = None if out is None else out.split(f"\n{SEPARATOR}\n")
        if parts is not None and len(parts) == len(texts):
            found = tuple(p.strip() for p in parts)
            _write(path, found)
    _memory[key] = found
    return found


def clear_cache() -> None:
    """Forget the translations kept in memory (the disk cache stays)."""
    _memory.clear()
    _installed_pairs.cache_clear()
    version.cache_clear()
