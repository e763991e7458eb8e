"""Transaction events: bookings, payment attempts and refunds (one topic, keyed by session)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.events.envelope import (
    Currency,
    Email,
    Event,
    Identifier,
    MinorUnits,
    Role,
    SessionMode,
    ShortText,
)

PaymentMethod = Literal["card", "bank_transfer", "wallet", "voucher", "other"]


class TransactionEvent(Event):
    family: ClassVar[str] = "transaction_event"


class _Booking(TransactionEvent):
    booking_id: uuid.UUID
    client_id: Identifier
    specialist_id: Identifier


class BookingInitiated(_Booking):
    event_type: Literal["booking_initiated"] = "booking_initiated"
    scheduled_start: AwareDatetime
    duration_minutes: int = Field(ge=5, le=24 * 60)
    mode: SessionMode
    price_minor: MinorUnits
    currency: Currency


class BookingConfirmed(_Booking):
    event_type: Literal["booking_confirmed"] = "booking_confirmed"
    scheduled_start: AwareDatetime
    mode: SessionMode
    price_minor: MinorUnits
    currency: Currency


class BookingCancelled(_Booking):
    event_type: Literal["booking_cancelled"] = "booking_cancelled"
    cancelled_by: Role
    reason: ShortText | None = None


class BookingRescheduled(_Booking):
    event_type: Literal["booking_rescheduled"] = "booking_rescheduled"
    previous_start: AwareDatetime
    new_start: AwareDatetime


class _Payment(TransactionEvent):
    """An attempt to pay a booking. Payer name and e-mail are personal data."""

    transaction_id: uuid.UUID
    booking_id: uuid.UUID
    payer_id: Identifier
    payer_name: ShortText
    payer_email: Email | None = None
    amount_minor: MinorUnits
    currency: Currency
    method: PaymentMethod
    processor: Identifier
    attempt_number: int = Field(ge=1, le=100)


class PaymentAttempted(_Payment):
    event_type: Literal["payment_attempted"] = "payment_attempted"


class PaymentSucceeded(_Payment):
    event_type: Literal["payment_succeeded"] = "payment_succeeded"
    processor_reference: Identifier


class PaymentFailed(_Payment):
    event_type: Literal["payment_failed"] = "payment_failed"
    failure_code: Identifier
    failure_message: ShortText | None = None


class RefundIssued(TransactionEvent):
    event_type: Literal["refund_issued"] = "refund_issued"
    refund_id: uuid.UUID
    transaction_id: uuid.UUID
    booking_id: uuid.UUID
    amount_minor: MinorUnits
    currency: Currency
    reason: ShortText | None = None
