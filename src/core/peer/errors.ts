// Why an AudioPeer dropped a datagram, received or (unconfirmed_address) about to be sent
// (STYLE.md rule 4): the reasons it tells its owner, each
// defined once with its meaning. The transceiver counts them in
// parley_transceiver_session_drops_total{reason}; docs/errors.md lists them.
import { reasonCatalog } from '../errors.ts';
import type { ReasonCatalog } from '../errors.ts';
import { SRTP_DROPS } from '../srtp/errors.ts';
import type { SrtpDropReason } from '../srtp/errors.ts';

/** What the peer counts drops by (PeerStats.drops); `srtp` drops are told with their SRTP reason. */
export const PEER_DROPS = ['not_ready', 'srtp', 'malformed', 'unknown_payload', 'unknown_kind', 'unconfirmed_address'] as const;
export type PeerDrop = (typeof PEER_DROPS)[number];

/** A drop kind, or for SRTP/SRTCP the SRTP reason behind `srtp_`. */
export type PeerDropReason = Exclude<PeerDrop, 'srtp'> | `srtp_${SrtpDropReason}`;

export const PEER_DROP_REASONS: ReasonCatalog<PeerDropReason> = reasonCatalog('peer', {
  not_ready: 'DTLS before ICE selected a pair, or SRTP/SRTCP before the keys',
  // index_exhausted is the send side's: a receiving peer never meets it.
  ...Object.fromEntries(
    SRTP_DROPS.entries.filter((e) => e.value !== 'index_exhausted').map((e) => [`srtp_${e.value}`, `SRTP/SRTCP refused it: ${e.meaning}`]),
  ),
  malformed: 'authenticated, but not an RTP packet or RTCP compound that parses',
  unknown_payload: 'an RTP payload type other than the negotiated Opus one (e.g. telephone-event)',
  unknown_kind: 'first byte is neither STUN, DTLS nor RTP/RTCP (RFC 7983)',
  unconfirmed_address:
    'not sent: DTLS, RTP, RTCP or SCTP toward an address that has not proved it receives, beyond the bytes that came from it (issue #19: a nomination from a forged address)',
}) as ReasonCatalog<PeerDropReason>;
