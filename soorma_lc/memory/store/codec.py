"""How store scopes, namespaces, keys and items are written to Redis and Chroma.

Namespace labels and keys are hex-encoded before they reach a Redis key or a sorted-set member,
so no label can contain a separator or escape its scope: ``("a", "b")`` is ``"61/62/"``. Hex of
UTF-8 keeps byte order, so a namespace prefix is a lexicographic range of the encoded names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from soorma_lc.errors import SerializationError
from soorma_lc.jsonvalues import check_json_value
from soorma_lc.memory._values import check_size, reading

NAMESPACE_END = "g"  # sorts after every hex digit and "/": the upper bound of a prefix range


def hexed(text: str) -> str:
    """``text`` as lowercase hex of its UTF-8 bytes."""
    return text.encode("utf-8").hex()


def unhexed(encoded: str) -> str:
    """Inverse of :func:`hexed`."""
    return bytes.fromhex(encoded).decode("utf-8")


def encode_namespace(namespace: tuple[str, ...]) -> str:
    """``("a", "b")`` -> ``"61/62/"``; the empty namespace (a search prefix) is ``""``."""
    return "".join(hexed(label) + "/" for label in namespace)


def decode_namespace(encoded: str) -> tuple[str, ...]:
    """Inverse of :func:`encode_namespace`."""
    return tuple(unhexed(part) for part in encoded.split("/")[:-1])


def item_id(namespace: tuple[str, ...], key: str) -> str:
    """The id of one item within its scope: encoded namespace, ``|``, hex key."""
    return f"{encode_namespace(namespace)}|{hexed(key)}"


def parse_item_id(identifier: str) -> tuple[tuple[str, ...], str]:
    """Inverse of :func:`item_id`."""
    namespace, _, key = identifier.partition("|")
    return decode_namespace(namespace), unhexed(key)


def scope_tag(tenant_id: str, user_id: str | None) -> str:
    """The Redis Cluster hash tag (and Chroma scope label) of one tenant/user scope."""
    return f"{hexed(tenant_id)}.{hexed(user_id) if user_id is not None else '-'}"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as read from Redis: its value plus what the store needs to manage it."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_us: int
    updated_us: int
    ttl_minutes: float | None
    generation: str
    vectors: int

    @property
    def created_at(self) -> datetime:
        return _datetime(self.created_us)

    @property
    def updated_at(self) -> datetime:
        return _datetime(self.updated_us)

    @property
    def id(self) -> str:
        return item_id(self.namespace, self.key)


def _datetime(microseconds: int) -> datetime:
    return datetime.fromtimestamp(microseconds / 1_000_000, tz=UTC)


def dump_value(value: dict[str, Any], *, limit: int) -> str:
    """JSON of a value; :class:`SerializationError` names what JSON cannot hold as it is (a
    set, NaN, a non-string key at any depth, a lone surrogate, a self-reference), and
    :class:`ValueTooLargeError` refuses more than ``limit`` bytes (before anything is
    embedded or written)."""
    try:
        check_json_value(value, "store value", tuples=True)
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
    except SerializationError:
        raise
    except RecursionError as exc:
        raise SerializationError("store value is nested too deeply or refers to itself") from exc
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"store values must be JSON-serialisable: {exc}") from exc
    check_size(size, limit=limit, what="store value")
    return text


def encode_body(
    value_json: str, updated_us: int, ttl: float | None, generation: str, vectors: int
) -> str:
    """The stored JSON of an item minus its opening ``{"c":<created>,``, which Redis adds.

    The put script keeps the created time of an existing item by prefixing this body with
    the old ``{"c":...,`` (see ``redis_items.PUT``), so the value is never re-encoded in Lua.
    """
    meta = json.dumps({"u": updated_us, "t": ttl, "g": generation, "n": vectors})
    return f'"v":{value_json},{meta[1:]}'


def decode_item(namespace: tuple[str, ...], key: str, raw: bytes | str) -> StoredItem:
    """An item from its stored JSON (as written by the put script);
    :class:`CorruptedDataError` if it was changed outside soorma-lc."""
    with reading(f"store item {key!r} in {namespace!r}"):
        data = json.loads(raw)
        item = StoredItem(
            namespace=namespace,
            key=key,
            value=data["v"],
            created_us=data["c"],
            updated_us=data["u"],
            ttl_minutes=data["t"],
            generation=data["g"],
            vectors=data["n"],
        )
        if not isinstance(item.value, dict) or not isinstance(item.created_us, int):
            raise TypeError("the item has no value or created time")
        return item
