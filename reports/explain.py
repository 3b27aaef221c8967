"""Short, plain explanations of the two statistics every report shows, with the run's own
numbers in them, so a product owner reading a pass rate knows what its interval and pass^k mean
without leaving the page (HTML and markdown say the same words)."""

from __future__ import annotations

from evals.scores import Score


def _pct(x: float) -> str:
    return f"{x:.0%}"


def wilson(score: Score) -> str:
    """The pass rate's interval in words, with this score's numbers."""
    ci = score.pass_rate_ci
    return (
        f"Wilson 95% interval: given these {score.answers} answers ({score.passed} passed), "
        f"the true pass rate very likely lies between {_pct(ci.low)} and {_pct(ci.high)}; more "
        "answers narrow it."
    )


def pass_k(score: Score) -> str:
    """pass^k in words, with this score's numbers."""
    k = score.k
    return (
        f"pass^{k}: {score.cases_all_passed} of {score.cases} cases passed all {k} of their "
        f"samples ({_pct(score.pass_k)}; 95% interval {_pct(score.pass_k_ci.low)}-"
        f"{_pct(score.pass_k_ci.high)}). A customer gets one answer: a case that passes only "
        "sometimes fails some customers, so automating needs pass^k's lower bound to clear the "
        "bar, not the pass rate."
    )
