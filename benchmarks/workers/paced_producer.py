"""Worker: send simulated events at a steady rate, reporting every ``sample_every``-th
event's id, session and send time as it goes (for the freshness poller).

Events are simulated and encoded by AuditProducer before the clock starts, then sent as
those bytes by a kafka-python producer configured like AuditProducer (acks=all,
idempotent, linger 5 ms): on two cores the producer's own validation and encoding would
otherwise take the CPU the consumer under test needs. Pacing works in 10 ms steps.
"""

from __future__ import annotations

import time

from audit_trail.stack import TopicLayout
from benchmarks.fill import DAY, events, raw_producer
from benchmarks.procs import emit, worker_args
from producers import AuditProducer
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY


def main() -> None:
    args = worker_args()
    layout = TopicLayout(**args["topics"])
    rate, seconds, every = int(args["rate"]), float(args["seconds"]), int(args["sample_every"])
    built = list(events(int(rate * seconds), int(args["seed"]), DAY))
    topics = {SESSION_FAMILY: layout.session, TRANSACTION_FAMILY: layout.transaction}
    with AuditProducer(args["bootstrap"], topics) as encoder:
        planned = [(encoder.encode(e), str(e.event_id), str(e.session_id)) for e in built]
    del built
    producer = raw_producer(args["bootstrap"])
    emit("ready", events=len(planned))
    started = time.monotonic()
    sent = 0
    while sent < len(planned):
        due = min(len(planned), int((time.monotonic() - started) * rate) + 1)
        while sent < due:
            (topic, key, value), event_id, session_id = planned[sent]
            at = time.time()
            producer.send(topic, value, key)
            if sent % every == 0:
                emit("sample", id=event_id, sid=session_id, sent=at)
            sent += 1
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    producer.flush()
    producer.close()
    emit("result", events=sent, seconds=elapsed, events_per_s=sent / elapsed)


if __name__ == "__main__":
    main()
