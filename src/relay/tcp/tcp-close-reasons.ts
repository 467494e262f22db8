// Why the relay closed or refused an ICE-TCP connection (tcp-relay.ts): the label values of
// parley_relay_tcp_closed_total, here on their own so the relay's statistics (stats.ts) and the
// TCP side share one list without importing each other.
/** Why the relay closed (or refused) a TCP connection; docs/metrics.md. */
export const TCP_CLOSE_REASONS = [
  'too_many_connections', // the relay's TCP connection cap
  'too_many_from_ip', // the per-source-IP (/64) cap
  'first_frame_timeout', // no complete first frame within the deadline (a slow or silent client)
  'first_frame_refused', // the first frame is not a verified Binding Request (its drop reason is counted too)
  'bad_frame', // a frame over the size limit, or an empty one: the stream is unusable
  'token_cap', // the token already has its connections
  'idle', // nothing from the client for the idle timeout
  'client_closed', // the client closed or reset the connection
  'relay_stopping', // the relay is shutting down
] as const;
export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];
