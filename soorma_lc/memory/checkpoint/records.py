"""Packing of checkpoint records and pending-write records stored in the thread hashes.

Serialisation goes through :func:`dumps` and :func:`loads`, so that a value the serde cannot
write (a lambda, an object, a structure nested too deeply) is a
:class:`CheckpointSerializationError` before anything is written, and stored bytes that cannot
be read back (changed outside soorma-lc) are a :class:`CheckpointCorruptedError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import ormsgpack
from langgraph.checkpoint.base import WRITES_IDX_MAP, writes_sort_key
from langgraph.checkpoint.serde.base import SerializerProtocol

from soorma_lc.errors import (
    CheckpointCorruptedError,
    CheckpointSerializationError,
    SoormaError,
)
from soorma_lc.memory._values import reading as stored_reading

_LEN = 4

# What serdes raise for values they cannot write: msgpack and json raise TypeError / ValueError
# (and OverflowError for huge ints), deep structures RecursionError, a lone surrogate
# UnicodeEncodeError (a ValueError).
_SERDE_ERRORS = (TypeError, ValueError, OverflowError, RecursionError, AttributeError)


def dumps(serde: SerializerProtocol, value: Any, what: str) -> tuple[str, bytes]:
    """``serde.dumps_typed(value)``; :class:`CheckpointSerializationError` names ``what``."""
    try:
        return serde.dumps_typed(value)
    except SoormaError:
        raise
    except _SERDE_ERRORS as exc:
        raise CheckpointSerializationError(
            f"{what} cannot be serialised by the checkpointer's serde: {exc}"
        ) from exc


def reading(what: str) -> AbstractContextManager[None]:
    """Report stored checkpoint data that fails to decode as :class:`CheckpointCorruptedError`."""
    return stored_reading(
        what,
        error=CheckpointCorruptedError,
        hint="changed outside soorma-lc, or written with another serde or key?",
        also=(zlib.error,),
    )


def loads(serde: SerializerProtocol, typed: tuple[str, bytes], what: str) -> Any:
    """``serde.loads_typed(typed)``; :class:`CheckpointCorruptedError` names ``what``."""
    with reading(what):
        return serde.loads_typed(typed)


def pack_record(
    serde: SerializerProtocol, checkpoint: dict[str, Any], metadata: Any, parent_id: str | None
) -> bytes:
    """Checkpoint (without channel values), metadata and parent id, serialized through serde."""
    ctype, cdata = dumps(serde, checkpoint, "the checkpoint")
    mtype, mdata = dumps(serde, metadata, "the checkpoint metadata")
    return ormsgpack.packb([parent_id, ctype, cdata, mtype, mdata])


def unpack_record(
    serde: SerializerProtocol, record: bytes
) -> tuple[dict[str, Any], Any, str | None]:
    """Inverse of :func:`pack_record`: ``(checkpoint, metadata, parent_id)``."""
    with reading("a checkpoint record"):
        parent_id, ctype, cdata, mtype, mdata = ormsgpack.unpackb(record)
        checkpoint = serde.loads_typed((ctype, cdata))
        if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get("channel_versions"), dict
        ):
            raise TypeError("the record holds no checkpoint")
        return checkpoint, serde.loads_typed((mtype, mdata)), parent_id


def pack_writes(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
) -> bytes:
    """Length-prefixed records of one ``put_writes`` call, appended to the checkpoint's log."""
    out = []
    for idx, (channel, value) in enumerate(writes):
        vtype, vdata = dumps(serde, value, f"the write to channel {channel!r}")
        rec = ormsgpack.packb(
            [task_id, WRITES_IDX_MAP.get(channel, idx), channel, vtype, vdata, task_path]
        )
        out.append(len(rec).to_bytes(_LEN, "big") + rec)
    return b"".join(out)


def unpack_writes(serde: SerializerProtocol, log: bytes) -> list[tuple[str, str, Any]]:
    """Pending writes of a log, de-duplicated and in ``writes_sort_key`` order.

    A regular write (idx >= 0) is kept from its first record, so a retried ``put_writes``
    changes nothing; special writes (errors, interrupts: idx < 0) take their last record.
    """
    with reading("the pending writes of a checkpoint"):
        latest: dict[tuple[str, int], list[Any]] = {}
        pos, end = 0, len(log)
        while pos < end:
            size = int.from_bytes(log[pos : pos + _LEN], "big")
            if pos + _LEN + size > end:
                raise ValueError("a write record is cut short")
            rec = ormsgpack.unpackb(log[pos + _LEN : pos + _LEN + size])
            pos += _LEN + size
            key = (rec[0], rec[1])
            if key[1] < 0 or key not in latest:
                latest[key] = rec
        ordered = sorted(latest.values(), key=lambda r: writes_sort_key(r[5], r[0], r[1]))
        return [(r[0], r[2], serde.loads_typed((r[3], r[4]))) for r in ordered]
