"""The master key that wraps every data key in the key table.

From a setting (``AUDIT_MASTER_KEY``: 32 bytes in base64, standard or URL-safe), else
from the 32-byte file ``<data_dir>/master.key``, created with mode 0600 on first use.

Losing the master key makes every stored data key, and so every personal value,
unreadable: back it up apart from the store. A key file beside an embedded store only
protects against a leaked key table, not a stolen disk; crypto-shredding does not
depend on it (a destroyed data key is gone whatever the master key).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from ledger.privacy.cipher import KEY_BYTES
from ledger.privacy.errors import BadMasterKey

KEY_FILE = "master.key"


def master_key_from(setting: str | None, data_dir: Path) -> bytes:
    """The master key: decoded from ``setting`` when given, else the data dir's key file."""
    if setting is not None and setting.strip():
        return _decode(setting.strip())
    return _key_file(Path(data_dir) / KEY_FILE)


def _decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadMasterKey("the master key setting is not base64") from exc
    if len(key) != KEY_BYTES:
        raise BadMasterKey(
            f"the master key setting decodes to {len(key)} bytes, not {KEY_BYTES} "
            "(e.g. the output of: openssl rand -base64 32)"
        )
    return key


def _key_file(path: Path) -> bytes:
    if not path.exists():
        _create(path)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise BadMasterKey(f"cannot read the master key file {path}: {exc}") from exc
    if len(key) != KEY_BYTES:
        raise BadMasterKey(f"master key file {path} has {len(key)} bytes, not {KEY_BYTES}")
    return key


def _create(path: Path) -> None:
    """Write a new key to a private temp file, then link it in place.

    Linking fails if the file appeared meanwhile: two processes starting together both
    end up with the one key that won, never with a half-written file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadMasterKey(f"cannot create {path.parent} for the master key: {exc}") from exc
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    mode = stat.S_IRUSR | stat.S_IWUSR
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)  # whatever the umask
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        # FileExistsError: another process created it first: use theirs.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise BadMasterKey(f"cannot create the master key file {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    # Keys get wrapped with this one right away: its directory entry must survive a crash.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
