"""One valid event of every type, built by the simulator (so tests use realistic data)."""

from __future__ import annotations

from datetime import UTC, datetime

from producers.events import EVENT_TYPES, Event
from producers.simulation import simulate

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def one_of_each(seed: int = 3) -> dict[str, Event]:
    found: dict[str, Event] = {}
    for event in simulate(400, seed, DAY):
        found.setdefault(event.event_type, event)
        if len(found) == len(EVENT_TYPES):
            break
    missing = set(EVENT_TYPES) - set(found)
    assert not missing, f"simulator never produced {missing}"
    return found
