"""The simulated population: clients and specialists with their devices and networks."""

from __future__ import annotations

import random
from dataclasses import dataclass

from producers.events import Actor, Device, Network

_FIRST = ["Ana", "Ion", "Maria", "Andrei", "Elena", "Mihai", "Ingrid", "Lars", "Sofia", "Jonas"]
_LAST = ["Popescu", "Ionescu", "Hansen", "Johansen", "Dumitru", "Larsen", "Stan", "Berg"]
_DEVICES = [
    Device(kind="desktop", os="macOS", os_version="15.1", browser="Chrome", browser_version="131"),
    Device(kind="desktop", os="Windows", os_version="11", browser="Edge", browser_version="131"),
    Device(kind="desktop", os="Linux", browser="Firefox", browser_version="133"),
    Device(kind="mobile", os="iOS", os_version="18.1", app_version="5.2.0"),
    Device(kind="mobile", os="Android", os_version="15", app_version="5.2.0"),
    Device(kind="tablet", os="iPadOS", os_version="18.1", app_version="5.1.3"),
]
# Documentation address ranges (RFC 5737): realistic shape, nobody's real address.
_NETWORKS = [
    ("192.0.2.", "RO", "Bucuresti", "Bucharest"),
    ("198.51.100.", "NO", "Oslo", "Oslo"),
    ("203.0.113.", "DE", "Berlin", "Berlin"),
]


@dataclass(frozen=True)
class Person:
    id: str
    role: str
    name: str
    email: str
    device: Device
    network: Network

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role)  # type: ignore[arg-type]


def _person(rng: random.Random, role: str, n: int) -> Person:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    prefix, country, region, city = rng.choice(_NETWORKS)
    return Person(
        id=f"{role}-{n:05d}",
        role=role,
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}{n}@example.com",
        device=rng.choice(_DEVICES),
        network=Network(
            ip=f"{prefix}{rng.randint(1, 254)}", country=country, region=region, city=city
        ),
    )


class Population:
    """About two sessions per client and eight per specialist, as on a busy day."""

    def __init__(self, rng: random.Random, sessions: int) -> None:
        self.clients = [_person(rng, "client", i) for i in range(max(1, sessions // 2))]
        self.specialists = [_person(rng, "specialist", i) for i in range(max(1, sessions // 8))]

    def pick_pair(self, rng: random.Random) -> tuple[Person, Person]:
        return rng.choice(self.clients), rng.choice(self.specialists)
