"""Which optional extra of the distribution brings a module, for a one-line error.

The base install is what a producer needs (models, codec, AuditProducer, the CLI's
`produce`/`simulate`/`topics`); the stores and `serve` come with extras. A command that
reaches a module of an extra the install lacks is told which extra to install.
"""

from __future__ import annotations

from schemas import AuditTrailError

# Top-level module -> the extra that installs it (pyproject.toml [project.optional-dependencies]).
EXTRA_OF_MODULE = {
    "chdb": "embedded",
    "pyarrow": "embedded",
    "pandas": "embedded",
    "clickhouse_driver": "server",
    "fastapi": "serve",
    "starlette": "serve",
    "uvicorn": "serve",
    "jwt": "serve",
}


class MissingExtra(AuditTrailError):
    """A command needs a library of an extra that is not installed."""


def missing_extra(exc: ModuleNotFoundError) -> MissingExtra | None:
    """The one-line error for ``exc`` when an extra brings the module, else None (a real
    bug or a broken install, left to surface as it is)."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return MissingExtra(
        f"this command needs {top}, which this installation lacks: install "
        f"audit-trail[{extra}] (pip install 'audit-trail[{extra}]'), or audit-trail[all]"
    )
