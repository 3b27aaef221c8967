"""The records a guardrail reads and writes: the case it checks (with its conversation, facts and
expectations), the policy book it checks against, and the findings it raises with their evidence.

They live with the checks so that `guardrails` needs nothing of `evals`; `evals.records`
re-exports them under the same names. Every record is a frozen pydantic model that rejects
unknown fields, so a typo in a case file is an error rather than a silently ignored key.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["support", "crisis"]
Channel = Literal["chat", "email", "social", "voice"]
Risk = Literal["low", "medium", "high", "critical"]
Severity = Literal["critical", "major", "minor"]
Role = Literal["user", "assistant"]
Register = Literal["tu", "usted", "formal", "informal"]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor")

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
        max_length=200,
        description="letters, digits, '.', '_' and '-'",
    ),
]
LanguageTag = Annotated[
    str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="a BCP-47 tag, e.g. es-MX")
]
Scalar = str | int | float | bool
FactValue = Scalar | list[Scalar]


class Record(BaseModel):
    """Base of every record: immutable and strict about its fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def content_hash(text: str | bytes, length: int = 16) -> str:
    """A short, stable SHA-256 hex digest used as a content version."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:length]


PackName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        max_length=60,
        description="a data pack's name (guardrails/packs/, or an installed plugin's)",
    ),
]
ConceptName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class PolicyBook(Record):
    """A company's policy text, exactly what a support bot would be given, and the data packs
    (`guardrails.packs`) its checks read concepts through."""

    id: Identifier
    name: str = Field(min_length=1)
    text: str = Field(min_length=1)
    version: str = Field(
        default="",
        description="content hash of the text (and of packs and terms when given) when not given",
    )
    packs: Literal["auto"] | list[PackName] = Field(
        default="auto",
        description="the data packs of the book's industry: 'auto' (every pack whose terms the "
        "text uses), [] (the core alone) or a list of pack names",
        exclude_if=lambda value: value == "auto",
    )
    terms: dict[ConceptName, list[Annotated[str, Field(min_length=1, max_length=200)]]] = Field(
        default_factory=dict,
        description="the company's own words per concept, e.g. product names as terms of 'plan'",
        exclude_if=lambda value: not value,
    )

    @field_validator("packs", mode="before")
    @classmethod
    def _pack_names(cls, value: Any) -> Any:
        # One clear message instead of one per member of the union.
        if value == "auto":
            return value
        if not isinstance(value, list):
            raise ValueError("expected 'auto' or a list of pack names, e.g. [retail, countries]")
        for i, name in enumerate(value):
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
                raise ValueError(
                    f"item {i}: {name!r} is not a pack name (lowercase letters, digits, '.', "
                    "'_' and '-')"
                )
        return value

    @field_validator("terms")
    @classmethod
    def _words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for concept, words in value.items():
            if not words:
                raise ValueError(f"{concept}: give at least one term")
            for word in words:
                if not re.search(r"\w", word):
                    raise ValueError(f"{concept}: {word!r} has no word to match")
        return value

    @model_validator(mode="after")
    def _default_version(self) -> PolicyBook:
        if not self.version:
            object.__setattr__(self, "version", content_hash(self._content()))
        return self

    def _content(self) -> str:
        """The text, and the packs and terms when the book gives them (so a book without them
        keeps the version of its text alone)."""
        if self.packs == "auto" and not self.terms:
            return self.text
        terms = "\n".join(f"{c}={'|'.join(t)}" for c, t in sorted(self.terms.items()))
        packs = self.packs if self.packs == "auto" else ",".join(self.packs)
        return f"{self.text}\0packs:{packs}\0terms:{terms}"

    def __hash__(self) -> int:  # its lists are no obstacle: the version hashes them
        return hash((self.id, self.name, self.text, self.version))


class Message(Record):
    role: Role
    content: str = Field(min_length=1)


class Expect(Record):
    """What a good answer to a case must and must not do."""

    required_facts: list[str] = Field(
        default_factory=list, description="keys of `facts` whose values the answer must state"
    )
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    register_: Register | None = Field(
        default=None, alias="register", description="tu/usted or formal/informal"
    )
    max_words: int | None = Field(default=None, gt=0, description="length budget in words")
    handoff: bool | None = Field(
        default=None,
        description="the answer must offer a path to a person; unset means decided from the "
        "conversation (the customer asks for a person, a sensitive situation, a crisis)",
    )
    apology: bool = Field(default=False, description="an apology is due")
    legal: bool = Field(
        default=False, description="the answer must say legal/compliance is involved"
    )
    hashtags: bool | None = Field(
        default=None, description="hashtags allowed; unset means decided by kind and channel"
    )
    emoji: bool | None = Field(
        default=None, description="emoji allowed; unset means decided by kind and channel"
    )
    avoid_mentioning: list[str] = Field(
        default_factory=list,
        description="sensitive attributes the answer must not mention, e.g. follower_count",
    )
    notes: str = Field(default="", description="free text for reviewers")


class Case(Record):
    """One support or crisis conversation to be answered, with its ground truth."""

    id: Identifier
    intent: Identifier
    kind: Kind
    language: LanguageTag
    channel: Channel
    risk: Risk
    company: Identifier = Field(description="id of the PolicyBook that applies")
    messages: list[Message] = Field(min_length=1)
    facts: dict[str, FactValue] = Field(default_factory=dict)
    expect: Expect = Field(default_factory=Expect)
    reference: str | None = Field(default=None, description="an answer written to pass every check")
    tags: list[str] = Field(default_factory=list)

    @field_validator("facts", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any) -> Any:
        # YAML turns 2026-03-01 into a date; facts keep the ISO text the author wrote.
        if isinstance(value, dict):
            return {
                k: (v.isoformat() if isinstance(v, date | datetime) else v)
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.messages[-1].role != "user":
            raise ValueError("the conversation must end with a user message")
        missing = [key for key in self.expect.required_facts if key not in self.facts]
        if missing:
            raise ValueError(f"expect.required_facts names facts that are not given: {missing}")
        return self


class Span(Record):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError("span end is before its start")
        return self


class Evidence(Record):
    """Why a finding was raised: the offending span and what it was checked against."""

    span: Span | None = Field(default=None, description="offending text in the response")
    checked_against: str | None = Field(
        default=None, description="the policy clause or fact the span was compared with"
    )
    source: str | None = Field(
        default=None, description="where that came from, e.g. 'policy:acme-pay' or 'facts.amount'"
    )
    note: str | None = Field(default=None, description="e.g. 'no clause in the policy supports it'")
    advisory: bool = Field(
        default=False,
        description="raised by a judge that may not gate (uncalibrated): shown, never counted by "
        "a verdict, gate, pass rate or decision",
        exclude_if=lambda value: not value,
    )


class Finding(Record):
    guardrail: Identifier
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
    severity: Severity
    message: str = Field(min_length=1)
    evidence: Evidence = Field(default_factory=Evidence)

    @model_validator(mode="after")
    def _code_in_family(self) -> Finding:
        if not self.code.startswith(self.guardrail + "."):
            raise ValueError(f"code '{self.code}' must start with '{self.guardrail}.'")
        return self
