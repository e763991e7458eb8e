"""AES-256-GCM sealing of single values and wrapping of data keys, without a store."""

from __future__ import annotations

import base64
import os
import stat
import uuid
from pathlib import Path

import pytest

from ledger.privacy import (
    BadMasterKey,
    KeyUnavailable,
    KeyUnwrapFailed,
    SealedValueCorrupt,
    aad_for,
    is_sealed,
    master_key_from,
    open_sealed,
    seal,
    unwrap_key,
    wrap_key,
)
from ledger.privacy.cipher import (
    _NONCES,
    NONCE_BYTES,
    TAG_BYTES,
    ValueSealer,
    _encode,
    _NoncePool,
    new_data_key,
    parse_sealed,
)
from schemas import InvalidInput

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
EVENT = uuid.UUID("0b7e4d8e-6a4f-4c55-9a55-3f1d2c3b4a59")
AAD = aad_for(EVENT, "network_ip")


def test_round_trip() -> None:
    for text in ("198.51.100.21", "", "Ærøskøbing — 東京 ✓", "x" * 10_000):
        sealed = seal(KEY, "0123456789abcdef", text, AAD)
        assert text not in sealed or text == ""
        assert open_sealed(sealed, lambda key_id: KEY, AAD) == text


def test_each_seal_uses_a_fresh_nonce() -> None:
    first, second = (seal(KEY, "k1", "same", AAD) for _ in range(2))
    assert first != second
    assert parse_sealed(first).blob[:NONCE_BYTES] != parse_sealed(second).blob[:NONCE_BYTES]


def test_the_nonce_pool_never_repeats_across_blocks() -> None:
    pool = _NoncePool(per_block=8)
    nonces = [pool.take() for _ in range(8 * 50 + 3)]
    assert all(len(n) == NONCE_BYTES for n in nonces)
    assert len(set(nonces)) == len(nonces)


def test_a_forked_child_does_not_reuse_the_parents_buffered_nonces() -> None:
    _NONCES.take()  # the parent now holds a block of unused nonces
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, _NONCES.take())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    from_child = os.read(read, NONCE_BYTES)
    os.close(read)
    assert len(from_child) == NONCE_BYTES
    assert from_child != _NONCES.take()


def test_value_sealer_writes_what_seal_writes() -> None:
    sealer = ValueSealer("k-1", KEY)
    sealed = sealer.seal("203.0.113.9", AAD)
    assert sealed.startswith("enc:v1:k-1:")
    assert open_sealed(sealed, lambda key_id: KEY if key_id == "k-1" else None, AAD) == (
        "203.0.113.9"
    )
    with pytest.raises(InvalidInput):
        ValueSealer("bad id", KEY)


def test_the_body_is_unpadded_base64url_on_exact_bytes() -> None:
    for blob in (b"", b"\xfb\xff", b"\xfb\xff\xbf", bytes(range(256)), os.urandom(45)):
        expected = base64.urlsafe_b64encode(blob).rstrip(b"=").decode()
        assert _encode(blob) == expected
    assert _encode(b"\xfb\xff\xbf") == "-_-_"


def test_format_names_version_key_and_urlsafe_body() -> None:
    sealed = seal(KEY, "0123456789abcdef", "Oslo", AAD)
    prefix, version, key_id, body = sealed.split(":")
    assert (prefix, version, key_id) == ("enc", "v1", "0123456789abcdef")
    assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(blob) == NONCE_BYTES + len(b"Oslo") + TAG_BYTES
    parsed = parse_sealed(sealed)
    assert parsed.key_id == "0123456789abcdef" and parsed.blob == blob
    assert is_sealed(sealed) and not is_sealed("Oslo") and not is_sealed(None)


def test_the_lookup_gets_the_key_id_of_the_value() -> None:
    asked: list[str] = []

    def find(key_id: str) -> bytes:
        asked.append(key_id)
        return KEY

    open_sealed(seal(KEY, "abc_DEF-1", "v", AAD), find, AAD)
    assert asked == ["abc_DEF-1"]


def test_aad_mismatch_fails() -> None:
    sealed = seal(KEY, "k1", "198.51.100.21", AAD)
    other_column = aad_for(EVENT, "network_city")
    other_row = aad_for(uuid.uuid4(), "network_ip")
    for aad in (other_column, other_row, b""):
        with pytest.raises(SealedValueCorrupt, match="does not authenticate"):
            open_sealed(sealed, lambda key_id: KEY, aad)


def test_wrong_key_fails() -> None:
    sealed = seal(KEY, "k1", "198.51.100.21", AAD)
    with pytest.raises(SealedValueCorrupt, match="does not authenticate"):
        open_sealed(sealed, lambda key_id: OTHER, AAD)


def test_missing_key_is_key_unavailable() -> None:
    sealed = seal(KEY, "k1", "198.51.100.21", AAD)
    with pytest.raises(KeyUnavailable) as caught:
        open_sealed(sealed, lambda key_id: None, AAD)
    assert caught.value.key_id == "k1"


