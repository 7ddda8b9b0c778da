"""Stored form of channel blobs: full, zlib-compressed, or a byte delta against an older version.

A long chat thread rewrites its ``messages`` channel at every step, each version being the
previous one plus a message. Storing each version in full makes a thread's memory quadratic in
its length, so a new version is stored as a few copy/insert operations against the version the
saver last saw (its *base*), with a full snapshot every ``max_chain`` versions to bound reads.

Layout of a stored value (the Lua scripts only read the kind byte and the delta's base version)::

    b"F" crc32 type b"\\0" data                      full
    b"Z" crc32 type b"\\0" zlib(data)                full, compressed
    b"D" crc32 base_version b"\\0" type b"\\0" ops   delta against base_version of the channel

``crc32`` is the checksum of the *reconstructed* data: it verifies every reconstruction and is
the tag a writer checks (in Lua) to be sure its delta base is the content it diffed against.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from soorma_lc.errors import CheckpointCorruptedError

FULL, ZFULL, DELTA = b"F", b"Z", b"D"
_COPY, _INSERT = 0, 1
_COPY_OP = struct.Struct(">BII")
_INSERT_OP = struct.Struct(">BI")
_ANCHOR = 32  # bytes of the base searched for when re-synchronising after a difference
_WINDOW = 4096  # how far ahead in the target a re-synchronisation point is looked for
_SKIPS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 48, 64)
_MAX_OPS = 32
COMPRESS_MIN = 2048  # full blobs at least this long are zlib-compressed


@dataclass(frozen=True, slots=True)
class Blob:
    """A serialized channel value: serde type, bytes, checksum and delta-chain depth."""

    type: str
    data: bytes
    crc: bytes
    depth: int = 0


@dataclass(slots=True)
class Decoded:
    """Blobs rebuilt during one read, and which of them passed their checksum."""

    blobs: dict[bytes, Blob] = dataclass_field(default_factory=dict)
    verified: set[bytes] = dataclass_field(default_factory=set)


def blob_field(ns: str, channel: str, version: str | int | float) -> str:
    """The blobs-hash field of one channel version: ``ns\\0channel\\0version``."""
    return f"{ns}\0{channel}\0{version}"


def checksum(data: bytes) -> bytes:
    """4-byte crc32 tag of ``data``."""
    return zlib.crc32(data).to_bytes(4, "big")


def encode_full(blob: Blob) -> bytes:
    """Stored form of a full snapshot (compressed when large)."""
    head = blob.crc + blob.type.encode() + b"\0"
    if len(blob.data) >= COMPRESS_MIN:
        return ZFULL + head + zlib.compress(blob.data, 1)
    return FULL + head + blob.data


def encode_delta(blob: Blob, base_version: str, base: Blob) -> bytes | None:
    """Stored form of ``blob`` as a delta against ``base``, or None when a delta does not pay."""
    ops = _diff(base.data, blob.data)
    if ops is None or len(ops) * 2 > len(blob.data):
        return None
    return DELTA + blob.crc + base_version.encode() + b"\0" + blob.type.encode() + b"\0" + ops


def delta_base(value: bytes) -> str | None:
    """The base version a stored value depends on (None for a full snapshot)."""
    if value[:1] != DELTA:
        return None
    return value[5 : value.index(b"\0", 5)].decode()


def decode(field: bytes, values: Mapping[bytes, bytes], memo: Decoded) -> Blob:
    """Rebuild the blob stored at ``field`` (``ns\\0channel\\0version``), following its chain.

    ``values`` holds every stored value of the chain (the read scripts return them together);
    ``memo`` keeps rebuilt blobs so chains shared by several checkpoints are rebuilt once. Only
    blobs handed out are checksummed: a correct result proves its chain was applied correctly.
    """
    chain: list[bytes] = []
    current: bytes | None = field
    while current is not None and current not in memo.blobs:
        value = values.get(current)
        if value is None:
            raise CheckpointCorruptedError(f"checkpoint blob {current!r} is missing its base")
        chain.append(current)
        base = delta_base(value)
        current = None if base is None else current[: current.rindex(b"\0") + 1] + base.encode()
    base_blob = memo.blobs[current] if current is not None else None
    for name in reversed(chain):
        base_blob = memo.blobs[name] = _decode_one(name, values[name], base_blob)
    blob = memo.blobs[field]
    if field not in memo.verified:
        if checksum(blob.data) != blob.crc:
            raise CheckpointCorruptedError(f"checkpoint blob {field!r} failed its checksum")
        memo.verified.add(field)
    return blob


def _decode_one(field: bytes, value: bytes, base: Blob | None) -> Blob:
    kind, crc = value[:1], value[1:5]
    if kind == DELTA:
        assert base is not None  # decode() resolves the base first
        start = value.index(b"\0", 5) + 1
        sep = value.index(b"\0", start)
        type_ = value[start:sep].decode()
        data = _apply(base.data, memoryview(value)[sep + 1 :])
        depth = base.depth + 1
    elif kind in (FULL, ZFULL):
        sep = value.index(b"\0", 5)
        type_ = value[5:sep].decode()
        data = value[sep + 1 :]
        if kind == ZFULL:
            data = zlib.decompress(data)
        depth = 0
    else:
        raise CheckpointCorruptedError(f"checkpoint blob {field!r} has an unknown format")
    return Blob(type_, data, crc, depth)


def _apply(base: bytes, ops: memoryview) -> bytes:
    source = memoryview(base)
    parts: list[memoryview] = []
    pos, end = 0, len(ops)
    while pos < end:
        if ops[pos] == _COPY:
            _, offset, length = _COPY_OP.unpack_from(ops, pos)
            parts.append(source[offset : offset + length])
            pos += _COPY_OP.size
        else:
            _, length = _INSERT_OP.unpack_from(ops, pos)
            pos += _INSERT_OP.size
            parts.append(ops[pos : pos + length])
            pos += length
    return b"".join(parts)


def _diff(base: bytes, target: bytes) -> bytes | None:
    """Copy/insert operations turning ``base`` into ``target`` (None if too fragmented).

    Greedy: copy the longest run that continues at the current positions; after a difference,
    re-synchronise on a 32-byte block of the base found a little further in the target. This is
    exact for the shapes channel updates take (appends, a changed header, an edited element).
    """
    ops: list[bytes] = []
    pos_b = pos_t = 0
    len_t = len(target)
    while pos_t < len_t:
        if len(ops) >= _MAX_OPS:
            return None
        run = _match_length(base, pos_b, target, pos_t)
        if run >= 8 or (run and pos_t + run == len_t):
            ops.append(_COPY_OP.pack(_COPY, pos_b, run))
            pos_b += run
            pos_t += run
            continue
        found = _resync(base, pos_b, target, pos_t)
        if found is None:
            break
        pos_b, next_t = found
        ops.append(_INSERT_OP.pack(_INSERT, next_t - pos_t) + target[pos_t:next_t])
        pos_t = next_t
    if pos_t < len_t:
        ops.append(_INSERT_OP.pack(_INSERT, len_t - pos_t) + target[pos_t:])
    return b"".join(ops)


def _resync(base: bytes, pos_b: int, target: bytes, pos_t: int) -> tuple[int, int] | None:
    for skip in _SKIPS:
        start = pos_b + skip
        anchor = base[start : start + _ANCHOR]
        if len(anchor) < _ANCHOR:
            return None
        found = target.find(anchor, pos_t, pos_t + _WINDOW + _ANCHOR)
        if found >= 0:
            return start, found
    return None


def _match_length(a: bytes, i: int, b: bytes, j: int) -> int:
    """Length of the common run of ``a[i:]`` and ``b[j:]``."""
    n = min(len(a) - i, len(b) - j)
    if n <= 0:
        return 0
    if b.startswith(a[i : i + n], j):
        return n
    lo, hi = 0, n  # a[i:i+lo] matches, a[i:i+hi] does not
    while hi - lo > 16:
        mid = (lo + hi) // 2
        if b.startswith(a[i : i + mid], j):
            lo = mid
        else:
            hi = mid
    while lo < hi and a[i + lo] == b[j + lo]:
        lo += 1
    return lo
