"""The envelope every event carries, and the field types shared by the payloads.

Models are strict and frozen: a service fills one in, and anything off (a naive
timestamp, an unknown role, a string where a UUID belongs) is an error before anything
is encoded or sent.
"""

from __future__ import annotations

import functools
import ipaddress
import uuid
from typing import Annotated, Any, ClassVar, Literal

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

Role = Literal["client", "specialist", "system", "operator"]
SessionMode = Literal["online", "office"]

# Ids of people and services: bounded, no spaces or quotes (they end up in SQL params,
# file names and log lines).
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MediaType = Annotated[
    str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]{1,100}$", max_length=127)
]
Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s\"'<>]{1,64}@[A-Za-z0-9.-]{1,185}\.[A-Za-z]{2,63}$")
]
MinorUnits = Annotated[int, Field(ge=0, le=10**12)]
ByteSize = Annotated[int, Field(ge=0, le=10**12)]
Stars = Annotated[int, Field(ge=1, le=5)]


# Cached: a consumer sees the same few currencies and a session's IPs again and again,
# and these checks cost more than the rest of an event's validation.
@functools.lru_cache(maxsize=4096)
def _iso_4217(code: str) -> str:
    if len(code) != 3 or not code.isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (e.g. EUR, USD, RON)")
    return code


@functools.lru_cache(maxsize=65536)
def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from exc


Currency = Annotated[str, AfterValidator(_iso_4217)]
IpAddress = Annotated[str, AfterValidator(_ip_address)]


class Frozen(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class Actor(Frozen):
    """Who caused the event."""

    id: Identifier
    role: Role


class Source(Frozen):
    """Which service emitted the event, and which version of it."""

    service: Identifier
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Device(Frozen):
    """Device details: both parties of a session may see them (support purposes)."""

    kind: Literal["desktop", "mobile", "tablet", "other"]
    os: ShortText
    os_version: ShortText | None = None
    browser: ShortText | None = None
    browser_version: ShortText | None = None
    app_version: ShortText | None = None


class Network(Frozen):
    """Where the request came from: personal data, for auditors only."""

    ip: IpAddress
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    region: ShortText | None = None
    city: ShortText | None = None


ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "occurred_at",
    "session_id",
    "actor",
    "source",
    "device",
    "network",
)


class Event(Frozen):
    """The shared envelope. Subclasses add the payload fields and fix ``event_type``."""

    family: ClassVar[str]

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    occurred_at: AwareDatetime
    session_id: uuid.UUID
    actor: Actor
    source: Source
    device: Device | None = None
    network: Network | None = None

    # Per concrete class, set in __pydantic_init_subclass__: payload field names, branch.
    _avro_payload: ClassVar[tuple[str, ...]] = ()
    _avro_branch: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._avro_payload = tuple(n for n in cls.model_fields if n not in ENVELOPE_FIELDS)
        if getattr(cls, "family", None) is not None:
            cls._avro_branch = cls.avro_name()

    @classmethod
    def avro_name(cls) -> str:
        """Full name of the payload record in the family's Avro schema."""
        return f"audit_trail.{cls.family}.{cls.__name__}"

    def payload(self) -> dict[str, Any]:
        values = self.__dict__
        return {name: values[name] for name in self._avro_payload}

    def to_avro(self) -> dict[str, Any]:
        """The record as the Avro writer wants it (payload as a named union branch).

        Plain values: uuids as text, nested models as dicts (what ``model_dump`` gave;
        read from the model directly, as the models are flat apart from the envelope's).
        """
        values = self.__dict__
        return {
            "event_id": str(values["event_id"]),
            "event_type": values["event_type"],
            "occurred_at": values["occurred_at"],
            "session_id": str(values["session_id"]),
            "actor": _plain(values["actor"]),
            "source": _plain(values["source"]),
            "device": _plain(values["device"]),
            "network": _plain(values["network"]),
            "payload": (self._avro_branch, _to_avro_values(self.payload())),
        }

    @property
    def key(self) -> bytes:
        """The Kafka key: every event of a session lands in one partition, in order."""
        return str(self.session_id).encode()


def _plain(value: Any) -> Any:
    return dict(value.__dict__) if isinstance(value, BaseModel) else value


def _to_avro_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in values.items()}
