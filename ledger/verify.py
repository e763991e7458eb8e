"""Integrity check: recompute every partition's hash chain from the stored rows.

Per (topic, partition), in offset order, page by page (offset ranges, so memory stays
flat however long the trail): offsets must be contiguous from the first stored row on,
each row's content must match its row_hash, each prev_hash must be the row_hash stored
one offset before, and rows at checkpointed offsets must carry the checkpointed hash
(catching a rewrite that recomputed every later hash, or a chain cut short at its end).
event_id must be unique across the verified topics (a repeated event_id is stored as a
duplicate row with an id of its own: counted, and listed when its content differs, a
conflict; neither breaks integrity). Problems name the row.

A chain restarted on a new Kafka partition (``ledger.segments``) stays one sequence of
stored offsets; each recorded segment start must link to the head it names, and the
report lists the starts, so an auditor sees where and why the trail changed partitions.

Rows are read with UUIDs as strings and times as integer microseconds: exactly the
form ``chain.canonical_bytes`` hashes, on both backends, with no float in between. Each
row is re-hashed in the form its ``chain_version`` names (v1 JSON rows stored before
migration 0023, v2 binary after), so one partition may hold both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.chain import ZERO_HASH, hashed_form_select, row_hash
from ledger.columns import INDEX
from ledger.flags import FlagSummary, flagged
from ledger.gaps import GapJudge
from ledger.idempotency import RecordedConflict, recorded_duplicates
from ledger.retention import RetentionPolicy
from ledger.segments import ChainSegment, segments
from ledger.store import Store
from schemas import InvalidInput

ALTERED = "altered_row"  # content no longer matches its own row_hash
BROKEN_LINK = "broken_link"  # prev_hash is not the row_hash stored one offset before
GAP = "offset_gap"
DUPLICATE_OFFSET = "duplicate_offset"
DUPLICATE_EVENT_ID = "duplicate_event_id"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"
TRUNCATED = "truncated_chain"  # a checkpoint lies beyond the last stored row
SEGMENT_MISMATCH = "segment_mismatch"  # a segment's first row does not continue its record

PAGE_ROWS = 20_000


_WHERE = "kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}"
PARTITIONS_SQL = """SELECT kafka_partition, min(kafka_offset), max(kafka_offset), count()
FROM trail WHERE kafka_topic = {topic:String} GROUP BY kafka_partition ORDER BY kafka_partition"""
# The last offset of the next page: at most `rows` offsets from `lo` on, gaps skipped.
PAGE_END_SQL = f"""SELECT maxOrNull(kafka_offset) FROM (
    SELECT kafka_offset FROM trail WHERE {_WHERE} AND kafka_offset >= {{lo:UInt64}}
    ORDER BY kafka_offset LIMIT {{rows:UInt64}})"""
PAGE_SQL = f"""SELECT {hashed_form_select()} FROM trail
WHERE {_WHERE} AND kafka_offset BETWEEN {{lo:UInt64}} AND {{hi:UInt64}}
ORDER BY kafka_offset, row_hash"""
CHECKPOINTS_SQL = """SELECT partition, offset, groupUniqArray(row_hash)
FROM chain_checkpoints WHERE topic = {topic:String} GROUP BY partition, offset"""
DUPLICATE_IDS_SQL = """SELECT toString(event_id), groupArray(kafka_topic),
    groupArray(kafka_partition), groupArray(kafka_offset)
