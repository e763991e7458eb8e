"""A real Apache Kafka broker for local runs and tests, without Docker.

`kafka_up()` downloads Kafka's jars with Maven once (cached in `.stack/`), starts a one-node
KRaft broker on free loopback ports as a detached JVM, creates the project's topics and returns
the bootstrap address. It is idempotent: later calls, from any process, reuse the running
broker. With KAFKA_BOOTSTRAP_SERVERS set, it only ensures topics on that broker instead.

Run by hand with `python -m audit_trail.stack up|down|status`.
"""

# Topic names and creation are runtime code (audit_trail.topics); re-exported here for the
# stack's own callers. The dependency points one way: runtime never imports the stack.
from audit_trail.topic_configs import DEFAULT_RETENTION_DAYS
from audit_trail.topics import DEFAULT_TOPICS, TopicLayout, ensure_topics

from .lifecycle import StackStatus, kafka_down, kafka_reset, kafka_status, kafka_up
from .paths import stack_dir

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_TOPICS",
    "StackStatus",
    "TopicLayout",
    "ensure_topics",
    "kafka_down",
    "kafka_reset",
    "kafka_status",
    "kafka_up",
    "stack_dir",
]
