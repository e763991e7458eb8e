"""The master key that wraps every data key in the key table.

From a setting (``AUDIT_MASTER_KEY``: 32 bytes in base64, standard or URL-safe), else
from the 32-byte file ``<data_dir>.master.key`` beside the store directory (``var`` ->
``var.master.key``), created with mode 0600 on first use. It is kept out of the store
directory so that nothing the engine reads there, and no backup or copy of the store
alone, carries the key. A key left at the old place, ``<data_dir>/master.key``, is moved
beside the directory on first use; if both places hold a key and they differ, nothing
is chosen for the operator (``BadMasterKey`` says what to do).

Losing the master key makes every stored data key, and so every personal value,
unreadable: back it up apart from the store. A key file beside an embedded store only
protects against a leaked key table, not a stolen disk; crypto-shredding does not
depend on it (a destroyed data key is gone whatever the master key).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from ledger.privacy.cipher import KEY_BYTES
from ledger.privacy.errors import BadMasterKey

KEY_FILE = "master.key"  # the old place, inside the store directory
log = logging.getLogger(__name__)


def key_path(data_dir: Path) -> Path:
    """Where the key file of the store at ``data_dir`` lives: beside it, not inside."""
    store = Path(data_dir).absolute()
    return store.with_name(f"{store.name}.{KEY_FILE}")


def master_key_from(setting: str | None, data_dir: Path) -> bytes:
    """The master key: decoded from ``setting`` when given, else the store's key file."""
    if setting is not None and setting.strip():
        return _decode(setting.strip())
    path = key_path(data_dir)
    _move_old_key(Path(data_dir) / KEY_FILE, path)
    return _key_file(path)


def _move_old_key(old: Path, new: Path) -> None:
    if not old.exists():
        return
    try:
        same = new.exists() and old.read_bytes() == new.read_bytes()
    except OSError as exc:
        raise BadMasterKey(f"cannot compare the master keys {old} and {new}: {exc}") from exc
    if same:
        old.unlink()
        return
    if new.exists():
        raise BadMasterKey(
            f"two different master keys: {old} (old place) and {new}. Keep the one the key "
            f"table was wrapped with (the other fails with 'does not unwrap'), move it to "
            f"{new} and delete the other"
        )
    try:
        os.link(old, new)  # never overwrites; the key is in both places until unlink
        old.unlink()
        _fsync_dir(new.parent)
    except OSError as exc:
        raise BadMasterKey(
            f"cannot move the master key {old} out of the store directory to {new}: {exc}; "
            "move it there by hand (mode 0600) or set AUDIT_MASTER_KEY"
        ) from exc
    log.warning("moved the master key from %s to %s (outside the store directory)", old, new)


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
