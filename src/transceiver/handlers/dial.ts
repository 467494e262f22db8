// Dialling an agent's WebSocket for an async handler factory (the realtime and media-stream
// handlers): resolves once the socket is open, or rejects within the deadline with a reason a
// 502 can carry (refused with an HTTP status, unreachable, timed out). The socket comes back
// paused and without listeners: set yours, then resume(). Not here: what either protocol says once the socket is open.
import WebSocket from 'ws';

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
    const fail = (reason: string): void => {
      clearTimeout(timer);
      abandon(ws);
      reject(new Error(`${o.what} at ${describeUrl(url)}: ${reason}`));
    };
    const timer = setTimeout(() => fail(`not open within ${o.timeoutMs} ms`), o.timeoutMs);
    ws.once('unexpected-response', (_req, res) => fail(`refused the WebSocket with HTTP ${res.statusCode}`));
    ws.once('error', (err) => fail(err.message));
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
