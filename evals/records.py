"""The records that cross a boundary: policy books, cases, targets, suites, responses, findings,
results and runs.

Every record is a frozen pydantic model that rejects unknown fields, so a typo in a case file is
an error rather than a silently ignored key.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

# The records a guardrail reads and writes live with the checks (`guardrails` needs nothing of
# `evals`); this module re-exports them under the same names.
from guardrails.records import (
    SEVERITIES,
    Case,
    Channel,
    Evidence,
    Expect,
    FactValue,
    Finding,
    Identifier,
    Kind,
    LanguageTag,
    Message,
    PolicyBook,
    Record,
    Register,
    Risk,
    Role,
    Scalar,
    Severity,
    Span,
    content_hash,
)

__all__ = [  # the re-exported records (every record defined below is public too)
    "SEVERITIES",
    "Case",
    "Channel",
    "Evidence",
    "Expect",
    "FactValue",
    "Finding",
    "Identifier",
    "Kind",
    "LanguageTag",
    "Message",
    "PolicyBook",
    "Record",
    "Register",
    "Risk",
    "Role",
    "Scalar",
    "Severity",
    "Span",
    "content_hash",
]

#: Version of the stored run format (SQLite schema and the JSON of a run). Bump on any change
#: that an older reader could misread. 2: results are hash chained (see evals/store.py).
RUN_FORMAT_VERSION = 2

ReplayMode = Literal["record", "replay", "auto", "off"]

#: Severities that fail an answer unless a suite says otherwise (`gates.fail_on`).
DEFAULT_FAIL_ON: tuple[Severity, ...] = ("critical", "major")

# The policy comes first so that every case of one company shares the longest possible prompt
# prefix (a local server reuses its cache: measured 3.8 s instead of 38 s per answer).
DEFAULT_SYSTEM_PROMPT = (
    "You are the customer support assistant of {company_name}. Only state policies that appear "
    "in the policy below; if the policy does not cover something, say so and offer a person."
    "\n\nPOLICY ({company_name}):\n{policy_text}\n\n"
    "Answer the customer in their language ({language}), on the {channel} channel."
)

#: Fields a system-prompt template may use.
PROMPT_FIELDS = frozenset(
    {"company_name", "company", "policy_text", "language", "channel", "intent", "kind", "risk"}
)


class TargetParams(Record):
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = Field(
        default=None, description="base seed; sample i is sent seed + i (default: the suite seed)"
    )
    extra: dict[str, Any] = Field(
        default_factory=dict, description="other provider parameters, passed to litellm as given"
    )

    @field_validator("extra")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if re.search(r"key|secret|token|password", key, re.IGNORECASE) and key != "max_tokens":
                raise ValueError(
                    f"'{key}' looks like a secret; name an environment variable with "
                    "`api_key_env` instead of writing credentials into a suite"
                )
        return value


class Target(Record):
    """A model to evaluate: a litellm model string with its parameters and prompt."""

    name: Identifier
    model: str = Field(
        min_length=1,
        description="a litellm model string (openai/gpt-4o-mini, ollama/llama3, ...), "
        "'local/smollm2' for the bundled model, 'reference' for the cases' reference answers",
    )
    api_base: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable that holds the API key"
    )
    params: TargetParams = Field(default_factory=TargetParams)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    concurrency: int | None = Field(
        default=None, ge=1, le=1000, description="calls in flight (default: the suite's)"
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per attempt")
    retries: int = Field(default=3, ge=0, le=20, description="retries after the first attempt")
    backoff: float = Field(default=1.0, ge=0, description="first retry delay in seconds")
    baseline: bool = Field(
        default=False,
        description="a yardstick to compare with (like `reference`, which always is one): "
        "scored and decided, never part of an automation scope",
    )
    case_tags: list[str] = Field(
        default_factory=list,
        description="answer only the suite's cases with any of these tags (default: every case)",
    )

    @field_validator("system_prompt")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        import string

        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        except ValueError as exc:
            raise ValueError(f"system_prompt is not a valid template: {exc}") from exc
        unknown = names - PROMPT_FIELDS
        if unknown:
            raise ValueError(
                f"system_prompt uses unknown fields {sorted(unknown)}; "
                f"available: {sorted(PROMPT_FIELDS)}"
            )
        return value

    @property
    def is_baseline(self) -> bool:
        """Scored and decided, but never offered for approval: `reference` replays answers
        written to pass, so its decisions say what the evidence allows, not what a bot does."""
        return self.baseline or self.model == "reference"

    def answers(self, case: Case) -> bool:
        """Whether this target answers the case (its `case_tags`, if any, select the cases)."""
        return not self.case_tags or bool(set(self.case_tags) & set(case.tags))

    def identity(self) -> dict[str, Any]:
        """What determines an answer (for cassette keys and config hashes): no credentials."""
        return {
            "model": self.model,
            "api_base": self.api_base,
            "params": self.params.model_dump(mode="json", exclude_none=True),
        }


class CaseSource(Record):
    """Where a suite takes cases from: files (paths or globs) or a `datasets` dataset."""

    path: str | None = Field(
        default=None, description="file, folder or glob, relative to the suite"
    )
    dataset: str | None = Field(default=None, description="a hub dataset name or local path")
    split: str = "train"
    tags: list[str] = Field(default_factory=list, description="keep cases with any of these tags")
    exclude_tags: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list, description="keep only these case ids")

    @model_validator(mode="after")
    def _one_origin(self) -> CaseSource:
        if (self.path is None) == (self.dataset is None):
            raise ValueError("a case source names exactly one of `path` or `dataset`")
        return self


class ReplayConfig(Record):
    mode: ReplayMode | None = Field(
        default=None,
        description="record: always call and store; replay: only recorded answers (a miss is an "
        "error); auto: recorded answers, call on a miss; off: always call, store nothing. "
        "Unset: `auto`, or `replay` when the CI environment variable is set",
    )
    dir: str = Field(default="cassettes", description="folder of cassettes, relative to the suite")

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false.
        return "off" if value is False else value


DecisionLevel = Literal["automate", "assist", "human"]
FlakyPolicy = Literal["fail", "pass", "majority"]


class DecisionGate(Record):
    """A decision the run must reach, e.g. `{intent: order_status, at_least: automate}`."""

    intent: str = Field(min_length=1, description="an intent id, or '*' for every intent")
    at_least: DecisionLevel
    target: str | None = Field(default=None, description="one target (default: every target)")


class Gates(Record):
    """What a run must achieve; `evals run` exits 1 when any gate fails (see evals/gates.py)."""

    max_errors: int = Field(
        default=0, ge=0, description="provider errors tolerated per target (0: none)"
    )
    max_critical: int | None = Field(
        default=0,
        ge=0,
        description="answers with a critical finding tolerated per target (0: none; null "
        "switches the gate off, e.g. for an exploration suite whose answers are expected to fail)",
    )
    min_pass_rate: float | None = Field(
        default=None, ge=0, le=1, description="each target's pass rate must reach this"
    )
    fail_on: list[Severity] = Field(
        default_factory=lambda: list(DEFAULT_FAIL_ON),
        description="finding severities that make an answer fail",
    )
    decisions: list[DecisionGate] = Field(
        default_factory=list, description="decisions the run must reach, per intent"
    )
    cases_must_pass: bool = Field(
        default=False, description="every case must pass for every target, like a test"
    )
    flaky: FlakyPolicy = Field(
        default="fail",
        description="how a case whose samples disagree counts where cases must pass: fail, "
        "pass, or majority (passes if more than half of its samples pass)",
    )

    @field_validator("max_errors", "max_critical", mode="before")
    @classmethod
    def _count_not_switch(cls, value: Any) -> Any:
        # YAML reads `off`, `no` and `false` as false, which would otherwise count as 0: the
        # strictest setting, the opposite of what was meant.
        if isinstance(value, bool):
            raise ValueError("must be a number of answers, or null to switch the gate off")
        return value


#: A dotted module name, as a suite's `plugins:` list gives it.
PLUGIN_MODULE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class Suite(Record):
    name: Identifier
    description: str = ""
    cases: list[CaseSource] = Field(min_length=1)
    policies: list[str] = Field(
        default_factory=list, description="policy book files or folders, relative to the suite"
    )
    targets: list[Target] = Field(min_length=1)
    samples: int = Field(default=1, ge=1, le=1000, description="answers per case and target")
    seed: int = Field(default=0, description="base seed when a target does not set one")
    concurrency: int = Field(default=8, ge=1, le=1000, description="default calls in flight")
    decision_policy: str | None = None
    guardrails: list[str] | None = Field(
        default=None, description="guardrails to run (default: every registered one)"
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="modules to import before the run (they register guardrails): importable "
        "from sys.path or from the suite's folder, e.g. mypkg.checks",
    )
    output: str = Field(
        default="out", description="output folder, relative to the working directory"
    )
    replay: ReplayConfig = Field(default_factory=ReplayConfig)
    gates: Gates = Field(default_factory=Gates)
    judge: JudgeConfig | None = Field(
        default=None,
        description="an LLM judge run after the guardrails (see evals/judge/ and docs/judge.md)",
        exclude_if=lambda value: value is None,
    )

    @field_validator("plugins")
    @classmethod
    def _module_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(PLUGIN_MODULE, name):
                raise ValueError(
                    f"'{name[:200]}' is not a module name: write a dotted name such as "
                    "mypkg.checks (importable from sys.path or the suite's folder), not a path"
                )
        return value

    @model_validator(mode="after")
    def _unique_targets(self) -> Suite:
        names = [t.name for t in self.targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"target names must be unique: {duplicates}")
        unknown = sorted(
            {g.target for g in self.gates.decisions if g.target and g.target not in names}
        )
        if unknown:
            raise ValueError(f"gates.decisions name unknown target(s) {unknown}; targets: {names}")
        return self


class JudgeUsage(Record):
    """What judging one answer cost, kept apart from the target's own tokens and cost."""

    calls: int = Field(default=0, ge=0, description="judge calls made or replayed")
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    cached: bool = Field(default=False, description="every call came from a cassette")


