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

import logging
import os
import secrets
from pathlib import Path

from ledger.privacy.cipher import KEY_BYTES
from ledger.privacy.errors import BadMasterKey
from ledger.secret_files import create_secret_file, decode_secret, fsync_dir

KEY_FILE = "master.key"  # the old place, inside the store directory
log = logging.getLogger(__name__)


def key_path(data_dir: Path) -> Path:
    """Where the key file of the store at ``data_dir`` lives: beside it, not inside."""
    store = Path(data_dir).absolute()
    return store.with_name(f"{store.name}.{KEY_FILE}")


def master_key_from(setting: str | None, data_dir: Path) -> bytes:
    """The master key: decoded from ``setting`` when given, else the store's key file."""
    if setting is not None and setting.strip():
        return decode_secret(setting, "the master key setting", BadMasterKey)
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
        fsync_dir(new.parent)
    except OSError as exc:
        raise BadMasterKey(
            f"cannot move the master key {old} out of the store directory to {new}: {exc}; "
            "move it there by hand (mode 0600) or set AUDIT_MASTER_KEY"
        ) from exc
    log.warning("moved the master key from %s to %s (outside the store directory)", old, new)


def _key_file(path: Path) -> bytes:
    if not path.exists():
        create_secret_file(
            path, secrets.token_bytes(KEY_BYTES), "the master key file", BadMasterKey
        )
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise BadMasterKey(f"cannot read the master key file {path}: {exc}") from exc
    if len(key) != KEY_BYTES:
        raise BadMasterKey(f"master key file {path} has {len(key)} bytes, not {KEY_BYTES}")
    return key
