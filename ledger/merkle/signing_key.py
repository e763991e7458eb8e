"""The Ed25519 key that signs checkpoints.

From a setting (``AUDIT_CHECKPOINT_KEY``: the base64 32-byte seed, or the path of a file
holding it), else the file ``<data_dir>.checkpoint.key`` beside the store directory
(created with mode 0600 on first use). Never inside the store directory: SQL can read
files there, and whoever reads the key can sign a forged tree. Rotation: a new key has
a new key id; verifiers keep each old public key for the checkpoints it signed.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.merkle.errors import BadSigningKey
from ledger.merkle.notes import NoteSigner, check_name
from ledger.secret_files import SECRET_BYTES, create_secret_file, decode_secret

SEED_BYTES = SECRET_BYTES


def key_path(data_dir: Path) -> Path:
    store = Path(data_dir).absolute()
    return store.with_name(f"{store.name}.checkpoint.key")


def signer_from(setting: str | None, data_dir: Path, name: str) -> NoteSigner:
    """The checkpoint signer: ``setting`` (base64 seed or a file of it), else the file
    beside the store directory, made on first use."""
    check_name(name)
    if setting is not None and setting.strip():
        value = setting.strip()
        path = Path(value)
        seed = _read(path) if ("/" in value or path.exists()) else _decode(value, "the setting")
    else:
        path = key_path(data_dir)
        if Path(data_dir).absolute() in path.absolute().parents:
            raise BadSigningKey(f"the signing key {path} must not live in the store directory")
        if not path.exists():
            fresh = base64.b64encode(secrets.token_bytes(SEED_BYTES)) + b"\n"
            create_secret_file(path, fresh, "the checkpoint signing key", BadSigningKey)
        seed = _read(path)
    return NoteSigner(name, Ed25519PrivateKey.from_private_bytes(seed))


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadSigningKey(f"cannot read the checkpoint signing key {path}: {exc}") from exc
    return _decode(data.decode("ascii", "replace").strip(), str(path))


def _decode(text: str, where: str) -> bytes:
    return decode_secret(text, f"the checkpoint signing key in {where}", BadSigningKey)
