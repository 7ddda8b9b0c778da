"""Plan timelines: what a plan decided, published, received and stored, step by step.

Built only from public traces (the plan's recorded history, its events on the bus, its working
memory), so any process can show any plan it may see: ``soorma-lc plan show`` /
``plan watch`` and the research-advisor demo use it.
"""

from soorma_lc.timeline.entries import (
    PlanSnapshot,
    TimelineEntry,
    build_timeline,
    summary_line,
)
from soorma_lc.timeline.feed import PlanFeed, next_plan
from soorma_lc.timeline.render import TimelinePrinter

__all__ = [
    "PlanFeed",
    "PlanSnapshot",
    "TimelineEntry",
    "TimelinePrinter",
    "build_timeline",
    "next_plan",
    "summary_line",
]
