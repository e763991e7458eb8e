"""Writing an event with an older schema version, as a producer not yet upgraded does.

During a rollout, services on the old release keep writing the version they were built
with while upgraded ones write the newest; the consumer reads both into the newest. An
event fits an older version when that version has its payload record and every field
the event fills: a field the older version lacks may only be empty (the newer
version's default), and is then left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas import EncodeError, SchemaVersion


def payload_fields(version: SchemaVersion) -> dict[str, frozenset[str]]:
    """Full name of each payload record of ``version`` -> its field names."""
    namespace = str(version.source.get("namespace", ""))
    payload = next(f for f in version.source["fields"] if f["name"] == "payload")
    return {
        (b["name"] if "." in b["name"] else f"{namespace}.{b['name']}"): frozenset(
            f["name"] for f in b["fields"]
        )
        for b in payload["type"]
    }


def fit(
    version: SchemaVersion, fields: Mapping[str, frozenset[str]], record: dict[str, Any]
) -> dict[str, Any]:
    """``record`` (``Event.to_avro()``) as ``version`` can hold it, or ``EncodeError``."""
    branch, payload = record["payload"]
    known = fields.get(branch)
    if known is None:
        raise EncodeError(
            f"{record['event_type']} is not in {version.label}: a producer writing "
            f"{version.label} cannot send it"
        )
    extra = [name for name in payload if name not in known]
    filled = [name for name in extra if payload[name] is not None]
    if filled:
        raise EncodeError(
            f"{record['event_type']} field {filled[0]} is not in {version.label}: "
            "leave it empty, or write a newer version"
        )
    if not extra:
        return record
    kept = {name: value for name, value in payload.items() if name in known}
    return {**record, "payload": (branch, kept)}
