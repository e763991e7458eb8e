"""The analysts' timeline keeps up with the catalogue: a payload column is either in
``v_session_timeline`` or on the list below of columns kept out by design, so adding an
event type forces the decision (docs/adding-an-event-type.md)."""

from __future__ import annotations

import uuid

import pytest

from ledger import EmbeddedStore
from ledger.chain import ChainHead, link
from ledger.columns import PAYLOAD_NAMES, ROW_COLUMNS
from ledger.rows import trail_row
from ledger.sql_guard import run_readonly
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration

# Ids that name a person other than the session's parties, free text a person typed or a
# processor wrote, and digests: the timeline shows what happened, not to whom else.
KEPT_OUT = frozenset(
    {
        "note_id", "author_id", "content_sha256", "file_id", "sender_id", "recipient_id",
        "message_id", "rater_id", "duration_minutes", "cancelled_by", "payer_id",
        "processor_reference", "failure_message",
    }
)  # fmt: skip


def _view_columns(store: EmbeddedStore) -> set[str]:
    return {str(row[0]) for row in store.query("DESCRIBE TABLE v_session_timeline")}


def test_every_payload_column_is_in_the_timeline_or_kept_out_by_design(
    store: EmbeddedStore,
) -> None:
    shown = _view_columns(store)
    personal = {c.name for c in ROW_COLUMNS if c.personal}
    undecided = sorted(PAYLOAD_NAMES - shown - KEPT_OUT - personal)
    assert not undecided, f"payload columns neither in v_session_timeline nor kept out: {undecided}"
    assert not shown & personal, "a personal column reached the analysts' timeline"
    assert not shown & KEPT_OUT, "a column kept out by design is in the timeline"


def test_session_event_v2_fields_read_through_the_analysts_sql(store: EmbeddedStore) -> None:
    event = one_of_each(seed=5)["participant_joined"]
    record = event.to_avro()
    record["payload"][1]["waiting_room_ms"] = 4200
    row = trail_row(record, family="session_event", schema_version=2, topic="t",
                    partition=0, offset=0, ingested_at=event.occurred_at)  # fmt: skip
    rows, _ = link([row], ChainHead.start("t", 0))
    store.insert_trail(rows, "t:0:0-0")
    sid = str(event.session_id)
    result = run_readonly(
        store,
        f"SELECT waiting_room_ms, screen_share_id FROM v_session_timeline "
        f"WHERE session_id = '{uuid.UUID(sid)}'",
    )
    assert result.rows == [(4200, None)]