class Response(Record):
    """What a target answered (or the error it gave)."""

    text: str = ""
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cached: bool = Field(default=False, description="came from a cassette, not a live call")
    attempts: int = Field(default=1, ge=0)
    model: str | None = Field(default=None, description="model name reported by the provider")
    error: str | None = None
    judge: JudgeUsage | None = Field(
        default=None,
        description="the LLM judge's calls for this answer (absent when no judge ran)",
        exclude_if=lambda value: value is None,
    )

    @property
    def ok(self) -> bool:
        return self.error is None


class CaseResult(Record):
    run_id: str
    case_id: str
    target: str
    sample: int = Field(ge=0)
    seed: int
    response: Response
    findings: list[Finding] = Field(default_factory=list)
    passed: bool

    @model_validator(mode="after")
    def _error_never_passes(self) -> CaseResult:
        if self.passed and self.response.error is not None:
            raise ValueError("a result whose call failed cannot pass")
        return self


class PluginVersion(Record):
    """A plugin loaded for a run: what it is, where its code came from, and what it provided."""

    name: str = Field(description="the entry point's name, or the module a suite lists")
    group: str = Field(
        description="its entry point group (supportgate.guardrails, supportgate.targets, "
        "supportgate.packs), or 'suite' for a module of a suite's `plugins:` list"
    )
    value: str = Field(description="the entry point's object reference, or the module's name")
    distribution: str | None = Field(
        default=None, description="the installed distribution it came from (None: a module file)"
    )
    version: str = Field(
        description="the distribution's version, or 'sha256:...' of a module file's source"
    )
    source: str = Field(
        description="'distribution NAME VERSION', or 'module from PATH, sha256 HASH'"
    )
    provides: list[str] = Field(
        default_factory=list,
        description="what it provided: the guardrails it registered, its model prefix, or the "
        "path of its data pack",
    )


