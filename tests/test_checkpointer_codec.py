"""The blob codec: full, compressed and delta forms rebuild exactly what was stored."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soorma_lc.errors import CheckpointCorruptedError
from soorma_lc.memory.checkpoint.codec import (
    COMPRESS_MIN,
    Blob,
    Decoded,
    checksum,
    decode,
    delta_base,
    encode_delta,
    encode_full,
)


def blob(data: bytes, type_: str = "msgpack") -> Blob:
    return Blob(type_, data, checksum(data))


def roundtrip(base: bytes, target: bytes) -> tuple[bytes | None, Blob]:
    """Store base in full and target as a delta (when it pays); decode target back."""
    values = {b"\0ch\0v1": encode_full(blob(base))}
    delta = encode_delta(blob(target), "v1", blob(base))
    values[b"\0ch\0v2"] = delta if delta is not None else encode_full(blob(target))
    return delta, decode(b"\0ch\0v2", values, Decoded())


def test_append_to_a_list_is_a_small_delta() -> None:
    items = [os.urandom(300) for _ in range(40)]
    base = bytes([0xDC, 0, 40]) + b"".join(items)
    target = bytes([0xDC, 0, 41]) + b"".join(items) + os.urandom(300)
    delta, rebuilt = roundtrip(base, target)
    assert delta is not None and delta_base(delta) == "v1"
    assert len(delta) < 400
    assert rebuilt.data == target and rebuilt.depth == 1


def test_unrelated_content_is_stored_in_full() -> None:
    target = os.urandom(5000)
    delta, rebuilt = roundtrip(os.urandom(5000), target)
    assert delta is None
    assert rebuilt.data == target and rebuilt.depth == 0


def test_large_full_blobs_are_compressed() -> None:
    data = b"the same sentence again. " * 400
    stored = encode_full(blob(data))
    assert len(data) >= COMPRESS_MIN and stored[:1] == b"Z" and len(stored) < len(data) // 4
    assert decode(b"f", {b"f": stored}, Decoded()).data == data


@settings(max_examples=150, deadline=None)
@given(
    base=st.binary(min_size=0, max_size=3000),
    cut=st.integers(min_value=0, max_value=3000),
    removed=st.integers(min_value=0, max_value=200),
    inserted=st.binary(max_size=300),
    appended=st.binary(max_size=300),
)
def test_any_edit_rebuilds_exactly(
    base: bytes, cut: int, removed: int, inserted: bytes, appended: bytes
) -> None:
    cut = min(cut, len(base))
    target = base[:cut] + inserted + base[cut + removed :] + appended
    _, rebuilt = roundtrip(base, target)
    assert rebuilt.data == target


def test_chains_rebuild_every_version_once() -> None:
    versions = [os.urandom(1000)]
    for _ in range(5):
        versions.append(versions[-1] + os.urandom(100))
    values = {b"\0c\0v0": encode_full(blob(versions[0]))}
    for i in range(1, len(versions)):
        delta = encode_delta(blob(versions[i]), f"v{i - 1}", blob(versions[i - 1]))
        assert delta is not None
        values[f"\0c\0v{i}".encode()] = delta
    memo = Decoded()
    assert decode(b"\0c\0v5", values, memo).data == versions[5]
    assert len(memo.blobs) == 6
    assert [decode(f"\0c\0v{i}".encode(), values, memo).data for i in range(6)] == versions


def test_tampered_blob_raises_corrupted() -> None:
    base = os.urandom(2000)
    target = base + os.urandom(50)
    values = {
        b"\0c\0v1": encode_full(blob(base)),
        b"\0c\0v2": encode_delta(blob(target), "v1", blob(base)),
    }
    full = bytearray(values[b"\0c\0v1"])
    full[-1] ^= 0xFF
    values[b"\0c\0v1"] = bytes(full)
    with pytest.raises(CheckpointCorruptedError):
        decode(b"\0c\0v2", values, Decoded())
    with pytest.raises(CheckpointCorruptedError, match="missing its base"):
        decode(b"\0c\0v2", {b"\0c\0v2": values[b"\0c\0v2"]}, Decoded())
