"""The ChoreographyPlanner's LangGraph graph: one run per incoming event, waits as interrupts.

``start`` opens the plan; ``act`` publishes a request (under the atomic action limit), sets a
wait or asks a person for review; ``decide`` first takes in what the plan waits for (the graph
is interrupted there until the event resumes it with ``Command(resume=...)``), then asks the
model for one decision and checks it; a failed plan's ``compensate`` undoes its completed
actions; ``finish`` closes the plan and ``answer`` publishes its outcome. Between events no
process holds the plan: it lives in the checkpoint (thread_id = plan_id), so any replica
continues it. Side effects sit where a re-run after a crash is harmless: event ids derive from
the plan and the step, the action count is reserved once per step, and nothing is published
before the decision that asks for it is checkpointed.

Every node appends what it did to the state's ``history`` (one StepRecord each), so a plan's
timeline is in its checkpoint, written with the step itself.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from soorma_lc.planners.acting import Acting
from soorma_lc.planners.config import PlannerServices
from soorma_lc.planners.deciding import Deciding
from soorma_lc.planners.lifecycle import Lifecycle
from soorma_lc.planners.state import PlannerState


def build_graph(services: PlannerServices) -> StateGraph:
    """The planner's graph, not yet compiled (compile it with a checkpointer)."""
    lifecycle = Lifecycle(services)
    builder = StateGraph(PlannerState)
    builder.add_node("start", lifecycle.start)
    builder.add_node(
        "decide", Deciding(services), destinations=("act", "compensate", "finish", "decide")
    )
    builder.add_node("act", Acting(services), destinations=("decide", "compensate", "finish"))
    builder.add_node("compensate", lifecycle.compensate, destinations=("compensate", "finish"))
    builder.add_node("finish", lifecycle.finish)
    builder.add_node("answer", lifecycle.answer)
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", _after_start, ["decide", "finish"])
    builder.add_edge("finish", "answer")
    builder.add_edge("answer", END)
    return builder


def _after_start(state: PlannerState) -> str:
    """A goal refused before any decision (invalid data) goes straight to its answer."""
    return "finish" if state.get("outcome") else "decide"
