"""Where the local development broker is, for a process told of no other.

Runtime code never imports the local Kafka stack (development tooling, `audit_trail.stack`):
the CLI, the one place that may, registers how to find the stack's broker when it starts.
Anything else (a library user, a container) names its broker in KAFKA_BOOTSTRAP_SERVERS.
"""

from __future__ import annotations

from collections.abc import Callable

Finder = Callable[[], str | None]

_finder: Finder | None = None


def register(finder: Finder | None) -> None:
    """Use ``finder`` (returns the bootstrap address, or None when no broker runs)."""
    global _finder
    _finder = finder


def find() -> str | None:
    """The local broker's bootstrap address, or None (none registered, none running)."""
    return _finder() if _finder is not None else None
