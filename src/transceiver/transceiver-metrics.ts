// Every metric the transceiver exports, defined in one place (STYLE.md rule 14) and listed in
// docs/metrics.md; the reasons they count by are in media/drop-reasons.ts and src/core (ICE results,
// DTLS drops). Hot paths keep the labelled children (no lookup per packet).
import type { Counter, CounterChild, Gauge, Histogram, MetricsRegistry } from '../common/metrics.ts';
import { DTLS_DROPS } from '../core/dtls/index.ts';
import type { DtlsDropReason } from '../core/dtls/index.ts';
import { ICE_LITE_RESULTS } from '../core/ice/index.ts';
import type { IceLiteCounter } from '../core/ice/index.ts';
import { PEER_DROP_REASONS } from '../core/peer/index.ts';
import { CALL_REFUSALS } from './calls/call-types.ts';
import { ENDPOINT_DROP_REASONS } from './media/drop-reasons.ts';
import type { EndpointDropReason } from './media/drop-reasons.ts';

export { ENDPOINT_DROP_REASONS };
export type { EndpointDropReason };

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
  /** Datagrams a session dropped, by PEER_DROP_REASONS (srtp_<SRTP reason> for SRTP/SRTCP). */
  readonly sessionDrops: Counter;
  /** What the sessions' ICE-lite agents did with each STUN packet (ICE_LITE_RESULTS). */
  readonly iceChecks: Readonly<Record<IceLiteCounter, CounterChild>>;
  /** DTLS records the sessions dropped without ending the call (DTLS_DROPS). */
  readonly dtlsDrops: Readonly<Record<DtlsDropReason, CounterChild>>;
}

/** One child per label value, made up front: every reason shows on /metrics from the start. */
function children<R extends string>(c: Counter, values: readonly R[]): Record<R, CounterChild> {
  return Object.fromEntries(values.map((v) => [v, c.labels(v)])) as Record<R, CounterChild>;
}

export function transceiverMetrics(reg: MetricsRegistry): TransceiverMetrics {
  const drops = reg.counter({ name: 'parley_transceiver_drops_total', help: 'Datagrams dropped by the media endpoint, by reason', labelNames: ['reason'] });
  const packets = reg.counter({ name: 'parley_transceiver_packets_total', help: 'Datagrams on the media endpoint (relay side), by direction', labelNames: ['direction'] });
  const bytes = reg.counter({ name: 'parley_transceiver_bytes_total', help: 'Bytes on the media endpoint including the relay header, by direction', labelNames: ['direction'] });
  const sessionDrops = reg.counter({
    name: 'parley_transceiver_session_drops_total', help: 'Datagrams dropped inside a call, by reason (srtp_<reason> for SRTP/SRTCP)',
    labelNames: ['reason'],
  });
  children(sessionDrops, PEER_DROP_REASONS.reasons);
  const iceChecks = reg.counter({
    name: 'parley_transceiver_ice_checks_total', help: 'STUN packets the calls\' ICE-lite agents handled, by result (answered, stun_error_401, drop_fingerprint…)',
    labelNames: ['result'],
  });
  const callsRejected = reg.counter({ name: 'parley_transceiver_calls_rejected_total', help: 'Offers the call registry refused, by reason', labelNames: ['reason'] });
  children(callsRejected, CALL_REFUSALS);
  const dtlsDrops = reg.counter({ name: 'parley_transceiver_dtls_drops_total', help: 'DTLS records dropped inside a call without ending it, by reason', labelNames: ['reason'] });
  return {
    sessions: reg.gauge({ name: 'parley_transceiver_sessions', help: 'Calls that are not closed' }),
    callsCreated: reg.counter({ name: 'parley_transceiver_calls_created_total', help: 'Offers answered (201)' }),
    callsRejected,
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
    drops: children(drops, ENDPOINT_DROP_REASONS),
    sessionDrops,
    iceChecks: children(iceChecks, ICE_LITE_RESULTS.reasons),
    dtlsDrops: children(dtlsDrops, DTLS_DROPS.reasons),
    sendErrors: reg.counter({ name: 'parley_transceiver_send_errors_total', help: 'UDP sends that failed' }).labels(),
  };
}
