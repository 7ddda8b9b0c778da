"""The eval scenario format (version 1): one planner situation and what must come of it.

A scenario names the registry (events, who consumes them, distractors), the simulated workers
and how they answer, the planner's settings, the goal, the scripted model's turns (for the
scripted mode) and the expectations. Files are YAML or JSON carrying ``soorma_eval: 1``; see
evals/README.md for the format with examples. Every model forbids unknown keys, so a typo is
an error with its location instead of a silently ignored setting.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soorma_lc.events import EventDefinition, EventTopic
from soorma_lc.planners.compensation import COMPENSATION_KEY, compensation_spec
from soorma_lc.toolkit.publishing import RESPONSE_EVENT_METADATA_KEY

SCENARIO_VERSION = 1
SCENARIO_MARKER = "soorma_eval"
"""The top-level key (its value: the format version) that makes a file a scenario."""

_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array"})

MatchMode = Literal["strict", "unordered", "subset", "superset"]
Termination = Literal[
    "completed",
    "action_limit",
    "budget",
    "forced",
    "invalid_decisions",
    "step_limit",
    "model_error",
    "invalid_goal",
    "guard",
    "review",
    "cancelled",
    "failed",
    "no_outcome",
    "harness_error",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def payload_schema(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON Schema from a scenario's payload spec.

    A full schema (it has ``type``, ``properties`` or ``$schema``) is used as is; otherwise the
    spec is the shorthand ``{field: type}`` with JSON type names, ``?`` marking optional fields
    (``{topic: string, depth: integer?}``).
    """
    if payload is None:
        return None
    if {"type", "properties", "$schema"} & payload.keys():
        return payload
    properties, required = {}, []
    for name, kind in payload.items():
        base = kind.rstrip("?") if isinstance(kind, str) else None
        if base not in _JSON_TYPES:
            raise ValueError(
                f"payload field {name!r}: {kind!r} is not a JSON type (one of "
                f"{', '.join(sorted(_JSON_TYPES))}, '?' for optional) nor is this a JSON Schema"
            )
        properties[name] = {"type": base}
        if not kind.endswith("?"):
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


class EventSpec(_Spec):
    """An event in the scenario's registry."""

    name: str
    description: str = ""
    topic: EventTopic = EventTopic.ACTION_REQUESTS
    payload: dict[str, Any] | None = None
    """A JSON Schema, or the shorthand ``{field: type}`` (see :func:`payload_schema`)."""
    response: str | None = None
    """The result event's name (default: Soorma's convention, x.requested -> x.completed)."""
    compensation: dict[str, Any] | None = None
    """What undoes this event when a plan fails or is cancelled: ``{event, payload}``, payload
    values ``$.request.<field>`` / ``$.result.<field>`` (the planner's compensation spec)."""

    @model_validator(mode="after")
    def _valid(self) -> Self:
        self.definition()
        return self

    def definition(self) -> EventDefinition:
        metadata: dict[str, Any] = {}
        if self.response:
            metadata[RESPONSE_EVENT_METADATA_KEY] = self.response
        if self.compensation is not None:
            metadata[COMPENSATION_KEY] = self.compensation
            compensation_spec(metadata)  # its shape, checked now
        return EventDefinition(
            event_name=self.name,
            topic=self.topic,
            description=self.description,
            payload_schema=payload_schema(self.payload),
            metadata=metadata,
        )


class DistractorSpec(_Spec):
    """Generated events from other domains (seeded, so every run sees the same ones)."""

    count: int = Field(ge=1, le=2000)
    seed: int = 0
    answered: bool = True
    """A live agent consumes them and answers with an unrelated result; False: registered and
    consumed by an agent that never answers."""


class RegistrySpec(_Spec):
    events: list[EventSpec] = Field(default_factory=list)
    """Events the scenario's workers consume (and near-miss events they do not)."""
    unserved: list[EventSpec] = Field(default_factory=list)
    """Registered events no live agent consumes: the planner must not be offered them."""
    distractors: DistractorSpec | None = None


class Reply(_Spec):
    """How a simulated worker answers one delivery of a request."""

    data: dict[str, Any] | None = None
    """The result payload; ``${request.<field>}`` refers to the request's payload."""
    event: str | None = None
    """The result event (default: the request's response event)."""
    delay: float = Field(default=0.0, ge=0, le=60)
    """Seconds before answering (a slow worker)."""
    fail: str | None = None
    """Raise this error instead of answering: the bus delivers the request again."""
    silent: bool = False
    """Take the request and never answer."""
    memory: dict[str, Any] = Field(default_factory=dict)
    """Keys written to the plan's working memory before answering."""

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [self.data is not None, self.fail is not None, self.silent]
        if sum(kinds) != 1:
            raise ValueError("a reply has exactly one of data, fail or silent")
        return self


