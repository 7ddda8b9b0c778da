"""Redis key names of the checkpointer: one Cluster hash tag per (tenant, thread).

Tenant and thread ids are escaped so that no two (tenant, thread) pairs share a key, and so
that an id containing ``{`` or ``}`` cannot move a key out of its thread's hash slot.
"""

from __future__ import annotations

_ESCAPES = str.maketrans({"%": "%25", ":": "%3A", "{": "%7B", "}": "%7D"})
_THREAD_PARTS = ("i", "c", "r", "b", "w")  # index, checkpoints, refs, blobs, writes


def escape(part: str) -> str:
    """``part`` with the key separators ``%``, ``:``, ``{``, ``}`` percent-encoded."""
    return part.translate(_ESCAPES)


def thread_keys(prefix: str, tenant_id: str, thread_id: str) -> tuple[str, ...]:
    """The five keys of one thread (see scripts.py), all in the slot of ``{tenant:thread}``."""
    tag = f"{prefix}:{{{escape(tenant_id)}:{escape(thread_id)}}}"
    return tuple(f"{tag}:{part}" for part in _THREAD_PARTS)


def threads_key(prefix: str, tenant_id: str) -> str:
    """SET of the tenant's thread ids (for ``list(None)``)."""
    return f"{prefix}:{{{escape(tenant_id)}}}:threads"


def run_key(prefix: str, tenant_id: str, run_id: str) -> str:
    """SET of the thread ids holding checkpoints of ``run_id`` (for ``delete_for_runs``)."""
    return f"{prefix}:{{{escape(tenant_id)}}}:run:{escape(run_id)}"
