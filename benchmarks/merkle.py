"""The verifiable trail's costs: a proof bundle over N stored rows, the proof's size at
10^9 rows, and checkpointing + tree maintenance against ingest without it.

    nice -n 10 .venv/bin/python -m benchmarks.merkle --scale 0.02

No Kafka: rows are made as the consumer makes them (Avro decode -> trail row), then
linked and inserted in batches of 5,000 as the consumer stores them. Two chains in one
store, batch by batch in alternating order, so both see the same engine and load:
``plain`` is linked and inserted; ``tree`` is linked, inserted and then given to the
consumer's own ``Checkpointer.sign_due`` (defaults: a checkpoint at most every 0.75 s;
tiles; signing). The ratio of the two totals is the tree's share of the store's side of
ingest. (Kafka's side, decoding and sealing come on top of both and are not counted, so
the share of the whole consumer is smaller.) Then ``prove_event`` is timed for random
events of the ``tree`` chain.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ChainHead, EmbeddedStore, Row, link
from ledger.columns import INDEX
from ledger.merkle import Checkpointer, NoteSigner, check_bundle, prove_event
from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows

FULL_ROWS = 10_000_000
BATCH = 5_000
POOL = 20_000  # distinct simulated events; rows beyond reuse them with fresh ids
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _pool(topic: str) -> list[Row]:
    # Offsets and ids are overwritten per batch (``_batch``); one ingestion time for all.
    events = islice(simulate(400, 3, DAY), POOL)
    return list(decoded_rows(events, topic, ingested_at=datetime.now(UTC)))


def _batch(pool: list[Row], topic: str, start: int, count: int) -> list[Row]:
    out = []
    for offset in range(start, start + count):
        row = list(pool[offset % len(pool)])
        row[INDEX["event_id"]] = uuid.UUID(int=offset + 1)  # distinct, and findable again
        row[INDEX["kafka_topic"]] = topic
        row[INDEX["kafka_offset"]] = offset
        out.append(tuple(row))
    return out


def run(rows: int, work: Path) -> dict[str, Any]:
    store = EmbeddedStore(work / "store")
    store.migrate()
    signer = NoteSigner("bench.audit-trail", Ed25519PrivateKey.generate())
    tree = Checkpointer(store, signer, "bench")
    pool = _pool("x")
    heads = {"plain": ChainHead.start("plain", 0), "tree": ChainHead.start("tree", 0)}
    spent = {"plain": 0.0, "tree": 0.0, "tree_signing": 0.0}
    try:
        for n, start in enumerate(range(0, rows, BATCH)):
            count = min(BATCH, rows - start)
            order = ["plain", "tree"] if n % 2 == 0 else ["tree", "plain"]
            for chain in order:
                batch = _batch(pool, chain, start, count)
                began = time.perf_counter()
                linked, heads[chain] = link(batch, heads[chain])
                store.insert_trail(linked, f"{chain}:0:{start}-{start + count - 1}")
                if chain == "tree":
                    signed = time.perf_counter()
                    tree.sign_due([heads["tree"]])
                    spent["tree_signing"] += time.perf_counter() - signed
                spent[chain] += time.perf_counter() - began
        tree.sign_due([heads["tree"]], force=True)
        return {
            "rows_per_chain": rows,
            "plain_rows_per_s": rows / spent["plain"],
            "tree_rows_per_s": rows / spent["tree"],
            "tree_cost_share": spent["tree_signing"] / spent["tree"],
            "throughput_ratio": spent["plain"] / spent["tree"],
            **_proofs(store, signer, rows),
        }
    finally:
        store.close()


def _proofs(store: EmbeddedStore, signer: NoteSigner, rows: int) -> dict[str, Any]:
    picks = random.Random(7).sample(range(rows), 25)
    times, hashes, sizes = [], 0, []
    for offset in picks:
        began = time.perf_counter()
        bundle = prove_event(store, str(uuid.UUID(int=offset + 1)), ["tree"])
        times.append(time.perf_counter() - began)
        check_bundle(bundle, signer.verifier)
        hashes = max(hashes, len(bundle["entries"][0]["inclusion"]))
        sizes.append(len(json.dumps(bundle)))
    return {
        "proof_ms_median": statistics.median(times) * 1000,
        "proof_ms_max": max(times) * 1000,
        "path_hashes": hashes,
        "bundle_json_bytes_median": statistics.median(sizes),
        "path_hashes_at_1e9": math.ceil(math.log2(1e9)),
        "path_bytes_at_1e9": 32 * math.ceil(math.log2(1e9)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.merkle", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 10M rows per chain")
    args = parser.parse_args(argv)
    rows = max(BATCH, int(FULL_ROWS * args.scale))
    with tempfile.TemporaryDirectory(prefix="bench-merkle-") as work:
        result = run(rows, Path(work))
    print(json.dumps({"scale": args.scale, **result}, indent=1))


if __name__ == "__main__":
    main()
