"""``python -m benchmarks``: ingest, freshness, reads, memory and producer overhead, with a
consumer profile; prints a table and writes ``benchmarks/results/<timestamp>.json``."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.run import SECTIONS, Options, run


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiplies every size: 1.0 = 1M ingest events, 10M stored rows, 60 s at "
        "5000/s; 0.05 is a ~3-minute smoke run",
    )
    parser.add_argument(
        "--rows",
        type=int,
        help="stored rows for the reads and api sections (default 10,000,000 x --scale)",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="repetitions of ingest and producer (median)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--bootstrap",
        help="Kafka bootstrap (default: $KAFKA_BOOTSTRAP_SERVERS, "
        "else the local stack, started if needed)",
    )
    parser.add_argument("--work-dir", type=Path, help="stores and logs (default: a temp dir)")
    parser.add_argument("--keep-work", action="store_true", help="keep stores and worker logs")
    parser.add_argument(
        "--kafka-engine-python",
        type=Path,
        help="python with chdb 4.0.2 for the Kafka-engine contender (default: a cached venv)",
    )
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.scale <= 0 or args.runs < 1:
        parser.error("--scale must be > 0 and --runs >= 1")
    if args.rows is not None and args.rows < 1:
        parser.error("--rows must be >= 1")
    return Options(
        scale=args.scale,
        runs=args.runs,
        sections=sections,
        bootstrap=args.bootstrap,
        work_dir=args.work_dir,
        keep_work=args.keep_work,
        kafka_engine_python=args.kafka_engine_python,
        rows=args.rows,
    )


def main(argv: list[str] | None = None) -> None:
    run(parse(argv))


if __name__ == "__main__":
    main()
