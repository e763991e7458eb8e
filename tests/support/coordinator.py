"""Group offsets from a broker whose group coordinator may still be settling.

A fresh broker creates ``__consumer_offsets`` on first use; until its partitions are
loaded and led, offset requests fail with one of three retriable coordinator errors
(which one depends on timing, and a loaded machine makes the window longer).
"""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    NotCoordinatorError,
)

_SETTLING = (CoordinatorNotAvailableError, NotCoordinatorError, CoordinatorLoadInProgressError)


def group_offsets(admin: KafkaAdminClient, group: str, budget_s: float = 90.0) -> dict[Any, Any]:
    """The group's committed offsets, waiting out a coordinator that is settling."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            return dict(admin.list_group_offsets({group: None}).get(group, {}))
        except _SETTLING as exc:
            if time.monotonic() > deadline:
                msg = f"no group coordinator for {group} in {budget_s:.0f} s"
                raise AssertionError(msg) from exc
            time.sleep(0.2)
