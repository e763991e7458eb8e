"""The consumer's side of the tree: after rows are stored, extend each partition's tree,
write the tiles it completed, and sign a checkpoint at least every second of ingest.

The checkpointer reads the new leaves back from the store (trail_links), so it needs
nothing from the consumer but "these partitions moved", and a restart, a rebalance or a
crash between two writes all resume the same way: from the last signed checkpoint,
whose root must match what the store holds (otherwise it stops: the trail was changed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledger.chain import ChainHead
from ledger.columns import Column
from ledger.merkle.errors import TreeUnavailable
from ledger.merkle.hashing import empty_root, node_hash, root_of
from ledger.merkle.leaves import read_chain
from ledger.merkle.notes import Checkpoint, NoteSigner, origin_of
from ledger.merkle.tiles import TILE, TILE_BITS, StoredTree, leaf_of
from ledger.store import SqlStore, Store

log = logging.getLogger(__name__)

PAGE_ROWS = 50_000
TILE_COLUMNS = (
    Column("kafka_topic", "LowCardinality(String)"),
    Column("kafka_partition", "UInt16"),
    Column("tier", "UInt16"),
    Column("node_index", "UInt64"),
    Column("hash", "String"),
)
CHECKPOINT_COLUMNS = (
    Column("kafka_topic", "LowCardinality(String)"),
    Column("kafka_partition", "UInt16"),
    Column("tree_size", "UInt64"),
    Column("first_offset", "UInt64"),
    Column("root_hash", "String"),
    Column("key_id", "String"),
    Column("signed_at", "DateTime64(6, 'UTC')"),
    Column("note", "String"),
)
LATEST_SQL = """SELECT tree_size, first_offset, root_hash FROM merkle_checkpoints
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
ORDER BY tree_size DESC, signed_at DESC LIMIT 1"""
FIRST_OFFSET_SQL = """SELECT min(o) FROM (
    SELECT min(kafka_offset) AS o FROM trail_links
    WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
    UNION ALL
    SELECT min(kafka_offset) AS o FROM trail
    WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16})"""


@dataclass
class Frontier:
    """A tree's right edge: per tier, the hashes of its unfinished tile (< 256 each)."""

    first_offset: int
    size: int = 0
    pending: list[list[bytes]] = field(default_factory=list)

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf; the (tier, index, hash) of every tile it completed."""
        completed: list[tuple[int, int, bytes]] = []
        self.size += 1
        node, tier = leaf, 0
        while True:
            if len(self.pending) <= tier:
                self.pending.append([])
            self.pending[tier].append(node)
            if len(self.pending[tier]) < TILE:
                return completed
            node, self.pending[tier] = root_of(self.pending[tier]), []
            tier += 1
            completed.append((tier, (self.size >> (tier * TILE_BITS)) - 1, node))

    def root(self) -> bytes:
        # The tree is its perfect subtrees, largest first, folded from the right.
        perfect: list[bytes] = []
        for hashes in reversed(self.pending):
            i = 0
            for bit in reversed(range(TILE_BITS)):
                if len(hashes) & (1 << bit):
                    perfect.append(root_of(hashes[i : i + (1 << bit)]))
                    i += 1 << bit
        if not perfect:
            return empty_root()
        root = perfect[-1]
        for left in reversed(perfect[:-1]):
            root = node_hash(left, root)
        return root


class Checkpointer:
    def __init__(
        self,
        store: Store,
        signer: NoteSigner,
        origin: str = "audit-trail",
        every_s: float = 0.75,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Tiles and checkpoints go in as insert data, like the trail's own rows.
        if not isinstance(store, SqlStore):
            raise TypeError(f"Checkpointer needs an EmbeddedStore or ServerStore, not {store!r}")
        self.store: SqlStore = store
        self.signer, self.origin = signer, origin
        self.every_s, self.clock, self.monotonic = every_s, clock, monotonic
        self._trees: dict[tuple[str, int], Frontier] = {}
        # (when, tree size) of each partition's last checkpoint signed by this process
        self._signed: dict[tuple[str, int], tuple[float, int]] = {}

    def sign_due(self, heads: Iterable[ChainHead], force: bool = False) -> None:
        """Extend each partition's tree to its head and sign it, if the last checkpoint is
        ``every_s`` old (every partition with ``force``, at shutdown). Safe to call again
        after a failure: what was not signed yet is signed next time.

        One read per topic, one insert of tiles, one of checkpoints, whatever the number
        of partitions: the cost stays flat as partitions are added."""
        now = self.monotonic()
        due = [h for h in heads if h.offset >= 0 and (force or self._due(h, now))]
        for head in due:
            key = (head.topic, head.partition)
            if key not in self._trees:
                self._trees[key] = self._load(head.topic, head.partition)
        tiles: list[tuple[str, int, int, int, str]] = []
        for topic in sorted({h.topic for h in due}):
            tiles += self._extend(topic, [h for h in due if h.topic == topic])
        if tiles:
            self.store._insert("merkle_tiles", TILE_COLUMNS, tiles, "")
        at = self.clock()
        rows = [
            row
            for h in due
            if self._trees[(h.topic, h.partition)].size != self._last_size(h)
            and (row := self._checkpoint(h.topic, h.partition, at)) is not None
        ]
        if rows:
            self.store._insert("merkle_checkpoints", CHECKPOINT_COLUMNS, rows, "")
        for head in due:
            key = (head.topic, head.partition)
            self._signed[key] = (now, self._trees[key].size)

    def _due(self, head: ChainHead, now: float) -> bool:
        return now - self._signed.get((head.topic, head.partition), (0.0, 0))[0] >= self.every_s

    def _last_size(self, head: ChainHead) -> int:
        return self._signed.get((head.topic, head.partition), (0.0, -1))[1]

    def _load(self, topic: str, partition: int) -> Frontier:
        where = {"topic": topic, "partition": partition}
        latest = self.store.query(LATEST_SQL, where)
        if not latest:
            ((first,),) = self.store.query(FIRST_OFFSET_SQL, where)
            return Frontier(int(first or 0))
        size, first, root_hex = int(latest[0][0]), int(latest[0][1]), str(latest[0][2])
        stored = StoredTree(self.store, topic, partition, first, size)
        tree = Frontier(first, size)
        for tier in range(0, (size.bit_length() + TILE_BITS - 1) // TILE_BITS):
            count = size >> (tier * TILE_BITS)
            start = (count >> TILE_BITS) << TILE_BITS
            tree.pending.append(stored.nodes(tier, start, count) if count > start else [])
        if tree.root().hex() != root_hex:
            raise TreeUnavailable(
                f"{topic}[{partition}]: the stored rows no longer give the root of the last "
                f"signed checkpoint (size {size}): the trail was changed; run "
                "`audit-trail verify` and restore the rows it names before ingesting"
            )
        return tree

    def _extend(self, topic: str, heads: list[ChainHead]) -> list[tuple[str, int, int, int, str]]:
        """Add the leaves up to each head; the tiles they completed."""
        tiles: list[tuple[str, int, int, int, str]] = []
        trees = {h.partition: self._trees[(topic, h.partition)] for h in heads}
        by_partition = {h.partition: h for h in heads}
        while True:
            ranges = {
                p: (
                    t.first_offset + t.size,
                    min(by_partition[p].offset + 1, t.first_offset + t.size + PAGE_ROWS),
                )
                for p, t in trees.items()
                if t.first_offset + t.size <= by_partition[p].offset
            }
            if not ranges:
                return tiles
            for partition, hashes in read_chain(self.store, topic, ranges).items():
                tree, head = trees[partition], by_partition[partition]
                for row_hash in hashes:
                    for tier, index, node in tree.add(leaf_of(row_hash)):
                        tiles.append((topic, partition, tier, index, node.hex()))
                if tree.first_offset + tree.size > head.offset and hashes[-1] != head.row_hash:
                    raise TreeUnavailable(
                        f"{topic}[{partition}] offset {head.offset}: the stored row hash is "
                        "not the one just linked: run `audit-trail verify`"
                    )

    def _checkpoint(
        self, topic: str, partition: int, at: datetime
    ) -> tuple[str, int, int, int, str, str, datetime, str] | None:
        tree = self._trees[(topic, partition)]
        if tree.size == 0:
            return None
        checkpoint = Checkpoint(
            origin_of(self.origin, topic, partition),
            tree.size,
            tree.root(),
            tree.first_offset,
            at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        return (
            topic,
            partition,
            tree.size,
            tree.first_offset,
            checkpoint.root.hex(),
            self.signer.verifier.key_id.hex(),
            at,
            self.signer.sign(checkpoint.text()),
        )