FROM trail WHERE kafka_topic IN {topics:Array(String)}
GROUP BY event_id HAVING count() > 1 LIMIT {limit:UInt64}"""
# Every extra copy is one problem, listed or not.
DUPLICATE_COUNT_SQL = """SELECT sum(c - 1) FROM (SELECT count() AS c FROM trail
WHERE kafka_topic IN {topics:Array(String)} GROUP BY event_id HAVING c > 1)"""
SEGMENT_ROW_SQL = f"""SELECT prev_hash FROM trail
WHERE {_WHERE} AND kafka_offset = {{offset:UInt64}} LIMIT 1"""

_OFFSET, _EVENT_ID = INDEX["kafka_offset"], INDEX["event_id"]
_PREV, _HASH = INDEX["prev_hash"], INDEX["row_hash"]


@dataclass(frozen=True)
class Problem:
    topic: str
    partition: int
    offset: int
    event_id: str | None
    kind: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.topic}[{self.partition}] offset {self.offset} "
            f"(event {self.event_id}): {self.kind}: {self.detail}"
        )


@dataclass(frozen=True)
class PartitionSummary:
    topic: str
    partition: int
    first_offset: int
    last_offset: int
    rows: int
    starts_chain: bool  # first stored row has prev_hash zero (else older rows are gone)
    restarts: tuple[ChainSegment, ...] = ()  # chain segments after the first


@dataclass
class VerifyReport:
    partitions: list[PartitionSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0  # may exceed len(problems): only the first max_problems are kept
    rows_checked: int = 0
    # Stored events keyed or placed apart from their session: shown, not problems.
    flagged: FlagSummary = field(default_factory=FlagSummary)
    # Messages recorded as duplicates of a stored event_id: the honest repeats, and the
    # conflicts (other content; the first ``max_problems`` of them listed).
    repeats: int = 0
    conflict_count: int = 0
    conflicts: list[RecordedConflict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        """The first row that does not match (topics in the order given, then offsets)."""
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        lines: list[str] = []
        for p in self.partitions:
            lines.append(
                f"{p.topic}[{p.partition}]: offsets {p.first_offset}..{p.last_offset}, "
                f"{p.rows} rows" + ("" if p.starts_chain else " (older rows no longer stored)")
            )
            lines += [
                f"  segment {s.segment} from offset {s.first_offset} (Kafka offset "
                f"{s.kafka_offset(s.first_offset)}), recorded by {s.recorded_by or '-'}: "
                f"{s.reason}"
                for s in p.restarts
            ]
        verdict = "OK" if self.ok else f"FAILED: {self.problem_count} problem(s)"
        lines.append(f"{verdict}: {self.rows_checked} rows checked")
        lines += [f"  {problem}" for problem in self.problems]
        if self.problem_count > len(self.problems):
            lines.append(
                f"  ... and {self.problem_count - len(self.problems)} more not listed "
                f"(the first {len(self.problems)} are)"
            )
        lines += self.flagged.lines()
        if self.repeats or self.conflict_count:
            lines.append(
                f"event_id repeats recorded (each event stored once): {self.repeats} "
                f"duplicate(s), {self.conflict_count} conflict(s)"
            )
        lines += [f"  CONFLICT {c.place} (event {c.event_id}): {c.detail}" for c in self.conflicts]
        if self.conflict_count > len(self.conflicts):
            lines.append(f"  ... and {self.conflict_count - len(self.conflicts)} more conflicts")
        return "\n".join(lines)


class _Collector:
    def __init__(self, report: VerifyReport, limit: int) -> None:
        self.report, self.limit = report, limit

    def add(self, problem: Problem) -> None:
        self.report.problem_count += 1
        if len(self.report.problems) < self.limit:
            self.report.problems.append(problem)


def verify(
    store: Store,
    topics: Iterable[str],
    *,
    page_rows: int = PAGE_ROWS,
    max_problems: int = 100,
    policy: RetentionPolicy | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Recompute the chains of ``topics`` from ``store``; the report names bad rows.

    With a retention ``policy``, rows missing from the trail are accepted when the
    chain's links (``trail_links``) show they existed, chain correctly, and are past
    their category's retention; any other missing row is a problem.
    """
    order = list(dict.fromkeys(topics))
    report = VerifyReport()
    found = _Collector(report, max_problems)
    at = now or datetime.now(UTC)
    for topic in order:
        checkpoints = _checkpoints(store, topic)
        recorded = segments(store, topic)
        for partition, first, last, count in store.query(PARTITIONS_SQL, {"topic": topic}):
            gaps = GapJudge(store, topic, int(partition), policy, at)
            rows = _pages(store, topic, int(partition), int(first), page_rows)
            starts, last_hash = _check_partition(
                topic, int(partition), rows, checkpoints, found, report, gaps
            )
            restarts = tuple(s for s in recorded.get(int(partition), []) if s.segment > 0)
            _segment_starts(store, restarts, found)
            report.partitions.append(
                PartitionSummary(
                    topic, int(partition), int(first), int(last), int(count), starts, restarts
                )
            )
            _beyond_end(topic, int(partition), int(last), last_hash, checkpoints, found, gaps)
    _duplicate_ids(store, order, found, max_problems)
    report.flagged = flagged(store, order)
    report.repeats, report.conflict_count, report.conflicts = recorded_duplicates(
        store, order, max_problems
    )
    rank = {topic: i for i, topic in enumerate(order)}
    report.problems.sort(key=lambda p: (rank[p.topic], p.partition, p.offset))
    return report


def _pages(
    store: Store, topic: str, partition: int, lo: int, page_rows: int
) -> Iterator[tuple[Any, ...]]:
    where = {"topic": topic, "partition": partition}
    while True:
        ((hi,),) = store.query(PAGE_END_SQL, {**where, "lo": lo, "rows": page_rows})
        if hi is None:
            return
        yield from store.query(PAGE_SQL, {**where, "lo": lo, "hi": int(hi)})
        lo = int(hi) + 1


def _checkpoints(store: Store, topic: str) -> dict[int, dict[int, set[str]]]:
    found: dict[int, dict[int, set[str]]] = {}
    for partition, offset, hashes in store.query(CHECKPOINTS_SQL, {"topic": topic}):
        found.setdefault(int(partition), {})[int(offset)] = set(hashes)
    return found


