"""Claims turned into findings, with evidence that does not trust the judge.

- The span is located in the answer by us: the claim's text is searched for exactly, then with
  whitespace, case and quote marks relaxed; the span always quotes the answer as written. A
  claim not found in the answer keeps no span, and its evidence says so.
- The citation is checked: a clause id must be one of the policy book's clauses (P1..Pn, see
  `prompt.policy_clauses`), a fact key one of the case's facts, a rubric id one of the case's
  rubric items. What was cited is quoted from the policy, the facts or the rubric, never from
  the judge's output; a citation that does not exist gives the evidence "no clause" (or "no
  fact", "no rubric item") and the id the judge invented.

Codes: `judge.unsupported` (a policy claim no clause supports), `judge.contradicted` (a policy
claim a clause contradicts), `judge.facts` (a claim about the conversation that the facts
contradict or do not give), `judge.rubric` (a crisis or tone expectation broken). A gating
judge raises them at the severities in `SEVERITY`; an advisory one raises them minor and
`advisory`, so no verdict, gate, pass rate or decision counts them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from evals.judge.prompt import policy_clauses, rubric_items
from evals.judge.schema import Claim, JudgeOutput
from evals.records import Case, Evidence, Finding, PolicyBook, Severity, Span

#: Severity of each code when the judge gates.
SEVERITY: dict[str, Severity] = {
    "judge.contradicted": "critical",
    "judge.unsupported": "critical",
    "judge.facts": "critical",
    "judge.rubric": "major",
    "judge.error": "major",
    "judge.skipped": "minor",
}

#: The labelled family each check is calibrated against.
FAMILY_OF_CHECK = {"policy": "policy", "facts": "facts", "rubric": "tone"}
CHECK_OF_CODE = {
    "judge.unsupported": "policy",
    "judge.contradicted": "policy",
    "judge.facts": "facts",
    "judge.rubric": "rubric",
}

MESSAGES = {
    "judge.unsupported": "the judge found a claim about the company's rules that no policy "
    "clause supports",
    "judge.contradicted": "the judge found a claim that a policy clause contradicts",
    "judge.facts": "the judge found a claim about this conversation that the case facts do not "
    "support",
    "judge.rubric": "the judge found the answer breaks a crisis or tone expectation",
}


def code_of(claim: Claim) -> str | None:
    """The finding code of a claim's verdict, or None when the claim passes."""
    if claim.verdict == "supported":
        return None
    if claim.check == "policy":
        return "judge.contradicted" if claim.verdict == "contradicted" else "judge.unsupported"
    if claim.check == "facts":
        return "judge.facts"
    return "judge.rubric"


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})


def _relaxed(text: str) -> tuple[str, list[int]]:
    """Text with runs of whitespace as one space, lower case, plain quotes; and for each of its
    characters, the index in `text` it came from."""
    out: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, char in enumerate(text):
        if char.isspace():
            if previous_space:
                continue
            previous_space = True
            out.append(" ")
        else:
            previous_space = False
            out.append(char.lower().translate(_QUOTES))
        index.append(i)
    return "".join(out), index


def locate(claim: str, answer: str) -> Span | None:
    """Where the claim is in the answer (exactly, else relaxed), quoting the answer."""
    quote = html.unescape(claim).strip().strip("\"'“”")
    if not quote:
        return None
    start = answer.find(quote)
    if start >= 0:
        return Span(start=start, end=start + len(quote), text=quote)
    haystack, index = _relaxed(answer)
    needle, _ = _relaxed(quote)
    needle = needle.strip()
    found = haystack.find(needle) if needle else -1
    if found < 0:
        return None
    begin, end = index[found], index[found + len(needle) - 1] + 1
    return Span(start=begin, end=end, text=answer[begin:end])


_CLAUSE_ID = re.compile(r"^\s*\[?\s*(P\d+|R\d+)\s*\]?\s*[:.]?", re.IGNORECASE)


def _cited(claim: Claim, case: Case, policy: PolicyBook) -> Evidence:
    """What the claim was checked against, verified to exist (never quoted from the judge)."""
    cite = (claim.cite or "").strip()
    if claim.check == "policy":
        clauses = {c.id: c for c in policy_clauses(policy)}
        match = _CLAUSE_ID.match(cite)
        clause = clauses.get(match.group(1).upper()) if match else None
        if clause is None and len(cite) >= 12:  # a quote of a clause instead of its id
            clause = next((c for c in clauses.values() if cite in c.text), None)
        if clause is not None:
            return Evidence(checked_against=clause.text, source=f"policy:{policy.id} {clause.id}")
        if not cite:
            return Evidence(
                source=f"policy:{policy.id}", note="no clause in the policy supports it"
            )
        return Evidence(
            source=f"policy:{policy.id}",
            note=f"no clause: the judge cited {cite[:80]!r}, which the policy book does not have",
        )
    if claim.check == "facts":
        key = cite.removeprefix("facts.")
        if key in case.facts:
            return Evidence(checked_against=f"{key}: {case.facts[key]}", source=f"facts.{key}")
        if not cite:
            return Evidence(source="facts", note="no fact of the case gives it")
        return Evidence(
            source="facts",
            note=f"no fact: the judge cited {cite[:80]!r}, which the case facts do not have",
        )
    items = {r.id: r for r in rubric_items(case)}
    match = _CLAUSE_ID.match(cite)
    item = items.get(match.group(1).upper()) if match else None
    if item is not None:
        return Evidence(checked_against=item.text, source=f"rubric {item.id}")
    return Evidence(
        source="rubric",
        note=f"no rubric item: the judge cited {cite[:80]!r}" if cite else "no rubric item cited",
    )


def claim_findings(
    output: JudgeOutput,
    case: Case,
    policy: PolicyBook,
    answer: str,
    checks: list[str],
    *,
    gating: Collection[str],
) -> list[Finding]:
    """One finding per claim that does not pass, in the answer's order, duplicates merged; a
    claim of a check that does not gate gives an advisory finding."""
    findings: list[Finding] = []
    seen: set[tuple[str, int, int, str]] = set()
    for claim in output.claims:
        code = code_of(claim)
        if code is None or claim.check not in checks:
            continue
        span = locate(claim.text, answer)
        key = (code, span.start if span else -1, span.end if span else -1, claim.text)
        if key in seen:
            continue
        seen.add(key)
        advisory = claim.check not in gating
        evidence = _cited(claim, case, policy)
        notes = [n for n in (evidence.note,) if n]
        if span is None:
            notes.append("the judge's claim was not found in the answer as written")
        if claim.reason.strip():
            notes.append(f"judge's reason: {claim.reason.strip()[:200]}")
        findings.append(
            Finding(
                guardrail="judge",
                code=code,
                severity="minor" if advisory else SEVERITY[code],
                message=MESSAGES[code],
                evidence=evidence.model_copy(
                    update={"span": span, "note": "; ".join(notes) or None, "advisory": advisory}
                ),
            )
        )
    findings.sort(key=lambda f: f.evidence.span.start if f.evidence.span else 1 << 30)
    return findings


def judge_note(code: str, message: str, *, advisory: bool) -> Finding:
    """A finding about the judge itself: `judge.error` (its output never validated, or the call
    failed) or `judge.skipped` (not judged: the spend bound was reached)."""
    return Finding(
        guardrail="judge",
        code=code,
        severity="minor" if advisory else SEVERITY[code],
        message=message[:1000],
        evidence=Evidence(advisory=advisory),
    )
