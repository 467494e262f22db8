// What the relay's TypeScript and its C datapath (native/src/relay_native.c) agree on: the
// addon's ABI number, the order of the counters its loop threads count into the native half of
// a worker's stats array, the layout of the first-packet ("miss") batches and of the flows it
// hands to JavaScript, and the limits both sides size tables by. The C side takes them from
// native/src/generated/parley_contracts.h, generated from this file (c-header.ts); a test fails
// when the two differ.
// Not here: which metric a counter feeds (src/relay/stats.ts maps each one to its slot).

/** Bumped whenever the addon's functions change shape; the TypeScript side refuses another build. */
export const RELAY_ADDON_ABI = 7;

/** At most this many public (listen) addresses per relay: a flow's public index fits in 4 bits. */
export const MAX_PUBLIC_ADDRESSES = 16;

/**
 * Datagrams the loops queue for JavaScript at most (first packets, STUN, media from unknown
 * senders); media may fill only half, so junk never crowds out first packets. Past it they are
 * dropped as 'miss_queue_full'.
 */
export const NATIVE_MISS_QUEUE_CAP = 4096;

/** The native loop's counters, in slot order. `drop_*` are drop reasons (src/relay/stats.ts). */
export const NATIVE_COUNTERS = [
  'pkts_to_transceiver',
  'bytes_to_transceiver',
  'pkts_to_client',
  'bytes_to_client',
  'drop_too_large',
  'drop_not_stun',
  'drop_miss_queue_full',
  'drop_unknown_flow',
  'drop_disallowed_source',
  'drop_bad_header',
  'drop_send_error',
  /** First checks the loop verified and made a flow of itself (docs/relay.md, "First checks in the loop"). */
  'first_checks_in_loop',
  /** Datagrams queued for JavaScript (the loop's own count; no metric). */
  'misses',
] as const;
export type NativeCounter = (typeof NATIVE_COUNTERS)[number];

/**
 * One queued datagram in a miss batch: this many values in the flat array, at these positions.
 * `created` is undefined for a datagram JavaScript decides; for a first check the loop made a flow
 * of itself (and already forwarded) it is the token's fields as checkFirst's `out` holds them
 * (format.ts PT_FAMILY, PT_IP, PT_PORT, PT_TIME): JavaScript does the bookkeeping.
 */
export const NATIVE_MISS_FIELDS = ['payload', 'address', 'port', 'family', 'publicIndex', 'created'] as const;

/**
 * One flow as the addon hands it out (get, and each flow due in a sweep): values at these positions.
 * `confirmed` is 1 once the transceiver has sent to the client (the loop's reply path sets it).
 */
export const NATIVE_FLOW_FIELDS = [
  'clientAddress',
  'clientPort',
  'publicIndex',
  'destAddress',
  'destPort',
  'ufrag',
  'lastSeen',
  'confirmed',
] as const;

/**
 * What the addon's first-check verifier (checkFirst: the token opened, the password derived, the
 * MESSAGE-INTEGRITY verified, in route.ts verifyCheck's order) returns, by position: 0 is a
 * verified check, every other value names the drop reason it is counted as (src/relay/stats.ts).
 */
export const NATIVE_CHECK_RESULTS = [
  'verified',
  'token_malformed',
  'token_unsupported_version',
  'token_unknown_key',
  'token_bad_tag',
  'token_not_yet_valid',
  'token_expired',
  'bad_integrity',
] as const;
