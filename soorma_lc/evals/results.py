"""What an eval run produces: trial and case results, per-model summaries, the report.

Plain pydantic models, so the JSON report is ``Report.model_dump_json()`` and its schema is
``Report.model_json_schema()`` (:func:`report_schema`). ``REPORT_VERSION`` changes whenever a
field changes meaning or disappears; new optional fields keep the version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckResult(_Record):
    """One expectation, checked against one trial."""

    name: str
    passed: bool
    detail: str = ""


class TrialMetrics(_Record):
    """What one trial measured (see evals/README.md for every definition)."""

    steps: int = 0
    actions: int = 0
    max_actions: int = 1
    model_calls: int = 0
    rejections: int = 0
    timeouts: int = 0
    guard_trips: dict[str, int] = Field(default_factory=dict)
    schema_valid: int = 0
    """Event payloads the model proposed that fit their schema."""
    schema_invalid: int = 0
    vague_completion: bool = False
    vague_results: int = 0
    loop: bool = False
    """The plan ran away: a repeated action, or it hit its action or step limit."""
    abstained: bool = False
    expected_abstain: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    model_latency_ms: float = 0.0
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    next_action_hits: int | None = None
    next_action_total: int | None = None


class JudgeVerdict(_Record):
    """The optional LLM judge's view of a completion (score 1-5; None if it gave none)."""

    model: str
    score: int | None = Field(default=None, ge=1, le=5)
    reason: str = ""


class TrialResult(_Record):
    """One run of one scenario with one model."""

    scenario: str
    model: str
    trial: int
    passed: bool
    termination: str
    checks: list[CheckResult] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    """Harness problems (broken script, cassette miss): the trial fails with them."""
    outcome: dict[str, Any] | None = None
    """The plan's PlanOutcome, or None when none arrived."""
    trajectory: list[str] = Field(default_factory=list)
    """Published events (requests and delegated goals), in order."""
    decisions: list[str] = Field(default_factory=list)
    """Accepted decisions in order: event names, complete_goal, wait_for_event:<event>."""
    actions: list[dict[str, Any]] = Field(default_factory=list)
    history: list[dict[str, Any]] = Field(default_factory=list)
    metrics: TrialMetrics = Field(default_factory=TrialMetrics)
    judge: JudgeVerdict | None = None

    @property
    def failures(self) -> list[str]:
        """What made the trial fail, in words."""
        checks = [
            f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks if not c.passed
        ]
        return [*self.problems, *checks]


class CaseResult(_Record):
    """Every trial of one scenario with one model."""

    scenario: str
    title: str
    tags: list[str] = Field(default_factory=list)
    file: str = ""
    model: str
    expected_trajectory: list[str] | None = None
    match: str | None = None
    trials: list[TrialResult]

    @property
    def successes(self) -> int:
        return sum(t.passed for t in self.trials)

    @property
    def passed(self) -> bool:
        """Every trial passed (pass^k = 1)."""
        return bool(self.trials) and self.successes == len(self.trials)


class ModelSummary(_Record):
    """One model over the suite (see evals/README.md for the definitions)."""

    model: str
    cases: int
    trials_per_case: int
    passed_cases: int
    pass_at_1: float
    pass_at_1_ci: tuple[float, float] | None = None
    """95% bootstrap interval over cases (with more than one trial per case)."""
    pass_hat_k: dict[str, float] = Field(default_factory=dict)
    """tau-bench's pass^k for k = 1 .. trials per case."""
    pass_hat_k_ci: tuple[float, float] | None = None
    pass_at_k: float
    next_action_accuracy: float | None = None
    trajectory_precision: float | None = None
    trajectory_recall: float | None = None
    trajectory_f1: float | None = None
    steps_used: float
    """Mean share of the action limit used (actions / max_actions)."""
    mean_actions: float
    mean_steps: float
    terminations: dict[str, int] = Field(default_factory=dict)
    loop_rate: float
    schema_valid_rate: float | None = None
    vague_completion_rate: float
    vague_result_rate: float
    guard_trips: dict[str, int] = Field(default_factory=dict)
    abstention_accuracy: float | None = None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    mean_latency_s: float
    p95_latency_s: float
    judge_score: float | None = None
    tags: dict[str, float] = Field(default_factory=dict)
    """pass@1 per scenario tag."""


CaseVerdict = Literal["regressed", "within_noise", "improved", "unchanged"]


class CaseChange(_Record):
    """One case's successes now against the baseline."""

    scenario: str
    model: str
    baseline: str
    current: str
    verdict: CaseVerdict
    p_value: float | None = None
    """One-sided Fisher exact test that the current run is worse (None: deterministic model,
    where any drop is a regression)."""


class MetricDelta(_Record):
    model: str
    metric: str
    baseline: float | None
    current: float | None


class Comparison(_Record):
    """The run against a saved baseline report."""

    baseline: str
    baseline_git_sha: str | None = None
    same_suite: bool
    alpha: float
    regressions: list[CaseChange] = Field(default_factory=list)
    within_noise: list[CaseChange] = Field(default_factory=list)
    improvements: list[CaseChange] = Field(default_factory=list)
    new_cases: list[str] = Field(default_factory=list)
    removed_cases: list[str] = Field(default_factory=list)
    deltas: list[MetricDelta] = Field(default_factory=list)


class GitInfo(_Record):
    sha: str | None = None
    dirty: bool | None = None


class SuiteInfo(_Record):
    path: str
    hash: str
    scenarios: int


class RunInfo(_Record):
    mode: str
    models: list[str]
    trials: int
    temperature: float | None = None
    concurrency: int
    isolation: str
    judge: str | None = None
    started_at: datetime
    duration_s: float


class Report(_Record):
    """One eval run: everything needed to read it later or compare against it."""

    report_version: Literal[1] = REPORT_VERSION
    created_at: datetime
    git: GitInfo
    suite: SuiteInfo
    run: RunInfo
    summaries: list[ModelSummary]
    cases: list[CaseResult]
    comparison: Comparison | None = None

    def case(self, model: str, scenario: str) -> CaseResult | None:
        return next((c for c in self.cases if c.model == model and c.scenario == scenario), None)


def report_schema() -> dict[str, Any]:
    """The JSON Schema every report file satisfies."""
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
