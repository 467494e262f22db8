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
import type { DataChannelStats } from './calls/call-types.ts';
import { DATACHANNEL_DROPS } from '../core/datachannel/index.ts';
import { SCTP_DROPS } from '../core/sctp/index.ts';
import { ENDPOINT_DROP_REASONS } from './media/drop-reasons.ts';
import { DIAL_FAILURES } from './handlers/dial.ts';
import { MEDIA_STREAM_ACTIONS, MEDIA_STREAM_DIRECTIONS, MEDIA_STREAM_DROP_REASONS } from './handlers/media-stream/media-stream-handler.ts';
import type { MediaStreamCounters } from './handlers/media-stream/media-stream-handler.ts';
import type { EndpointDropReason } from './media/drop-reasons.ts';

export { ENDPOINT_DROP_REASONS };
export type { EndpointDropReason };

/** Labels of the per-call quality histograms: the relay location the call used and its handler. */
export const CALL_QUALITY_LABELS = ['location', 'handler'] as const;

export interface TransceiverMetrics {
  readonly sessions: Gauge;
  readonly callsCreated: Counter;
  readonly callsRejected: Counter;
  readonly callsClosed: Counter;
  /** Per call, by relay location and handler (bounded: configured names): setup at connect, the rest at close. */
  readonly setupSeconds: Histogram;
  readonly callRttSeconds: Histogram;
  readonly callJitterSeconds: Histogram;
  readonly callLossRatio: Histogram;
  readonly callMos: Histogram;
  readonly handlerErrors: Counter;
  /** oai-events messages answered with an error or not sent (calls/oai-events.ts OaiEventDrop). */
  readonly oaiEventDrops: Counter;
  readonly packetsIn: CounterChild;
  readonly packetsOut: CounterChild;
  readonly bytesIn: CounterChild;
  readonly bytesOut: CounterChild;
  readonly drops: Readonly<Record<EndpointDropReason, CounterChild>>;
  readonly sendErrors: CounterChild;
  /** Issue #19: a call's claim of a client address another live call held (media/endpoint.ts #claim). */
  readonly addressClaims: { readonly refused: CounterChild; readonly reclaimed: CounterChild };
  /** Datagrams a session dropped, by PEER_DROP_REASONS (srtp_<SRTP reason> for SRTP/SRTCP). */
  readonly sessionDrops: Counter;
  /** What the sessions' ICE-lite agents did with each STUN packet (ICE_LITE_RESULTS). */
  readonly iceChecks: Readonly<Record<IceLiteCounter, CounterChild>>;
  /** DTLS records the sessions dropped without ending the call (DTLS_DROPS). */
  readonly dtlsDrops: Readonly<Record<DtlsDropReason, CounterChild>>;
  /** Data channels: SCTP and channel-layer drops as they happen (SCTP_DROPS, DATACHANNEL_DROPS, the call's own). */
  readonly sctpDrops: Readonly<Record<SctpDropLabel, CounterChild>>;
  /** Data-channel totals mirrored from the calls before each render (mirrorDataChannels). */
  readonly dataChannels: DataChannelCounters;
  /** Runs `fn` before each /metrics render (to mirror totals kept by the calls). */
  readonly onCollect: (fn: () => void) => void;
}

/** Every reason parley_transceiver_sctp_drops_total counts by. */
export const SCTP_DROP_LABELS = [...SCTP_DROPS.reasons, ...DATACHANNEL_DROPS.reasons, 'send_buffer_full', 'too_many_channels'] as const;
export type SctpDropLabel = (typeof SCTP_DROP_LABELS)[number];

export interface DataChannelCounters {
  readonly messagesIn: CounterChild;
  readonly messagesOut: CounterChild;
  readonly bytesIn: CounterChild;
  readonly bytesOut: CounterChild;
  readonly opened: CounterChild;
  readonly closed: CounterChild;
  readonly retransmits: CounterChild;
}

/** Sets the data-channel counters to `totals` (monotonic: closed calls' sums + the live calls'). */
export function mirrorDataChannels(
  c: DataChannelCounters,
  totals: Pick<
    DataChannelStats,
    'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut' | 'channelsOpened' | 'channelsClosed' | 'sctpRetransmits'
  >,
): void {
  c.messagesIn.set(totals.messagesIn);
  c.messagesOut.set(totals.messagesOut);
  c.bytesIn.set(totals.bytesIn);
  c.bytesOut.set(totals.bytesOut);
  c.opened.set(totals.channelsOpened);
  c.closed.set(totals.channelsClosed);
  c.retransmits.set(totals.sctpRetransmits);
}

