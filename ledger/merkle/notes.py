"""Signed checkpoints in the C2SP signed-note and tlog-checkpoint text formats.

A checkpoint is the note text::

    <origin>\\n<tree size>\\n<base64 root hash>\\n[extension lines]

followed by a blank line and one signature line per key, ``— <key name> <base64(key id ||
Ed25519 signature)>``. The key id is the first 4 bytes of SHA-256(name || "\\n" || 0x01 ||
public key), as in Go's golang.org/x/mod/sumdb/note, whose verifier key string
``<name>+<key id hex>+<base64(0x01 || public key)>`` is what ``keys public`` prints.
Keys rotate by id: a verifier takes the signature whose id matches its key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.merkle.errors import BadBundle, ProofFailed

ALG_ED25519 = b"\x01"
DASH = "\u2014"
_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")
_SIGNATURE = re.compile(rf"^{DASH} (\S+) ([A-Za-z0-9+/=]+)$")


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


def check_name(name: str) -> str:
    if not _NAME.match(name) or "+" in name:
        raise BadBundle(f"key name {name!r}: use 1-100 of A-Z a-z 0-9 . _ / -")
    return name


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    key_id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        """A verifier key string ``name+hexid+base64key``."""
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise BadBundle("a public key looks like NAME+KEYID+BASE64 (from `keys public`)")
        name, hex_id, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
            key_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise BadBundle(f"public key {text.strip()!r} is not NAME+KEYID+BASE64") from exc
        if len(raw) != 33 or raw[:1] != ALG_ED25519 or len(key_id) != 4:
            raise BadBundle("the public key is not an Ed25519 note key (0x01 + 32 bytes)")
        if _key_id(check_name(name), raw[1:]) != key_id:
            raise BadBundle(f"public key {name}: key id {hex_id} does not match the key")
        return cls(name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def __str__(self) -> str:
        raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ALG_ED25519 + raw).decode()}"

    def open(self, note: str) -> str:
        """The note's text if one of its signatures is this key's; ProofFailed if not."""
        text, sep, signatures = note.partition("\n\n")
        if not sep or not text:
            raise ProofFailed("the checkpoint is not a signed note (text, blank line, signatures)")
        ids = []
        for line in signatures.splitlines():
            match = _SIGNATURE.match(line)
            if match is None:
                raise ProofFailed(f"the checkpoint has a malformed signature line {line!r}")
            try:
                raw = base64.b64decode(match[2], validate=True)
            except binascii.Error as exc:
                raise ProofFailed("a checkpoint signature is not base64") from exc
            ids.append(f"{match[1]}+{raw[:4].hex()}")
            if match[1] != self.name or raw[:4] != self.key_id:
                continue
            try:
                self.public.verify(raw[4:], (text + "\n").encode())
            except InvalidSignature as exc:
                raise ProofFailed(
                    f"the checkpoint's signature by {self.name}+{self.key_id.hex()} is wrong: "
                    "the checkpoint text was changed or signed by another key"
                ) from exc
            return text + "\n"
        raise ProofFailed(
            f"the checkpoint is not signed by {self.name}+{self.key_id.hex()} "
            f"(signed by: {', '.join(ids) or 'nobody'})"
        )


@dataclass(frozen=True)
class NoteSigner:
    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> NoteVerifier:
        public = self.private.public_key()
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return NoteVerifier(self.name, _key_id(self.name, raw), public)

    def sign(self, text: str) -> str:
        if not text.endswith("\n") or "\n\n" in text:
            raise ValueError("note text ends with one newline and has no blank line")
        signature = self.verifier.key_id + self.private.sign(text.encode())
        return f"{text}\n{DASH} {self.name} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's text: which tree (origin), its size, its root, and our extensions:
    the Kafka offset of leaf 0 and when it was signed."""

    origin: str
    size: int
    root: bytes
    first_offset: int
    time: str  # ISO 8601 UTC, microseconds

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
            f"first-offset {self.first_offset}\ntime {self.time}\n"
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.rstrip("\n").split("\n")
        extensions = dict(line.split(" ", 1) for line in lines[3:] if " " in line)
        try:
            origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
            first, at = int(extensions["first-offset"]), extensions["time"]
        except (IndexError, ValueError, KeyError, binascii.Error) as exc:
            raise ProofFailed(f"the checkpoint text is not one of ours: {exc}") from exc
        if len(root) != 32 or size < 0 or first < 0:
            raise ProofFailed("the checkpoint's size, root or first offset is out of range")
        return cls(origin, size, root, first, at)


def origin_of(prefix: str, topic: str, partition: int) -> str:
    """One tree per Kafka partition: its origin line names it."""
    return f"{prefix}/{topic}/{partition}"
