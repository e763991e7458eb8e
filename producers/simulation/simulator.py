"""Plays a realistic platform day: many sessions, each with its own story, merged in time.

Reproducible: the same seed, session count and start give the same events, byte for
byte (every id comes from a seeded generator, never from uuid4 or the clock).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from producers.events import Event
from producers.simulation.people import Population
from producers.simulation.script import SessionScript

V2_SHARE = 0.5


def simulate(sessions: int, seed: int, start: datetime) -> Iterator[Event]:
    """Events of ``sessions`` sessions booked over the day from ``start``, in time order."""
    if sessions < 0:
        raise ValueError("sessions must be >= 0")
    population = Population(random.Random(f"{seed}:population"), sessions)
    streams = (_session(seed, i, start, population) for i in range(sessions))
    # Each session has its own generator, so the merged order is deterministic and
    # memory holds one pending event per session, not the whole day.
    return heapq.merge(*streams, key=lambda e: (e.occurred_at, str(e.event_id)))


def _session(seed: int, index: int, day: datetime, population: Population) -> Iterator[Event]:
    # The day is part of the seed: two different days never share an event_id.
    rng = random.Random(f"{seed}:{day.isoformat()}:session:{index}")
    client, specialist = population.pick_pair(rng)
    booked_at = day + timedelta(seconds=rng.uniform(0, 20 * 3600))
    # A rollout in progress: about half the sessions run on services already on v2.
    release = random.Random(f"{seed}:{day.isoformat()}:release:{index}")
    upgraded = release if release.random() < V2_SHARE else None
    yield from SessionScript(rng, client, specialist, booked_at, upgraded).play()
