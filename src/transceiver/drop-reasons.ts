// Why the transceiver dropped a datagram (STYLE.md rule 4: hot paths return a reason, every
// reason is counted): before any call saw it (the media endpoint and its socket), or inside a
// call (the session). Each reason is defined once here, with its meaning; the metric labels
// (transceiver-metrics.ts) and docs/errors.md come from these catalogs.
import { reasonCatalog } from '../core/errors.ts';
import type { ReasonCatalog } from '../core/errors.ts';
import { SRTP_DROPS } from '../core/srtp/index.ts';
import type { SrtpDropReason } from '../core/srtp/index.ts';

/** parley_transceiver_drops_total{reason}. */
export const ENDPOINT_DROPS = reasonCatalog('endpoint', {
  source_not_allowed: 'the sender is outside --relay-cidrs',
  bad_header: 'no valid relay ⇄ transceiver header',
  no_session: 'no call for that ufrag / client address',
  not_stun_or_media: 'first byte outside the RFC 7983 ranges we serve',
  too_large: 'longer than a relay sends (media-socket.ts MAX_MEDIA_DATAGRAM), dropped unread',
});
export const ENDPOINT_DROP_REASONS = ENDPOINT_DROPS.reasons;
export type EndpointDropReason = (typeof ENDPOINT_DROP_REASONS)[number];

/** SRTP reasons a receiving session can meet (index_exhausted is the send side's). */
type SrtpReceiveReason = Exclude<SrtpDropReason, 'index_exhausted'>;

/** The part of a session drop reason before the SRTP detail: `srtp` takes `_<SRTP reason>`. */
export type SessionDropKind = 'not_ready' | 'srtp' | 'malformed' | 'unknown_payload' | 'unknown_kind';
export type SessionDropReason = Exclude<SessionDropKind, 'srtp'> | `srtp_${SrtpReceiveReason}`;

/** parley_transceiver_session_drops_total{reason}. */
export const SESSION_DROPS: ReasonCatalog<SessionDropReason> = reasonCatalog('session', {
  not_ready: 'DTLS before ICE selected a pair, or SRTP/SRTCP before the keys',
  ...Object.fromEntries(SRTP_DROPS.entries.filter((e) => e.value !== 'index_exhausted').map((e) => [`srtp_${e.value}`, `SRTP/SRTCP refused it: ${e.meaning}`])),
  malformed: 'decrypted, but not an RTP packet or RTCP compound that parses',
  unknown_payload: 'an RTP payload type other than the Opus one (e.g. telephone-event)',
  unknown_kind: 'first byte is neither STUN, DTLS nor RTP/RTCP (RFC 7983)',
}) as ReasonCatalog<SessionDropReason>;
