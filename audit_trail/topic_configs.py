"""How long Kafka keeps what the project sends: the topic configs behind the erasure promise.

Events carry personal fields (IP, location, payer name and e-mail) in clear, and so may
dead letters (the raw bytes). An erasure cannot reach into a Kafka log, so the bound is
retention: the project's event and dead-letter topics delete records after
``retention_days``. Kafka deletes whole segments, and only closed ones, so segments roll
every hour (``segment.ms``): a record is gone at most ``retention_days`` plus an hour
(and the broker's retention check, 5 minutes by default) after it was written.

The erasures topic is the opposite: compacted, never expired, so every store built from
Kafka, however late, learns every erasure (``ledger.privacy.erasure_notices``).

Existing topics are never reconfigured here: ``check`` says how they differ, and the
operator decides (see README "Personal data, erasure and retention").
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_RETENTION_DAYS = 7
DAY_MS = 86_400_000
SEGMENT_MS = 3_600_000
RETENTION_CHECKED = ("cleanup.policy", "retention.ms", "segment.ms")

TopicConfigs = dict[str, str]


def retention_ms(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValueError(f"topic retention must be 1-3650 whole days, got {days!r}")
    return days * DAY_MS


def expiring(days: int) -> TopicConfigs:
    """Event and dead-letter topics: records deleted ``days`` after they were written."""
    return {
        "cleanup.policy": "delete",
        "retention.ms": str(retention_ms(days)),
        "segment.ms": str(min(SEGMENT_MS, retention_ms(days))),
    }


def never_expiring_compacted() -> TopicConfigs:
    """The erasures topic: the latest notice per key, kept for ever."""
    return {"cleanup.policy": "compact", "retention.ms": "-1"}


def check(topic: str, wanted: TopicConfigs, found: Mapping[str, str]) -> list[str]:
    """What in ``found`` (a topic's effective configs) breaks the promise ``wanted`` makes."""
    problems: list[str] = []
    policy = set(found.get("cleanup.policy", "delete").split(","))
    if wanted["cleanup.policy"] == "compact":
        if "delete" in policy or "compact" not in policy:
            problems.append(
                f"topic {topic} has cleanup.policy={','.join(sorted(policy))}, not compact: "
                "erasure notices would expire, and a store rebuilt after that would show "
                "erased people's data again; set cleanup.policy=compact on it"
            )
        return problems
    kept_ms = int(found.get("retention.ms", "-1"))
    want_ms = int(wanted["retention.ms"])
    if "compact" in policy:
        problems.append(
            f"topic {topic} has cleanup.policy={','.join(sorted(policy))}: compaction keeps "
            "each key's latest record for ever, personal fields included; use "
            "cleanup.policy=delete"
        )
    if kept_ms < 0 or kept_ms > want_ms:
        kept = "for ever" if kept_ms < 0 else f"for {kept_ms / DAY_MS:g} days"
        problems.append(
            f"topic {topic} keeps records {kept} (retention.ms={kept_ms}), longer than the "
            f"configured {want_ms / DAY_MS:g} days (AUDIT_TOPIC_RETENTION_DAYS): personal "
            "data stays in Kafka that long after an erasure; set retention.ms="
            f"{want_ms} on it (kafka-configs.sh --alter --entity-type topics "
            f"--entity-name {topic} --add-config retention.ms={want_ms})"
        )
    segment_ms = int(found.get("segment.ms", str(7 * DAY_MS)))
    if segment_ms > int(wanted["segment.ms"]) and kept_ms >= 0:
        problems.append(
            f"topic {topic} rolls segments every {segment_ms / 3_600_000:g} h "
            f"(segment.ms={segment_ms}): records outlive retention.ms by up to that "
            f"long; set segment.ms={wanted['segment.ms']}"
        )
    return problems