def _check_partition(
    topic: str,
    partition: int,
    rows: Iterable[tuple[Any, ...]],
    checkpoints: dict[int, dict[int, set[str]]],
    found: _Collector,
    report: VerifyReport,
    gaps: GapJudge,
) -> tuple[bool, str]:
    marks = checkpoints.get(partition, {})
    expected: int | None = None
    last_hash = ""
    starts_chain = False
    for row in rows:
        offset, prev, stored = int(row[_OFFSET]), str(row[_PREV]), str(row[_HASH])
        report.rows_checked += 1
        issues: list[tuple[str, str]] = []
        if expected is None:
            starts_chain = prev == ZERO_HASH
            anchor = marks.get(offset - 1)
            if anchor is not None and prev not in anchor:
                issues.append(
                    (BROKEN_LINK, f"prev_hash differs from the checkpoint at {offset - 1}")
                )
        elif offset < expected:
            issues.append((DUPLICATE_OFFSET, f"offset {offset} is stored more than once"))
        elif offset > expected:
            why = gaps.unexplained(expected, offset - 1, last_hash, prev)
            if why is not None:
                issues.append(
                    (GAP, f"offsets {expected}..{offset - 1} are missing before this row: {why}")
                )
        elif prev != last_hash:
            issues.append(
                (BROKEN_LINK, f"prev_hash is not the row_hash stored at offset {offset - 1}")
            )
        try:
            if row_hash(prev, row) != stored:
                issues.append((ALTERED, "the row's content does not match its row_hash"))
        except ValueError:
            issues.append((ALTERED, "prev_hash is not a hex sha256"))
        except InvalidInput as exc:  # e.g. a chain_version no form exists for
            issues.append((ALTERED, f"the row cannot be hashed: {exc}"))
        mark = marks.get(offset)
        if mark is not None and stored not in mark:
            issues.append(
                (CHECKPOINT_MISMATCH, f"row_hash differs from the checkpoint at {offset}")
            )
        for kind, detail in issues:
            found.add(Problem(topic, partition, offset, row[_EVENT_ID], kind, detail))
        last_hash = stored
        expected = offset + 1 if expected is None else max(expected, offset + 1)
    return starts_chain, last_hash


def _beyond_end(
    topic: str,
    partition: int,
    last: int,
    last_hash: str,
    checkpoints: dict[int, dict[int, set[str]]],
    found: _Collector,
    gaps: GapJudge,
) -> None:
    # Deleting the newest rows leaves a chain that verifies; a checkpoint past them does
    # not, unless the rows in between expired under the retention policy.
    for offset in sorted(o for o in checkpoints.get(partition, {}) if o > last):
        why = gaps.unexplained(last + 1, offset, last_hash, None, checkpoints[partition][offset])
        if why is None:
            continue
        detail = f"a checkpoint exists at offset {offset}, but stored rows end at {last}: {why}"
        found.add(Problem(topic, partition, offset, None, TRUNCATED, detail))


def _segment_starts(store: Store, restarts: tuple[ChainSegment, ...], found: _Collector) -> None:
    for s in restarts:
        where = {"topic": s.topic, "partition": s.partition, "offset": s.first_offset}
        rows = store.query(SEGMENT_ROW_SQL, where)
        if rows and str(rows[0][0]) != s.prev_hash:
            detail = (
                f"segment {s.segment} was recorded to continue the head at offset "
                f"{s.prev_offset}, but its first row links elsewhere"
            )
            found.add(Problem(s.topic, s.partition, s.first_offset, None, SEGMENT_MISMATCH, detail))


def _duplicate_ids(store: Store, topics: list[str], found: _Collector, limit: int) -> None:
    rank = {topic: i for i, topic in enumerate(topics)}
    ((total,),) = store.query(DUPLICATE_COUNT_SQL, {"topics": topics})
    before = found.report.problem_count
    for event_id, in_topics, partitions, offsets in store.query(
        DUPLICATE_IDS_SQL, {"topics": topics, "limit": limit}
    ):
        places = sorted(
            zip(in_topics, map(int, partitions), map(int, offsets), strict=True),
            key=lambda place: (rank[place[0]], place[1], place[2]),
        )
        topic0, partition0, offset0 = places[0]
        for topic, partition, offset in places[1:]:
            detail = f"event_id already stored at {topic0}[{partition0}] offset {offset0}"
            found.add(Problem(topic, partition, offset, str(event_id), DUPLICATE_EVENT_ID, detail))
    # Only `limit` ids were read: count the copies of the others without listing them.
    found.report.problem_count += max(0, int(total or 0) - (found.report.problem_count - before))
