"""The trail row as a named tuple: ``row.occurred_at``, not ``row[INDEX["occurred_at"]]``.

At run time ``TrailRow`` is a ``collections.namedtuple`` made from ``ROW_COLUMNS`` (every
column but the two hashes, in table order), so it is a tuple (same speed, same hashing,
same inserts) and a column added by a later schema version is a field with no edit here.
For the type checker it is the class below: the columns every row has (envelope, device,
network, Kafka, flags) are typed; the payload columns, derived from the Avro schemas,
read as ``Any`` (``__getattr__``). A unit test keeps the two in step.
"""

from __future__ import annotations

import collections
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.columns import ROW_COLUMNS

ROW_NAMES: tuple[str, ...] = tuple(c.name for c in ROW_COLUMNS)

if TYPE_CHECKING:

    class TrailRow(tuple[Any, ...]):
        event_id: uuid.UUID | str
        event_type: str
        family: str
        schema_version: int
        occurred_at: datetime
        session_id: uuid.UUID | str
        actor_id: str
        actor_role: str
        source_service: str
        source_version: str
        device_kind: str | None
        device_os: str | None
        device_os_version: str | None
        device_browser: str | None
        device_browser_version: str | None
        device_app_version: str | None
        network_ip: str | None
        network_country: str | None
        network_region: str | None
        network_city: str | None
        kafka_topic: str
        kafka_partition: int
        kafka_offset: int
        ingested_at: datetime
        envelope_flags: str | None

        def __getattr__(self, name: str) -> Any: ...  # the payload columns

        @classmethod
        def _make(cls, values: Any) -> TrailRow: ...

        def _replace(self, **values: Any) -> TrailRow: ...

else:
    TrailRow = collections.namedtuple("TrailRow", ROW_NAMES)
