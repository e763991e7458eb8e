"""Send events from a JSON Lines file: one event per line, bad lines reported, never sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from producers.events import InvalidEvent, parse_event_json
from producers.producer import AuditProducer
from schemas import EncodeError


@dataclass(frozen=True)
class BadLine:
    line_number: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"


@dataclass
class JsonlReport:
    sent: Counter[str] = field(default_factory=Counter)
    bad: list[BadLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad


def produce_lines(lines: Iterable[str], producer: AuditProducer) -> JsonlReport:
    """Validate each line; send the good ones, collect the bad ones with their reasons.

    A bad line never stops the good ones after it; the caller decides the exit status.
    Delivery failures are not bad lines: they raise from the final flush.
    """
    report = JsonlReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_event_json(line)
            producer.send(event)
        except (InvalidEvent, EncodeError) as exc:
            report.bad.append(BadLine(number, str(exc)))
            continue
        report.sent[event.event_type] += 1
    producer.flush()
    return report


def produce_file(path: Path, producer: AuditProducer) -> JsonlReport:
    with path.open(encoding="utf-8") as lines:
        return produce_lines(lines, producer)
