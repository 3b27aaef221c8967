"""How many failing answers still fail when disguised: an invisible character inside every word
(zero-width space, joiners, word joiner, BOM, soft hyphen...) or Cyrillic twins for the Latin
letters of every word (each word keeps one Latin letter). Counted per family, for the checks as
every entry point runs them (`GuardrailSet.run`, which normalises the answer) and for the same
checks reading the disguised text as it is (what they did before normalisation).

    .venv/bin/python benchmarks/guardrail_disguises.py [--labelled-dir heldout3]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.records import FAMILIES, Case  # noqa: E402
from evals.validate import validate_paths  # noqa: E402
from guardrails import GuardrailContext, GuardrailSet  # noqa: E402

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
CYRILLIC = dict(zip("aceopxyijshABCEHIJKMOPTXY", "асеорхуіјѕһАВСЕНІЈКМОРТХУ", strict=True))
WORD = re.compile(r"[^\W\d_]+")
FAILING = {"critical", "major"}


def hide(text: str, rng: random.Random) -> str:
    def insert(m: re.Match[str]) -> str:
        word = m.group()
        if len(word) < 2:
            return word
        cut = rng.randrange(1, len(word))
        return word[:cut] + rng.choice(INVISIBLE) + word[cut:]

    return WORD.sub(insert, text)


def twins(text: str, rng: random.Random) -> str:
    def swap(m: re.Match[str]) -> str:
        word = m.group()
        spots = [i for i, c in enumerate(word) if c in CYRILLIC]
        if len(spots) == len(word):
            spots = spots[1:]  # an all-Cyrillic word is a Cyrillic word: keep one Latin letter
        return "".join(CYRILLIC[c] if i in spots else c for i, c in enumerate(word))

    del rng
    return WORD.sub(swap, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "cases")
    parser.add_argument("--labelled-dir", default="labelled")
    args = parser.parse_args()
    inventory = validate_paths([args.cases])
    cases = {case.id: case for _, case in inventory.cases}
    folder = (args.cases / args.labelled_dir).resolve()
    items = [
        (cases[item.case], item.response)
        for file, item in inventory.labelled
        if Path(file).resolve().is_relative_to(folder)
    ]
    checks = GuardrailSet.build(GuardrailContext(policies=inventory.policies))

    def failing(case: Case, text: str, normalised: bool) -> set[str]:
        if normalised:
            return {f.guardrail for f in checks.run(case, text) if f.severity in FAILING}
        return {
            f.guardrail for _, c in checks.checks for f in c(case, text) if f.severity in FAILING
        }

    disguises: dict[str, Callable[[str, random.Random], str]] = {
        "zero-width": hide,
        "cyrillic": twins,
    }
    rows = []
    for name, disguise in disguises.items():
        rng = random.Random(13)
        total, raw, now = Counter[str](), Counter[str](), Counter[str]()
        for case, text in items:
            clean = failing(case, text, True)
            if not clean:
                continue
            disguised = disguise(text, rng)
            total.update(clean)
            raw.update(clean & failing(case, disguised, False))
            now.update(clean & failing(case, disguised, True))
        for family in [f for f in FAMILIES if total[f]]:
            rows.append([name, family, total[family], raw[family], now[family]])
    print(f"{len(items)} labelled responses in {args.labelled_dir}/")
    print(
        tabulate(
            rows,
            headers=["disguise", "family", "failing", "still caught raw", "caught normalised"],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
