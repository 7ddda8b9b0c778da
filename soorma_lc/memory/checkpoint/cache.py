"""Process-local LRU of the last blob seen per channel: the base new versions are diffed against.

Bounded by bytes. Losing an entry only means the next version is stored in full; a stale entry
is harmless because the put script refuses a delta whose base changed (the saver then retries
with full blobs).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from soorma_lc.memory.checkpoint.codec import Blob

ChannelKey = tuple[str, str, str, str]  # tenant, thread, ns, channel


class BlobCache:
    """Thread-safe LRU ``(tenant, thread, ns, channel) -> (version, Blob)``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[ChannelKey, tuple[str, Blob]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: ChannelKey) -> tuple[str, Blob] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: ChannelKey, version: str, blob: Blob) -> None:
        if len(blob.data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old[1].data)
            self._items[key] = (version, blob)
            self._size += len(blob.data)
            while self._size > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._size -= len(evicted.data)

    def drop_thread(self, tenant_id: str, thread_id: str) -> None:
        """Forget every channel of a thread (after it was deleted, pruned or rewritten)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == tenant_id and k[1] == thread_id]:
                self._size -= len(self._items.pop(key)[1].data)
