"""The Trinity example: a planner held to a fixed event list refuses the live agent outside it."""

from __future__ import annotations

from pathlib import Path

from tests.example_runner import created, run_example


def test_the_planner_stays_within_its_event_list(tmp_path: Path) -> None:
    out = run_example("trinity/trinity.py", cwd=tmp_path)

    assert "  hotel-booker      hotel.booking.requested" in out  # live and actionable
    refusal = next(line for line in out.splitlines() if " rejected " in line)
    assert "there is no tool named 'hotel_booking_requested'; the tools are: " in refusal
    offered = refusal.split("the tools are: ", 1)[1].split(", ")
    assert offered == ["itinerary_requested", "weather_forecast_requested", "complete_goal",
                       "wait_for_event"]  # fmt: skip
    published = [line.split()[2] for line in out.splitlines() if " published " in line]
    assert published == ["weather.forecast.requested", "itinerary.requested"]
    assert "completed after 2 actions:\n3 days in Lisbon:\nday 1: sunny -> old town walk" in out
    assert "day 3: showers -> museums and cafes" in out
    assert out.rstrip().endswith("hotel-booker received 0 requests")
    assert created(tmp_path) == [".soorma", ".soorma/trinity"]  # its own data dir, nothing else
