"""Recompute each partition's tree from its leaves and hold it against what was signed.

`verify` runs this after the chain check: the latest signed checkpoint's root must be
what the stored leaves (trail_links) give, and every stored tier-1 tile must be the root
of its 256 leaves. A mismatch names the first tile whose leaves changed: its leaf range
and Kafka offsets. One pass over the links, page by page, like the chain check.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.merkle.checkpointer import PAGE_ROWS, Frontier
from ledger.merkle.errors import TreeUnavailable
from ledger.merkle.leaves import read_chain
from ledger.merkle.tiles import TILE, leaf_of
from ledger.store_parts import TrailQueries

_LATEST = """SELECT kafka_partition, argMax(tree_size, (tree_size, signed_at)),
    argMax(first_offset, (tree_size, signed_at)), argMax(root_hash, (tree_size, signed_at))
FROM merkle_checkpoints WHERE kafka_topic = {topic:String}
GROUP BY kafka_partition ORDER BY kafka_partition"""
_TIER1 = """SELECT node_index, groupUniqArray(hash) FROM merkle_tiles
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16} AND tier = 1
GROUP BY node_index"""


@dataclass(frozen=True)
class TreeCheck:
    topic: str
    partition: int
    size: int
    problem: str | None  # None: the leaves give the signed root

    def __str__(self) -> str:
        where = f"{self.topic}[{self.partition}] tree of {self.size} leaves"
        return f"{where}: {self.problem}" if self.problem else f"{where}: matches its checkpoint"


def check_trees(store: TrailQueries, topics: list[str]) -> list[TreeCheck]:
    checks = []
    for topic in topics:
        for partition, size, first, root in store.query(_LATEST, {"topic": topic}):
            checks.append(_check(store, topic, int(partition), int(size), int(first), str(root)))
    return checks


def _check(
    store: TrailQueries, topic: str, partition: int, size: int, first: int, root: str
) -> TreeCheck:
    where = {"topic": topic, "partition": partition}
    stored = {int(i): set(h) for i, h in store.query(_TIER1, where)}
    tree = Frontier(first)
    try:
        for lo in range(first, first + size, PAGE_ROWS):
            hi = min(first + size, lo + PAGE_ROWS)
            for row_hash in read_chain(store, topic, {partition: (lo, hi)})[partition]:
                for tier, index, node in tree.add(leaf_of(row_hash)):
                    if tier == 1 and index in stored and stored[index] != {node.hex()}:
                        start = index * TILE
                        return TreeCheck(
                            topic,
                            partition,
                            size,
                            f"leaves {start}..{start + TILE - 1} (offsets {first + start}.."
                            f"{first + start + TILE - 1}) no longer give the stored tile "
                            f"{index}: a leaf among them changed after it was written",
                        )
    except TreeUnavailable as exc:
        return TreeCheck(topic, partition, size, str(exc))
    if tree.root().hex() != root:
        tail = (size // TILE) * TILE
        return TreeCheck(
            topic,
            partition,
            size,
            f"the leaves from {tail} (offset {first + tail}) on no longer give the signed root",
        )
    return TreeCheck(topic, partition, size, None)
