"""`audit-trail token mint`: a viewer token, as the platform's backend would mint one."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from audit_trail.settings import Settings
from schemas import InvalidInput

app = typer.Typer(help="Viewer tokens for the HTTP API.", no_args_is_help=True)

_TTL = re.compile(r"^(\d{1,6})([smh]?)$")


def ttl_seconds(text: str) -> int:
    match = _TTL.match(text.strip())
    if not match:
        raise InvalidInput(f"--ttl {text[:40]!r}: use e.g. 90s, 10m or 1h")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


@app.command("mint")
def mint(
    role: Annotated[str, typer.Option(help="client, specialist, auditor or analyst")],
    sub: Annotated[str, typer.Option(help="The person's id, e.g. client-00043")],
    session: Annotated[str | None, typer.Option(help="Bind the token to one session")] = None,
    ttl: Annotated[str, typer.Option(help="Lifetime: 90s, 10m, 1h (at most 24h)")] = "10m",
    kid: Annotated[str | None, typer.Option(help="Key id (default AUDIT_TOKEN_KID)")] = None,
) -> None:
    """Print a signed viewer token (keys from AUDIT_TOKEN_*; see README "HTTP API")."""
    # pyjwt comes with the `serve` extra: imported here so the base install's CLI starts.
    from audit_trail.token_config import signing_key
    from audit_trail.tokens import mint as mint_token

    chosen, algorithm, key = signing_key(Settings(), kid)
    typer.echo(
        mint_token(
            role=role,
            sub=sub,
            ttl_s=ttl_seconds(ttl),
            kid=chosen,
            algorithm=algorithm,
            signing_key=key,
            session=session,
        )
    )