class Versions(Record):
    package: str
    guardrails: str
    policy_books: dict[str, str]
    cases: str
    guardrail_versions: dict[str, str] = Field(
        default_factory=dict,
        description="each guardrail that judged the run and its version, a hash of its code "
        "and data (empty in runs stored before versions were recorded)",
    )
    plugins: list[PluginVersion] = Field(
        default_factory=list,
        description="the plugins loaded for the run: distribution and version, or a module "
        "file's path and hash (empty in runs stored before plugins were recorded)",
    )
    policy_packs: dict[str, list[str]] = Field(
        default_factory=dict,
        description="the data packs each policy book's answers were checked with, besides the "
        "core (guardrails.packs.packs_for; absent in runs stored before packs were recorded)",
        exclude_if=lambda value: not value,
    )
    tools: dict[str, str] = Field(
        default_factory=dict,
        description="system tools the checks used: 'apertium' (the Debian packages' versions, "
        "or 'unavailable') when the policy guardrail ran, as it translates policy books "
        "(guardrails/translation.py); absent in runs stored before tools were recorded",
        exclude_if=lambda value: not value,
    )
    judge: dict[str, Any] | None = Field(
        default=None,
        description="the LLM judge: model, parameters, prompt hash, calibration and whether it "
        "gates (evals/judge/status.py); absent when no judge ran",
        exclude_if=lambda value: value is None,
    )


