"""The research advisor: a ChoreographyPlanner and three workers that talk only through the bus.

- ``research-planner`` (ChoreographyPlanner) takes ``research.goal`` {topic, audience?} and
  decides, step by step, which registered event to publish next;
- ``researcher`` searches semantic memory (the corpus in ``corpus/``), stores its findings in
  the plan's working memory and answers ``research.requested`` with them;
- ``advisor`` answers ``draft.requested`` with a briefing drafted from the findings (by the
  configured LLM, or composed offline when there is none);
- ``validator`` answers ``validation.requested``: it checks the draft against the findings the
  researcher stored in working memory, not against what the planner passed along.

Each agent runs in this process (``demo.py``) or in its own:
``soorma-lc run examples/research_advisor/agents.py:researcher`` (or ``:advisor``,
``:validator``, ``:planner``) against one Redis.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from soorma_lc import (
    AgentContext,
    ChoreographyPlanner,
    EventDefinition,
    EventEnvelope,
    EventTopic,
    MemoryClient,
    Settings,
    Worker,
    WorkflowState,
    resolve_model,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from writing import compose_draft, findings_from_hits, review_draft, title_of

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS_USER = "research-corpus"
"""The user the corpus is stored under (public, so every user of the tenant can search it)."""
RESPONSE_TIMEOUT = 120.0
"""Seconds the planner waits for each result before deciding without it."""

_FINDING = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "score": {"type": "number"},
    },
    "required": ["source", "text"],
}

GOAL = EventDefinition(
    event_name="research.goal",
    topic=EventTopic.ACTION_REQUESTS,
    description="Research a topic in the knowledge base and return a validated briefing",
    payload_schema={
        "type": "object",
        "properties": {
            "topic": {"type": "string", "minLength": 1, "description": "What to research"},
            "audience": {"type": "string", "description": "Who the briefing is for"},
        },
        "required": ["topic"],
    },
)
RESEARCH = EventDefinition(
    event_name="research.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Research a topic: search the knowledge base and return findings with sources",
    payload_schema={
        "type": "object",
        "properties": {"topic": {"type": "string", "minLength": 1}},
        "required": ["topic"],
    },
)
DRAFT = EventDefinition(
    event_name="draft.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Write a briefing draft from research findings, citing their sources",
    payload_schema={
        "type": "object",
        "properties": {
            "topic": {"type": "string", "minLength": 1},
            "findings": {"type": "array", "items": _FINDING, "minItems": 1},
            "audience": {"type": "string"},
        },
        "required": ["topic", "findings"],
    },
)
VALIDATE = EventDefinition(
    event_name="validation.requested",
    topic=EventTopic.ACTION_REQUESTS,
    description="Check a draft for accuracy against the research findings and their sources",
    payload_schema={
        "type": "object",
        "properties": {"draft": {"type": "string", "minLength": 1}},
        "required": ["draft"],
    },
)

INSTRUCTIONS = (
    "You coordinate a research advisor. Research the topic in the knowledge base, have a "
    "draft written from the findings, have the draft validated, and have it revised when the "
    "validation gives feedback. Complete the goal with the validated draft itself."
)


def _state(event: EventEnvelope, context: AgentContext) -> WorkflowState:
    """The plan's working memory, as the tenant and user of the event see it."""
    assert event.plan_id and event.tenant_id and event.user_id
    return WorkflowState(
        context.memory, event.plan_id, tenant_id=event.tenant_id, user_id=event.user_id
    )


def corpus_subjects() -> list[str]:
    """What the corpus is about, from its file names (``redis-streams.md``: redis)."""
    return sorted(
        {path.stem.rsplit("-", 1)[0].replace("-", " ") for path in CORPUS_DIR.glob("*.md")}
    )


