"""Worker: AuditProducer sending simulated events at a steady rate, reporting every
``sample_every``-th event's id, session and send time as it goes (for the freshness poller).

Events are simulated before the clock starts; sending is paced in 10 ms steps.
"""

from __future__ import annotations

import time

from audit_trail.stack import TopicLayout
from benchmarks.fill import DAY, events
from benchmarks.procs import emit, worker_args
from producers import AuditProducer
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY


def main() -> None:
    args = worker_args()
    layout = TopicLayout(**args["topics"])
    rate, seconds, every = int(args["rate"]), float(args["seconds"]), int(args["sample_every"])
    planned = list(events(int(rate * seconds), int(args["seed"]), DAY))
    topics = {SESSION_FAMILY: layout.session, TRANSACTION_FAMILY: layout.transaction}
    with AuditProducer(args["bootstrap"], topics) as producer:
        emit("ready", events=len(planned))
        started = time.monotonic()
        sent = 0
        while sent < len(planned):
            due = min(len(planned), int((time.monotonic() - started) * rate) + 1)
            while sent < due:
                event = planned[sent]
                at = time.time()
                producer.send(event)
                if sent % every == 0:
                    emit("sample", id=str(event.event_id), sid=str(event.session_id), sent=at)
                sent += 1
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        producer.flush()
    emit("result", events=sent, seconds=elapsed, events_per_s=sent / elapsed)


if __name__ == "__main__":
    main()
