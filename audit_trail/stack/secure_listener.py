"""An optional SASL_SSL listener on the local broker, beside its PLAINTEXT one, so the
project's TLS and SASL settings can be tried against a real broker.

Turned on by ``AUDIT_STACK_SASL_SSL=1`` at a fresh start. A private CA and a server
certificate for 127.0.0.1 are made with ``cryptography``; one SCRAM user (both SHA-256 and
SHA-512 credentials) is written into the KRaft metadata when the storage is formatted. What a
client needs (address, CA file, user, password) is left in ``<stack>/sasl_ssl/client.json``,
readable by the owner only.

With ``AUDIT_STACK_ACLS=1`` as well, the broker enforces ACLs (KRaft's StandardAuthorizer):
the SCRAM user may do only what an ACL grants it, while the loopback PLAINTEXT listener
(principal ANONYMOUS, also the controller's) stays the local administrator.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .errors import StackError

ENV_SASL_SSL = "AUDIT_STACK_SASL_SSL"
ENV_ACLS = "AUDIT_STACK_ACLS"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
USER = "audit-trail"
_LISTENER = "SASL_SSL"
_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def wanted() -> bool:
    return _flag(ENV_SASL_SSL)


def acls_wanted() -> bool:
    """ACLs mean something only with the SASL_SSL user: PLAINTEXT clients are all admins."""
    return _flag(ENV_ACLS)


@dataclass(frozen=True)
class SecureListener:
    host: str
    port: int
    folder: Path
    password: str
    acls: bool = False

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_pem(self) -> Path:
        return self.folder / "server.pem"

    @property
    def client_file(self) -> Path:
        return self.folder / "client.json"

    def listener(self) -> str:
        return f"{_LISTENER}://{self.host}:{self.port}"

    def server_properties(self) -> list[tuple[str, str]]:
        """Broker settings for the listener (besides its place in listeners/advertised)."""
        prefix = f"listener.name.{_LISTENER.lower()}"
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return [
            ("sasl.enabled.mechanisms", ",".join(_MECHANISMS)),
            *((f"{prefix}.{m.lower()}.sasl.jaas.config", scram) for m in _MECHANISMS),
            (f"{prefix}.ssl.keystore.type", "PEM"),
            (f"{prefix}.ssl.keystore.location", str(self.server_pem)),
            *self._authorizer(),
        ]

    def _authorizer(self) -> list[tuple[str, str]]:
        if not self.acls:
            return []
        # Everyone without an ACL is denied (allow.everyone.if.no.acl.found defaults false).
        return [("authorizer.class.name", AUTHORIZER), ("super.users", "User:ANONYMOUS")]

    def format_arguments(self) -> list[str]:
        """``StorageTool format`` arguments that create the SCRAM user."""
        args: list[str] = []
        for mechanism in _MECHANISMS:
            args += ["--add-scram", f"{mechanism}=[name={USER},password={self.password}]"]
        return args


def prepare(folder: Path, host: str, port: int) -> SecureListener:
    """Fresh certificates, password and client file in ``folder`` (old ones replaced)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    # Letters and digits only: the password sits inside StorageTool's [name=..,password=..].
    listener = SecureListener(host, port, folder, secrets.token_hex(16), acls_wanted())
    _write_certificates(listener)
    client = {
        "bootstrap": listener.bootstrap,
        "security_protocol": _LISTENER,
        "ca_file": str(listener.ca_file),
        "username": USER,
        "password": listener.password,
        "mechanisms": list(_MECHANISMS),
    }
    _write_private(listener.client_file, json.dumps(client, indent=2) + "\n")
    return listener


def load(folder: Path) -> SecureListener:
    """The listener ``prepare`` made for the kept storage (same port, user, certificates)."""
    try:
        client = client_settings(folder)
        host, port = client["bootstrap"].rsplit(":", 1)
        return SecureListener(host, int(port), folder, client["password"], acls_wanted())
    except (OSError, ValueError, KeyError) as exc:
        raise StackError(
            f"the kept broker's SASL_SSL listener cannot be read from {folder} ({exc}); "
            "`audit-trail stack reset --yes` starts over with a new one"
        ) from exc


def client_settings(folder: Path) -> dict[str, str]:
    """What ``prepare`` left for clients, as written in client.json."""
    loaded: dict[str, str] = json.loads((folder / "client.json").read_text(encoding="utf-8"))
    return loaded


def _write_certificates(listener: SecureListener) -> None:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "audit-trail local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(listener.host))]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, listener.host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    listener.ca_file.write_bytes(ca.public_bytes(pem))
    # Kafka's PEM key store: an unencrypted PKCS#8 key, then the certificate chain.
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = server.public_bytes(pem) + ca.public_bytes(pem)
    _write_private(listener.server_pem, (key_pem + chain).decode("ascii"))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