class WorkerSpec(_Spec):
    """A simulated worker: a real Worker whose answers come from the scenario."""

    name: str = Field(min_length=1)
    consumes: list[str] = Field(min_length=1)
    replies: list[Reply] = Field(min_length=1)
    """One per delivery of each consumed event, in order; the last one repeats."""


class GoalSpec(_Spec):
    event: str
    description: str = ""
    payload: dict[str, Any] | None = None
    """The goal event's schema (shorthand or JSON Schema); goal data must fit it."""
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        self.definition()
        return self

    def definition(self) -> EventDefinition:
        return EventDefinition(
            event_name=self.event,
            topic=EventTopic.ACTION_REQUESTS,
            description=self.description,
            payload_schema=payload_schema(self.payload),
        )


GuardName = Literal["repeated_action", "vague_completion"]


class GuardSpec(_Spec):
    """A built-in guard and its options (``allowed`` for repeated_action, ``substitute`` for
    vague_completion)."""

    name: GuardName
    allowed: int = Field(default=1, ge=1)
    substitute: bool = True


class RetrySpec(_Spec):
    """Publish a request again when its response deadline passes (the planner's RetryPolicy)."""

    attempts: int = Field(default=2, ge=0)
    backoff: float = Field(default=2.0, gt=0)


class BudgetSpec(_Spec):
    """Limits per plan; past one, a forced completion (the planner's Budget)."""

    tokens: int | None = Field(default=None, gt=0)
    cost_usd: float | None = Field(default=None, gt=0)
    seconds: float | None = Field(default=None, gt=0)


class EscalationSpec(_Spec):
    """Pause for a person's review instead of failing a stuck plan (EscalationPolicy)."""

    timeout: float = Field(default=60.0, gt=0)


