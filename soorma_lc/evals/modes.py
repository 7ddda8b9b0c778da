"""The eval modes (kept apart so the command line can list them without loading the harness)."""

from __future__ import annotations

from typing import Literal

Mode = Literal["scripted", "replay", "live"]
MODES: tuple[Mode, ...] = ("scripted", "replay", "live")
