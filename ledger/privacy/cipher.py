"""AES-256-GCM for single personal values and for data keys wrapped under a master key.

A sealed value is text, so it fits the trail's ``Nullable(String)`` columns unchanged:

    enc:v1:<key_id>:<base64url(nonce12 || ciphertext+tag16)>   (base64url unpadded)

It names its data key, so a subject may have many keys (one per consumer process, see
``keys``) and erasing the subject destroys all of them. The AAD binds the ciphertext to
its row and column (``aad_for``): a value copied to another row or column does not
open. Every call draws a fresh random 96-bit nonce; at one key per subject and process,
the GCM limit of 2**32 messages per random-nonce key is far away.

Wrapped data keys use the same construction under the master key, ``wk:v1:<base64url>``,
with an AAD naming the key's subject, purpose and id, so a key row moved to another
subject does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.privacy.errors import (
    BadMasterKey,
    KeyUnavailable,
    KeyUnwrapFailed,
    SealedValueCorrupt,
)
from schemas import InvalidInput

PREFIX = "enc:v1:"
WRAP_PREFIX = "wk:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")

KeyLookup = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Sealed:
    """A parsed sealed value: the id of its data key and nonce || ciphertext+tag."""

    key_id: str
    blob: bytes


def aad_for(event_id: object, column: str) -> bytes:
    """The AAD of a trail value: its row's event_id (a UUID) and its column name."""
    return f"{event_id}|{column}".encode()


def is_sealed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(key: bytes, key_id: str, plaintext: str, aad: bytes) -> str:
    """``plaintext`` encrypted under ``key`` as the stored text ``enc:v1:<key_id>:...``."""
    return ValueSealer(key_id, key).seal(plaintext, aad)


class _NoncePool:
    """Random nonces read from the OS in blocks: one ``os.urandom`` call per 256 nonces.

    The call, not the randomness, was a third of sealing's cost (four values per row).
    ``list.pop`` is atomic under the GIL, so no nonce is handed out twice, even across
    threads; a forked child starts empty, so a parent's nonces never reappear in it.
    """

    def __init__(self, per_block: int = 256) -> None:
        self._per_block = per_block
        self._ready: list[bytes] = []

    def reset(self) -> None:
        self._ready = []

    def take(self) -> bytes:
        try:
            return self._ready.pop()
        except IndexError:
            block = os.urandom(self._per_block * NONCE_BYTES)
            self._ready = [block[i : i + NONCE_BYTES] for i in range(0, len(block), NONCE_BYTES)]
            return self._ready.pop()


_NONCES = _NoncePool()
os.register_at_fork(after_in_child=_NONCES.reset)


class ValueSealer:
    """Seals values under one data key; its id is checked and the prefix built once."""

    __slots__ = ("_encrypt", "_prefix")

    def __init__(self, key_id: str, key: bytes) -> None:
        if not KEY_ID.match(key_id):
            raise InvalidInput(f"key id {key_id!r}: use 1-64 of A-Z a-z 0-9 _ -")
        _check_key(key, "data key")
        self._encrypt = AESGCM(key).encrypt
        self._prefix = f"{PREFIX}{key_id}:"

    def seal(self, plaintext: str, aad: bytes) -> str:
        nonce = _NONCES.take()
        return self._prefix + _encode(nonce + self._encrypt(nonce, plaintext.encode(), aad))


def parse_sealed(text: str) -> Sealed:
    """The key id and bytes of a sealed value; ``SealedValueCorrupt`` if it is malformed."""
    if not is_sealed(text):
        raise SealedValueCorrupt(f"not a sealed value (no {PREFIX!r} prefix)")
    key_id, sep, body = text[len(PREFIX) :].partition(":")
    if not sep or not KEY_ID.match(key_id):
        raise SealedValueCorrupt("sealed value without a valid key id")
    blob = _decode(body, "sealed value")
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise SealedValueCorrupt(f"sealed value of {len(blob)} bytes is too short")
    return Sealed(key_id, blob)


def open_sealed(text: str, key_lookup: KeyLookup, aad: bytes) -> str:
    """The plaintext of a sealed value, its key found by id through ``key_lookup``.

    ``KeyUnavailable`` when the lookup has no key (destroyed or unknown),
    ``SealedValueCorrupt`` when the text is malformed or does not authenticate.
    """
    sealed = parse_sealed(text)
    key = key_lookup(sealed.key_id)
    if key is None:
        raise KeyUnavailable(sealed.key_id)
    return open_parsed(sealed, key, aad)


def open_parsed(sealed: Sealed, key: bytes, aad: bytes) -> str:
    _check_key(key, "data key")
    nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    try:
        plain = AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise SealedValueCorrupt(
            f"sealed value under key {sealed.key_id!r} does not authenticate: wrong key, "
            "tampered text, or a value moved to another row or column"
        ) from exc
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SealedValueCorrupt(f"sealed value under {sealed.key_id!r} is not UTF-8") from exc


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def wrap_key(master: bytes, data_key: bytes, aad: bytes) -> str:
    """``data_key`` encrypted under the master key, as text for the key table."""
    _check_key(master, "master key")
    _check_key(data_key, "data key")
    nonce = os.urandom(NONCE_BYTES)
    return WRAP_PREFIX + _encode(nonce + AESGCM(master).encrypt(nonce, data_key, aad))


def unwrap_key(master: bytes, wrapped: str, aad: bytes) -> bytes:
    """The data key in ``wrapped``; ``KeyUnwrapFailed`` for another master key or tampering."""
    _check_key(master, "master key")
    if not wrapped.startswith(WRAP_PREFIX):
        raise KeyUnwrapFailed(f"wrapped key without the {WRAP_PREFIX!r} prefix")
    try:
        blob = _decode(wrapped[len(WRAP_PREFIX) :], "wrapped key")
    except SealedValueCorrupt as exc:
        raise KeyUnwrapFailed(str(exc)) from exc
    try:
        key = AESGCM(master).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise KeyUnwrapFailed(
            "a stored data key does not unwrap: is this the master key the keys were "
            "created with? (or the key row was tampered with)"
        ) from exc
    if len(key) != KEY_BYTES:
        raise KeyUnwrapFailed(f"unwrapped data key has {len(key)} bytes, not {KEY_BYTES}")
    return key


def check_master_key(key: bytes) -> None:
    _check_key(key, "master key")


def _check_key(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        error = BadMasterKey if what == "master key" else InvalidInput
        raise error(f"{what} must be {KEY_BYTES} bytes (AES-256), got {len(key)}")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _encode(blob: bytes) -> str:
    # base64.urlsafe_b64encode, minus two Python call layers (it runs for every value).
    return binascii.b2a_base64(blob, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _decode(text: str, what: str) -> bytes:
    # urlsafe_b64decode skips characters outside the alphabet: check them first.
    if not _B64URL.match(text):
        raise SealedValueCorrupt(f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SealedValueCorrupt(f"{what} is not base64url: {exc}") from exc
