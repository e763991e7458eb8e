"""The participation declaration: every proof names real event types and fields, and the
Python rule answers as documented on hand-made rows (the SQL twin is checked against it
on stored data in tests/integration/test_participation.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.participation import PROOFS, Proof, took_part, took_part_sql
from producers.events import EVENT_TYPES


def test_every_proof_names_event_types_that_carry_its_fields() -> None:
    for proof in PROOFS:
        for event_type in proof.event_types:
            fields = EVENT_TYPES[event_type].model_fields
            for column in (proof.id_column, proof.role_column, proof.true_column):
                assert column is None or column in fields, f"{event_type} has no {column}"


def test_the_sql_is_rendered_from_every_proof() -> None:
    sql = took_part_sql()
    assert sql.count("event_type IN") == len(PROOFS)
    assert "ifNull(granted, false)" in sql and "family != 'dead_letter'" in sql


def _row(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"family": "session_event", "event_type": event_type, **fields}


@pytest.mark.parametrize(
    ("row", "me", "role", "expected"),
    [
        (_row("booking_initiated", client_id="c1", specialist_id="s1"), "c1", "client", True),
        (_row("booking_cancelled", client_id="c1", specialist_id="s1"), "s1", "specialist", True),
        (_row("booking_initiated", client_id="c1", specialist_id="s1"), "c1", "specialist", False),
        (_row("session_completed", client_id="c1", specialist_id="s1"), "s1", "specialist", True),
        (_row("session_access_attempted", participant_id="c9", participant_role="client",
              granted=False), "c9", "client", False),
        (_row("session_access_attempted", participant_id="c9", participant_role="client",
              granted=None), "c9", "client", False),
        (_row("session_access_attempted", participant_id="c9", participant_role="client",
              granted=True), "c9", "client", True),
        (_row("participant_joined", participant_id="s9", participant_role="specialist"),
         "s9", "specialist", True),
        (_row("participant_joined", participant_id="s9", participant_role="specialist"),
         "s9", "client", False),
        (_row("participant_left", participant_id="c9", participant_role="client"),
         "c9", "client", False),
        (_row("session_rated", rater_id="c9", specialist_id="s9"), "s9", "specialist", False),
        (_row("chat_message_sent", sender_id="c9", recipient_id="s9"), "c9", "client", False),
        ({**_row("booking_initiated", client_id="c1"), "family": "dead_letter"},
         "c1", "client", False),
    ],
)  # fmt: skip
def test_what_proves_taking_part(row: dict[str, Any], me: str, role: str, expected: bool) -> None:
    assert took_part(row, me, role) is expected


@pytest.mark.parametrize(
    "bad",
    [
        {"event_types": ("x",), "id_column": "nope", "role": "client"},
        {"event_types": ("x",), "id_column": "client_id"},
        {"event_types": ("x') OR (1",), "id_column": "client_id", "role": "client"},
        {"event_types": ("x",), "id_column": "client_id", "role": "c' OR '1"},
    ],
)
def test_a_proof_that_would_render_bad_sql_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="bad"):
        Proof(**bad)
