"""Viewer tokens: every refusal, and what a valid token proves."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit_trail.cli.token_cmd import ttl_seconds
from audit_trail.tokens import (
    TokenRefused,
    VerifyKey,
    ed25519_public_key,
    hs256_key,
    mint,
    verify,
)
from ledger.access import NotPermitted
from schemas import InvalidInput

SECRET = "s" * 40
SOON = time.time() + 3600
PRIVATE = Ed25519PrivateKey.generate()
PUBLIC_PEM = PRIVATE.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
KEYS: dict[str, VerifyKey] = {
    "hs": hs256_key("hs", SECRET),
    "ed": ed25519_public_key("ed", PUBLIC_PEM),
}


def _hs(**overrides: object) -> str:
    claims: dict[str, object] = {"sub": "client-00043", "role": "client", "exp": time.time() + 3600}
    claims.update(overrides)
    return jwt.encode(claims, SECRET.encode(), algorithm="HS256", headers={"kid": "hs"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_minted_tokens_verify_with_either_algorithm() -> None:
    session = str(uuid.uuid4())
    for kid, algorithm, key in (("hs", "HS256", SECRET.encode()), ("ed", "EdDSA", PRIVATE)):
        token = mint(
            role="specialist", sub="spec-7", ttl_s=600, kid=kid, algorithm=algorithm,  # type: ignore[arg-type]
            signing_key=key, session=session,
        )  # fmt: skip
        claims = verify(token, KEYS)
        assert (claims.sub, claims.role, str(claims.sid), claims.kid) == (
            "spec-7", "specialist", session, kid,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "not a JWT"),
        ("", "not a JWT"),
        (_hs()[:-4] + "AAAA", "signature does not verify"),
        (_hs(exp=int(time.time()) - 1), "expired"),
        (
            jwt.encode({"sub": "x", "role": "client", "exp": SOON}, SECRET.encode() + b"!",
                       algorithm="HS256", headers={"kid": "hs"}),
            "signature does not verify",
        ),
        (
            jwt.encode({"sub": "x", "role": "client", "exp": SOON}, SECRET.encode(),
                       algorithm="HS256", headers={"kid": "other"}),
            "kid names no configured key",
        ),
        (
            jwt.encode({"sub": "x", "role": "client", "exp": SOON}, SECRET.encode(),
                       algorithm="HS256"),
            "kid names no configured key",
        ),
        (_hs(sub=None), "not valid"),
        (_hs(exp="tomorrow"), "not valid"),
        (_hs(sub="../../etc"), "claims are malformed"),
        (_hs(sid="not-a-session"), "claims are malformed"),
        (_hs(exp=time.time() + 400 * 24 * 3600), "lives longer than 24 h"),
        (_hs(exp=True), "expired"),  # PyJWT reads True as 1
    ],
)  # fmt: skip
def test_each_refusal_says_why(token: str, reason: str) -> None:
    with pytest.raises(TokenRefused, match=reason):
        verify(token, KEYS)


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "hs"}).encode())
    body = _b64(json.dumps({"sub": "auditor-1", "role": "auditor", "exp": SOON}).encode())
    with pytest.raises(TokenRefused, match="alg is not HS256"):
        verify(f"{header}.{body}.", KEYS)


def test_a_tampered_claim_breaks_the_signature() -> None:
    header, body, signature = _hs().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "auditor"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(TokenRefused, match="signature does not verify"):
        verify(forged, KEYS)


def test_an_hs256_token_keyed_with_the_public_key_is_refused() -> None:
    # Algorithm confusion: the attacker knows the EdDSA kid's public key.
    forged = jwt.encode(
        {"sub": "a", "role": "auditor", "exp": SOON}, "x" * 40, algorithm="HS256",
        headers={"kid": "ed"},
    )  # fmt: skip
    with pytest.raises(TokenRefused, match="alg is not EdDSA"):
        verify(forged, KEYS)


def test_a_role_outside_the_set_is_refused_as_not_permitted() -> None:
    with pytest.raises(NotPermitted, match="not permitted"):
        verify(_hs(role="admin"), KEYS)


def test_a_session_bound_token_reads_that_session_only() -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    claims = verify(_hs(sid=str(mine)), KEYS)
    claims.check_session(str(mine))
    with pytest.raises(NotPermitted, match=f"may not read session {other}"):
        claims.check_session(str(other))


def test_analysts_read_views_not_trails() -> None:
    with pytest.raises(NotPermitted):
        verify(_hs(role="analyst"), KEYS).viewer()


def test_configuration_mistakes_are_named() -> None:
    with pytest.raises(InvalidInput, match="at least 32"):
        hs256_key("k", "short")
    with pytest.raises(InvalidInput, match="not a PEM public key"):
        ed25519_public_key("k", b"junk")
    with pytest.raises(InvalidInput, match="role 'root'"):
        mint(role="root", sub="x", ttl_s=60, kid="hs", algorithm="HS256", signing_key=SECRET)
    with pytest.raises(InvalidInput, match="ttl"):
        mint(role="client", sub="x", ttl_s=10**6, kid="hs", algorithm="HS256", signing_key=SECRET)
    assert [ttl_seconds(t) for t in ("90s", "10m", "1h", "30")] == [90, 600, 3600, 30]
    with pytest.raises(InvalidInput, match="--ttl"):
        ttl_seconds("ten minutes")
