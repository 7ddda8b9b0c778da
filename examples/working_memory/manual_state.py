"""Working memory, plans and sessions through MemoryClient directly (no agents).

    python examples/working_memory/manual_state.py

With ``SOORMA_REDIS_URL`` unset this starts an embedded redis-server with its data in
./.soorma/working_memory (or SOORMA_DATA_DIR); the script deletes what it creates.
"""

from __future__ import annotations

import asyncio
import os
import uuid

from soorma_lc import (
    InvalidStatusTransitionError,
    MemoryClient,
    SerializationError,
    Settings,
    WorkflowState,
)

SETTINGS = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/working_memory"))
# In an agent these come from the event envelope (event.tenant_id, event.user_id).
TENANT, USER = SETTINGS.tenant_id, SETTINGS.user_id


async def main() -> None:
    async with MemoryClient.from_settings(SETTINGS) as memory:
        session = await memory.create_session(
            f"project-{uuid.uuid4().hex[:8]}", name="Q1 launch", tenant_id=TENANT, user_id=USER
        )
        plan = await memory.create_plan(
            goal_event="research.goal",
            goal_data={"topic": "container security"},
            session_id=session.session_id,
            tenant_id=TENANT,
            user_id=USER,
        )
        print(f"plan {plan.plan_id} in session {session.session_id}: {plan.status}")

        # The low-level calls: every one names plan, tenant and user.
        await memory.set_plan_state(
            plan.plan_id,
            "research_data",
            {"findings": ["use rootless mode"]},
            tenant_id=TENANT,
            user_id=USER,
        )
        print(
            "stored:",
            await memory.get_plan_state(
                plan.plan_id, "research_data", tenant_id=TENANT, user_id=USER
            ),
        )

        # WorkflowState binds them once.
        state = WorkflowState(memory, plan.plan_id, tenant_id=TENANT, user_id=USER)
        await state.record_action("research.started")
        await state.append("research_data_log", "scanned 12 sources")
        await state.increment("sources_read", 12)
        await state.record_action("research.completed")
        print("history:", await state.get_action_history())

        try:
            await state.set("not_json", {1, 2, 3})
        except SerializationError as exc:
            print("refused:", exc)

        done = await memory.update_plan_status(
            plan.plan_id, "completed", tenant_id=TENANT, user_id=USER
        )
        print(f"plan is {done.status}")
        try:
            await memory.update_plan_status(plan.plan_id, "running", tenant_id=TENANT, user_id=USER)
        except InvalidStatusTransitionError as exc:
            print("refused:", exc)

        plans = await memory.list_plans(
            tenant_id=TENANT, user_id=USER, session_id=session.session_id
        )
        print("plans in session:", [p.plan_id for p in plans])
        print("keys removed:", await state.cleanup())
        await memory.delete_plan(plan.plan_id, tenant_id=TENANT, user_id=USER)
        await memory.delete_session(session.session_id, tenant_id=TENANT, user_id=USER)


if __name__ == "__main__":
    asyncio.run(main())
