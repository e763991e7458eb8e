"""Chunks: a poll's records of one partition, cut for decoding, and the decoders' interface.

A chunk carries raw record fields (offset, timestamp, key, value, headers) of one
partition in offset order, a few hundred at a time: one IPC round trip to a worker
process carries many records (``consumers.workers``), and results come back per chunk
in the order the chunks went out. ``InProcess`` decodes in the consumer's own process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from consumers.batching import Item
from consumers.decoding import to_item
from schemas import AvroCodec


class RawMessage(NamedTuple):
    """A Kafka record as the decoder reads it (the fields of kafka-python's record)."""

    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]


@dataclass(frozen=True)
class Chunk:
    """Records of one partition, in offset order (chain segment shift applied)."""

    topic: str
    partition: int
    # The topic's partition count, for the envelope's placement check (None: unchecked).
    partitions: int | None
    ingested_at: datetime
    records: list[tuple[int, int | None, bytes | None, bytes | None, Any]]

    def message(self, index: int) -> RawMessage:
        return RawMessage(self.topic, self.partition, *self.records[index])

    @property
    def span(self) -> str:
        return f"{self.topic}[{self.partition}] offsets {self.records[0][0]}..{self.records[-1][0]}"


def chunks_of(
    topic: str,
    partition: int,
    messages: Sequence[Any],
    size: int,
    ingested_at: datetime,
    partitions: int | None,
    shift: int = 0,
) -> list[Chunk]:
    """``messages`` (kafka-python records of one partition) in chunks of at most ``size``."""
    records = [(m.offset + shift, m.timestamp, m.key, m.value, m.headers) for m in messages]
    return [
        Chunk(topic, partition, partitions, ingested_at, records[at : at + size])
        for at in range(0, len(records), size)
    ]


def decode_chunk(codec: AvroCodec, chunk: Chunk) -> list[Item]:
    """One item per record, in order. Unsealed: personal fields are sealed by the consumer
    process, where each subject's key is made once."""
    return [
        to_item(codec, chunk.message(i), chunk.ingested_at, None, chunk.partitions)
        for i in range(len(chunk.records))
    ]


class Decoding(Protocol):
    """Chunks handed to a decoder: their items, once ready."""

    def results(self) -> list[list[Item]]:
        """Each chunk's items, in the order the chunks were submitted."""
        ...


class Decoder(Protocol):
    def start(self) -> None: ...

    def submit(self, chunks: Sequence[Chunk]) -> Decoding: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Done:
    items: list[list[Item]]

    def results(self) -> list[list[Item]]:
        return self.items


class InProcess:
    """Decoding in the consumer process (``workers = 0``): done when submitted."""

    def __init__(self, codec: AvroCodec) -> None:
        self.codec = codec

    def start(self) -> None:
        pass

    def submit(self, chunks: Sequence[Chunk]) -> Done:
        return Done([decode_chunk(self.codec, chunk) for chunk in chunks])

    def decode(self, chunks: Sequence[Chunk]) -> list[list[Item]]:
        return self.submit(chunks).results()

    def close(self) -> None:
        pass
