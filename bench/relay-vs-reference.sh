#!/usr/bin/env bash
# Parley's relay beside the reference relays of the shared relay-bench harness, measured in
# the same run with the same generator and sink: `parley relay --datapath native`, 1 worker,
# pinned to one core (run.sh pins every single-core relay to RELAY_CPU, default CPU 1), as
# relay "ext", next to direct (no relay), the C relay (recvmmsg/sendmmsg), the Go relay with and
# without batching, and the naive Node dgram forwarder. Those reference relays and run.sh live
# in the team's relay-bench harness, outside this repository: give its directory as the
# argument (or RELAY_BENCH_DIR). Without them, `npm run bench:relay` measures Parley alone
# with the generator and sink in bench/relay/load.
#
#   bench/relay-vs-reference.sh DIR                         # ROUNDS=3 of TESTS="sat cap lat" (~25 min)
#   ROUNDS=2 TESTS="sat lat" bench/relay-vs-reference.sh DIR   # shorter
#   DATAPATH=js bench/relay-vs-reference.sh DIR             # the same with the JS datapath
#
# Rounds are the outer loop (run.sh with REPS=1 per round, all into one results.jsonl, then
# run.sh's own summary of the medians): on a shared machine every relay then sees the same
# background load in each round, instead of one relay's repetitions all landing in a busy minute.
#
# The generator sends 1000 first packets from one source IP, so the relay's per-IP new-flow
# limit is raised (a real deployment sees one client per address). Tokens route to the sink.
# Ports default away from `parley dev` and bench/relay.ts (RELAY_ADDR 24000, SINK_ADDR 26000).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${1:-${RELAY_BENCH_DIR:-}}
if [ -z "$SHARED" ] || [ ! -x "$SHARED/run.sh" ]; then
    echo "usage: bench/relay-vs-reference.sh RELAY_BENCH_DIR (the relay-bench harness with run.sh and the reference relays${SHARED:+; $SHARED/run.sh not found})" >&2
    echo "Parley alone, from this repository: npm run bench:relay" >&2
    exit 2
fi
export NODE=${NODE:-$ROOT/node_modules/.bin/node}
export BUILD=${BUILD:-/tmp/parley-relay-vs-reference}
export RELAY_ADDR=${RELAY_ADDR:-127.0.0.1:24000}
export SINK_ADDR=${SINK_ADDR:-127.0.0.1:26000}
export RELAYS=${RELAYS:-"direct c go1 go1b node1 ext"}
export COTURN=${COTURN:-0}
export TESTS=${TESTS:-"sat cap lat"}
ROUNDS=${ROUNDS:-3}
export OUT=${OUT:-$BUILD/results-$(date +%Y%m%d-%H%M%S)}
DATAPATH=${DATAPATH:-native}
mkdir -p "$BUILD"
cd "$ROOT"
[ -n "${PARLEY_KEYS:-}" ] || PARLEY_KEYS=$("$NODE" bin/parley.ts keys generate | tail -1)
export PARLEY_KEYS
export UFRAGS_EXT=$BUILD/parley-ufrags.txt
"$NODE" bin/parley.ts token mint --to "$SINK_ADDR" --count 1000 | jq -r '.ufrag + " " + .pwd' >"$UFRAGS_EXT"
port=${RELAY_ADDR##*:}
export RELAY_CMD="$NODE $ROOT/bin/parley.ts relay --listen $RELAY_ADDR --internal ${RELAY_ADDR%:*}:$((port + 1)) \
--http 127.0.0.1:0 --workers 1 --datapath $DATAPATH --new-flow-rate 1000000 --new-flow-burst 1000000 --log-level warn"
echo "ext = parley relay --datapath $DATAPATH (1 worker); RELAYS=$RELAYS TESTS=$TESTS ROUNDS=$ROUNDS DUR=${DUR:-5} -> $OUT" >&2
for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    REPS=1 "$SHARED/run.sh" >/dev/null
done
"$SHARED/run.sh" summarize "$OUT/results.jsonl" | tee "$OUT/summary.md"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); raw records: $OUT/results.jsonl" >&2
