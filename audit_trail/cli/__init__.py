"""The `audit-trail` command. Packages never import this; it imports them."""

from audit_trail.cli.app import app, main

__all__ = ["app", "main"]
