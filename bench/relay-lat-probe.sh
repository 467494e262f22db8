#!/usr/bin/env bash
# One latency run of one relay, set up as run.sh's `lat` test (SCHED_IDLE spinners on both CPUs,
# generator + sink on CPU 0, the relay on CPU 1, 1000 flows, paced), plus what the harness does
# not show: the rescheduling IPIs each CPU received (cross-CPU wake-ups) and, per thread of the
# relay process, nice value, CPU time, run-queue wait and context switches (/proc/PID/task/*/
# schedstat and status) over the RTP phase. Answers "who delays the loop" (docs/performance.md,
# "Relay"). Uses the binaries bench/relay-vs-reference.sh built into $BUILD.
#
#   flock /tmp/parley-bench.lock bench/relay-lat-probe.sh ext        # parley relay --datapath native
#   flock /tmp/parley-bench.lock bench/relay-lat-probe.sh go1 20000 5 # relay, pps, seconds
#   PERF=1 ... : also `perf sched record -C 1` of the RTP phase into $BUILD/probe/perf.data
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-/tmp/parley-relay-vs-reference}
NODE=${NODE:-$ROOT/node_modules/.bin/node}
name=${1:?relay: ext, c, go1 or go1b} rate=${2:-20000} dur=${3:-5}
RELAY_ADDR=127.0.0.1:24000 SINK_ADDR=127.0.0.1:26000
D=$BUILD/probe
mkdir -p "$D"
for b in udpgen udpsink spin relay_c relay_go; do
    [ -x "$BUILD/$b" ] || { echo "$BUILD/$b missing: run bench/relay-vs-reference.sh once" >&2; exit 1; }
done
uf=$BUILD/ufrags.txt
case $name in
ext)
    [ -n "${PARLEY_KEYS:-}" ] || PARLEY_KEYS=$("$NODE" "$ROOT/bin/parley.ts" keys generate | tail -1)
    export PARLEY_KEYS
    uf=$D/parley-ufrags.txt
    "$NODE" "$ROOT/bin/parley.ts" token mint --to "$SINK_ADDR" --count 1000 | jq -r '.ufrag + " " + .pwd' >"$uf"
    cmd="$NODE $ROOT/bin/parley.ts relay --listen $RELAY_ADDR --internal 127.0.0.1:24001 --http 127.0.0.1:0 --workers 1 \
--datapath ${DATAPATH:-native} --new-flow-rate 1000000 --new-flow-burst 1000000 --log-level warn" ;;
c) cmd="$BUILD/relay_c -l $RELAY_ADDR -t 120" ;;
go1) cmd="$BUILD/relay_go -l $RELAY_ADDR -w 1 -t 120" ;;
go1b) cmd="$BUILD/relay_go -l $RELAY_ADDR -w 1 -batch 64 -t 120" ;;
*) echo "unknown relay $name" >&2; exit 2 ;;
esac
pids=()
for c in 0 1; do taskset -c $c "$BUILD/spin" $((dur + 20)) & pids+=($!); done
taskset -c 0 "$BUILD/udpsink" -l $SINK_ADDR -t $((dur + 20)) -i 700 >"$D/sink.json" 2>/dev/null &
sp=$!
taskset -c 1 bash -c "exec $cmd" >"$D/relay.out" 2>"$D/relay.err" &
rp=$!
port_hex=$(printf ':%04X' "${RELAY_ADDR##*:}")
for _ in $(seq 100); do awk -v p="$port_hex" '$2 ~ p"$" {f=1} END{exit !f}' /proc/net/udp && break; sleep 0.1; done
sleep 0.3
snap() { # tid comm run_ns wait_ns slices voluntary involuntary nice
    local t
    for t in /proc/$rp/task/*; do
        echo "${t##*/} $(tr ' ' _ <"$t/comm") $(cat "$t/schedstat") $(awk '/^voluntary_ctxt/{v=$2} /^nonvoluntary_ctxt/{n=$2} END{print v, n}' "$t/status") $(awk '{print $19}' "$t/stat")"
    done 2>/dev/null | sort
}
ipis() { awk '$1 == "RES:" {print $2, $3}' /proc/interrupts; }
snap >"$D/s0"
i0=$(ipis)
${PERF:+perf sched record -C 1 -o "$D/perf.data" --} taskset -c 0 "$BUILD/udpgen" -d $RELAY_ADDR -u "$uf" -f 1000 -r "$rate" \
    -t "$dur" -l 172 -b 32 >"$D/gen.json" 2>/dev/null
i1=$(ipis)
snap >"$D/s1"
wait $sp
kill -TERM $rp 2>/dev/null; wait $rp 2>/dev/null
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
echo "$name $(jq -c '{pps, lat_p50:.lat_us.p50, lat_p99:.lat_us.p99, klat_p50:.klat_us.p50, klat_p99:.klat_us.p99, sock_drops}' "$D/sink.json") load $(cut -d' ' -f1-3 /proc/loadavg)"
read -r a0 b0 <<<"$i0"; read -r a1 b1 <<<"$i1"
echo "  rescheduling IPIs received: CPU 0 $((a1 - a0)), CPU 1 $((b1 - b0))"
join "$D/s0" "$D/s1" | awk '{printf "  %-7s %-16s nice %3s  cpu %8.1f ms  run-queue wait %7.1f ms  switches %6d (involuntary %d)\n", $1, $2, $15, ($10-$3)/1e6, ($11-$4)/1e6, $12-$5, $14-$7}'