/** One child per label value, made up front: every reason shows on /metrics from the start. */
function children<R extends string>(c: Counter, values: readonly R[]): Record<R, CounterChild> {
  return Object.fromEntries(values.map((v) => [v, c.labels(v)])) as Record<R, CounterChild>;
}

/**
 * The realtime handler's counted drops by reason (handlers/realtime/realtime-handler.ts
 * REALTIME_DROP_REASONS). Made by the CLI, which builds the handler before the transceiver starts,
 * in the registry it then gives startTransceiver.
 */
export function realtimeDropMetric<R extends string>(reg: MetricsRegistry, reasons: readonly R[]): Readonly<Record<R, CounterChild>> {
  const c = reg.counter({
    name: 'parley_transceiver_realtime_drops_total',
    help: 'What the realtime handler dropped, by reason: caller audio (input_backpressure, bad_caller_audio), model output (bad_model_audio, bad_model_event), events oai-events did not take (event_not_sent)',
    labelNames: ['reason'],
  });
  return Object.fromEntries(reasons.map((r) => [r, c.labels(r)])) as Record<R, CounterChild>;
}

/**
 * The media-stream handler's counters (handlers/media-stream): messages and bytes each way,
 * drops by reason, what the agent asked for, and dials that failed by reason. Made by the CLI
 * with the handler, like realtimeDropMetric; every label value shows from the start.
 */
export function mediaStreamMetrics(reg: MetricsRegistry): MediaStreamCounters {
  const messages = reg.counter({
    name: 'parley_transceiver_media_stream_messages_total',
    help: 'Media-stream WebSocket messages, by direction (to_agent, from_agent)',
    labelNames: ['direction'],
  });
  const bytes = reg.counter({
    name: 'parley_transceiver_media_stream_bytes_total',
    help: 'Media-stream WebSocket message bytes, by direction (to_agent, from_agent)',
    labelNames: ['direction'],
  });
  const drops = reg.counter({
    name: 'parley_transceiver_media_stream_drops_total',
    help: 'What the media-stream bridge dropped, by reason: caller frames (late_caller_audio, duplicate_caller_audio, bad_caller_audio, agent_backpressure), agent audio (output_full, bad_agent_audio), agent messages (bad_agent_message, agent_rate_limited, too_many_marks), event_not_sent',
    labelNames: ['reason'],
  });
  const actions = reg.counter({
    name: 'parley_transceiver_media_stream_actions_total',
    help: 'What media-stream agents asked for: mark_received, mark_sent (echoed back when played or cleared), clear',
    labelNames: ['action'],
  });
  const dialFailures = reg.counter({
    name: 'parley_transceiver_media_stream_dial_failures_total',
    help: 'Media-stream agents not reached at POST time (the POST got 502), by reason: http_status, refused, timeout, network',
    labelNames: ['reason'],
  });
  return {
    messages: children(messages, MEDIA_STREAM_DIRECTIONS),
    bytes: children(bytes, MEDIA_STREAM_DIRECTIONS),
    drops: children(drops, MEDIA_STREAM_DROP_REASONS),
    actions: children(actions, MEDIA_STREAM_ACTIONS),
    dialFailures: children(dialFailures, DIAL_FAILURES),
  };
}

