"""Viewer tokens: short-lived JWTs the platform's backend mints for a signed-in person.

Claims: ``sub`` (person id), ``role`` (client, specialist, auditor, analyst), optional
``sid`` (one session only), ``exp``; the header's ``kid`` names the key, so keys rotate
by adding a kid before minting with it and dropping the old one after the longest TTL.
Each kid has one algorithm, EdDSA (an Ed25519 public key; the platform keeps the
private key) or HS256 (a shared secret): the token's own ``alg`` is never trusted to
choose, so ``alg: none`` and an HS256 token signed with a public key are refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from ledger.access import NotPermitted, Viewer, session_uuid, subject_id
from schemas import AuditTrailError, InvalidInput

TokenRole = Literal["client", "specialist", "auditor", "analyst"]
ROLES: tuple[TokenRole, ...] = ("client", "specialist", "auditor", "analyst")
Algorithm = Literal["EdDSA", "HS256"]
MAX_TTL_S = 24 * 3600
_MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
# Our tokens are a few hundred bytes; refusing long ones before parsing bounds the work
# an unauthenticated caller can make us do.
MAX_TOKEN_CHARS = 4096


class TokenRefused(AuditTrailError):
    """The request does not prove who is asking (HTTP 401)."""


@dataclass(frozen=True)
class VerifyKey:
    kid: str
    algorithm: Algorithm
    key: Any  # the HS256 secret (bytes) or an Ed25519 public key


@dataclass(frozen=True)
class Claims:
    sub: str
    role: TokenRole
    exp: int
    kid: str
    sid: uuid.UUID | None = None

    def viewer(self) -> Viewer:
        """The trail reader's viewer; analysts read views only, not trails."""
        if self.role == "analyst":
            raise NotPermitted(f"not permitted: {self.role}:{self.sub} may not read trails")
        return Viewer(self.role, self.sub)

    def check_session(self, session: str | uuid.UUID) -> None:
        """A token bound to one session reads that one only; refused like any other."""
        if self.sid is not None and session_uuid(session) != self.sid:
            raise NotPermitted(
                f"not permitted: {self.role}:{self.sub} may not read session "
                f"{session_uuid(session)}"
            )


def hs256_key(kid: str, secret: str) -> VerifyKey:
    raw = secret.encode()
    if len(raw) < _MIN_SECRET_BYTES:
        raise InvalidInput(
            f"the HS256 secret for kid {kid!r} has {len(raw)} bytes; use at least "
            f"{_MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -base64 48`)"
        )
    return VerifyKey(kid, "HS256", raw)


def ed25519_public_key(kid: str, pem: bytes) -> VerifyKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise InvalidInput(f"the public key for kid {kid!r} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"the public key for kid {kid!r} is not an Ed25519 key")
    return VerifyKey(kid, "EdDSA", key)


def verify(token: str, keys: dict[str, VerifyKey]) -> Claims:
    """The token's claims, or ``TokenRefused`` saying why (``NotPermitted`` for a role
    outside the set: a valid token for nobody this service serves)."""
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused(
            f"the bearer token has {len(token)} characters; viewer tokens have at most "
            f"{MAX_TOKEN_CHARS}"
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRefused("the bearer token is not a JWT") from exc
    kid = header.get("kid")
    known = keys.get(kid) if isinstance(kid, str) else None
    if known is None:
        raise TokenRefused("the token's kid names no configured key")
    if header.get("alg") != known.algorithm:
        raise TokenRefused(f"the token's alg is not {known.algorithm}, the one kid {kid} uses")
    try:
        claims = jwt.decode(
            token,
            known.key,
            algorithms=[known.algorithm],
            options={"require": ["exp", "sub", "role"], "verify_aud": False},
            leeway=0,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRefused("the token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRefused("the token's signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRefused(f"the token is not valid: {exc}") from exc
    return _claims(claims, known.kid)


def _claims(raw: dict[str, Any], kid: str) -> Claims:
    sub, role, exp, sid = raw.get("sub"), raw.get("role"), raw.get("exp"), raw.get("sid")
    if not isinstance(sub, str) or isinstance(exp, bool) or not isinstance(exp, int | float):
        raise TokenRefused("the token's sub or exp has the wrong type")
    try:
        person = subject_id(sub, "token subject")
        session = session_uuid(sid, "token session") if sid is not None else None
    except InvalidInput as exc:
        raise TokenRefused(f"the token's claims are malformed: {exc}") from exc
    if exp > time.time() + MAX_TTL_S:
        # Viewer tokens are short-lived; one that is not was minted wrongly or forged.
        raise TokenRefused(f"the token lives longer than {MAX_TTL_S // 3600} h from now")
    if role not in ROLES:
        raise NotPermitted(f"not permitted: role {str(role)[:40]!r} may not read the trail")
    return Claims(sub=person, role=role, exp=int(exp), kid=kid, sid=session)


def mint(
    *,
    role: str,
    sub: str,
    ttl_s: int,
    kid: str,
    algorithm: Algorithm,
    signing_key: Any,
    session: str | None = None,
    now: float | None = None,
) -> str:
    """A token as the platform's backend would mint it (operators and tests)."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: use one of {', '.join(ROLES)}")
    if not 1 <= ttl_s <= MAX_TTL_S:
        raise InvalidInput(f"ttl {ttl_s}s: viewer tokens live 1 s to {MAX_TTL_S // 3600} h")
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "sub": subject_id(sub, "subject"),
        "role": role,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if session is not None:
        payload["sid"] = str(session_uuid(session))
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})
