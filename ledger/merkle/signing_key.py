"""The Ed25519 key that signs checkpoints.

From a setting (``AUDIT_CHECKPOINT_KEY``: the base64 32-byte seed, or the path of a file
holding it), else the file ``<data_dir>.checkpoint.key`` beside the store directory
(created with mode 0600 on first use). Never inside the store directory: SQL can read
files there, and whoever reads the key can sign a forged tree. Rotation: a new key has
a new key id; verifiers keep each old public key for the checkpoints it signed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.merkle.errors import BadSigningKey
from ledger.merkle.notes import NoteSigner, check_name

SEED_BYTES = 32


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
            _create(path)
        seed = _read(path)
    return NoteSigner(name, Ed25519PrivateKey.from_private_bytes(seed))


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadSigningKey(f"cannot read the checkpoint signing key {path}: {exc}") from exc
    return _decode(data.decode("ascii", "replace").strip(), str(path))


def _decode(text: str, where: str) -> bytes:
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSigningKey(f"the checkpoint signing key in {where} is not base64") from exc
    if len(seed) != SEED_BYTES:
        raise BadSigningKey(
            f"the checkpoint signing key in {where} is {len(seed)} bytes, not {SEED_BYTES} "
            "(e.g. the output of: openssl rand -base64 32)"
        )
    return seed


def _create(path: Path) -> None:
    # Same pattern as the master key: private temp file, then link (never overwrites).
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    mode = stat.S_IRUSR | stat.S_IWUSR
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)
            os.write(fd, base64.b64encode(secrets.token_bytes(SEED_BYTES)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    except OSError as exc:
        raise BadSigningKey(f"cannot create the checkpoint signing key {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
