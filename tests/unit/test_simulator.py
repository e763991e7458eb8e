"""The traffic simulator: reproducible, complete, and each session's story in order."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from producers.events import EVENT_TYPES, Event
from producers.simulation import simulate

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = list(simulate(150, 42, DAY))
    assert first == list(simulate(150, 42, DAY))
    assert [e.event_id for e in first] != [e.event_id for e in simulate(150, 43, DAY)]
    other_day = {e.event_id for e in simulate(150, 42, DAY + timedelta(days=1))}
    assert not other_day & {e.event_id for e in first}


def test_covers_every_event_type_and_is_time_ordered() -> None:
    events = list(simulate(400, 7, DAY))
    assert {e.event_type for e in events} == set(EVENT_TYPES)
    assert all(a.occurred_at <= b.occurred_at for a, b in itertools.pairwise(events))
    assert len({e.event_id for e in events}) == len(events)


def test_each_session_tells_a_coherent_story() -> None:
    by_session: dict[object, list[Event]] = defaultdict(list)
    for event in simulate(300, 11, DAY):
        by_session[event.session_id].append(event)
    for events in by_session.values():
        types = [e.event_type for e in events]
        assert types[0] == "booking_initiated"
        assert types[1] == "payment_attempted"
        if "session_completed" in types:
            assert "booking_confirmed" in types
            assert types.index("participant_joined") < types.index("session_completed")
        assert types.count("payment_succeeded") <= 1
        online_only = {"participant_disconnected", "participant_reconnected"}
        if online_only & set(types):
            assert events[0].mode == "online"
        assert types.count("participant_disconnected") == types.count("participant_reconnected")