async def ingest_corpus(memory: MemoryClient, *, tenant_id: str) -> int:
    """Store every corpus document in semantic memory, keyed by file name (an upsert: a second
    run stores nothing twice and re-embeds only changed files). Returns the document count."""
    paths = sorted(CORPUS_DIR.glob("*.md"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        await memory.store_knowledge(
            text,
            tenant_id=tenant_id,
            user_id=CORPUS_USER,
            external_id=path.name,
            metadata={"source": path.name, "title": title_of(text, path.stem)},
            is_public=True,
        )
    return len(paths)


def make_researcher(**options: Any) -> Worker:
    """The researcher: semantic search over the corpus, findings into working memory."""
    researcher = Worker(
        "researcher", description="Searches the knowledge base", consumes=[RESEARCH], **options
    )
    ingested: set[str] = set()

    @researcher.on_event("research.requested")
    async def research(event: EventEnvelope, context: AgentContext) -> None:
        topic = str((event.data or {})["topic"])
        tenant = event.tenant_id or researcher.settings.tenant_id
        if tenant not in ingested:  # once per process and tenant; the upsert is idempotent
            await ingest_corpus(context.memory, tenant_id=tenant)
            ingested.add(tenant)
        hits = await context.memory.search_knowledge(
            topic, tenant_id=tenant, user_id=event.user_id or CORPUS_USER, limit=8
        )
        findings = findings_from_hits(topic, hits)
        await _state(event, context).set("findings", findings)
        answer: dict[str, Any] = {"topic": topic, "findings": findings}
        if not findings:
            answer["note"] = (
                f"The knowledge base has nothing about {topic!r}; it covers "
                f"{', '.join(corpus_subjects())}."
            )
        await context.bus.respond(event, data=answer)

    return researcher


async def _draft_with_model(
    model: BaseChatModel, topic: str, findings: list[dict[str, Any]], audience: str | None
) -> str:
    notes = "\n".join(f"- [{f['source']}] {f['text']}" for f in findings)
    reply = await model.ainvoke(
        [
            SystemMessage(
                "You write short technical briefings in Markdown. Use only the findings "
                "given, and cite each one with its source in square brackets, e.g. "
                "[redis-streams.md]."
            ),
            HumanMessage(
                f"Topic: {topic}\nAudience: {audience or 'a technical reader'}\nFindings:\n{notes}"
            ),
        ]
    )
    return str(reply.content).strip()


def make_advisor(model: str | BaseChatModel | None = None, **options: Any) -> Worker:
    """The advisor: drafts with ``model`` (or ``SOORMA_LLM_MODEL``); offline, it composes the
    briefing from the findings."""
    advisor = Worker(
        "advisor", description="Drafts briefings from findings", consumes=[DRAFT], **options
    )
    spec = model if model is not None else advisor.settings.llm_model
    if isinstance(spec, str):
        spec = spec.strip() or None
    writer = resolve_model(spec, advisor.settings) if spec is not None else None

    @advisor.on_event("draft.requested")
    async def draft(event: EventEnvelope, context: AgentContext) -> None:
        data = event.data or {}
        topic, findings = str(data["topic"]), list(data["findings"])
        audience = data.get("audience")
        if writer is None:
            text = compose_draft(topic, findings, audience)
        else:
            text = await _draft_with_model(writer, topic, findings, audience)
        await _state(event, context).set("draft", text)
        await context.bus.respond(event, data={"draft": text})

    return advisor


def make_validator(**options: Any) -> Worker:
    """The validator: checks a draft against the findings in the plan's working memory."""
    validator = Worker(
        "validator", description="Checks drafts against findings", consumes=[VALIDATE], **options
    )

    @validator.on_event("validation.requested")
    async def validate(event: EventEnvelope, context: AgentContext) -> None:
        state = _state(event, context)
        findings = await state.get("findings", [])
        plan = await context.memory.get_plan(
            state.plan_id, tenant_id=state.tenant_id, user_id=state.user_id
        )
        topic = plan.goal_data.get("topic") if plan is not None else None
        review = review_draft(str((event.data or {})["draft"]), topic, findings)
        await state.set("review", review)
        await context.bus.respond(event, data=review)

    return validator


def make_planner(model: str | BaseChatModel | None = None, **options: Any) -> ChoreographyPlanner:
    """The research planner (``model``: a litellm string, a chat model, or None for
    ``SOORMA_LLM_MODEL`` or else the offline heuristic planner)."""
    options.setdefault("response_timeout", RESPONSE_TIMEOUT)
    return ChoreographyPlanner(
        "research-planner",
        model,
        goal_events=[GOAL],
        max_actions=8,
        system_instructions=INSTRUCTIONS,
        **options,
    )


def make_agents(
    model: str | BaseChatModel | None = None, **shared: Any
) -> tuple[ChoreographyPlanner, list[Worker]]:
    """The planner and its three workers on shared collaborators (``bus``, ``registry``,
    ``memory``, ``settings``)."""
    workers = [make_researcher(**shared), make_advisor(model, **shared), make_validator(**shared)]
    return make_planner(model, **shared), workers


# Factories for `soorma-lc run examples/research_advisor/agents.py:<name>` (settings from env).


def researcher() -> Worker:
    return make_researcher(settings=Settings())


def advisor() -> Worker:
    return make_advisor(settings=Settings())


def validator() -> Worker:
    return make_validator(settings=Settings())


def planner() -> ChoreographyPlanner:
    return make_planner(settings=Settings())
