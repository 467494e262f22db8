// The relay's statistics: the one place that names its drop reasons and its metrics.
// Each worker counts into its own Float64Array over a SharedArrayBuffer (one writer per half,
// a plain `++` on the hot path, no messages); the supervisor sums the arrays into the
// Prometheus registry when /metrics is scraped. docs/metrics.md lists the same names.
// The array has two halves with the same layout: the worker's JS thread writes the first, the
// native datapath's loop thread (datapath-native.ts) the second; a metric is their sum.
import type { MetricsRegistry } from '../common/metrics.ts';
import type { NativeCounter } from '../contracts/relay-native.ts';
import { NATIVE_COUNTERS } from '../contracts/relay-native.ts';
import { TCP_CLOSE_REASONS } from './tcp/tcp-close-reasons.ts';
import type { TcpCloseReason } from './tcp/tcp-close-reasons.ts';

/**
 * Why a datagram was not forwarded. Every one is counted (STYLE.md rule 4); docs/metrics.md
 * lists them, and its changelog every rename.
 */
export const DROP_REASONS = [
  'not_stun', // first packet from an unknown address is not a STUN Binding Request (and no stored flow)
  // The routing token (the server ufrag in USERNAME) does not open — one reason per open() rejection:
  'token_malformed', // no server ufrag, not ice-chars, wrong length, or a bad address inside
  'token_unsupported_version', // a token version this relay does not know
  'token_unknown_key', // minted with a key id not in this relay's keyring (rotated away, or another deployment)
  'token_bad_tag', // authentication fails: forged, tampered or truncated
  'token_not_yet_valid', // issued further in the future than the allowed clock skew
  'token_expired', // older than the token lifetime
  'token_revoked', // the token's call has ended (the transceiver revoked it through the flow store)
  'token_window_closed', // past the token's first-flow window, and no relay holds a flow of it (route.ts)
  'bad_integrity', // MESSAGE-INTEGRITY does not verify with the token's ICE password
  'unknown_flow', // return path: no flow for that client on that public address from that transceiver
  'too_large', // over the datagram limit (1500 bytes of payload)
  'rate_limited', // new-flow attempts from this source IP over its token bucket
  'miss_queue_full', // native datapath: the queue of datagrams for the JS side is full (JS is behind)
  'store_unavailable', // media from an unknown address while the flow store cannot answer (down, or the lookup failed)
  'table_full', // the flow table is at its hard cap
  'disallowed_source', // return traffic from outside the transceiver networks
  'disallowed_destination', // a valid token names a destination outside the transceiver networks
  'bad_header', // return traffic without a valid relay header
  'send_error', // the kernel refused a send
  'tcp_slow_reader', // to a TCP client whose connection already holds its limit of unsent bytes (tcp/tcp-relay.ts)
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Why the relay removed a flow before its idle timeout (route.ts, token-flows.ts): the limits that
 * keep one token from filling the table. docs/metrics.md lists them.
 */
export const REMOVAL_REASONS = [
  'token_cap', // a token over its confirmed flows per worker: the least recently seen goes
  'unconfirmed_per_token', // a token's new unconfirmed flow pushed out its oldest unconfirmed one
  'unconfirmed_pool_full', // the worker's pool of unconfirmed flows was full: the oldest went
  'unconfirmed_timeout', // the transceiver never sent to the client within the confirmation time
  'revoked', // the token's call ended
] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

export const DIRECTIONS = ['to_transceiver', 'to_client'] as const;

/** Store-latency histogram bounds, seconds. */
export const STORE_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

// Slot layout of one worker's Float64Array.
let next = 0;
const slot = (): number => next++;
export const Slot = {
  pktsToTransceiver: slot(),
  bytesToTransceiver: slot(),
  pktsToClient: slot(),
  bytesToClient: slot(),
  flows: slot(),
  flowsCreated: slot(),
  flowsExpired: slot(),
  flowsRecovered: slot(),
  storeErrors: slot(),
  storeWrites: slot(),
  storeLookups: slot(),
  storeLookupsSkipped: slot(),
  storePending: slot(),
  storeConnected: slot(),
  storeLatencySum: slot(),
  storeLatencyCount: slot(),
  takeoversRefused: slot(),
  tokenLookups: slot(),
  tcpConnections: slot(),
  tcpAccepted: slot(),
  /** Written by the native loop only (its half of the array). */
  firstChecksInLoop: slot(),
} as const;
const DROP_BASE = next;
next += DROP_REASONS.length;
const REMOVAL_BASE = next;
next += REMOVAL_REASONS.length;
const TCP_CLOSE_BASE = next;
next += TCP_CLOSE_REASONS.length;
const LATENCY_BASE = next;
next += STORE_LATENCY_BUCKETS.length + 1;
export const STATS_SLOTS = next;
/** Where the native half starts (same slot layout, written only by the native loop thread). */
export const NATIVE_STATS_BASE = STATS_SLOTS;

export const dropSlot = Object.fromEntries(DROP_REASONS.map((r, i) => [r, DROP_BASE + i])) as Record<DropReason, number>;
export const removalSlot = Object.fromEntries(REMOVAL_REASONS.map((r, i) => [r, REMOVAL_BASE + i])) as Record<RemovalReason, number>;
export const tcpCloseSlot = Object.fromEntries(TCP_CLOSE_REASONS.map((r, i) => [r, TCP_CLOSE_BASE + i])) as Record<TcpCloseReason, number>;

/** The slot each counter of the native loop (src/contracts/relay-native.ts) is written to; -1: none. */
const NATIVE_COUNTER_SLOT: Record<NativeCounter, number> = {
  pkts_to_transceiver: Slot.pktsToTransceiver,
  bytes_to_transceiver: Slot.bytesToTransceiver,
  pkts_to_client: Slot.pktsToClient,
  bytes_to_client: Slot.bytesToClient,
  drop_too_large: dropSlot.too_large,
  drop_not_stun: dropSlot.not_stun,
  drop_miss_queue_full: dropSlot.miss_queue_full,
  drop_unknown_flow: dropSlot.unknown_flow,
  drop_disallowed_source: dropSlot.disallowed_source,
  drop_bad_header: dropSlot.bad_header,
  drop_send_error: dropSlot.send_error,
  first_checks_in_loop: Slot.firstChecksInLoop,
  misses: -1,
};

/** The native counters' slots, in the addon's counter order (what its open() takes). */
export function nativeCounterSlots(): Int32Array {
  return Int32Array.from(NATIVE_COUNTERS, (c) => NATIVE_COUNTER_SLOT[c]);
}

export function newStats(shared = true): Float64Array {
  const bytes = 2 * STATS_SLOTS * Float64Array.BYTES_PER_ELEMENT;
  return new Float64Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** Records one store round trip of `seconds` into the worker's histogram slots. */
export function observeStoreLatency(stats: Float64Array, seconds: number): void {
  let i = 0;
  while (i < STORE_LATENCY_BUCKETS.length && seconds > STORE_LATENCY_BUCKETS[i]) i++;
  stats[LATENCY_BASE + i]++;
  stats[Slot.storeLatencySum] += seconds;
  stats[Slot.storeLatencyCount]++;
}

/** Metric names (docs/metrics.md). */
export const METRIC = {
  packets: 'parley_relay_packets_total',
  bytes: 'parley_relay_bytes_total',
  drops: 'parley_relay_drops_total',
  flows: 'parley_relay_flows',
  flowsCreated: 'parley_relay_flows_created_total',
  firstChecksInLoop: 'parley_relay_first_checks_in_loop_total',
  flowsExpired: 'parley_relay_flows_expired_total',
  flowsRecovered: 'parley_relay_flows_recovered_total',
  flowsRemoved: 'parley_relay_flows_removed_total',
  takeoversRefused: 'parley_relay_takeovers_refused_total',
  tokenLookups: 'parley_relay_token_lookups_total',
  tcpConnections: 'parley_relay_tcp_connections',
  tcpAccepted: 'parley_relay_tcp_accepted_total',
  tcpClosed: 'parley_relay_tcp_closed_total',
  storeErrors: 'parley_relay_store_errors_total',
  storeWrites: 'parley_relay_store_writes_total',
  storeLookups: 'parley_relay_store_lookups_total',
  storeLookupsSkipped: 'parley_relay_store_lookups_skipped_total',
  storePending: 'parley_relay_store_pending_writes',
  storeConnected: 'parley_relay_store_connected',
  storeLatency: 'parley_relay_store_latency_seconds',
  workers: 'parley_relay_workers',
  revocations: 'parley_relay_revocations_total',
} as const;

/** Registers the relay metrics; at each scrape, mirrors the workers' arrays (worker label = index). */
export function registerRelayMetrics(reg: MetricsRegistry, workers: () => readonly Float64Array[]): void {
  const packets = reg.counter({ name: METRIC.packets, help: 'Datagrams forwarded, by direction.', labelNames: ['direction'] });
  const bytes = reg.counter({
    name: METRIC.bytes,
    help: 'Payload bytes forwarded (without relay header), by direction.',
    labelNames: ['direction'],
  });
  const drops = reg.counter({ name: METRIC.drops, help: 'Datagrams dropped, by reason.', labelNames: ['reason'] });
  const removed = reg.counter({
    name: METRIC.flowsRemoved,
    help: 'Flows removed before their idle timeout by the per-token limits, by reason.',
    labelNames: ['reason'],
  });
  const flows = reg.gauge({ name: METRIC.flows, help: 'Flows in the table, by worker.', labelNames: ['worker'] });
  const simple = [
    [reg.counter({ name: METRIC.flowsCreated, help: 'Flows created from a verified STUN check.' }), Slot.flowsCreated],
    [
      reg.counter({
        name: METRIC.firstChecksInLoop,
        help: "Flows the native datapath's loop created from a first check itself (also in flows_created).",
      }),
      Slot.firstChecksInLoop,
    ],
    [reg.counter({ name: METRIC.flowsExpired, help: 'Flows removed after being idle.' }), Slot.flowsExpired],
    [
      reg.counter({ name: METRIC.flowsRecovered, help: 'Flows loaded from the flow store (start-up load or lookup).' }),
      Slot.flowsRecovered,
    ],
    [
      reg.counter({ name: METRIC.takeoversRefused, help: "Valid checks for another call from a live flow's address (not taken over)." }),
      Slot.takeoversRefused,
    ],
    [reg.counter({ name: METRIC.tokenLookups, help: 'Store lookups of a token seen after its first-flow window.' }), Slot.tokenLookups],
    [
      reg.gauge({ name: METRIC.tcpConnections, help: 'ICE-TCP connections held (bound or awaiting their first frame).' }),
      Slot.tcpConnections,
    ],
    [reg.counter({ name: METRIC.tcpAccepted, help: 'ICE-TCP connections accepted.' }), Slot.tcpAccepted],
    [reg.counter({ name: METRIC.storeErrors, help: 'Flow store operations that failed.' }), Slot.storeErrors],
    [reg.counter({ name: METRIC.storeWrites, help: 'Flow records written (or refreshed) to the store.' }), Slot.storeWrites],
    [reg.counter({ name: METRIC.storeLookups, help: 'Store lookups for packets from unknown addresses.' }), Slot.storeLookups],
    [
      reg.counter({ name: METRIC.storeLookupsSkipped, help: 'Store lookups not made (negative cache or lookup rate limit).' }),
      Slot.storeLookupsSkipped,
    ],
    [reg.gauge({ name: METRIC.storePending, help: 'Flow records waiting to be written to the store.' }), Slot.storePending],
    [reg.gauge({ name: METRIC.storeConnected, help: 'Workers whose store connection is up.' }), Slot.storeConnected],
  ] as const;
  const latency = reg.histogram({
    name: METRIC.storeLatency,
    help: 'Flow store round-trip time (lookups, loads and write batches).',
    buckets: STORE_LATENCY_BUCKETS,
  });
  const workerGauge = reg.gauge({ name: METRIC.workers, help: 'Relay workers running.' });
  const pT = packets.labels(DIRECTIONS[0]);
  const pC = packets.labels(DIRECTIONS[1]);
  const bT = bytes.labels(DIRECTIONS[0]);
  const bC = bytes.labels(DIRECTIONS[1]);
  const dropChildren = DROP_REASONS.map((r) => drops.labels(r));
  const removedChildren = REMOVAL_REASONS.map((r) => removed.labels(r));
  const tcpClosed = reg.counter({
    name: METRIC.tcpClosed,
    help: 'ICE-TCP connections closed or refused by the relay, by reason.',
    labelNames: ['reason'],
  });
  const tcpClosedChildren = TCP_CLOSE_REASONS.map((r) => tcpClosed.labels(r));
  reg.onCollect(() => {
    const arrays = workers();
    const sum = (i: number): number => arrays.reduce((s, a) => s + a[i] + (a[NATIVE_STATS_BASE + i] ?? 0), 0);
    pT.set(sum(Slot.pktsToTransceiver));
    pC.set(sum(Slot.pktsToClient));
    bT.set(sum(Slot.bytesToTransceiver));
    bC.set(sum(Slot.bytesToClient));
    DROP_REASONS.forEach((r, i) => dropChildren[i].set(sum(dropSlot[r])));
    REMOVAL_REASONS.forEach((r, i) => removedChildren[i].set(sum(removalSlot[r])));
    TCP_CLOSE_REASONS.forEach((r, i) => tcpClosedChildren[i].set(sum(tcpCloseSlot[r])));
    flows.reset();
    arrays.forEach((a, i) => flows.labels(String(i)).set(a[Slot.flows]));
    for (const [m, i] of simple) m.labels().set(sum(i));
    const counts = Array.from({ length: STORE_LATENCY_BUCKETS.length + 1 }, (_, b) => sum(LATENCY_BASE + b));
    latency.labels().load(counts, sum(Slot.storeLatencySum), sum(Slot.storeLatencyCount));
    workerGauge.set(arrays.length);
  });
}
