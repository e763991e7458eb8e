"""`python -m audit_trail.stack up|down|status`: drive the local Kafka stack by hand.

A stop-gap until the project CLI grows its own commands. `up` prints only the bootstrap address
on stdout (progress goes to stderr), so `export KAFKA_BOOTSTRAP_SERVERS=$(python -m
audit_trail.stack up)` works; unset it again before `down`, or `down` leaves the broker alone.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .errors import StackError
from .lifecycle import kafka_down, kafka_reset, kafka_status, kafka_up
from .paths import stack_dir

# Exit codes: 0 ok; 1 the stack failed; 3 `status` found no answering broker (LSB's
# "program is not running"), so scripts can test `status` without parsing its output.
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m audit_trail.stack",
        description="Run a local one-node Apache Kafka (KRaft) broker for development and tests.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start or reuse the broker; print its bootstrap address")
    up.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        help="seconds to wait for the broker to answer (default: 90)",
    )
    commands.add_parser("down", help="stop the broker started by `up` (its data is kept)")
    reset = commands.add_parser("reset", help="stop the broker and delete its data")
    reset.add_argument("--yes", action="store_true", help="really delete the data")
    commands.add_parser("status", help="show whether the broker runs and answers")
    return parser


def _print_status() -> int:
    status = kafka_status()
    kind = "external (KAFKA_BOOTSTRAP_SERVERS)" if status.external else f"local ({stack_dir()})"
    print(f"broker:    {kind}")
    print(f"running:   {'yes' if status.running else 'no'}")
    print(f"pid:       {status.pid if status.pid is not None else '-'}")
    print(f"bootstrap: {status.bootstrap or '-'}")
    print(f"answers:   {'yes' if status.answers else 'no'}")
    return 0 if status.answers else EXIT_NOT_RUNNING


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # kafka-python logs every refused connection while the broker starts; not news here.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        if args.command == "up":
            print(kafka_up(timeout_s=args.timeout))
        elif args.command == "down":
            kafka_down()
        elif args.command == "reset":
            if not args.yes:
                print("error: `reset` deletes the broker's data; add --yes", file=sys.stderr)
                return EXIT_FAILED
            kafka_reset()
        else:
            return _print_status()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
