"""The HTTP API of `audit-trail serve`: role-scoped reads with viewer tokens."""

from audit_trail.api.app import ApiContext, create_app

__all__ = ["ApiContext", "create_app"]
