"""Worker: simulate, encode and send one share of the ingest events (see ``fill``)."""

from __future__ import annotations

from audit_trail.stack import TopicLayout
from benchmarks.fill import fill_part
from benchmarks.procs import emit, worker_args


def main() -> None:
    args = worker_args()
    confluent = args["confluent"]
    result = fill_part(
        args["bootstrap"],
        TopicLayout(**args["ours"]),
        TopicLayout(**confluent) if confluent is not None else None,
        int(args["count"]),
        int(args["seed"]),
        int(args["day"]),
    )
    emit("result", **result)


if __name__ == "__main__":
    main()
