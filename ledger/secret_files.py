"""Secrets of 32 bytes kept in files beside the store: made once, privately, never torn.

The master key (``ledger.privacy.master``) and the checkpoint signing key
(``ledger.merkle.signing_key``) are both 32 random bytes, given as base64 in a setting or
kept in a file beside the store directory. Both are made the same way: a private (0600)
temp file, written and synced, then hard-linked into place. Linking never overwrites, so
two processes starting together both end up with the one key that won, never with a
half-written file. Callers pass the error class their domain raises, so the message says
which key and what to do.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from schemas import AuditTrailError

SECRET_BYTES = 32


def decode_secret(text: str, what: str, error: type[AuditTrailError]) -> bytes:
    """The 32 bytes in ``text`` (base64, standard or URL-safe, padding optional)."""
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        secret = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not base64") from exc
    if len(secret) != SECRET_BYTES:
        raise error(
            f"{what} decodes to {len(secret)} bytes, not {SECRET_BYTES} "
            "(e.g. the output of: openssl rand -base64 32)"
        )
    return secret


def create_secret_file(path: Path, content: bytes, what: str, error: type[AuditTrailError]) -> None:
    """Write ``content`` to ``path`` (mode 0600) unless the file exists already."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    mode = stat.S_IRUSR | stat.S_IWUSR
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)  # whatever the umask
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        # FileExistsError: another process created it first: use theirs.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise error(f"cannot create {what} {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def fsync_dir(directory: Path) -> None:
    # Data gets wrapped or signed with the key right away: its directory entry must
    # survive a crash.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
