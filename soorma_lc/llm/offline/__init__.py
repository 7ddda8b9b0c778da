"""The offline planner model: a documented, deterministic heuristic that emits valid tool calls.

:mod:`.policy` holds the heuristic, :mod:`.filling` the payload rules, :mod:`.transcript` what
it reads from the conversation, :mod:`.relevance` the similarity measure.
"""

from soorma_lc.llm.offline.model import OFFLINE_MODEL_NAME, OfflinePlannerModel

__all__ = ["OFFLINE_MODEL_NAME", "OfflinePlannerModel"]
