"""What the judge must return: claims with a verdict each, as JSON validated by pydantic.

The JSON schema sent to providers that take a structured-output format (`response_format`) is
generated from the same model, made strict (every field required, no other field), so what a
provider constrains and what is validated here cannot drift apart.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.judge.config import Check

Verdict = Literal["supported", "unsupported", "contradicted", "violation"]

#: A judge's reply longer than this is refused unread (a runaway generation).
MAX_OUTPUT_CHARS = 200_000
MAX_CLAIMS = 200


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="exact quote from the answer")
    check: Check
    verdict: Verdict
    cite: str | None = Field(
        max_length=2000, description="a clause id (P3), a fact key, a rubric id (R1), or null"
    )
    reason: str = Field(max_length=2000)


class JudgeOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claims: list[Claim] = Field(max_length=MAX_CLAIMS)


def response_format() -> dict[str, Any]:
    """The provider's structured-output parameter (OpenAI's json_schema shape, which litellm
    translates for the providers that support one)."""
    schema = JudgeOutput.model_json_schema()
    for definition in [schema, *schema.get("$defs", {}).values()]:
        definition["additionalProperties"] = False
        definition["required"] = sorted(definition.get("properties", {}))
    return {
        "type": "json_schema",
        "json_schema": {"name": "judge_claims", "schema": schema, "strict": True},
    }


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_output(text: str) -> JudgeOutput | str:
    """The judge's reply as claims, or what is wrong with it (a short message)."""
    if len(text) > MAX_OUTPUT_CHARS:
        return f"the reply is {len(text)} characters long (at most {MAX_OUTPUT_CHARS})"
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text.strip()
    if not body:
        return "the reply is empty"
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as exc:
        return f"not JSON: {exc}"[:300]
    if isinstance(data, dict) and "claims" in data and isinstance(data["claims"], list):
        # A missing `reason` or `cite` is not worth a retry; a wrong shape is.
        for claim in data["claims"]:
            if isinstance(claim, dict):
                claim.setdefault("reason", "")
                claim.setdefault("cite", None)
    try:
        return JudgeOutput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        return f"{where}: {first['msg']}"[:300]
