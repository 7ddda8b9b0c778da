"""Worker and client in one process on an embedded Redis; ends by itself.

python examples/hello_worker/run.py

Data lives in ./.soorma/hello_worker (or SOORMA_DATA_DIR); ``rm -rf .soorma/hello_worker``
resets it. The embedded redis-server stops when the script ends.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker import make_worker

from soorma_lc import EventEnvelope, EventTopic, RedisStreamsBus, Settings

NAMES = ["Ada", "Grace", "Linus"]


async def main(settings: Settings) -> None:
    worker = make_worker(settings)
    await worker.start()  # subscribes, then registers greeter in the registry

    client = RedisStreamsBus.from_settings(settings)
    answers: asyncio.Queue[EventEnvelope] = asyncio.Queue()

    async def on_result(event: EventEnvelope) -> None:
        await answers.put(event)

    await client.subscribe(
        "hello-client",
        [EventTopic.ACTION_RESULTS],
        on_result,
        accepts=lambda event: event.type == "greeting.completed",
    )
    agents = await worker.registry.list_agents(consumed_event="greeting.requested")
    print("registered:", [agent.agent_id for agent in agents])

    sent = {
        await client.request(
            "greeting.requested",
            {"name": name},
            response_event="greeting.completed",
            tenant_id=settings.tenant_id,
            user_id=settings.user_id,
        ): name
        for name in NAMES
    }
    for _ in NAMES:
        answer = await asyncio.wait_for(answers.get(), timeout=10)
        request_name = sent[answer.parent_event_id or ""]
        print(
            f"{request_name}: {(answer.data or {})['text']}  (correlation {answer.correlation_id})"
        )

    await client.aclose()
    await worker.stop()  # deregisters and finishes in-flight handlers


if __name__ == "__main__":
    asyncio.run(main(Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/hello_worker"))))
