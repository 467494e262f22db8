// Every metric the transceiver exports, defined in one place (STYLE.md rule 14) and listed in
// docs/transceiver.md. Hot paths keep the labelled children (no lookup per packet).
import type { Counter, CounterChild, Gauge, Histogram, MetricsRegistry } from '../common/metrics.ts';

/** Why the media endpoint dropped a datagram before any session saw it. */
export const ENDPOINT_DROP_REASONS = [
  'source-not-allowed', // the sender is outside --relay-cidrs
  'bad-header',         // no valid relay ⇄ transceiver header
  'no-session',         // no call for that ufrag / client address
  'not-stun-or-media',  // first byte outside the RFC 7983 ranges we serve
  'too-large',          // longer than a relay sends (media-socket.ts MAX_MEDIA_DATAGRAM), dropped unread
] as const;
export type EndpointDropReason = (typeof ENDPOINT_DROP_REASONS)[number];

export interface TransceiverMetrics {
  readonly sessions: Gauge;
  readonly callsCreated: Counter;
  readonly callsRejected: Counter;
  readonly callsClosed: Counter;
  readonly setupSeconds: Histogram;
  readonly handlerErrors: Counter;
  readonly packetsIn: CounterChild;
  readonly packetsOut: CounterChild;
  readonly bytesIn: CounterChild;
  readonly bytesOut: CounterChild;
  readonly drops: Readonly<Record<EndpointDropReason, CounterChild>>;
  readonly sendErrors: CounterChild;
  /** Datagrams a session dropped: not-ready, srtp:<SRTP reason>, malformed, unknown-payload, unknown-kind. */
  readonly sessionDrops: Counter;
}

export function transceiverMetrics(reg: MetricsRegistry): TransceiverMetrics {
  const drops = reg.counter({ name: 'parley_transceiver_drops_total', help: 'Datagrams dropped by the media endpoint, by reason', labelNames: ['reason'] });
  const packets = reg.counter({ name: 'parley_transceiver_packets_total', help: 'Datagrams on the media endpoint (relay side), by direction', labelNames: ['direction'] });
  const bytes = reg.counter({ name: 'parley_transceiver_bytes_total', help: 'Bytes on the media endpoint including the relay header, by direction', labelNames: ['direction'] });
  return {
    sessions: reg.gauge({ name: 'parley_transceiver_sessions', help: 'Calls that are not closed' }),
    callsCreated: reg.counter({ name: 'parley_transceiver_calls_created_total', help: 'Offers answered (201)' }),
    callsRejected: reg.counter({ name: 'parley_transceiver_calls_rejected_total', help: 'Offers refused, by error code', labelNames: ['code'] }),
    callsClosed: reg.counter({ name: 'parley_transceiver_calls_closed_total', help: 'Calls ended, by reason', labelNames: ['reason'] }),
    setupSeconds: reg.histogram({
      name: 'parley_transceiver_call_setup_seconds', help: 'From answer to SRTP keys (ICE + DTLS)',
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    }),
    handlerErrors: reg.counter({ name: 'parley_transceiver_handler_errors_total', help: 'Errors thrown by media handlers (contained)', labelNames: ['handler', 'method'] }),
    packetsIn: packets.labels('in'),
    packetsOut: packets.labels('out'),
    bytesIn: bytes.labels('in'),
    bytesOut: bytes.labels('out'),
    drops: Object.fromEntries(ENDPOINT_DROP_REASONS.map((r) => [r, drops.labels(r)])) as Record<EndpointDropReason, CounterChild>,
    sessionDrops: reg.counter({
      name: 'parley_transceiver_session_drops_total', help: 'Datagrams dropped inside a call, by reason (srtp:<reason> for SRTP/SRTCP)',
      labelNames: ['reason'],
    }),
    sendErrors: reg.counter({ name: 'parley_transceiver_send_errors_total', help: 'UDP sends that failed' }).labels(),
  };
}
