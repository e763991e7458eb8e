"""`audit-trail checkpoint`, `keys public`, `prove` and `verify-proof`: the verifiable trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from audit_trail import wiring
from audit_trail.settings import Settings
from ledger.merkle import (
    BadBundle,
    NoteVerifier,
    ProofFailed,
    check_bundle,
    latest_checkpoints,
    prove_consistency,
    prove_event,
)

keys_app = typer.Typer(help="The checkpoint signing key.", no_args_is_help=True)


@keys_app.command("public")
def keys_public() -> None:
    """Print the checkpoint verifier key (NAME+KEYID+BASE64), for `verify-proof`."""
    typer.echo(str(wiring.checkpoint_signer(Settings()).verifier))


def checkpoint(
    topic: Annotated[str | None, typer.Option(help="Only this topic")] = None,
    partition: Annotated[int | None, typer.Option(help="Only this partition")] = None,
) -> None:
    """Print each partition's latest signed checkpoint (C2SP signed-note text)."""
    settings = Settings()
    topics = [topic] if topic else _topics(settings)
    trail = wiring.read_store(settings)
    try:
        found = latest_checkpoints(trail, topics)
    finally:
        trail.close()
    found = [f for f in found if partition is None or f[1] == partition]
    if not found:
        typer.echo("no signed checkpoint yet: `audit-trail consume` signs them", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(note for _, _, note in found), nl=False)


def prove(
    event_id: Annotated[str | None, typer.Argument(help="The event to prove")] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option(help="OLD NEW: prove the tree of NEW leaves extends the one of OLD"),
    ] = None,
    topic: Annotated[str | None, typer.Option(help="With --consistency: the topic")] = None,
    partition: Annotated[int, typer.Option(help="With --consistency: the partition")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the bundle here (default stdout)")] = None,
) -> None:
    """Write a proof bundle: an event's inclusion in its signed tree, or (--consistency)
    that one checkpoint extends another. `verify-proof` checks it without the store."""
    settings = Settings()
    if (event_id is None) == (consistency is None):
        raise BadBundle("give either EVENT_ID or --consistency OLD NEW")
    trail = wiring.read_store(settings)
    try:
        if consistency is not None:
            old, new = consistency
            bundle = prove_consistency(trail, topic or settings.topic_session, partition, old, new)
        else:
            assert event_id is not None
            bundle = prove_event(trail, event_id, _topics(settings))
    finally:
        trail.close()
    text = json.dumps(bundle, indent=1, default=str) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)


def verify_proof(
    bundle: Annotated[Path, typer.Argument(help="A bundle from `prove` ('-' reads stdin)")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="NAME+KEYID+BASE64 (`keys public`) or its file")
    ],
) -> None:
    """Check a proof bundle with the public key alone: exits 1 naming the first bad leaf."""
    key_text = Path(public_key).read_text() if Path(public_key).is_file() else public_key
    key = NoteVerifier.parse(key_text)
    data = _read_bundle(bundle)
    try:
        checked = check_bundle(data, key)
    except ProofFailed as exc:
        typer.echo(f"FAILED: {exc}")
        raise typer.Exit(1) from None
    for line in checked.lines:
        typer.echo(line)


def _topics(settings: Settings) -> list[str]:
    # The erasure records' chain is named after the erasures topic (docs/erasure.md).
    return [settings.topic_session, settings.topic_transaction, settings.topic_erasures]


def _read_bundle(path: Path) -> dict[str, Any]:
    try:
        text = typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text()
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBundle(f"cannot read the bundle {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BadBundle(f"the bundle {path} is not a JSON object")
    return data
