"""Agents on the bus: the Worker pattern, its handler context, and a Runnable adapter."""

from soorma_lc.agents.context import AgentContext, ContextPublisher
from soorma_lc.agents.runnable import runnable_handler, to_payload
from soorma_lc.agents.worker import EventHandler, Route, Worker, WorkerHealth

__all__ = [
    "AgentContext",
    "ContextPublisher",
    "EventHandler",
    "Route",
    "Worker",
    "WorkerHealth",
    "runnable_handler",
    "to_payload",
]
