"""Signed erasure records in the trail, on the real broker and chDB: `erase` publishes
the record on the erasures topic, the consumer appends it as a leaf of its own chain,
`prove` proves it, `verify` checks its signature and that its keys are gone; a record is
never lost or doubled when `erase` is stopped midway or run twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit_trail.stack import TopicLayout
from consumers import ErasureFeed, KafkaErasurePublisher
from consumers.erasure_records import ErasureRecordAppender
from ledger import EmbeddedStore, verify
from ledger.erasure import BILLING_BASIS, RecordSigning, erase_subject
from ledger.erasure_audit import check_erasure_records
from ledger.erasure_record import ErasureRecord, SignedRecord, subject_ref
from ledger.merkle import Checkpointer, NoteSigner, ProofFailed, check_bundle, prove_event
from ledger.merkle.audit import check_trees
from ledger.privacy import ErasureNotice, StoreKeyStore
from tests.support.ingest import fill, service

pytestmark = pytest.mark.integration
MASTER = b"m" * 32


def _consume(
    bootstrap: str,
    topics: TopicLayout,
    store: EmbeddedStore,
    keys: StoreKeyStore,
    signer: NoteSigner,
) -> None:
    """One consumer run to the end of the topics, as `consume` wires it."""
    with ErasureFeed(bootstrap, topics.erasures) as feed:
        records = ErasureRecordAppender(store, topics.erasures, feed, lambda: datetime.now(UTC))
        tree = Checkpointer(store, signer, "test.audit-trail")
        service(
            bootstrap, topics, store, keys=keys, erasures=feed, tree=tree, erasure_records=records
        ).run(until_idle=True)


def _records(store: EmbeddedStore, topics: TopicLayout) -> list[tuple[int, str, str]]:
    rows = store.query(
        "SELECT kafka_offset, toString(event_id), reason FROM trail "
        "WHERE kafka_topic = {t:String} ORDER BY kafka_offset",
        {"t": topics.erasures},
    )
    return [(int(o), str(e), str(r)) for o, e, r in rows]


def _a_client(store: EmbeddedStore) -> str:
    rows = store.query(
        "SELECT actor_id FROM trail WHERE actor_role = 'client' AND network_ip IS NOT NULL "
        "ORDER BY actor_id LIMIT 1"
    )
    return str(rows[0][0])


def test_an_erasure_is_a_signed_provable_leaf_recorded_once(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    fill(kafka_bootstrap, topics, sessions=12, seed=21)
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    keys = StoreKeyStore(store, MASTER)
    signer = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    signing = RecordSigning(signer, MASTER)
    try:
        _consume(kafka_bootstrap, topics, store, keys, signer)
        subject = _a_client(store)
        key_ids = keys.key_ids(subject, ["personal"])
        assert key_ids, "the subject's personal data was sealed under keys"

        # An `erase` stopped after publishing, before destroying any key.
        publisher = KafkaErasurePublisher(kafka_bootstrap, topics.erasures)
        try:
            at = datetime.now(UTC)
            ref = subject_ref(MASTER, subject)
            early = SignedRecord.sign(
                ErasureRecord.new(ref, at, ["personal"], key_ids, BILLING_BASIS), signer
            )
            publisher.publish(ErasureNotice.for_purposes(subject, ["personal"], at), early)
            _consume(kafka_bootstrap, topics, store, keys, signer)
            (unfinished,) = check_erasure_records(store, topics.erasures, signer.verifier)
            assert unfinished.problem is not None and "erase" in unfinished.problem

            # Run again: it finishes the erasure under the same record.
            report = erase_subject(
                store, keys, subject, settle_s=0.0, publisher=publisher, signing=signing
            )
            assert report.record_id == str(early.record.event_id)
            # And once more: already erased, nothing new to record.
            again = erase_subject(
                store, keys, subject, settle_s=0.0, publisher=publisher, signing=signing
            )
            assert again.record_id is None
        finally:
            publisher.close()
        _consume(kafka_bootstrap, topics, store, keys, signer)
        _consume(kafka_bootstrap, topics, store, keys, signer)  # a restart appends nothing

        records = _records(store, topics)
        assert [(o, e) for o, e, _ in records] == [(0, str(early.record.event_id))]
        note = records[0][2]
        assert subject not in note, "no subject id in clear in the record"
        assert ref in note and all(k in note for k in key_ids)
        assert "billing-kept payer_name and payer_email" in note

        (checked,) = check_erasure_records(store, topics.erasures, signer.verifier)
        assert checked.problem is None, checked
        bundle = prove_event(store, records[0][1], [topics.erasures])
        (entry,) = bundle["entries"]
        assert entry["leaf_index"] == 0 and entry["topic"] == topics.erasures
        assert check_bundle(bundle, signer.verifier).lines[0].startswith("ok")

        all_topics = [topics.session, topics.transaction, topics.erasures]
        assert verify(store, all_topics).ok
        assert all(t.problem is None for t in check_trees(store, all_topics))
    finally:
        store.close()


def test_verify_names_a_record_whose_signature_or_content_was_changed(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    keys = StoreKeyStore(store, MASTER)
    signer = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    other = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    try:
        publisher = KafkaErasurePublisher(kafka_bootstrap, topics.erasures)
        try:
            for who, by in (("client-00001", signer), ("client-00002", other)):
                erase_subject(
                    store, keys, who, settle_s=0.0, publisher=publisher,
                    signing=RecordSigning(by, MASTER),
                )  # fmt: skip
        finally:
            publisher.close()
        _consume(kafka_bootstrap, topics, store, keys, signer)
        good, forged = check_erasure_records(store, topics.erasures, signer.verifier)
        assert good.problem is None
        # Another key's record is not failed (a rebuilt store has its own key) but named.
        assert forged.problem is None
        assert forged.unchecked is not None and forged.unchecked.startswith("signed by test.")
        assert "not checked here" in str(forged)
        # Its proof is a valid path to a signed root, but the record itself is not ours.
        bundle = prove_event(store, forged.event_id, [topics.erasures])
        with pytest.raises(ProofFailed, match=r"leaf 1 .*erasure record does not check out"):
            check_bundle(bundle, signer.verifier)
        assert check_bundle(prove_event(store, good.event_id, [topics.erasures]), signer.verifier)
    finally:
        store.close()


def test_a_forged_or_garbled_record_on_the_topic_stops_the_consumer_naming_it(
    kafka_bootstrap: str, topics: TopicLayout
) -> None:
    from kafka import KafkaProducer

    from ledger.privacy import ErasureFeedFailed

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        producer.send(topics.erasures, key=b"record:not-an-id", value=b"audit-trail erasure/1\n")
        producer.flush(timeout=30)
    finally:
        producer.close()
    with pytest.raises(ErasureFeedFailed, match=r"\[\d+\]@0 is not an erasure record"):
        ErasureFeed(kafka_bootstrap, topics.erasures)
