"""The project's topics by role, and their names by default: light (no Kafka client), so
settings can name topics without loading one."""

from __future__ import annotations

from dataclasses import astuple, dataclass

from audit_trail import topic_configs
from audit_trail.topic_configs import TopicConfigs
from schemas import AuditTrailError

DEFAULT_ERASURES_TOPIC = "audit.erasures"


class TopicsError(AuditTrailError):
    """A topic layout that cannot work, or topics the broker would not create."""


@dataclass(frozen=True)
class TopicLayout:
    session: str
    transaction: str
    dead_letter: str
    # Erasure notices (compacted, never expiring): every store built from Kafka applies them.
    erasures: str = DEFAULT_ERASURES_TOPIC

    def __post_init__(self) -> None:
        names = self.names()
        if len(set(names)) != len(names):
            # One topic in two roles would get one role's configs: say so instead.
            raise TopicsError(f"each topic needs its own name, got {', '.join(names)}")

    def names(self) -> tuple[str, ...]:
        return tuple(str(name) for name in astuple(self))

    def configs(self, retention_days: int) -> dict[str, TopicConfigs]:
        """Each topic's configs: expiring for what holds personal data, compacted erasures."""
        expiring = topic_configs.expiring(retention_days)
        configs = {name: expiring for name in self.names()}
        configs[self.erasures] = topic_configs.never_expiring_compacted()
        return configs


DEFAULT_TOPICS = TopicLayout(
    session="audit.session-events",
    transaction="audit.transaction-events",
    dead_letter="audit.dead-letter",
)
