"""Packing of checkpoint records and pending-write records stored in the thread hashes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ormsgpack
from langgraph.checkpoint.base import WRITES_IDX_MAP, writes_sort_key
from langgraph.checkpoint.serde.base import SerializerProtocol

_LEN = 4


def pack_record(
    serde: SerializerProtocol, checkpoint: dict[str, Any], metadata: Any, parent_id: str | None
) -> bytes:
    """Checkpoint (without channel values), metadata and parent id, serialized through serde."""
    ctype, cdata = serde.dumps_typed(checkpoint)
    mtype, mdata = serde.dumps_typed(metadata)
    return ormsgpack.packb([parent_id, ctype, cdata, mtype, mdata])


def unpack_record(
    serde: SerializerProtocol, record: bytes
) -> tuple[dict[str, Any], Any, str | None]:
    """Inverse of :func:`pack_record`: ``(checkpoint, metadata, parent_id)``."""
    parent_id, ctype, cdata, mtype, mdata = ormsgpack.unpackb(record)
    return serde.loads_typed((ctype, cdata)), serde.loads_typed((mtype, mdata)), parent_id


def pack_writes(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
) -> bytes:
    """Length-prefixed records of one ``put_writes`` call, appended to the checkpoint's log."""
    out = []
    for idx, (channel, value) in enumerate(writes):
        vtype, vdata = serde.dumps_typed(value)
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
    latest: dict[tuple[str, int], list[Any]] = {}
    pos, end = 0, len(log)
    while pos < end:
        size = int.from_bytes(log[pos : pos + _LEN], "big")
        rec = ormsgpack.unpackb(log[pos + _LEN : pos + _LEN + size])
        pos += _LEN + size
        key = (rec[0], rec[1])
        if key[1] < 0 or key not in latest:
            latest[key] = rec
    ordered = sorted(latest.values(), key=lambda r: writes_sort_key(r[5], r[0], r[1]))
    return [(r[0], r[2], serde.loads_typed((r[3], r[4]))) for r in ordered]
