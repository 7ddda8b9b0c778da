"""Printing timeline entries with ``rich``: one styled line per entry, its details under it,
the final answer as Markdown in a panel. Text from plans (reasoning, data, answers) is printed
as text, never parsed as rich markup."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from soorma_lc.timeline.entries import EntryKind, PlanSnapshot, TimelineEntry, summary_line

_STYLE: dict[EntryKind, tuple[str, str]] = {
    "goal": ("●", "bold"),
    "decision": ("◆", "bold cyan"),
    "rejected": ("✗", "bold yellow"),
    "published": ("→", "blue"),
    "result": ("←", "green"),
    "waiting": ("…", "magenta"),
    "timeout": ("⌛", "yellow"),
    "completed": ("✓", "bold green"),
    "failed": ("✗", "bold red"),
    "memory": ("▣", "magenta"),
    "answer": ("★", "bold"),
}


class TimelinePrinter:
    """Prints entries to ``console`` as they come (a live timeline is just a stream of them)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def notice(self, text: str, style: str = "yellow") -> None:
        """A line that is not part of a plan (what runs, what was set up)."""
        self.console.print(Text(text, style=style), soft_wrap=True)

    def entry(self, entry: TimelineEntry) -> None:
        icon, style = _STYLE[entry.kind]
        line = Text(f"{entry.step:>4}  ", style="dim")
        line.append(f"{icon} {entry.title}", style=style)
        if entry.offline:
            line.append("  [offline heuristic, not an LLM]", style="yellow")
        self.console.print(line)
        for detail in entry.details:
            self.console.print(
                Padding(Text(detail, style="dim", overflow="fold"), (0, 0, 0, 7), expand=False)
            )
        if entry.text:
            self.console.print(Panel(Markdown(entry.text), title="answer", expand=True))

    def summary(self, snapshot: PlanSnapshot) -> None:
        self.console.print(Text(summary_line(snapshot), style="bold"), soft_wrap=True)
