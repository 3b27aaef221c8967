"""The LLM judge: a meaning-level check that a suite may add after the rule-based guardrails.

It lives in the engine, not in `guardrails/`, because it calls a model. Importing this package
imports nothing heavy (no litellm): the call goes through the same targets and cassettes as the
targets under test, and only a live call imports a provider library.

- `config`: the suite's `judge:` record.
- `prompt`: the versioned prompt template (`data/prompt.md`) and the delimited data block.
- `schema`: the claim-level JSON the judge must return, validated by pydantic.
- `findings`: claims turned into findings, with spans located in the answer and citations
  checked against the policy book and the case facts.
- `calls`: one judged answer through a target client and a cassette (votes, one retry on
  output that does not validate, the spend bound).
- `calibration`: agreement with labelled responses, the calibration file and its fingerprint,
  and whether the judge may gate (`status`).
"""

# The suite record (evals.records) holds the judge's config record, which builds on the other
# records: importing the records first lets either module be imported first.
import evals.records  # noqa: F401
