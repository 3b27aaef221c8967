"""Run ids as users type them: a stored run's id, or `latest` / `latest~N` for the most recently
started run in a store and the N-th one before it (git's `HEAD~N`, counted in start order).

An alias names a run of one store only (the `--out` folder), so `evals compare latest~1 latest`
compares the two newest runs there. An alias that is malformed or reaches past the oldest run is
an input error that lists the most recent run ids, never a guess.
"""

from __future__ import annotations

import re

from evals.errors import InputError
from evals.store import RunStore

LATEST = "latest"
_ALIAS = re.compile(r"latest(?:~(?P<back>[0-9]{1,6}))?")
#: How many recent run ids an error lists.
SHOWN = 5


def is_alias(ref: str) -> bool:
    """True for anything written as an alias (`latest...`), well-formed or not: generated run
    ids start with a date, so a reference starting with `latest` is never a run id."""
    return ref.startswith(LATEST)


def recent_ids(store: RunStore, limit: int = SHOWN) -> list[str]:
    """The ids of the most recently started runs, newest first."""
    return [run.id for run in store.runs()[:limit]]


def _recent_hint(ids: list[str]) -> str:
    if not ids:
        return "the store has no runs yet"
    return "most recent runs: " + ", ".join(ids[:SHOWN])


def resolve_run_id(store: RunStore, ref: str) -> str:
    """The run id `ref` names in `store`: aliases are resolved, other references are returned
    as they are (the store itself reports a run id it does not hold)."""
    if not is_alias(ref):
        return ref
    match = _ALIAS.fullmatch(ref)
    runs = store.runs()  # newest first
    ids = [run.id for run in runs]
    if match is None:
        raise InputError.single(
            store.path,
            f"'{ref}' is not a run id alias: write latest (the newest run) or latest~N "
            f"(N runs before it); {_recent_hint(ids)}",
        )
    back = int(match["back"] or 0)
    if back >= len(ids):
        have = f"the store has {len(ids)} run(s)" if ids else "the store has no runs yet"
        raise InputError.single(
            store.path,
            f"'{ref}' names the run {back} before the newest, but {have}"
            + (f"; {_recent_hint(ids)}" if ids else ""),
        )
    return ids[back]
