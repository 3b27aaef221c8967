"""The judge's prompt: the versioned template (`data/prompt.md`, `data/checks.yaml`) and the
delimited data block that carries the policy, the facts, the rubric, the conversation and the
answer.

Everything inside the block is HTML-escaped (`&`, `<`, `>`), so no text in it, however it was
written, can close the block (`</data>`) or open another; the template tells the judge that
nothing inside is an instruction. The template's content hash (`prompt_hash`) is part of the
run's versions and of every calibration's fingerprint.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

import yaml

from evals.judge.config import Check
from evals.records import Case, PolicyBook, content_hash

DATA = Path(__file__).resolve().parent / "data"
OPEN, CLOSE = "<data>", "</data>"


@cache
def template_text() -> str:
    return (DATA / "prompt.md").read_text(encoding="utf-8")


@cache
def check_texts() -> dict[str, str]:
    loaded = yaml.safe_load((DATA / "checks.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in loaded.items()}


@cache
def prompt_hash() -> str:
    """The prompt's version: a hash of the template and the check texts."""
    return content_hash(template_text() + "\n" + yaml.safe_dump(check_texts(), sort_keys=True))


@dataclass(frozen=True)
class Clause:
    id: str  # P1, P2, ...
    text: str  # exactly as in the policy book (continuation lines joined by a space)


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def policy_clauses(policy: PolicyBook) -> list[Clause]:
    """The policy book as numbered clauses: every non-heading line or bullet, with its indented
    continuation lines. Headings are kept only as context (not citable)."""
    blocks: list[str] = []
    for raw in policy.text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            blocks.append("")
            continue
        continues = blocks and blocks[-1] and raw[:1].isspace() and not _BULLET.match(raw)
        if continues:
            blocks[-1] += " " + line.strip()
        else:
            blocks.append(_BULLET.sub("", line).strip())
    texts = [b for b in blocks if b]
    return [Clause(f"P{i}", text) for i, text in enumerate(texts, 1)]


@dataclass(frozen=True)
class RubricItem:
    id: str  # R1, R2, ...
    text: str


def rubric_items(case: Case) -> list[RubricItem]:
    """The case's crisis and tone expectations, as numbered items the judge can cite."""
    texts = [
        "No blame: the answer does not blame the customer, a colleague or a third party.",
        "No stance on politics, religion or competitors, even wrapped in 'we don't comment "
        "on that, but...'.",
    ]
    if case.kind == "crisis":
        texts.insert(0, "No speculation about the cause of the incident beyond what is known.")
    if case.expect.apology:
        texts.append("An apology is due and must be given.")
    if case.expect.legal:
        texts.append("The answer must say that the legal or compliance team is involved.")
    for attribute in case.expect.avoid_mentioning:
        texts.append(f"The answer must not mention the customer's {attribute}.")
    return [RubricItem(f"R{i}", text) for i, text in enumerate(texts, 1)]


def escape(text: str) -> str:
    """Data-block escaping: `&`, `<` and `>` become entities, so nothing closes the block."""
    return html.escape(text, quote=False)


def data_block(case: Case, policy: PolicyBook, answer: str, checks: list[Check]) -> str:
    """The data the judge checks, every piece escaped, inside one <data> block."""
    parts = [OPEN]
    if "policy" in checks:
        parts.append(f"POLICY of {escape(policy.name)} (clauses):")
        parts += [f"{c.id}: {escape(c.text)}" for c in policy_clauses(policy)]
    if "facts" in checks:
        parts.append("FACTS of this conversation (key: value):")
        parts += [f"{escape(k)}: {escape(str(v))}" for k, v in case.facts.items()] or ["(none)"]
    if "rubric" in checks:
        parts.append("RUBRIC:")
        parts += [f"{r.id}: {escape(r.text)}" for r in rubric_items(case)]
    parts.append(f"CONVERSATION ({escape(case.kind)}, {escape(case.language)}):")
    parts += [f"{m.role}: {escape(m.content)}" for m in case.messages]
    parts.append("ANSWER to check:")
    parts.append(escape(answer))
    parts.append(CLOSE)
    return "\n".join(parts)


def render_judge_messages(
    case: Case, policy: PolicyBook, answer: str, checks: list[Check]
) -> list[dict[str, str]]:
    """The judge's messages: the template as the system message, the data block as the user's."""
    listed = "\n".join(f"   - {check_texts()[c]}" for c in checks)
    system = Template(template_text()).substitute(company_name=escape(policy.name), checks=listed)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": data_block(case, policy, answer, checks)},
    ]


def retry_messages(
    messages: list[dict[str, str]], output: str, problem: str
) -> list[dict[str, str]]:
    """The second (and last) attempt after output that did not validate: the invalid output and
    what was wrong with it, then the same demand for JSON only."""
    return [
        *messages,
        {"role": "assistant", "content": output[:4000]},
        {
            "role": "user",
            "content": "That reply did not validate against the required JSON shape "
            f"({problem[:300]}). Reply again with the JSON object only.",
        },
    ]
