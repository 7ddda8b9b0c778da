"""Adversarial scope isolation: no namespace, prefix, wildcard, filter or query of one tenant
(or bound user) reaches another's items, even with look-alike ids on the same Redis/Chroma."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from soorma_lc.backends.chroma import chroma_client
from soorma_lc.config import Settings
from soorma_lc.memory.store import SoormaStore
from soorma_lc.memory.store.codec import encode_namespace, hexed
from tests.store_helpers import index_config

SECRET = {"text": "apple banana secret", "owner": "victim", "n": 5}
VICTIM_NAMESPACES = [("users", "u1"), ("users", "u1", "notes"), ("shared",), ("a",)]


@pytest.fixture
def make_store(settings: Settings) -> Iterator[Callable[..., SoormaStore]]:
    stores: list[SoormaStore] = []

    def make(tenant_id: str, user_id: str | None = None) -> SoormaStore:
        store = SoormaStore.from_url(
            settings.redis_url or "",
            tenant_id=tenant_id,
            user_id=user_id,
            index=index_config(),
            chroma=chroma_client(settings),
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def attacker_namespaces(victim_tenant: str) -> list[tuple[str, ...]]:
    """Namespaces an attacker might try: the victim's own, and encodings of the victim's keys."""
    crafted = [
        (victim_tenant,),
        (victim_tenant, "users", "u1"),
        ("*",),
        ("}",),
        ("{" + hexed(victim_tenant) + "}",),
        (encode_namespace(("users", "u1")),),
        ("users", "u1|6b"),
        ("soorma:store:{" + hexed(victim_tenant) + ".-}:i:7573657273",),
    ]
    # Labels with "." are refused outright (InvalidStoreNamespaceError), so drop them here.
    return [ns for ns in VICTIM_NAMESPACES + crafted if not any("." in label for label in ns)]


def assert_sees_nothing_of_victim(store: SoormaStore, victim_tenant: str) -> None:
    for namespace in attacker_namespaces(victim_tenant):
        assert store.get(namespace, "k") is None
        assert store.search(namespace) == []
        assert store.search(namespace, query="apple banana secret") == []
        assert store.list_namespaces(prefix=namespace) == []
    assert store.search(()) == []
    assert store.search((), query="secret") == []
    for filter in (
        {"owner": "victim"},
        {"$or": [{"owner": "victim"}, {"owner": {"$ne": "x"}}]},
        {"scope": {"$ne": ""}},
        {"tenant": victim_tenant},
        {"n": {"$gte": 0}},
    ):
        assert store.search((), filter=filter) == []
        assert store.search((), query="secret", filter=filter) == []
    assert store.list_namespaces() == []
    assert store.list_namespaces(suffix=("u1",)) == []
    assert store.list_namespaces(prefix=("*", "*"), max_depth=1) == []


@pytest.mark.parametrize(
    ("victim", "attacker"),
    [
        ("acme", "acme-evil"),
        ("acme-evil", "acme"),
        ("acme", "acme.-"),
        ("a}:x", "a"),
        ("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000"),
    ],
)
async def test_tenants_cannot_reach_each_other(make_store, victim: str, attacker: str) -> None:  # type: ignore[no-untyped-def]
    victim_store, attacker_store = make_store(victim), make_store(attacker)
    for namespace in VICTIM_NAMESPACES:
        await victim_store.aput(namespace, "k", SECRET)
    assert_sees_nothing_of_victim(attacker_store, victim)
    # The attacker writing the same namespaces and keys changes nothing for the victim.
    for namespace in VICTIM_NAMESPACES:
        attacker_store.put(namespace, "k", {"text": "overwrite", "owner": "attacker"})
        attacker_store.delete(namespace, "k")
    for namespace in VICTIM_NAMESPACES:
        assert (await victim_store.aget(namespace, "k")).value == SECRET
    hits = await victim_store.asearch((), query="secret", limit=10)
    assert {tuple(hit.namespace) for hit in hits} == set(VICTIM_NAMESPACES)


def test_users_bound_stores_are_private_and_separate_from_tenant_space(make_store) -> None:  # type: ignore[no-untyped-def]
    alice, bob, tenant = make_store("t", "alice"), make_store("t", "bob"), make_store("t")
    for namespace in VICTIM_NAMESPACES:
        alice.put(namespace, "k", SECRET)
    assert_sees_nothing_of_victim(bob, "t")
    assert_sees_nothing_of_victim(tenant, "t")
    assert alice.list_namespaces() == sorted(VICTIM_NAMESPACES)
    # A user id that looks like another scope's encoding is just another user.
    assert_sees_nothing_of_victim(make_store("t", hexed("alice")), "t")
    assert_sees_nothing_of_victim(make_store("t.616c696365"), "t")
