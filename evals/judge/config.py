"""The suite's `judge:` record: which model judges, what it checks, when, and at what cost."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from evals.records import Record, Target, TargetParams

Check = Literal["policy", "facts", "rubric"]
CHECKS: tuple[Check, ...] = ("policy", "facts", "rubric")
JudgeOn = Literal["all", "passed", "flagged"]

#: The name the judge's calls go by (cassette file, messages, reports).
JUDGE_NAME = "judge"


class JudgeConfig(Record):
    """An LLM judge: the same model fields as a target, plus what it checks and when."""

    model: str = Field(
        min_length=1,
        description="a litellm model string, 'local/smollm2' for the bundled model, or "
        "'fake/scripted' in tests",
    )
    api_base: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable that holds the API key"
    )
    params: TargetParams = Field(
        default_factory=lambda: TargetParams(temperature=0.0),
        description="temperature 0 unless set",
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per attempt")
    retries: int = Field(default=3, ge=0, le=20, description="retries on transient errors")
    backoff: float = Field(default=1.0, ge=0, description="first retry delay in seconds")
    concurrency: int | None = Field(
        default=None, ge=1, le=1000, description="judge calls in flight (default: the suite's)"
    )
    checks: list[Check] = Field(
        default_factory=lambda: list(CHECKS),
        min_length=1,
        description="policy: claims about the company's rules against the policy book; facts: "
        "claims about this conversation against the case facts; rubric: the case's crisis and "
        "tone expectations",
    )
    on: JudgeOn = Field(
        default="passed",
        description="which answers are judged: all, passed (the rules let them through) or "
        "flagged (the rules found something)",
    )
    votes: int = Field(
        default=1, ge=1, le=15, description="calls per answer; a claim counts on a majority"
    )
    max_cost: float | None = Field(
        default=None,
        ge=0,
        description="USD the judge may spend in one run; answers after that are not judged "
        "(each says so)",
    )
    structured: bool = Field(
        default=True,
        description="ask for the claim schema through the provider's structured-output mode "
        "(`response_format`); switch off for a provider that refuses it",
    )
    calibration: str | None = Field(
        default=None,
        description="the calibration file written by `evals calibrate`, relative to the suite; "
        "without a current one that clears the decision policy's thresholds, the judge is "
        "advisory",
    )

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        # YAML 1.1 reads an unquoted `on:` key as true.
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @field_validator("model")
    @classmethod
    def _a_model(cls, value: str) -> str:
        if value.strip() == "reference":
            raise ValueError(
                "'reference' replays the cases' reference answers and cannot judge; name a model"
            )
        return value

    @field_validator("checks")
    @classmethod
    def _unique(cls, value: list[Check]) -> list[Check]:
        return [c for c in CHECKS if c in value]

    def params_with_defaults(self) -> TargetParams:
        """Temperature 0 unless the suite set one."""
        if self.params.temperature is None:
            return self.params.model_copy(update={"temperature": 0.0})
        return self.params

    def as_target(self) -> Target:
        """The judge as a target, so it is called, retried, recorded and replayed exactly like
        the targets under test."""
        return Target(
            name=JUDGE_NAME,
            model=self.model,
            api_base=self.api_base,
            api_key_env=self.api_key_env,
            params=self.params_with_defaults(),
            concurrency=self.concurrency,
            timeout=self.timeout,
            retries=self.retries,
            backoff=self.backoff,
        )
