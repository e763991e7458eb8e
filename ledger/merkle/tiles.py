"""A partition's tree as the store holds it: leaves in trail_links, perfect subtree roots
in merkle_tiles, read one tile (256 hashes of one tier) at a time.

Tier 0 is the leaves, ``leaf_hash(row_hash bytes)`` of the row at offset
``first_offset + index``; tier t >= 1 holds the root of leaves ``i*256^t .. (i+1)*256^t-1``.
``subtree(lo, hi)`` answers any range an RFC 6962 proof asks for from at most one tile
per tier, so a proof over 10M rows reads a few hundred hashes, not 10M. A tile the
consumer has not written yet is computed from the tier below (slower, still right).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.merkle.errors import TreeUnavailable
from ledger.merkle.hashing import leaf_hash, node_hash, root_of, split
from ledger.merkle.leaves import read_chain
from ledger.store_parts import TrailQueries

TILE_BITS = 8
TILE = 1 << TILE_BITS

_TILES_SQL = """SELECT node_index, groupUniqArray(hash) FROM merkle_tiles
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
  AND tier = {tier:UInt16} AND node_index BETWEEN {lo:UInt64} AND {hi:UInt64}
GROUP BY node_index ORDER BY node_index"""


def leaf_of(row_hash_hex: str) -> bytes:
    """The leaf a trail row contributes: its chain hash, so chain and tree agree."""
    return leaf_hash(bytes.fromhex(row_hash_hex))


@dataclass
class StoredTree:
    """The tree of ``topic[partition]`` limited to its first ``size`` leaves."""

    store: TrailQueries
    topic: str
    partition: int
    first_offset: int
    size: int
    _tiles: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)

    def subtree(self, lo: int, hi: int) -> bytes:
        """The RFC 6962 hash of leaves ``lo..hi-1`` (``hi <= size``)."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            tier = (n.bit_length() - 1) // TILE_BITS
            shift = tier * TILE_BITS
            return root_of(self.nodes(tier, lo >> shift, hi >> shift))
        k = split(n)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def nodes(self, tier: int, lo: int, hi: int) -> list[bytes]:
        """Tier ``tier``'s hashes ``lo..hi-1``, all inside one tile."""
        tile = lo >> TILE_BITS
        hashes = self._tile(tier, tile)
        start = tile << TILE_BITS
        if hi - start > len(hashes):
            raise TreeUnavailable(
                f"{self.topic}[{self.partition}]: tier {tier} ends at {start + len(hashes)}, "
                f"{hi} asked: run `audit-trail verify`"
            )
        return hashes[lo - start : hi - start]

    def _tile(self, tier: int, tile: int) -> list[bytes]:
        key = (tier, tile)
        if key not in self._tiles:
            self._tiles[key] = self._read_tile(tier, tile)
        return self._tiles[key]

    def _read_tile(self, tier: int, tile: int) -> list[bytes]:
        shift = tier * TILE_BITS
        lo = tile << TILE_BITS
        hi = min(lo + TILE, self.size >> shift)  # complete nodes of this tier only
        if hi <= lo:
            return []
        if tier == 0:
            return self._leaves(lo, hi)
        where = {"topic": self.topic, "partition": self.partition}
        rows = self.store.query(_TILES_SQL, {**where, "tier": tier, "lo": lo, "hi": hi - 1})
        stored = {int(i): list(hashes) for i, hashes in rows}
        out: list[bytes] = []
        for index in range(lo, hi):
            found = stored.get(index)
            if found is not None and len(found) > 1:
                raise TreeUnavailable(
                    f"{self.topic}[{self.partition}]: two different tier-{tier} hashes for "
                    f"node {index} in merkle_tiles: run `audit-trail verify`"
                )
            if found:
                out.append(bytes.fromhex(found[0]))
            else:  # not written yet: compute from the tile below
                below = index << TILE_BITS
                out.append(root_of(self.nodes(tier - 1, below, below + TILE)))
        return out

    def _leaves(self, lo: int, hi: int) -> list[bytes]:
        base = self.first_offset
        # One offset more: its prev_hash tells a row inserted behind our back apart.
        ranges = {self.partition: (base + lo, base + hi)}
        hashes = read_chain(self.store, self.topic, ranges, look_ahead=True)[self.partition]
        return [leaf_of(h) for h in hashes]