export function transceiverMetrics(reg: MetricsRegistry): TransceiverMetrics {
  const drops = reg.counter({
    name: 'parley_transceiver_drops_total',
    help: 'Datagrams dropped by the media endpoint, by reason',
    labelNames: ['reason'],
  });
  const packets = reg.counter({
    name: 'parley_transceiver_packets_total',
    help: 'Datagrams on the media endpoint (relay side), by direction',
    labelNames: ['direction'],
  });
  const bytes = reg.counter({
    name: 'parley_transceiver_bytes_total',
    help: 'Bytes on the media endpoint including the relay header, by direction',
    labelNames: ['direction'],
  });
  const sessionDrops = reg.counter({
    name: 'parley_transceiver_session_drops_total',
    help: 'Datagrams dropped inside a call, by reason (srtp_<reason> for SRTP/SRTCP)',
    labelNames: ['reason'],
  });
  children(sessionDrops, PEER_DROP_REASONS.reasons);
  const iceChecks = reg.counter({
    name: 'parley_transceiver_ice_checks_total',
    help: "STUN packets the calls' ICE-lite agents handled, by result (answered, stun_error_401, drop_fingerprint…)",
    labelNames: ['result'],
  });
  const callsRejected = reg.counter({
    name: 'parley_transceiver_calls_rejected_total',
    help: 'Offers the call registry refused, by reason',
    labelNames: ['reason'],
  });
  children(callsRejected, CALL_REFUSALS);
  const dtlsDrops = reg.counter({
    name: 'parley_transceiver_dtls_drops_total',
    help: 'DTLS records dropped inside a call without ending it, by reason',
    labelNames: ['reason'],
  });
  const sctpDrops = reg.counter({
    name: 'parley_transceiver_sctp_drops_total',
    help: 'Data channels: SCTP packets/chunks and channel messages dropped inside a call, by reason',
    labelNames: ['reason'],
  });
  const dcMessages = reg.counter({
    name: 'parley_transceiver_datachannel_messages_total',
    help: 'Data-channel messages, by direction (in: from callers)',
    labelNames: ['direction'],
  });
  const dcBytes = reg.counter({
    name: 'parley_transceiver_datachannel_bytes_total',
    help: 'Data-channel message bytes, by direction',
    labelNames: ['direction'],
  });
  const addressClaims = reg.counter({
    name: 'parley_transceiver_address_claims_total',
    help: 'A call selected a client address another live call held: refused (the holder had confirmed it) or reclaimed (it had not)',
    labelNames: ['result'],
  });
  return {
    addressClaims: { refused: addressClaims.labels('refused'), reclaimed: addressClaims.labels('reclaimed') },
    sessions: reg.gauge({ name: 'parley_transceiver_sessions', help: 'Calls that are not closed' }),
    callsCreated: reg.counter({ name: 'parley_transceiver_calls_created_total', help: 'Offers answered (201)' }),
    callsRejected,
    callsClosed: reg.counter({ name: 'parley_transceiver_calls_closed_total', help: 'Calls ended, by reason', labelNames: ['reason'] }),
    setupSeconds: reg.histogram({
      name: 'parley_transceiver_call_setup_seconds',
      help: 'From answer to SRTP keys (ICE + DTLS), by relay location and handler',
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      labelNames: CALL_QUALITY_LABELS,
    }),
    callRttSeconds: reg.histogram({
      name: 'parley_transceiver_call_rtt_seconds',
      help: "Per ended call: round trip from the client's RTCP receiver reports (calls with one), by relay location and handler",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
      labelNames: CALL_QUALITY_LABELS,
    }),
    callJitterSeconds: reg.histogram({
      name: 'parley_transceiver_call_jitter_seconds',
      help: "Per ended call: interarrival jitter of the client's stream (RFC 3550), by relay location and handler",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1],
      labelNames: CALL_QUALITY_LABELS,
    }),
    callLossRatio: reg.histogram({
      name: 'parley_transceiver_call_loss_ratio',
      help: "Per ended call: the client's packets lost / expected (0..1), by relay location and handler",
      buckets: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2],
      labelNames: CALL_QUALITY_LABELS,
    }),
    callMos: reg.histogram({
      name: 'parley_transceiver_call_mos',
      help: 'Per ended call that carried audio: estimated MOS (simplified E-model, calls/call-quality.ts), by relay location and handler',
      buckets: [1.5, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4],
      labelNames: CALL_QUALITY_LABELS,
    }),
    handlerErrors: reg.counter({
      name: 'parley_transceiver_handler_errors_total',
      help: 'Errors thrown by media handlers (contained)',
      labelNames: ['handler', 'method'],
    }),
    oaiEventDrops: reg.counter({
      name: 'parley_transceiver_oai_event_drops_total',
      help: 'OpenAI Realtime events on oai-events refused (malformed, rate_limited) or not sent (send_failed, queue_full)',
      labelNames: ['reason'],
    }),
    packetsIn: packets.labels('in'),
    packetsOut: packets.labels('out'),
    bytesIn: bytes.labels('in'),
    bytesOut: bytes.labels('out'),
    drops: children(drops, ENDPOINT_DROP_REASONS),
    sessionDrops,
    iceChecks: children(iceChecks, ICE_LITE_RESULTS.reasons),
    dtlsDrops: children(dtlsDrops, DTLS_DROPS.reasons),
    sctpDrops: children(sctpDrops, SCTP_DROP_LABELS),
    dataChannels: {
      messagesIn: dcMessages.labels('in'),
      messagesOut: dcMessages.labels('out'),
      bytesIn: dcBytes.labels('in'),
      bytesOut: dcBytes.labels('out'),
      opened: reg
        .counter({ name: 'parley_transceiver_datachannels_opened_total', help: 'Data channels opened (by callers or handlers)' })
        .labels(),
      closed: reg.counter({ name: 'parley_transceiver_datachannels_closed_total', help: 'Data channels closed' }).labels(),
      retransmits: reg
        .counter({ name: 'parley_transceiver_sctp_retransmits_total', help: 'SCTP DATA chunks retransmitted (T3 and fast retransmit)' })
        .labels(),
    },
    onCollect: (fn) => reg.onCollect(fn),
    sendErrors: reg.counter({ name: 'parley_transceiver_send_errors_total', help: 'UDP sends that failed' }).labels(),
  };
}
