"""LoopBridge: every call of one resource runs on its home loop, from sync or async code."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest

from soorma_lc.backends.loop_bridge import LoopBridge
from soorma_lc.errors import BackendUnavailableError, ConfigurationError


async def where() -> tuple[asyncio.AbstractEventLoop, int]:
    """The loop and thread this coroutine runs on."""
    return asyncio.get_running_loop(), threading.get_ident()


@pytest.fixture
def adopting() -> Iterator[LoopBridge]:
    bridge = LoopBridge("the resource", hint="await it instead", timeout=10)
    yield bridge
    bridge.close()


@pytest.fixture
def private() -> Iterator[LoopBridge]:
    bridge = LoopBridge("the store", adopt_running_loop=False, timeout=10)
    yield bridge
    bridge.close()


async def test_an_adopting_bridge_lives_on_the_first_async_callers_loop(
    adopting: LoopBridge,
) -> None:
    loop = asyncio.get_running_loop()
    assert await adopting.arun(where) == (loop, threading.get_ident())
    from_a_thread = await asyncio.to_thread(adopting.run, where)
    assert from_a_thread == (loop, threading.get_ident())  # sent home, not run in the thread
    with pytest.raises(ConfigurationError, match=r"on the event loop the resource lives on.*await"):
        adopting.run(where)


def test_without_a_live_loop_an_adopting_bridge_uses_its_own(adopting: LoopBridge) -> None:
    first_loop, first_thread = adopting.run(where)
    assert first_thread != threading.get_ident()
    assert adopting.run(where) == (first_loop, first_thread)

    async def from_another_loop() -> tuple[asyncio.AbstractEventLoop, int]:
        return await adopting.arun(where)  # the resource stays on the loop it lives on

    assert asyncio.run(from_another_loop()) == (first_loop, first_thread)


async def test_a_private_bridge_serves_sync_calls_from_a_running_loop(private: LoopBridge) -> None:
    loop, thread = private.run(where)  # this thread's loop is running: the call still works
    assert loop is not asyncio.get_running_loop() and thread != threading.get_ident()
    assert await private.arun(where) == (loop, thread)
    assert private.submit(where).result(timeout=10) == (loop, thread)


async def test_refused_calls_start_nothing(adopting: LoopBridge) -> None:
    started: list[str] = []

    async def work() -> None:
        started.append("ran")

    await adopting.arun(work)
    with pytest.raises(ConfigurationError):
        adopting.run(work)
    await asyncio.sleep(0)
    assert started == ["ran"]


def test_a_call_that_outlives_the_timeout_is_a_typed_error_and_is_cancelled() -> None:
    bridge = LoopBridge("the slow resource", timeout=0.05)
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    try:
        with pytest.raises(BackendUnavailableError, match="the slow resource did not answer"):
            bridge.run(forever)
        assert cancelled.wait(10)
    finally:
        bridge.close()


def test_errors_of_the_work_reach_the_caller(private: LoopBridge) -> None:
    async def fail(message: str) -> None:
        raise KeyError(message)

    with pytest.raises(KeyError, match="boom"):
        private.run(fail, "boom")


def test_close_stops_the_thread_and_a_later_call_starts_another(private: LoopBridge) -> None:
    first, thread = private.run(where)
    private.close()
    assert first.is_closed() and thread not in {t.ident for t in threading.enumerate()}
    second, _ = private.run(where)
    assert second is not first and not second.is_closed()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_loop(private: LoopBridge) -> None:
    _, parent_thread = private.run(where)
    pid = os.fork()
    if pid == 0:  # the child: no loop thread was copied, so waiting on it would time out
        code = 1
        try:
            private.run(where)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert private.run(where)[1] == parent_thread  # the parent's loop is untouched
