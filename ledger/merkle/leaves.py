"""The leaves' data: each row's chain hash, in offset order, read for many partitions at once.

trail_links (ordered by topic, partition, offset) is the source: the engine writes a link
with every trail insert, and links outlive retention. A trail row stands in for a link the
engine has not written yet (a crash between the two parts); the trail is ordered by session,
so it is read only when links are missing. Where an offset holds two different rows (one
inserted behind the consumer's back), the one the next row chains to is the real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.merkle.errors import TreeUnavailable
from ledger.store_parts import TrailQueries

_SELECT = "SELECT kafka_partition, kafka_offset, prev_hash, row_hash FROM {table} WHERE "


def _where(ranges: Mapping[int, tuple[int, int]]) -> tuple[str, dict[str, Any]]:
    # One range per partition, OR-ed: the primary key (topic, partition, offset) serves
    # each. Values go as parameters; only their generated names are in the text.
    terms, params = [], {}
    for i, (partition, (lo, hi)) in enumerate(sorted(ranges.items())):
        terms.append(
            f"(kafka_partition = {{p{i}:UInt16}} AND kafka_offset BETWEEN {{lo{i}:UInt64}} "
            f"AND {{hi{i}:UInt64}})"
        )
        params.update({f"p{i}": partition, f"lo{i}": lo, f"hi{i}": hi})
    return f"kafka_topic = {{topic:String}} AND ({' OR '.join(terms)})", params


def read_chain(
    store: TrailQueries,
    topic: str,
    ranges: Mapping[int, tuple[int, int]],
    look_ahead: bool = False,
) -> dict[int, list[str]]:
    """Row hashes of offsets ``lo..hi-1`` for each ``partition: (lo, hi)``."""
    wanted = {p: (lo, hi if look_ahead else hi - 1) for p, (lo, hi) in ranges.items() if hi > lo}
    if not wanted:
        return {p: [] for p in ranges}
    where, params = _where(wanted)
    links: dict[int, dict[int, dict[str, str]]] = {}
    for p, offset, prev, row_hash in store.query(
        _SELECT.format(table="trail_links") + where, {"topic": topic, **params}
    ):
        links.setdefault(int(p), {}).setdefault(int(offset), {})[str(row_hash)] = str(prev)
    short = {
        p: span
        for p, span in wanted.items()
        if any(o not in links.get(p, {}) for o in range(ranges[p][0], ranges[p][1]))
    }
    if short:
        where, params = _where(short)
        stored: dict[int, dict[int, dict[str, str]]] = {}
        for p, offset, prev, row_hash in store.query(
            _SELECT.format(table="trail") + where, {"topic": topic, **params}
        ):
            stored.setdefault(int(p), {}).setdefault(int(offset), {})[str(row_hash)] = str(prev)
        for p, rows in stored.items():
            mine = links.setdefault(p, {})
            for offset, hashes in rows.items():
                mine.setdefault(offset, hashes)  # a link, where there is one, wins
    return {
        p: chain_hashes(topic, p, lo, hi, links.get(p, {})) if hi > lo else []
        for p, (lo, hi) in ranges.items()
    }


def chain_hashes(
    topic: str, partition: int, lo: int, hi: int, found: Mapping[int, Mapping[str, str]]
) -> list[str]:
    """``found``: offset -> {row_hash: prev_hash}; the hashes of ``lo..hi-1`` in order."""
    out: list[str] = []
    for offset in range(lo, hi):
        candidates = dict(found.get(offset, {}))
        where = f"{topic}[{partition}] offset {offset}"
        if not candidates:
            raise TreeUnavailable(
                f"{where} is in neither the trail nor its links: run `audit-trail verify`"
            )
        if len(candidates) > 1:
            following = set(found.get(offset + 1, {}).values())
            chained = [h for h in candidates if h in following]
            if len(chained) != 1:
                raise TreeUnavailable(
                    f"{where} holds {len(candidates)} different rows: run `audit-trail verify`"
                )
            candidates = {chained[0]: ""}
        out.append(next(iter(candidates)))
    return out
