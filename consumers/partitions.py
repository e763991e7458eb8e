"""Is this Kafka partition the one the trail's chain was built from?

A topic deleted and recreated, a broker whose data was wiped, a cluster migrated: the
partition keeps its name but starts over at offset 0. Resuming "after the stored head"
would then skip every new record in silence (the head lies beyond the new log's end), or
chain the new records to the old ones. So before resuming, and every few seconds while
consuming, the consumer compares the partition with its chain: Kafka's topic id with the
recorded one, the stored head with the log's end, and the log's start with the head (a
log that now starts after the head lost records before they were stored). A mismatch
stops the consumer; ``audit-trail chain restart`` records the operator's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from consumers.membership import GroupState
from ledger import ChainHead
from ledger.segments import ChainSegment
from ledger.store_parts import ChainHeads
from schemas import AuditTrailError, InvalidInput, Retriable

_SECURITY_KEYS = frozenset(
    {
        "security_protocol",
        "ssl_context",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
    }
)


class PartitionStartedOver(AuditTrailError):
    """The partition is not the one the chain was built from: stop, an operator decides."""


class BrokerQuiet(Retriable):
    """The broker did not answer a question about its partitions: ask again later."""


@dataclass(frozen=True)
class PartitionFacts:
    earliest: int  # first offset Kafka still holds
    end: int  # the offset the next record will get
    topic_id: str  # "" where the broker does not say


class KafkaFacts:
    """Asks the broker for offsets (through the consumer) and topic ids (admin client)."""

    def __init__(self, consumer: KafkaConsumer, timeout_ms: int = 5000) -> None:
        self.consumer = consumer
        self.timeout_ms = timeout_ms
        self._admin: Any = None

    def facts(self, tps: list[TopicPartition]) -> dict[TopicPartition, PartitionFacts]:
        if not tps:
            return {}
        try:
            begins = self.consumer.beginning_offsets(tps, timeout_ms=self.timeout_ms)
            ends = self.consumer.end_offsets(tps, timeout_ms=self.timeout_ms)
            ids = self._topic_ids(sorted({tp.topic for tp in tps}))
        except KafkaError as exc:
            raise BrokerQuiet(
                f"the broker did not say where {', '.join(sorted({tp.topic for tp in tps}))} "
                f"start and end (is it up, and do the topics exist?): {exc}"
            ) from exc
        return {tp: PartitionFacts(begins[tp], ends[tp], ids.get(tp.topic, "")) for tp in tps}

    def group_state(self, group: str, topics: Sequence[str]) -> GroupState:
        """Whether ``group`` is stable and how many of ``topics``' partitions its members
        hold (``consumers.membership``)."""
        try:
            described = self._admin_client().describe_groups([group])[group]
        except (KafkaError, KeyError) as exc:
            raise BrokerQuiet(f"the broker did not describe consumer group {group}: {exc}") from exc
        wanted = set(topics)
        held = 0
        for member in described.get("members") or []:
            assignment = member.get("member_assignment") or {}
            for part in assignment.get("assigned_partitions") or []:
                if part.get("topic") in wanted:
                    held += len(part.get("partitions") or [])
        return GroupState(stable=described.get("group_state") == "Stable", held=held)

    def _topic_ids(self, topics: list[str]) -> dict[str, str]:
        described = self._admin_client().describe_topics(topics)
        return {
            str(t["name"]): str(t.get("topic_id") or "")
            for t in described
            if not t.get("error_code")
        }

    def _admin_client(self) -> Any:
        if self._admin is None:
            # Made on first use: a broker away at start-up must not fail the constructor.
            # Connected as the consumer is (TLS, SASL): the same cluster, the same rules.
            security = {k: v for k, v in self.consumer.config.items() if k in _SECURITY_KEYS}
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.consumer.config["bootstrap_servers"],
                client_id="audit-trail-ingest-admin",
                request_timeout_ms=self.timeout_ms,
                **security,
            )
        return self._admin

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()


def started_over(
    head: ChainHead | None, segment: ChainSegment | None, facts: PartitionFacts
) -> str | None:
    """Why this partition cannot continue the chain (None: it can). With nothing stored
    there is nothing to continue: any partition may start the chain."""
    if head is None or head.offset < 0:
        return None
    known = segment is not None and segment.topic_id and facts.topic_id
    if known and segment is not None and segment.topic_id != facts.topic_id:
        return (
            f"its topic id is {facts.topic_id}, the chain was built from topic id "
            f"{segment.topic_id} (the topic was deleted and created again)"
        )
    shift = segment.offset_shift if segment is not None else 0
    last = head.offset - shift  # the head's Kafka offset
    if last + 1 > facts.end:
        return (
            f"the trail holds it up to offset {last}, but the partition ends at offset "
            f"{facts.end} (the topic or broker started over)"
        )
    if facts.earliest > last + 1:
        return (
            f"the partition starts at offset {facts.earliest}, but the trail holds it only "
            f"up to offset {last}: offsets {last + 1}..{facts.earliest - 1} were deleted "
            "before they were stored"
        )
    return None


def first_segment(
    topic: str, partition: int, recorded: ChainSegment | None, facts: PartitionFacts
) -> ChainSegment | None:
    """The segment to record for a partition with nothing stored: none recorded yet, or
    the topic was recreated before anything of it was stored (None: keep the recorded)."""
    if recorded is None:
        return ChainSegment.first(topic, partition, facts.topic_id)
    if facts.topic_id and recorded.topic_id != facts.topic_id:
        return replace(
            recorded,
            segment=recorded.segment + 1,
            topic_id=facts.topic_id,
            reason=f"topic id {recorded.topic_id or '-'} replaced before any row was stored",
            created_at=None,
        )
    return None


def refusal(tp: TopicPartition, why: str) -> PartitionStartedOver:
    return PartitionStartedOver(
        f"{tp.topic}[{tp.partition}] is not the partition the trail's chain was built from: "
        f"{why}. Nothing from it was stored. If the topic was recreated, the broker wiped or "
        "the cluster migrated on purpose, record a new chain segment with `audit-trail chain "
        f"restart {tp.topic} --partition {tp.partition} --reason '...'` and start the "
        "consumer again; otherwise point KAFKA_BOOTSTRAP_SERVERS at the right cluster."
    )


def restart_chain(
    store: ChainHeads,
    source: KafkaFacts,
    topic: str,
    partitions: list[int] | None,
    reason: str,
    recorded_by: str,
) -> list[ChainSegment]:
    """Record, for each partition that started over, a new chain segment continuing its
    head from where Kafka now starts. Refuses partitions that did not start over: a
    segment is an operator's answer to the consumer's refusal, not a way around it."""
    if not reason.strip():
        raise InvalidInput("say why the chain restarts (--reason): it is kept with the segment")
    heads = store.chain_heads(topic)
    if not heads:
        raise InvalidInput(f"the trail holds nothing of topic {topic!r}: nothing to restart")
    recorded = store.chain_segments(topic)
    numbers = partitions if partitions else sorted(heads)
    tps = [TopicPartition(topic, p) for p in numbers]
    for tp in tps:
        if tp.partition not in heads:
            raise InvalidInput(f"{topic}[{tp.partition}] has no stored rows: nothing to restart")
    facts = source.facts(tps)
    planned: list[ChainSegment] = []
    for tp in tps:
        head = heads[tp.partition]
        segment = recorded.get(tp.partition)
        why = started_over(head, segment, facts[tp])
        if why is None and not partitions:
            continue  # all partitions asked for: only those that started over
        if why is None:
            raise InvalidInput(
                f"{topic}[{tp.partition}] still continues its chain (head at stored offset "
                f"{head.offset}): nothing to restart"
            )
        base = segment or ChainSegment.first(topic, tp.partition, "")
        planned.append(base.after(head, facts[tp].earliest, facts[tp].topic_id, why, ""))
    if not planned:
        raise InvalidInput(
            f"every partition of {topic} still continues its chain: nothing to restart"
        )
    # All checked before any is written, and written in one insert: a refused partition
    # leaves nothing half-done.
    written = [
        replace(s, reason=f"{reason.strip()} ({s.reason})", recorded_by=recorded_by)
        for s in planned
    ]
    store.record_segments(written)
    return written
