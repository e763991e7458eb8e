#!/usr/bin/env bash
# The main job end to end: local Kafka (a JVM from Maven Central, no Docker), a simulated
# platform day, the consumer into the embedded ClickHouse (chDB), one session's timeline,
# counts per type, and the integrity check. Re-running is safe: events are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
at=.venv/bin/audit-trail
SESSIONS=${SESSIONS:-300}
SEED=${SEED:-1}
# A fixed day, so the ids in README's examples exist in the demo's data.
START=${START:-2026-11-02}

echo "== Kafka"
$at stack up
echo "== simulate $SESSIONS sessions (seed $SEED, day $START)"
$at simulate --sessions "$SESSIONS" --seed "$SEED" --start "$START"
echo "== consume into the embedded store (${AUDIT_DATA_DIR:-var})"
$at consume --until-idle
echo "== one session's timeline (the busiest)"
$at timeline
echo "== stored events per type"
$at counts
echo "== verify: hash chains, contiguous offsets, unique event ids"
$at verify
