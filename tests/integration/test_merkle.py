"""The Merkle tree on the embedded engine: proofs verify with the public key alone, and
every kind of tampering makes the affected proofs fail, naming the leaf, while untouched
events still prove (also after a retention cut and after an erasure).

Rows are linked and inserted as the consumer does; the checkpointer is the consumer's.
The tamperer uses ALTER TABLE ... UPDATE/DELETE and plain inserts, which ingest never issues.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ChainHead, EmbeddedStore, Row, link, verify
from ledger.columns import INDEX, ROW_COLUMNS
from ledger.erasure import erase_subject
from ledger.merkle import (
    Checkpointer,
    NoteSigner,
    ProofFailed,
    TreeUnavailable,
    check_bundle,
    prove_consistency,
    prove_event,
)
from ledger.merkle.audit import check_trees
from ledger.merkle.hashing import root_of
from ledger.merkle.tiles import leaf_of
from ledger.privacy import RowSealer, StoreKeyStore
from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 2, tzinfo=UTC)
ROWS = 600  # more than two tiles of 256 leaves, so tier-1 nodes are stored and used


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path_factory.mktemp("merkle") / "store", "audit")
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())


def ingest(
    store: EmbeddedStore, signer: NoteSigner, rows: list[Row], batch: int = 100
) -> list[Row]:
    """Link, insert and sign after every batch, as the consumer does."""
    first = rows[0]
    head = ChainHead.start(first[INDEX["kafka_topic"]], first[INDEX["kafka_partition"]])
    tree = Checkpointer(store, signer, "test")
    stored: list[Row] = []
    for start in range(0, len(rows), batch):
        linked, head = link(rows[start : start + batch], head)
        store.insert_trail(linked, f"{head.topic}:{head.partition}:{start}-{head.offset}")
        tree.sign_due([head], force=True)
        stored += linked
    return stored


def trail_of(store: EmbeddedStore, signer: NoteSigner, count: int = ROWS) -> tuple[str, list[Row]]:
    topic = f"test.merkle-{uuid.uuid4().hex[:8]}"
    events = islice(simulate(60, 7, DAY), count)
    return topic, ingest(store, signer, decoded_rows(events, topic, partition=2))


def proves(store: EmbeddedStore, signer: NoteSigner, row: Row, topic: str) -> list[str]:
    bundle = prove_event(store, str(row[INDEX["event_id"]]), [topic])
    return check_bundle(bundle, signer.verifier).lines


def fails(store: EmbeddedStore, signer: NoteSigner, row: Row, topic: str) -> str:
    with pytest.raises((ProofFailed, TreeUnavailable)) as failed:
        proves(store, signer, row, topic)
    return str(failed.value)


def tamper(store: EmbeddedStore, topic: str, sql: str, **values: Any) -> None:
    store.query(
        f"ALTER TABLE trail {sql} AND kafka_topic = {{topic:String}} SETTINGS mutations_sync = 2",
        {"topic": topic, **values},
    )


def test_every_leaf_proves_and_the_root_is_rfc6962_over_the_row_hashes(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, rows = trail_of(store, signer)
    for i in (0, 1, 255, 256, 257, 511, 512, ROWS - 1):
        (line,) = proves(store, signer, rows[i], topic)
        assert f"leaf {i} ({topic}[2] offset {i}) of {ROWS} leaves" in line
    expected = root_of([leaf_of(r[INDEX["row_hash"]]) for r in rows])
    (note,) = store.query(
        "SELECT note FROM merkle_checkpoints WHERE kafka_topic = {t:String} "
        "ORDER BY tree_size DESC LIMIT 1",
        {"t": topic},
    )[0]
    assert base64.b64encode(expected).decode() in note
    assert note.startswith(f"test/{topic}/2\n{ROWS}\n")
    tiles = store.query(
        "SELECT tier, node_index FROM merkle_tiles WHERE kafka_topic = {t:String} ORDER BY 2",
        {"t": topic},
    )
    assert tiles == [(1, 0), (1, 1)]


def test_consistency_between_checkpoints_and_a_tampered_proof_fails(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, _ = trail_of(store, signer)
    for old in (100, 200, 300, 500, ROWS):
        bundle = prove_consistency(store, topic, 2, old, ROWS)
        assert check_bundle(bundle, signer.verifier).lines[0].startswith("ok:")
    bundle = prove_consistency(store, topic, 2, 300, ROWS)
    bundle["proof"][0] = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(ProofFailed, match="does not lead to the root"):
        check_bundle(bundle, signer.verifier)


def test_tampering_fails_the_affected_proofs_naming_the_leaf(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, rows = trail_of(store, signer)
    altered, deleted, swapped, forged_at, untouched = 10, 300, (400, 401), 500, 550
    tamper(store, topic, "UPDATE actor_id = 'mallory' WHERE kafka_offset = {o:UInt64}", o=altered)
    tamper(store, topic, "DELETE WHERE kafka_offset = {o:UInt64}", o=deleted)
    tamper(
        store,
        topic,
        "UPDATE kafka_offset = if(kafka_offset = {a:UInt64}, {b:UInt64}, {a:UInt64}) "
        "WHERE kafka_offset IN ({a:UInt64}, {b:UInt64})",
        a=swapped[0],
        b=swapped[1],
    )
    # A forged event at an existing offset, chained to the real row before it.
    fake = list(rows[forged_at][: len(ROW_COLUMNS)])
    fake[INDEX["event_id"]] = uuid.uuid4()
    head = ChainHead(topic, 2, forged_at - 1, rows[forged_at - 1][INDEX["row_hash"]])
    (forged,), _ = link([tuple(fake)], head)
    store.insert_trail([forged], "forged")

    assert f"leaf {altered} ({topic}[2] offset {altered})" in fails(
        store, signer, rows[altered], topic
    )
    assert "does not match its row_hash" in fails(store, signer, rows[altered], topic)
    assert "not in the trail" in fails(store, signer, rows[deleted], topic)
    for i in swapped:  # each row now claims the other's leaf, and its hash says otherwise
        failure = fails(store, signer, rows[i], topic)
        assert f"leaf {swapped[1 - swapped.index(i)]} " in failure
        assert "does not match its row_hash" in failure
    assert f"leaf {forged_at} " in fails(store, signer, forged, topic)
    # The real row at the forged offset, and rows nobody touched, still prove.
    for i in (0, forged_at, untouched, ROWS - 1):
        assert proves(store, signer, rows[i], topic)[0].startswith("ok:")

    report = verify(store, [topic])
    assert not report.ok
    assert report.first is not None and report.first.offset == altered


def test_untouched_events_prove_after_a_retention_cut_and_an_erasure(
    store: EmbeddedStore, signer: NoteSigner, tmp_path: Any
) -> None:
    keys = StoreKeyStore(store, b"k" * 32)
    topic = f"test.merkle-{uuid.uuid4().hex[:8]}"
    sealer = RowSealer(keys)
    rows = [sealer.seal(r) for r in decoded_rows(islice(simulate(60, 3, DAY), 400), topic, 1)]
    keys.flush()
    rows = ingest(store, signer, rows)
    # Retention: the oldest rows leave the trail; their links (and leaves) stay.
    tamper(store, topic, "DELETE WHERE kafka_offset < {o:UInt64}", o=150)
    assert "not in the trail" in fails(store, signer, rows[10], topic)
    subject = rows[200][INDEX["actor_id"]]
    erase_subject(store, keys, subject, settle_s=0, publisher=None)
    for i in (150, 200, 255, 256, 399):
        assert proves(store, signer, rows[i], topic)[0].startswith("ok:")


def test_a_restarted_checkpointer_continues_the_tree_and_refuses_a_changed_one(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, rows = trail_of(store, signer, 300)
    more = decoded_rows(islice(simulate(60, 7, DAY), 300, 380), topic, 2, first_offset=300)
    head = ChainHead(topic, 2, 299, rows[-1][INDEX["row_hash"]])
    linked, head = link(more, head)
    store.insert_trail(linked, "more")
    Checkpointer(store, signer, "test").sign_due([head], force=True)  # a new process
    expected = root_of([leaf_of(r[INDEX["row_hash"]]) for r in rows + linked])
    assert "ok:" in proves(store, signer, linked[-1], topic)[0]
    (root,) = store.query(
        "SELECT root_hash FROM merkle_checkpoints WHERE kafka_topic = {t:String} "
        "ORDER BY tree_size DESC LIMIT 1",
        {"t": topic},
    )[0]
    assert root == expected.hex()
    # Someone rewrites a link (the chain's skeleton) behind the consumer's back.
    store.query(
        "ALTER TABLE trail_links UPDATE row_hash = {h:String} WHERE kafka_topic = {t:String} "
        "AND kafka_offset = 300 SETTINGS mutations_sync = 2",
        {"t": topic, "h": "ab" * 32},
    )
    with pytest.raises(TreeUnavailable, match="no longer give the root"):
        Checkpointer(store, signer, "test").sign_due([head], force=True)


def test_a_bundle_checked_with_another_key_or_a_changed_checkpoint_fails(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, rows = trail_of(store, signer, 40)
    bundle = prove_event(store, str(rows[7][INDEX["event_id"]]), [topic])
    other = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(ProofFailed, match=f"not signed by test.audit-trail\\+{other.key_id.hex()}"):
        check_bundle(bundle, other)
    entry = bundle["entries"][0]
    entry["checkpoint"] = entry["checkpoint"].replace("\n40\n", "\n41\n")
    with pytest.raises(ProofFailed, match=r"signature .* is wrong"):
        check_bundle(bundle, signer.verifier)


def test_a_bundle_names_its_rows_hash_format_and_a_flipped_one_fails(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, rows = trail_of(store, signer, 20)
    bundle = prove_event(store, str(rows[3][INDEX["event_id"]]), [topic])
    assert bundle["entries"][0]["row"]["chain_version"] == 2
    assert check_bundle(copy.deepcopy(bundle), signer.verifier).lines[0].startswith("ok:")
    for flipped in (1, None, 9):  # v1, a bundle from before versions (v1), no such form
        changed = copy.deepcopy(bundle)
        changed["entries"][0]["row"]["chain_version"] = flipped
        with pytest.raises(ProofFailed, match=r"row_hash|cannot be hashed"):
            check_bundle(changed, signer.verifier)


def test_verify_names_the_tile_whose_leaves_changed_after_signing(
    store: EmbeddedStore, signer: NoteSigner
) -> None:
    topic, _ = trail_of(store, signer)
    (clean,) = check_trees(store, [topic])
    assert clean.problem is None and clean.size == ROWS
    store.query(
        "ALTER TABLE trail_links UPDATE row_hash = {h:String} WHERE kafka_topic = {t:String} "
        "AND kafka_offset = 300 SETTINGS mutations_sync = 2",
        {"t": topic, "h": "cd" * 32},
    )
    (changed,) = check_trees(store, [topic])
    assert changed.problem is not None
    assert "leaves 256..511 (offsets 256..511) no longer give the stored tile 1" in changed.problem
