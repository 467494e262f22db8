// Limits every Parley HTTP server runs with (issue #19: Node checks its header and request
// timeouts only every 30 s by default, so a 10 s header limit became 37 s, and nothing capped
// the number of connections). Slowloris clients — a header line every few seconds, a body
// trickled byte by byte — are cut off within a second of the limit, and idle keep-alive
// connections after keepAliveTimeout. Not here: routing or answers (ops-http.ts, signaling.ts).
import type { ServerOptions } from 'node:http';

/** Whole request headers must arrive within this (Node: headersTimeout). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included (Node: requestTimeout). Offers are a few KiB. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** An idle kept-alive connection is closed after this (browsers and load balancers keep them). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node looks for requests over their timeouts (its default is 30 s). */
export const CONNECTIONS_CHECK_MS = 500;
/** Open connections at once per server; beyond it the kernel-accepted socket is closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export const HARDENED_HTTP_OPTIONS: ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  // Headers are small here (a bearer key, a content type); Node's default is 16 KiB.
  maxHeaderSize: 16 * 1024,
};
