"""Where the local Kafka stack keeps its files, and which environment variables steer it.

Everything lives under one git-ignored folder (`.stack/` at the repo root by default) so that
`rm -rf .stack` is a complete reset: cached jars, KRaft data, logs, config and the state file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Overrides the stack folder (jars, data, logs, state), e.g. to keep it outside the work tree.
ENV_STACK_DIR = "AUDIT_STACK_DIR"
# When set, the stack starts nothing and only ensures topics on this (external) broker.
ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"


def repo_root() -> Path:
    """Return the repository root: the nearest ancestor of this package with a pyproject.toml.

    Falls back to the current directory when the package is installed outside a checkout
    (a wheel in site-packages), so the stack never writes into the virtualenv.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def stack_dir() -> Path:
    """Return the stack folder: $AUDIT_STACK_DIR if set, else `<repo root>/.stack`."""
    override = os.environ.get(ENV_STACK_DIR, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return repo_root() / ".stack"


def external_bootstrap() -> str | None:
    """Return $KAFKA_BOOTSTRAP_SERVERS if set (a broker this package must not manage)."""
    value = os.environ.get(ENV_BOOTSTRAP, "").strip()
    return value or None


@dataclass(frozen=True)
class StackPaths:
    """The files and folders of one stack folder; creating them is the caller's job."""

    root: Path

    @classmethod
    def default(cls) -> StackPaths:
        return cls(stack_dir())

    @property
    def jars_root(self) -> Path:
        return self.root / "jars"

    @property
    def data_dir(self) -> Path:
        # KRaft metadata log and topic data; kept across down/up, wiped only by `reset`.
        return self.root / "kraft-data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def broker_log(self) -> Path:
        # Written by log4j inside the JVM (rolled, so it cannot fill the disk).
        return self.logs_dir / "server.log"

    @property
    def broker_out(self) -> Path:
        # The JVM's own stdout/stderr: crashes before log4j is up (bad classpath, no memory).
        return self.logs_dir / "broker.out"

    @property
    def server_properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j_properties(self) -> Path:
        return self.root / "log4j.properties"

    @property
    def state_file(self) -> Path:
        return self.root / "broker.json"

    @property
    def cluster_file(self) -> Path:
        # The ports and cluster id the data dir was formatted for: kept across down/up.
        return self.root / "cluster.json"

    @property
    def formatted_marker(self) -> Path:
        return self.data_dir / "meta.properties"

    @property
    def lock_file(self) -> Path:
        return self.root / "stack.lock"
