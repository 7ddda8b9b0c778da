"""A human-in-the-loop LangGraph graph checkpointed in Redis, resumed by another process.

    python examples/checkpointer/checkpointer_demo.py start        # run until it asks for approval
    python examples/checkpointer/checkpointer_demo.py resume yes   # any process answers, it ends
    python examples/checkpointer/checkpointer_demo.py history      # time travel: every checkpoint

With nothing configured the checkpoints live in an embedded redis-server with its data in
./.soorma/checkpointer (or SOORMA_DATA_DIR; ``rm -rf .soorma/checkpointer`` resets it); set
SOORMA_REDIS_URL to share a real Redis between machines, and SOORMA_TENANT_ID to pick the
tenant the thread belongs to.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from soorma_lc import RedisCheckpointSaver, Settings

THREAD = {"configurable": {"thread_id": "demo-approval"}}


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool


def draft(state: State) -> dict[str, Any]:
    return {"messages": [AIMessage(content="Draft: Q3 revenue grew 12%, churn fell to 2.1%.")]}


def review(state: State) -> dict[str, Any]:
    answer = interrupt({"question": "Publish this draft? (yes/no)"})
    return {"approved": answer == "yes", "messages": [HumanMessage(content=answer)]}


def publish(state: State) -> dict[str, Any]:
    verdict = "Published." if state["approved"] else "Discarded."
    return {"messages": [AIMessage(content=verdict)]}


def build(saver: RedisCheckpointSaver) -> CompiledStateGraph:
    builder = StateGraph(State)
    for name, node in (("draft", draft), ("review", review), ("publish", publish)):
        builder.add_node(name, node)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", "publish")
    builder.add_edge("publish", END)
    return builder.compile(checkpointer=saver)


def main(command: str, *args: str) -> None:
    settings = Settings(data_dir=os.environ.get("SOORMA_DATA_DIR", ".soorma/checkpointer"))
    saver = RedisCheckpointSaver.from_settings(settings)  # embedded unless SOORMA_REDIS_URL is set
    graph = build(saver)
    if command == "start":
        saver.delete_thread(THREAD["configurable"]["thread_id"])  # start the demo afresh
        result = graph.invoke({"messages": []}, THREAD)
        print(result["messages"][-1].content)
        print("The graph is waiting:", result["__interrupt__"][0].value["question"])
        print("Answer from any process: checkpointer_demo.py resume yes")
    elif command == "resume":
        result = graph.invoke(Command(resume=args[0] if args else "yes"), THREAD)
        print("\n".join(f"{m.type}: {m.content}" for m in result["messages"]))
    elif command == "history":
        for snapshot in graph.get_state_history(THREAD):
            step, source = snapshot.metadata["step"], snapshot.metadata["source"]
            print(f"step {step:>2} {source:6} next={snapshot.next} "
                  f"messages={len(snapshot.values.get('messages', []))}")  # fmt: skip
    else:
        raise SystemExit(__doc__)
    saver.close()


if __name__ == "__main__":
    main(*(sys.argv[1:] or ["start"]))
