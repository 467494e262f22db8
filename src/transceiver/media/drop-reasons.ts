// Why the transceiver's media endpoint (and its socket) dropped a datagram before any call saw
// it (STYLE.md rule 4: hot paths return a reason, every reason is counted). Each reason is
// defined once here, with its meaning; the metric labels (transceiver-metrics.ts) and
// docs/errors.md come from this catalog. What a call drops is the peer's (src/core/peer/errors.ts).
import { reasonCatalog } from '../../core/errors.ts';

/** parley_transceiver_drops_total{reason}. */
export const ENDPOINT_DROPS = reasonCatalog('endpoint', {
  source_not_allowed: 'the sender is outside --relay-cidrs',
  bad_header: 'no valid relay ⇄ transceiver header',
  no_session: 'no call for that ufrag / client address',
  not_stun_or_media: 'first byte outside the RFC 7983 ranges we serve',
  address_of_other_call: 'outbound: a call sent toward a client address another live call holds (a hijack attempt), not sent',
  too_large: 'longer than a relay sends (media-socket.ts MAX_MEDIA_DATAGRAM), dropped unread',
});
export const ENDPOINT_DROP_REASONS = ENDPOINT_DROPS.reasons;
export type EndpointDropReason = (typeof ENDPOINT_DROP_REASONS)[number];
