"""Grow a trail to N rows fast: copies of the stored rows, made by ClickHouse itself.

Copy k of the base rows moves them ``k * base_days`` days later and gives them their own
sessions, people and bookings (ids derived from the originals: ``<id>.k`` for people, a
hash for UUIDs), so a copy is new traffic of the same shape, not duplicates. What a copy
keeps: ``event_id`` (sealed personal values authenticate against it, so auditors can still
open them) and the hash columns (copies are not re-chained; reads do not check chains).
"""

from __future__ import annotations

from ledger.columns import COLUMN_NAMES

PEOPLE = (
    "actor_id",
    "client_id",
    "specialist_id",
    "participant_id",
    "payer_id",
    "author_id",
    "sender_id",
    "recipient_id",
    "rater_id",
)
REFERENCES = ("booking_id", "transaction_id", "note_id", "file_id", "message_id", "refund_id")
TIMES = ("occurred_at", "scheduled_start", "previous_start", "new_start")


def _new_uuid(expr: str, copy: int) -> str:
    return f"reinterpretAsUUID(substring(SHA256(concat(toString({expr}), '#{copy}')), 1, 16))"


def _column(name: str, copy: int, days: int) -> str:
    if name == "session_id":
        return _new_uuid(name, copy)
    if name in REFERENCES:
        return f"if(isNull({name}), NULL, {_new_uuid(name, copy)})"
    if name in PEOPLE:
        return f"concat({name}, '.{copy}')"
    if name in TIMES:
        return f"{name} + toIntervalDay({copy * days})"
    if name == "kafka_topic":
        return f"concat(kafka_topic, '#{copy}')"
    return name


def copy_sql(copy: int, days: int, base_topics: tuple[str, ...]) -> str:
    """INSERT ... SELECT making copy ``copy`` (>= 1) of the rows of ``base_topics``."""
    if copy < 1 or days < 1:
        raise ValueError("copy and days must be >= 1")
    names = ", ".join(COLUMN_NAMES)
    select = ", ".join(f"{_column(n, copy, days)} AS {n}" for n in COLUMN_NAMES)
    topics = ", ".join(f"'{t}'" for t in base_topics)
    # The filter sits in a subquery: in the outer SELECT, ``kafka_topic`` would name the
    # copy's new value (ClickHouse lets an alias shadow the column in WHERE).
    return (
        f"INSERT INTO trail ({names}) SELECT {select} "
        f"FROM (SELECT * FROM trail WHERE kafka_topic IN ({topics}))"
    )
