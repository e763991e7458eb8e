"""The erasure record's text, signature, identity and the keyed subject hash; the
shared secret files (0600, never overwritten) and their base64 decoding."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.erasure_record import (
    BadErasureRecord,
    ErasureRecord,
    SignedRecord,
    open_record,
    record_row,
    subject_ref,
)
from ledger.merkle import BadSigningKey, NoteSigner, ProofFailed, signer_from
from ledger.privacy import BadMasterKey, master_key_from
from ledger.secret_files import create_secret_file, decode_secret

AT = datetime(2026, 11, 26, 3, 40, tzinfo=UTC)
SIGNER = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())


def _record(keys: tuple[str, ...] = ("kb", "ka"), at: datetime = AT) -> ErasureRecord:
    return ErasureRecord.new(subject_ref(b"m" * 32, "client-00042"), at, ["personal"], keys, "why")


def test_the_record_round_trips_signed_and_names_no_one() -> None:
    signed = SignedRecord.sign(_record(), SIGNER)
    assert "client-00042" not in signed.note
    assert open_record(signed.note, SIGNER.verifier) == _record()
    assert _record().key_ids == ("ka", "kb")  # sorted: the same keys, the same record
    assert SignedRecord.from_kafka(signed.key(), signed.value()) == signed


def test_a_retry_is_the_same_record_and_another_erasure_is_not() -> None:
    later = _record(at=AT + timedelta(minutes=5))
    assert later.event_id == _record().event_id  # erase killed, run again
    assert _record(("kc",)).event_id != _record().event_id  # new data, new keys
    assert _record(()).event_id != _record().event_id


def test_the_subject_hash_is_keyed() -> None:
    one, other = subject_ref(b"m" * 32, "client-00042"), subject_ref(b"n" * 32, "client-00042")
    assert one != other and one.startswith("hmac-sha256:")
    assert subject_ref(b"m" * 32, "client-00043") != one


def test_a_changed_or_foreign_record_does_not_open() -> None:
    note = SignedRecord.sign(_record(), SIGNER).note
    with pytest.raises(ProofFailed, match="wrong"):
        open_record(note.replace("keys-destroyed ka kb", "keys-destroyed ka"), SIGNER.verifier)
    stranger = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    with pytest.raises(ProofFailed, match="not signed by"):
        open_record(SignedRecord.sign(_record(), stranger).note, SIGNER.verifier)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello\n",
        "audit-trail erasure/1\nsubject client-00042\n",
        SignedRecord.sign(_record(), SIGNER).note.replace("erased-at 2026", "erased-at 20x6"),
        _record().text() + "extra line\n",
    ],
)
def test_what_is_not_a_record_is_one_clear_error(text: str) -> None:
    with pytest.raises(BadErasureRecord):
        ErasureRecord.parse(text)


def test_kafka_records_are_checked_against_their_key() -> None:
    signed = SignedRecord.sign(_record(), SIGNER)
    with pytest.raises(BadErasureRecord, match="does not match"):
        SignedRecord.from_kafka(b"record:" + b"0" * 36, signed.value())
    for value in (None, b"\xff\xfe", b"x" * 20_000):
        with pytest.raises(BadErasureRecord):
            SignedRecord.from_kafka(signed.key(), value)


def test_bad_field_values_are_refused() -> None:
    with pytest.raises(BadErasureRecord):
        ErasureRecord.new("client-00042", AT, ["personal"], [], "")  # a raw id
    with pytest.raises(BadErasureRecord):
        ErasureRecord.new(subject_ref(b"m" * 32, "x"), AT, ["personal"], ["a b"], "")
    with pytest.raises(BadErasureRecord):
        ErasureRecord.new(subject_ref(b"m" * 32, "x"), AT, ["personal"], [], "two\nlines")


def test_the_row_carries_the_signed_note_and_no_session() -> None:
    signed = SignedRecord.sign(_record(), SIGNER)
    row = record_row(signed, "audit.erasures", 0, 7, AT)
    assert signed.note in row and signed.record.event_id in row and 7 in row


def test_secret_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "k.key"
    create_secret_file(path, b"first", "the test key", BadMasterKey)
    create_secret_file(path, b"second", "the test key", BadMasterKey)
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_both_keys_decode_alike_and_say_which_key_is_wrong(tmp_path: Path) -> None:
    raw = bytes(range(32))
    for text in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert decode_secret(text, "k", BadMasterKey) == raw
        assert master_key_from(text, tmp_path / "s") == raw
    with pytest.raises(BadMasterKey, match="master key setting is not base64"):
        master_key_from("not base64!", tmp_path / "s")
    with pytest.raises(BadSigningKey, match=r"checkpoint signing key .* 5 bytes, not 32"):
        signer_from(base64.b64encode(b"short").decode(), tmp_path / "s", "n")
    signer_from(None, tmp_path / "store", "n")
    key_file = tmp_path / "store.checkpoint.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