def test_tampering_fails() -> None:
    sealed = seal(KEY, "k1", "198.51.100.21", AAD)
    blob = parse_sealed(sealed).blob
    for i in (0, NONCE_BYTES + 2, len(blob) - 1):  # nonce, ciphertext, tag
        flipped = blob[:i] + bytes([blob[i] ^ 0x01]) + blob[i + 1 :]
        body = base64.urlsafe_b64encode(flipped).decode().rstrip("=")
        with pytest.raises(SealedValueCorrupt, match="does not authenticate"):
            open_sealed(f"enc:v1:k1:{body}", lambda key_id: KEY, AAD)
    with pytest.raises(SealedValueCorrupt):  # cut short
        open_sealed(sealed[:-4], lambda key_id: KEY, AAD)
    # Naming another key id just means opening with a wrong key.
    with pytest.raises(SealedValueCorrupt):
        open_sealed(sealed.replace(":k1:", ":k2:"), lambda key_id: {"k2": OTHER}[key_id], AAD)


@pytest.mark.parametrize(
    "text",
    [
        "198.51.100.21",
        "enc:v1:",
        "enc:v1:k1",
        "enc:v1::AAAA",
        "enc:v1:k1:",
        "enc:v1:k1:not base64!",
        "enc:v1:k1:" + base64.urlsafe_b64encode(b"short").decode().rstrip("="),
        "enc:v1:bad.id:" + "A" * 40,
        "enc:v2:k1:" + "A" * 40,
    ],
)
def test_malformed_values_are_refused(text: str) -> None:
    with pytest.raises(SealedValueCorrupt):
        open_sealed(text, lambda key_id: KEY, AAD)


def test_bad_keys_and_key_ids_are_refused_when_sealing() -> None:
    with pytest.raises(InvalidInput):
        seal(b"short", "k1", "v", AAD)
    with pytest.raises(InvalidInput):
        seal(KEY, "has:colon", "v", AAD)


def test_wrapping_round_trip() -> None:
    data_key = new_data_key()
    assert len(data_key) == 32
    wrapped = wrap_key(KEY, data_key, b"subject-key|client-1|personal|k1")
    assert wrapped.startswith("wk:v1:")
    assert base64.urlsafe_b64encode(data_key).decode().rstrip("=") not in wrapped
    assert unwrap_key(KEY, wrapped, b"subject-key|client-1|personal|k1") == data_key


def test_unwrapping_with_another_master_key_or_binding_fails() -> None:
    wrapped = wrap_key(KEY, new_data_key(), b"subject-key|client-1|personal|k1")
    with pytest.raises(KeyUnwrapFailed, match="master key"):
        unwrap_key(OTHER, wrapped, b"subject-key|client-1|personal|k1")
    with pytest.raises(KeyUnwrapFailed):
        unwrap_key(KEY, wrapped, b"subject-key|client-2|personal|k1")
    with pytest.raises(KeyUnwrapFailed):
        unwrap_key(KEY, "wk:v1:!!", b"")
    with pytest.raises(BadMasterKey):
        wrap_key(b"short", new_data_key(), b"")


def test_master_key_from_setting() -> None:
    key = os.urandom(32)
    assert master_key_from(base64.b64encode(key).decode(), Path("/nonexistent")) == key
    urlsafe = base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert master_key_from(f" {urlsafe}\n", Path("/nonexistent")) == key
    for bad in ("not base64 at all!", base64.b64encode(b"16 bytes only...").decode()):
        with pytest.raises(BadMasterKey):
            master_key_from(bad, Path("/nonexistent"))


def test_master_key_file_is_created_private_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = master_key_from(None, data_dir)
    path = tmp_path / "data.master.key"  # beside the store directory, never inside
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert master_key_from("", data_dir) == key  # an empty setting means "not set"
    assert [p.name for p in tmp_path.iterdir()] == ["data.master.key"]  # no temp file left
    path.write_bytes(b"truncated")
    with pytest.raises(BadMasterKey, match="9 bytes"):
        master_key_from(None, data_dir)


def test_a_key_inside_the_store_directory_is_moved_out_or_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    old = data_dir / "master.key"
    old.write_bytes(b"o" * 32)
    assert master_key_from(None, data_dir) == b"o" * 32
    assert not old.exists() and (tmp_path / "store.master.key").read_bytes() == b"o" * 32
    old.write_bytes(b"o" * 32)  # the same key restored from a backup: dropped
    assert master_key_from(None, data_dir) == b"o" * 32 and not old.exists()
    old.write_bytes(b"x" * 32)
    with pytest.raises(BadMasterKey, match="two different master keys"):
        master_key_from(None, data_dir)
    assert old.read_bytes() == b"x" * 32, "neither key is touched"
