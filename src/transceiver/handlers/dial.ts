// Dialling an agent's WebSocket for an async handler factory (the realtime and media-stream
// handlers): resolves once the socket is open, or rejects within the deadline with a reason a
// 502 can carry (refused with an HTTP status, unreachable, timed out) and a DialFailure to count. The socket comes back
// paused and without listeners: set yours, then resume(). Not here: what either protocol says once the socket is open.
import WebSocket from 'ws';

/**
 * Why an agent could not be dialled (a metric label): it answered the upgrade with another HTTP
 * status, nothing listened (ECONNREFUSED), it was not open in time, or another network or TLS error.
 */
export const DIAL_FAILURES = ['http_status', 'refused', 'timeout', 'network'] as const;
export type DialFailure = (typeof DIAL_FAILURES)[number];

/** A dial that failed: the message names the agent and the cause; `reason` is the label. */
export class DialError extends Error {
  readonly reason: DialFailure;
  constructor(reason: DialFailure, message: string) {
    super(message);
    this.name = 'DialError';
    this.reason = reason;
  }
}

export interface DialOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest message accepted; a larger one closes the socket (1009). */
  readonly maxPayload: number;
  /** Open within this, else reject. */
  readonly timeoutMs: number;
  /** Prefix of every rejection, e.g. "realtime model". */
  readonly what: string;
}

/** The URL as errors name it (no query: it may carry credentials). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Drops a socket that is no longer wanted: no listener survives, a late error is swallowed. */
export function abandon(ws: WebSocket): void {
  ws.removeAllListeners();
  ws.on('error', () => {});
  ws.terminate();
}

export function dialWebSocket(url: URL, o: DialOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, {
    headers: { ...o.headers },
    maxPayload: o.maxPayload,
    handshakeTimeout: o.timeoutMs,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    const fail = (why: DialFailure, reason: string): void => {
      clearTimeout(timer);
      abandon(ws);
      reject(new DialError(why, `${o.what} at ${describeUrl(url)}: ${reason}`));
    };
    const timer = setTimeout(() => fail('timeout', `not open within ${o.timeoutMs} ms`), o.timeoutMs);
    ws.once('unexpected-response', (_req, res) => fail('http_status', `refused the WebSocket with HTTP ${res.statusCode}`));
    ws.once('error', (err: NodeJS.ErrnoException) => {
      // ws reports its own handshake timeout as an error too.
      const why = err.code === 'ECONNREFUSED' ? 'refused' : /timed out|timeout/i.test(err.message) ? 'timeout' : 'network';
      fail(why, err.message);
    });
    ws.once('open', () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      // Paused: a server that speaks first (the realtime model's session.created, often in the
      // same packet as the 101) must not be heard before the caller has set its listeners.
      ws.pause();
      resolve(ws);
    });
  });
}
