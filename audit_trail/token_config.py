"""Viewer-token keys from the settings: what `serve` verifies with, `token mint` signs with."""

from __future__ import annotations

from typing import Any

from audit_trail.settings import Settings
from audit_trail.tokens import Algorithm, VerifyKey, ed25519_public_key, hs256_key
from schemas import InvalidInput


def verify_keys(settings: Settings) -> dict[str, VerifyKey]:
    keys = {kid: hs256_key(kid, secret) for kid, secret in settings.token_hs256_secrets.items()}
    for kid, path in settings.token_ed25519_public_keys.items():
        if kid in keys:
            raise InvalidInput(f"kid {kid!r} is configured both as HS256 and EdDSA: one each")
        try:
            keys[kid] = ed25519_public_key(kid, path.read_bytes())
        except OSError as exc:
            raise InvalidInput(f"cannot read the public key of kid {kid!r} at {path}") from exc
    return keys


def signing_key(settings: Settings, kid: str | None) -> tuple[str, Algorithm, Any]:
    """(kid, algorithm, key) to mint with: the given kid, else AUDIT_TOKEN_KID, else the
    only configured one."""
    kids = sorted({*settings.token_hs256_secrets, *settings.token_ed25519_public_keys})
    chosen = kid or settings.token_kid or (kids[0] if len(kids) == 1 else None)
    if chosen is None:
        raise InvalidInput(
            "which key? set AUDIT_TOKEN_HS256_SECRETS or AUDIT_TOKEN_ED25519_PUBLIC_KEYS "
            "(and AUDIT_TOKEN_KID when there are several), or pass --kid"
        )
    if chosen in settings.token_hs256_secrets:
        return chosen, "HS256", hs256_key(chosen, settings.token_hs256_secrets[chosen]).key
    path = settings.token_ed25519_private_key
    if chosen in settings.token_ed25519_public_keys and path is not None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot load an Ed25519 private key from {path}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput(f"{path} is not an Ed25519 private key")
        return chosen, "EdDSA", key
    raise InvalidInput(
        f"no signing key for kid {chosen!r}: it needs an HS256 secret, or an Ed25519 public "
        "key plus AUDIT_TOKEN_ED25519_PRIVATE_KEY"
    )