class Run(Record):
    """A run as stored: what was asked, with which versions, and what came back."""

    version: int = RUN_FORMAT_VERSION
    id: str
    suite: str
    started: datetime
    finished: datetime | None = None
    status: Literal["running", "finished", "interrupted"] = "running"
    config_hash: str
    versions: Versions
    targets: list[Target]
    results: list[CaseResult] = Field(default_factory=list)


Family = Literal["policy", "facts", "privacy", "handoff", "tone", "language", "template"]
FAMILIES: tuple[Family, ...] = (
    "policy",
    "facts",
    "privacy",
    "handoff",
    "tone",
    "language",
    "template",
)


class LabelledResponse(Record):
    """A response written for a case, labelled with the guardrail families it must trigger."""

    id: Identifier
    case: Identifier = Field(description="id of the case this answers")
    response: str = Field(min_length=1)
    families: list[Family] = Field(
        default_factory=list, description="families that must raise a finding; empty = clean"
    )
    note: str = Field(default="", description="what is wrong (or right) with it, for reviewers")


class RunPlan(Record):
    """Everything a run needs, resolved from the suite's files: stored so a run can resume
    with exactly the inputs it started with even if the files changed since."""

    suite: Suite
    suite_path: str
    cases: list[Case]
    policies: dict[str, PolicyBook]
    replay_dir: str = Field(description="absolute folder of cassettes")
    decision_policy: dict[str, Any] | None = Field(
        default=None,
        description="the decision policy as loaded (a DecisionPolicy's fields; None: default)",
    )
    output_dir: str = Field(description="absolute output folder")
    judge_calibration: dict[str, Any] | None = Field(
        default=None,
        description="the judge's calibration file as loaded (None: no judge, or no file)",
        exclude_if=lambda value: value is None,
    )

    def cases_for(self, target: Target) -> list[Case]:
        """The cases this target answers: every case, or those its `case_tags` select."""
        return [c for c in self.cases if target.answers(c)]

    def expected_answers(self) -> list[tuple[str, str, int]]:
        """Every (case id, target, sample) the run must store to be complete."""
        return [
            (case.id, target.name, sample)
            for target in self.suite.targets
            for case in self.cases_for(target)
            for sample in range(self.suite.samples)
        ]

    def config_hash(self) -> str:
        # Where files lie on this machine is not configuration.
        return content_hash(
            self.model_dump_json(
                exclude={"suite_path": True, "output_dir": True, "decision_policy": {"source"}}
            )
        )


# The judge's record builds on the records above; imported last so that it can import them.
from evals.judge.config import JudgeConfig  # noqa: E402

Suite.model_rebuild()
RunPlan.model_rebuild()