class PlannerSpec(_Spec):
    """The ChoreographyPlanner's settings."""

    name: str = "eval-planner"
    max_actions: int = Field(default=10, ge=1)
    max_repairs: int = Field(default=3, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    max_tools: int = Field(default=12, ge=1)
    response_timeout: float | None = Field(default=None, gt=0)
    instructions: str | None = None
    guards: list[GuardName | GuardSpec] | None = None
    """None: the default guards; [] runs none."""
    events: list[str] | None = None
    """A fixed event list (Trinity) instead of open discovery."""
    retry: RetrySpec | None = None
    budget: BudgetSpec | None = None
    escalation: EscalationSpec | None = None


ModelFailure = Literal["unavailable", "rate_limit", "authentication", "context_window"]


class ScriptCall(_Spec):
    call: str
    """An event name (its tool is called) or a decision tool (complete_goal, ...)."""
    args: dict[str, Any] = Field(default_factory=dict)
    raw: str | None = None
    """Argument text that is not a JSON object: a malformed tool call."""


class ScriptTurn(_Spec):
    """One reply of the scripted model: a tool call, a text without one, or a failure."""

    say: str = ""
    """The text next to the call (the model's reasoning), or the whole reply without a call."""
    call: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    raw: str | None = None
    also: list[ScriptCall] = Field(default_factory=list)
    """More tool calls in the same reply (parallel calls)."""
    error: ModelFailure | None = None
    """The model call fails this way instead of answering."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.error and (self.call or self.also or self.say):
            raise ValueError("a failing turn (error) has no call, also or say")
        if self.call is None and (self.args or self.raw is not None or self.also):
            raise ValueError("args, raw and also need a call")
        if self.call is None and not self.say and not self.error:
            raise ValueError("a turn needs a call, a say or an error")
        return self


class SubPlannerSpec(PlannerSpec):
    """Another planner in the scenario, a target for ``delegate_goal``."""

    name: str
    goal: GoalSpec
    script: list[ScriptTurn] = Field(default_factory=list)


class Announcement(_Spec):
    """An event published to the plan once it waits for it (a person approving, say)."""

    event: str
    data: dict[str, Any] = Field(default_factory=dict)


class Review(_Spec):
    """A person's answer to the plan's review request (with an escalation policy)."""

    approve: bool
    instruction: str | None = None


class Cancellation(_Spec):
    """Cancel the plan once it waits for the result of ``waiting_for``."""

    waiting_for: str
    reason: str = "cancelled by the scenario"


class BusSpec(_Spec):
    max_deliveries: int = Field(default=5, ge=1)
    """Deliveries of a request before it becomes a dead letter (a worker that keeps failing)."""


class Bounds(_Spec):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    def holds(self, value: int) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def __str__(self) -> str:
        if self.min is not None and self.min == self.max:
            return f"exactly {self.min}"
        parts = [f"at least {self.min}"] if self.min is not None else []
        parts += [f"at most {self.max}"] if self.max is not None else []
        return " and ".join(parts) or "any number"


class EventsExpect(_Spec):
    required: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    """Event names or globs (``billing.*``) that must never be published."""
    order: list[tuple[str, str]] = Field(default_factory=list)
    """Pairs [a, b]: the first a is published before the first b."""


class TrajectoryExpect(_Spec):
    events: list[str]
    """The published events (requests and delegated goals) of a good run, in order."""
    match: MatchMode = "strict"


class ResultRef(_Spec):
    """A value from the latest result of ``event``: the value at ``path``, or its main text."""

    event: str
    path: str | None = None


class PayloadExpect(_Spec):
    """An assertion on the payload of a published event, by JSON path."""

    event: str
    occurrence: int = 1
    """Which publication of ``event``: 1 the first, -1 the last."""
    path: str = "$"
    equals: Any = None
    contains: str | None = None
    matches: str | None = None
    """A regular expression the value (as text) must match."""
    exists: bool | None = None
    from_result: ResultRef | None = None
    """The value carries (equals, or contains as text) this earlier result's value."""

    @model_validator(mode="after")
    def _counted_from_one(self) -> Self:
        if self.occurrence == 0:
            raise ValueError("occurrence counts from 1 (the first) or from -1 (the last)")
        return self


class CompletionExpect(_Spec):
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    from_result: ResultRef | None = None
    """The completion carries this result's content (the value at path, or its main text)."""


class GuardsExpect(_Spec):
    expected: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    """Guard names: repeated_action, vague_completion, action_limit, or your own."""


class Expect(_Spec):
    """What a good run of the scenario shows. Only what is given is checked."""

    status: Literal["completed", "failed"] | None = None
    termination: Termination | None = None
    reason_contains: list[str] = Field(default_factory=list)
    forced: bool | None = None
    substituted: bool | None = None
    abstain: bool | None = None
    """True: no event can serve the goal, so nothing is published and the plan completes
    saying so. False: the plan must act (abstaining is wrong)."""
    events: EventsExpect = Field(default_factory=EventsExpect)
    trajectory: TrajectoryExpect | None = None
    payloads: list[PayloadExpect] = Field(default_factory=list)
    completion: CompletionExpect | None = None
    actions: Bounds | None = None
    steps: Bounds | None = None
    rejections: Bounds | None = None
    timeouts: Bounds | None = None
    vague_results: Bounds | None = None
    guards: GuardsExpect = Field(default_factory=GuardsExpect)
    waits: list[str] = Field(default_factory=list)
    """Events the plan must wait for (``wait_for_event``) at some point."""
    compensated: list[str] | None = None
    """The compensating events the failed or cancelled plan published and had answered, in
    order (newest action first); [] checks that nothing was compensated."""
    rubric: str | None = None
    """What a good completion contains, for the optional LLM judge."""


class Scenario(_Spec):
    """One eval case (see the module docstring)."""

    soorma_eval: Literal[1]
    """The format version (the marker that makes a file a scenario)."""
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)
    title: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    registry: RegistrySpec = Field(default_factory=RegistrySpec)
    workers: list[WorkerSpec] = Field(default_factory=list)
    planner: PlannerSpec = Field(default_factory=PlannerSpec)
    planners: list[SubPlannerSpec] = Field(default_factory=list)
    """Other planners (delegation targets), each with its own script."""
    goal: GoalSpec
    announce: list[Announcement] = Field(default_factory=list)
    review: Review | None = None
    cancel: Cancellation | None = None
    script: list[ScriptTurn] = Field(default_factory=list)
    """The scripted model's replies, in the order the planner asks for them."""
    bus: BusSpec = Field(default_factory=BusSpec)
    timeout: float = Field(default=30.0, gt=0)
    """Seconds the runner waits for the plan's outcome."""
    expect: Expect
    """What a good run shows, whatever the model."""
    expect_scripted: Expect | None = None
    """What the planner makes of this script's choices (wrong ones included): checked for the
    scripted model only, over ``expect`` (a field given here replaces the same field there)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        events = {e.name for e in self.registry.events}
        for worker in self.workers:
            unknown = [name for name in worker.consumes if name not in events]
            if unknown:
                raise ValueError(
                    f"worker {worker.name} consumes {unknown}, which registry.events lacks"
                )
        names = [self.planner.name, *(p.name for p in self.planners)]
        names += [w.name for w in self.workers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"agent names must be unique: {duplicates}")
        return self

    def expectations(self, *, scripted: bool) -> Expect:
        """The checks for a run: ``expect``, with ``expect_scripted`` over it when the model
        is the scripted one."""
        if not scripted or self.expect_scripted is None:
            return self.expect
        given = self.expect_scripted.model_fields_set
        return self.expect.model_copy(
            update={name: getattr(self.expect_scripted, name) for name in given}
        )

    def planner_goals(self) -> list[tuple[PlannerSpec, GoalSpec]]:
        """Each planner with the goal it serves, the main planner first."""
        return [(self.planner, self.goal), *((p, p.goal) for p in self.planners)]

    def script_for(self, planner: str) -> list[ScriptTurn]:
        """The scripted turns of the planner named ``planner``."""
        if planner == self.planner.name:
            return list(self.script)
        return next(list(p.script) for p in self.planners if p.name == planner)
