"""Distinct answers for the guardrail speed benchmark: 100-140-word answers in Spanish, English
and Portuguese, none equal to another, built from the case library's reference answers and the
labelled responses of the same case (so every answer is checked against its own case's facts
and policy book).

Each answer takes the sentences of one or more answers to its case, shuffles the order of all
but the first, changes numbers (amounts, days, dates, times, counts) and swaps customers' and
agents' names, and trims or extends itself to 100-140 words. The same seed gives the same
answers; a repeated text is never returned.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evals.records import Case
    from evals.validate import Inventory

MIN_WORDS, MAX_WORDS = 100, 140
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+")
#: First names that appear in the library's answers and names to put in their place.
_NAMES = [
    "Ana",
    "Lucía",
    "Marta",
    "Sofía",
    "Carlos",
    "Javier",
    "Pedro",
    "Laura",
    "Diego",
    "Camila",
    "Mateo",
    "Valentina",
    "João",
    "Maria",
    "Beatriz",
    "Rafael",
    "Fernanda",
    "Thiago",
    "Emma",
    "Oliver",
    "James",
    "Sarah",
    "Tom",
    "Priya",
    "Daniel",
    "Elena",
    "Pablo",
    "Rosa",
]
_NAME = re.compile(r"\b(?:" + "|".join(_NAMES) + r")\b")


def _vary_number(rng: random.Random, match: re.Match[str]) -> str:
    digits = match.group(0)
    if rng.random() < 0.5:
        return digits
    value = int(digits)
    changed = max(0, value + rng.choice((-2, -1, 1, 2, 3, 5, 10)))
    return str(changed).zfill(len(digits)) if digits.startswith("0") else str(changed)


def _vary(rng: random.Random, sentence: str) -> str:
    sentence = _NUMBER.sub(lambda m: _vary_number(rng, m), sentence)
    return _NAME.sub(lambda m: rng.choice(_NAMES) if rng.random() < 0.7 else m.group(0), sentence)


def distinct_answers(inventory: Inventory, count: int, seed: int = 0) -> Iterator[tuple[Case, str]]:
    """`count` distinct (case, answer) pairs, cycling through es, en and pt cases."""
    rng = random.Random(seed)
    by_case: dict[str, list[str]] = defaultdict(list)
    cases = {case.id: case for _, case in inventory.cases}
    for _, case in inventory.cases:
        if case.reference:
            by_case[case.id].append(case.reference)
    for _, item in inventory.labelled:
        if item.case in cases:
            by_case[item.case].append(item.response)
    by_language: dict[str, list[str]] = defaultdict(list)
    for case_id in sorted(by_case):
        by_language[cases[case_id].language[:2]].append(case_id)
    languages = [lang for lang in ("es", "en", "pt") if by_language[lang]]
    if not languages:
        return
    seen: set[str] = set()
    made = 0
    attempts = 0
    while made < count:
        attempts += 1
        if attempts > count * 50:
            raise ValueError(f"only {made} distinct answers could be built of {count}")
        case = cases[rng.choice(by_language[languages[made % len(languages)]])]
        pool = by_case[case.id]
        sources = rng.sample(pool, len(pool))
        sentences: list[str] = []
        for source in sources:
            sentences += [s for s in _SENTENCE.split(source.strip()) if s]
            if sum(len(s.split()) for s in sentences) >= MIN_WORDS:
                break
        head, tail = sentences[:1], sentences[1:]
        rng.shuffle(tail)
        picked: list[str] = []
        words = 0
        for sentence in head + tail:
            n = len(sentence.split())
            if words + n > MAX_WORDS:
                continue
            picked.append(_vary(rng, sentence))
            words += n
        if words < MIN_WORDS:
            continue
        text = " ".join(picked)
        if text in seen:
            continue
        seen.add(text)
        made += 1
        yield case, text
