"""One session's story, from booking to rating, as a stream of typed events."""

from __future__ import annotations

import random
import uuid
from collections.abc import Generator, Iterator
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any, TypeVar

from producers.events import (
    Actor,
    BookingCancelled,
    BookingConfirmed,
    BookingInitiated,
    BookingRescheduled,
    Event,
    PaymentAttempted,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    Source,
)
from producers.simulation.meeting import play_meeting
from producers.simulation.people import Person

E = TypeVar("E", bound=Event)
_SYSTEM = Actor(id="platform", role="system")
_FAILURES = ["card_declined", "insufficient_funds", "3ds_failed", "processor_timeout"]
# The platform's releases: 1.x services write schema v1, 2.x the newest (v2).
V1_SERVICES, V2_SERVICES = "1.4.2", "2.0.0"


def schema_version_of(event: Event) -> int | None:
    """The schema version the service that emitted ``event`` writes: 1 for a service on
    a 1.x release, None (the newest) otherwise. For ``AuditProducer.send``."""
    return 1 if event.source.version.startswith("1.") else None


class SessionScript:
    """Holds the session's own random generator and clock; every id comes from it."""

    def __init__(
        self,
        rng: random.Random,
        client: Person,
        specialist: Person,
        t: datetime,
        release: random.Random | None = None,
    ):
        self.rng = rng
        # An upgraded (v2) session's own generator, so what v2 adds leaves the v1 story
        # (and every id in it) as it was; None: the session's services are still on v1.
        self.release = release
        self.service_version = V2_SERVICES if release is not None else V1_SERVICES
        self.client, self.specialist = client, specialist
        self.t = t
        self.session_id = self.new_id()
        self.booking_id = self.new_id()
        self.mode = "online" if rng.random() < 0.7 else "office"
        self.price = rng.choice([4000, 6000, 8000, 12000, 15000])
        self.currency = rng.choice(["EUR", "EUR", "RON", "USD", "NOK"])
        self.start = (t + timedelta(minutes=rng.choice([30, 60, 90, 180]))).replace(
            second=0, microsecond=0
        )

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def digest(self) -> str:
        return sha256(self.rng.getrandbits(64).to_bytes(8, "little")).hexdigest()

    def later(self, low_s: float, high_s: float) -> None:
        self.t += timedelta(seconds=self.rng.uniform(low_s, high_s))

    def event(self, cls: type[E], who: Person | None, service: str, **payload: Any) -> E:
        # An ``event_id`` in payload: drawn by the caller (v2 additions use their own rng).
        event_id = payload.pop("event_id", None) or self.new_id()
        return cls(
            event_id=event_id,
            occurred_at=self.t,
            session_id=self.session_id,
            actor=who.actor if who else _SYSTEM,
            source=Source(service=service, version=self.service_version),
            device=who.device if who else None,
            network=who.network if who else None,
            **payload,
        )

    def booking(self, cls: type[E], who: Person | None, **payload: Any) -> E:
        ids = {"booking_id": self.booking_id, "client_id": self.client.id}
        ids["specialist_id"] = self.specialist.id
        return self.event(cls, who, "booking-service", **ids, **payload)

    def play(self) -> Iterator[Event]:
        terms = {"mode": self.mode, "price_minor": self.price, "currency": self.currency}
        yield self.booking(
            BookingInitiated, self.client, scheduled_start=self.start, duration_minutes=50, **terms
        )
        transaction_id = yield from self.pay()
        if transaction_id is None:
            self.later(1, 2)
            yield self.booking(
                BookingCancelled, None, cancelled_by="system", reason="payment not completed"
            )
            return
        self.later(1, 5)
        yield self.booking(BookingConfirmed, None, scheduled_start=self.start, **terms)
        roll = self.rng.random()
        if roll < 0.08:
            who = self.client if self.rng.random() < 0.7 else self.specialist
            self.later(300, 1500)
            yield self.booking(BookingCancelled, who, cancelled_by=who.role, reason=None)
            self.later(60, 600)
            yield self.event(
                RefundIssued, None, "payments-service", refund_id=self.new_id(),
                transaction_id=transaction_id, booking_id=self.booking_id,
                amount_minor=self.price, currency=self.currency, reason="booking cancelled",
            )  # fmt: skip
            return
        if roll < 0.18:
            new_start = self.start + timedelta(minutes=self.rng.choice([30, 60, 120]))
            self.later(60, 1200)
            yield self.booking(
                BookingRescheduled, self.client, previous_start=self.start, new_start=new_start
            )
            self.start = new_start
        if self.rng.random() < 0.03:
            return  # nobody showed up: the booking stands, no meeting events
        yield from self.meeting()

    def pay(self) -> Generator[Event, None, uuid.UUID | None]:
        """Up to three attempts; returns the transaction id of the one that succeeded."""
        for attempt in range(1, 4):
            self.later(20, 240)
            transaction_id = self.new_id()
            payment = {
                "transaction_id": transaction_id, "booking_id": self.booking_id,
                "payer_id": self.client.id, "payer_name": self.client.name,
                "payer_email": self.client.email, "amount_minor": self.price,
                "currency": self.currency, "method": self.rng.choice(["card", "card", "wallet"]),
                "processor": "stripe", "attempt_number": attempt,
            }  # fmt: skip
            yield self.event(PaymentAttempted, self.client, "payments-service", **payment)
            self.later(1, 8)
            if self.rng.random() < 0.22:
                code = self.rng.choice(_FAILURES)
                yield self.event(
                    PaymentFailed, None, "payments-service", failure_code=code, **payment
                )
                continue
            yield self.event(
                PaymentSucceeded, None, "payments-service",
                processor_reference=f"ch_{self.rng.getrandbits(48):012x}", **payment,
            )  # fmt: skip
            return transaction_id
        return None

    def meeting(self) -> Iterator[Event]:
        yield from play_meeting(self)
