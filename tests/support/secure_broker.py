"""A local Kafka broker of a test module's own with its SASL_SSL (SCRAM) listener, and
the settings of a client that logs in there (the shared broker is never touched)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit_trail.settings import Settings
from audit_trail.stack import kafka_down, kafka_up
from audit_trail.stack.paths import StackPaths, repo_root
from audit_trail.stack.secure_listener import ENV_ACLS, ENV_SASL_SSL, client_settings


@dataclass(frozen=True)
class SecureBroker:
    admin_bootstrap: str  # the loopback PLAINTEXT listener: the operator, a super user
    client: dict[str, Any]  # the SCRAM user's address, CA, name and password


@contextmanager
def secure_broker(root: Path, *, acls: bool = False) -> Iterator[SecureBroker]:
    """The stack in ``root`` with SASL_SSL (and, with ``acls``, the StandardAuthorizer)."""
    cached = StackPaths(repo_root() / ".stack").jars_root
    if cached.is_dir():  # no second Maven download when the work tree has the jars
        shutil.copytree(cached, StackPaths(root).jars_root, symlinks=True)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
        env.setenv("AUDIT_STACK_DIR", str(root))
        env.setenv(ENV_SASL_SSL, "1")
        if acls:
            env.setenv(ENV_ACLS, "1")
        admin_bootstrap = kafka_up(timeout_s=180)
        try:
            yield SecureBroker(admin_bootstrap, client_settings(root / "sasl_ssl"))
        finally:
            kafka_down()


def scram_settings(
    client: dict[str, Any], data_dir: Path, prefix: str, mechanism: str, **override: Any
) -> Settings:
    """Settings of the SCRAM user, on topics and a group of their own (``prefix``)."""
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "KAFKA_BOOTSTRAP_SERVERS": client["bootstrap"],  # the field's alias
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": mechanism,
        "kafka_sasl_username": client["username"],
        "kafka_sasl_password": client["password"],
        "kafka_ssl_cafile": client["ca_file"],
        "topic_session": f"{prefix}.session-{suffix}",
        "topic_transaction": f"{prefix}.transaction-{suffix}",
        "topic_dead_letter": f"{prefix}.dead-letter-{suffix}",
        "topic_erasures": f"{prefix}.erasures-{suffix}",
        "consumer_group": f"{prefix}-{suffix}",
        "data_dir": data_dir,
        "consumer_session_timeout_ms": 6000,
    }
    values.update(override)
    return Settings.model_validate(values)
