"""LangGraph checkpointer on plain Redis: :class:`RedisCheckpointSaver`."""

from soorma_lc.memory.checkpoint.saver import RedisCheckpointSaver

__all__ = ["RedisCheckpointSaver"]
