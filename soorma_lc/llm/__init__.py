"""Chat models for soorma-lc; for now the offline planner model that runs when no LLM is
configured.
"""

from soorma_lc.llm.offline import OFFLINE_MODEL_NAME, OfflinePlannerModel

__all__ = ["OFFLINE_MODEL_NAME", "OfflinePlannerModel"]
