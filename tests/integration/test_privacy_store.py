"""Personal fields sealed per data subject, on the embedded engine (chDB): keys in the
store, many per subject, erasure by destroying keys (the key bytes leave the disk), the
trail and its hash chain untouched, and all of it still so after a reopen."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger import ChainHead, EmbeddedStore, Row, link, trail_row, verify
from ledger.columns import COLUMN_NAMES, INDEX, ROW_COLUMNS, column_list
from ledger.privacy import (
    ERASED,
    PERSONAL_COLUMNS,
    ErasureIncomplete,
    RowOpener,
    RowSealer,
    StoreKeyStore,
    erasures_of,
    record_erasure,
)
from ledger.privacy.cipher import is_sealed, parse_sealed
from ledger.trail_row import TrailRow
from schemas import AvroCodec
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration

MASTER = bytes(range(32))
PERSONAL = [c.name for c in PERSONAL_COLUMNS]
NETWORK = [name for name in PERSONAL if name.startswith("network_")]
BILLING = ["payer_name", "payer_email"]
_SUBJECTS = ("actor_id", "payer_id", "client_id", "specialist_id", "participant_id")


@dataclass
class Trail:
    path: Path
    store: EmbeddedStore

    def reopen(self) -> EmbeddedStore:
        self.store.close()
        self.store = EmbeddedStore(self.path)
        return self.store


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    # chDB hosts one directory per process: this module's stores all use this one.
    path = Path(tmp_path_factory.mktemp("privacy")) / "store"
    opened = Trail(path, EmbeddedStore(path))
    opened.store.migrate()
    yield opened
    opened.store.close()


def plain_rows(tag: str) -> list[TrailRow]:
    """One trail row per event type, made the consumer's way (Avro bytes -> row), with
    subject ids prefixed by ``tag`` so each test has data subjects of its own."""
    codec = AvroCodec()
    rows = []
    for offset, event in enumerate(one_of_each().values()):
        decoded = codec.decode(codec.encode(event.family, event.to_avro()))
        row = list(
            trail_row(
                decoded.record,
                family=decoded.writer.family,
                schema_version=decoded.writer.version,
                topic=f"privacy-{tag}",
                partition=0,
                offset=offset,
                ingested_at=datetime.now(UTC),
            )
        )
        for name in _SUBJECTS:
            if row[INDEX[name]]:
                row[INDEX[name]] = f"{tag}-{row[INDEX[name]]}"
        rows.append(TrailRow._make(row))
    return rows


def store_rows(trail: Trail, keys: StoreKeyStore, rows: list[Row]) -> str:
    """Seal, flush the keys, link and insert, the way the consumer does; the topic."""
    sealed = RowSealer(keys).seal_all(rows)
    keys.flush()  # keys first: a row must never be stored before its key
    topic = str(rows[0][INDEX["kafka_topic"]])
    linked, _head = link(sealed, ChainHead.start(topic, 0))
    trail.store.insert_trail(linked, f"{topic}:0:0-{len(rows) - 1}")
    return topic


def read_back(trail: Trail, topic: str) -> list[dict[str, Any]]:
    return trail.store.query_dicts(
        f"SELECT {column_list()} FROM trail WHERE kafka_topic = {{t:String}} ORDER BY kafka_offset",
        {"t": topic},
    )


def as_dict(row: Row) -> dict[str, Any]:
    return dict(zip(COLUMN_NAMES, row, strict=False))


def without_hashes(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("prev_hash", "row_hash", "chain_version")}


def files_holding(root: Path, wrapped: str) -> list[Path]:
    """Files of the store holding any 16-character piece of a wrapped key's base64 body.

    Pieces, not the whole: LZ4 may replace a few bytes of it by a back-reference.
    """
    body = wrapped.removeprefix("wk:v1:").encode()
    pieces = [body[i : i + 16] for i in range(0, len(body) - 15, 16)]
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(piece in data for piece in pieces):
                found.append(path)
    return found


def wrapped_keys(trail: Trail, subject: str, purpose: str) -> list[str]:
    rows = trail.store.query(
        "SELECT wrapped_key FROM subject_keys WHERE subject_id = {s:String} "
        "AND purpose = {p:String}",
        {"s": subject, "p": purpose},
    )
    return [str(r[0]) for r in rows]


def test_sealed_rows_hold_no_plaintext_and_open_to_the_original(trail: Trail) -> None:
    keys = StoreKeyStore(trail.store, MASTER)
    rows = plain_rows(uuid.uuid4().hex[:8])
    # IPs, names, e-mails, cities (two-letter country codes may occur in any base64).
    secrets_in = {
        str(row[INDEX[name]])
        for row in rows
        for name in PERSONAL
        if row[INDEX[name]] and len(row[INDEX[name]]) > 3
    }
    assert any("." in s for s in secrets_in) and any("@" in s for s in secrets_in)
    sealed = RowSealer(keys).seal_all(rows)
    for before, after in zip(rows, sealed, strict=True):
        text = repr(after)
        assert not [s for s in secrets_in if s in text], "plaintext left in a sealed row"
        for name in PERSONAL:
            value = after[INDEX[name]]
            assert value is None if before[INDEX[name]] is None else is_sealed(value)
        others = [i for i, c in enumerate(ROW_COLUMNS) if not c.personal]
        assert [before[i] for i in others] == [after[i] for i in others]

    topic = store_rows(trail, keys, rows)
    stored = read_back(trail, topic)
    assert not [s for s in secrets_in if s in repr(stored)]
    # A reader with its own key store (another process): same values as went in.
    opened = RowOpener(StoreKeyStore(trail.store, MASTER)).open_all(stored)
    assert [without_hashes(r) for r in opened] == [as_dict(r) for r in rows]
    assert verify(trail.store, [topic]).ok


def test_network_fields_use_the_actors_key_payer_fields_the_payers_billing_key(
    trail: Trail,
) -> None:
    keys = StoreKeyStore(trail.store, MASTER)
    rows = plain_rows(uuid.uuid4().hex[:8])
    paid = next(r for r in rows if r[INDEX["payer_name"]] and r[INDEX["network_ip"]])
    sealed = RowSealer(keys).seal(paid)
    actor, payer = paid[INDEX["actor_id"]], paid[INDEX["payer_id"]]
    network_key = keys.key_for(actor, "personal").key_id
    billing_key = keys.key_for(payer, "billing").key_id
    assert network_key != billing_key
    for name in NETWORK:
        assert parse_sealed(sealed[INDEX[name]]).key_id == network_key
    for name in BILLING:
        assert parse_sealed(sealed[INDEX[name]]).key_id == billing_key


def test_keys_reach_the_store_on_flush_in_one_insert(trail: Trail) -> None:
    keys = StoreKeyStore(trail.store, MASTER)
    tag = uuid.uuid4().hex[:8]
    created = [keys.key_for(f"{tag}-{i}", "personal") for i in range(5)]
    ids = [k.key_id for k in created]
    other = StoreKeyStore(trail.store, MASTER)
    assert other.keys_by_id(ids) == dict.fromkeys(ids)  # not persisted yet
    assert keys.key_by_id(ids[0]) == created[0].key  # but known to its creator
    keys.flush()
    parts = trail.store.query(
        "SELECT count(), uniqExact(_part) FROM subject_keys WHERE key_id IN {ids:Array(String)}",
        {"ids": ids},
    )
    assert parts == [(5, 1)]
    other.reload()
    assert other.keys_by_id(ids) == {k.key_id: k.key for k in created}
    keys.flush()  # nothing pending: no second insert
    assert trail.store.query(
        "SELECT count() FROM subject_keys WHERE key_id IN {ids:Array(String)}", {"ids": ids}
    ) == [(5,)]


def test_two_key_stores_creating_keys_for_one_subject_both_stay_readable(trail: Trail) -> None:
    first, second = StoreKeyStore(trail.store, MASTER), StoreKeyStore(trail.store, MASTER)
    tag = uuid.uuid4().hex[:8]
    rows = plain_rows(tag)
    # Two consumers see the same subjects at once (rows alternate): each makes its own keys.
    sealed = [RowSealer((first, second)[i % 2]).seal(row) for i, row in enumerate(rows)]
    first.flush()
    second.flush()
    per_subject = trail.store.query(
        "SELECT subject_id, count() FROM subject_keys WHERE startsWith(subject_id, {t:String}) "
        "GROUP BY subject_id",
        {"t": f"{tag}-"},
    )
    assert any(count == 2 for _subject, count in per_subject)
    topic = str(rows[0][INDEX["kafka_topic"]])
    linked, _ = link(sealed, ChainHead.start(topic, 0))
    trail.store.insert_trail(linked, f"{topic}:0:all")
    opened = RowOpener(StoreKeyStore(trail.store, MASTER)).open_all(read_back(trail, topic))
    assert [without_hashes(r) for r in opened] == [as_dict(r) for r in rows]


@dataclass
class Erased:
    topic: str
    subject: str
    rows: list[Row]
    destroyed: int
    gone: list[str]  # the destroyed wrapped keys
    kept: list[str]  # the subject's billing keys


@pytest.fixture(scope="module")
def erased(trail: Trail) -> Erased:
    """A day of rows stored, then one subject (actor and payer) erased."""
    keys = StoreKeyStore(trail.store, MASTER)
    rows = plain_rows(uuid.uuid4().hex[:8])
    topic = store_rows(trail, keys, rows)
    paid = next(r for r in rows if r[INDEX["payer_name"]] and r[INDEX["network_ip"]])
    subject = str(paid[INDEX["actor_id"]])
    assert subject == paid[INDEX["payer_id"]]
    gone = wrapped_keys(trail, subject, "personal")
    kept = wrapped_keys(trail, subject, "billing")
    assert gone and kept
    # The check below can see key bytes on disk: before the erasure it finds them.
    assert files_holding(trail.path, gone[0])
    old = keys.key_for(subject, "personal").key_id
    assert keys.key_by_id(old)  # cached in this instance
    destroyed = keys.destroy(subject, ["personal"])
    # The instance that destroyed it keeps no copy, and makes a new key from now on.
    assert keys.key_by_id(old) is None
    assert keys.key_for(subject, "personal").key_id != old
    record_erasure(trail.store, subject, ["personal"], destroyed, "test erasure")
    return Erased(topic, subject, rows, destroyed, gone, kept)


def check_erased(trail: Trail, erased: Erased) -> None:
    opened = RowOpener(StoreKeyStore(trail.store, MASTER)).open_all(read_back(trail, erased.topic))
    seen_erased = seen_billing = 0
    for original, row in zip(erased.rows, opened, strict=True):
        plain = as_dict(original)
        for name in PERSONAL:
            expected = plain[name]
            if name in NETWORK and plain["actor_id"] == erased.subject and expected is not None:
                expected = ERASED
                seen_erased += 1
            elif name in BILLING and plain["payer_id"] == erased.subject and expected:
                seen_billing += 1
            assert row[name] == expected, (plain["event_type"], name)
        assert without_hashes({**row, **dict.fromkeys(PERSONAL)}) == {
            **plain,
            **dict.fromkeys(PERSONAL),
        }
    assert seen_erased and seen_billing
    # The key table no longer holds the destroyed wrapped keys, in any column.
    everything = repr(trail.store.query("SELECT * FROM subject_keys"))
    assert not [w for w in erased.gone if w in everything]
    assert all(w in everything for w in erased.kept)
    assert wrapped_keys(trail, erased.subject, "personal") == []
    # Nor does any file of the store: the replaced table parts are removed too.
    for wrapped in erased.gone:
        assert files_holding(trail.path, wrapped) == []
    # Rows and hash chain are untouched.
    assert verify(trail.store, [erased.topic]).ok


def test_erasing_a_subject_destroys_personal_keys_keeps_billing_and_others(
    trail: Trail, erased: Erased
) -> None:
    assert erased.destroyed == len(erased.gone) == 1
    check_erased(trail, erased)
    assert [e.keys_destroyed for e in erasures_of(trail.store, erased.subject)] == [1]
    # Erasing again finds nothing more to destroy.
    assert StoreKeyStore(trail.store, MASTER).destroy(erased.subject, ["personal"]) == 0


def test_other_processes_see_the_erasure_after_reload(trail: Trail) -> None:
    writer, reader = StoreKeyStore(trail.store, MASTER), StoreKeyStore(trail.store, MASTER)
    tag = uuid.uuid4().hex[:8]
    key = writer.key_for(f"{tag}-a", "personal")
    neighbour = writer.key_for(f"{tag}-b", "personal")
    writer.flush()
    assert reader.key_by_id(key.key_id) == key.key  # now cached in the reader
    admin = StoreKeyStore(trail.store, MASTER)
    assert admin.destroy(f"{tag}-a", ["personal"]) == 1
    assert reader.key_by_id(key.key_id) == key.key  # stale until its cache expires...
    reader.reload()
    assert reader.key_by_id(key.key_id) is None  # ...or it reloads
    # Keys not yet flushed are destroyed by their own instance too, and never stored.
    late = writer.key_for(f"{tag}-c", "personal")
    assert writer.destroy(f"{tag}-c", ["personal"]) == 1
    writer.flush()
    assert writer.key_by_id(late.key_id) is None
    assert admin.key_by_id(neighbour.key_id) == neighbour.key


def test_an_erasure_waits_for_the_old_parts_or_says_it_has_not_finished(trail: Trail) -> None:
    keys = StoreKeyStore(trail.store, MASTER, erase_timeout_s=0)
    subject = f"{uuid.uuid4().hex[:8]}-impatient"
    keys.key_for(subject, "personal")
    keys.flush()
    wrapped = wrapped_keys(trail, subject, "personal")[0]
    # Right after the delete, the replaced part is still on disk (kept ~1 s).
    with pytest.raises(ErasureIncomplete) as caught:
        keys.destroy(subject, ["personal"])
    assert caught.value.keys_destroyed == 1
    assert wrapped_keys(trail, subject, "personal") == []
    # Calling again waits until it is gone.
    assert StoreKeyStore(trail.store, MASTER).destroy(subject, ["personal"]) == 0
    assert files_holding(trail.path, wrapped) == []


def test_the_erasure_holds_after_reopening_the_store(trail: Trail, erased: Erased) -> None:
    trail.reopen()
    check_erased(trail, erased)
    recorded = erasures_of(trail.store, erased.subject)
    assert [(e.purposes, e.note) for e in recorded] == [(("personal",), "test erasure")]
