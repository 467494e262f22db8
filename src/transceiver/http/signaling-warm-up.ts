// The signaling server's start-up warm-up (issue #18; docs/performance.md, "post2"): before the
// transceiver listens, offers are POSTed over loopback to a throwaway signaling server —
// startSignaling on 127.0.0.1, an ephemeral port, with a CallService that answers every offer with
// a fixed answer and makes no call, limits of its own and metrics of its own — so that Node's HTTP
// code (the accept, the parser, IncomingMessage, ServerResponse) and the server's own (routing,
// the API key, admission, the body, the offer's media type, the 201) run compiled in the first
// real POSTs instead of in V8's lower tiers. The real server's functions are made at the same
// sites as the throwaway's, and V8 gives closures made at one site one feedback vector.
// Nothing of it outlives warmUpSignaling(): no call, log line, metric or listener is left, and
// only a socket of this process talks to the throwaway server.
// Not here: the call setup's own warm-up (src/cli/transceiver-warm-up.ts).
import { connect } from 'node:net';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { CallService, CreateCallResult } from '../calls/call-types.ts';
import { AdmissionLimits } from './admission-limits.ts';
import { CALLS_PATH, startSignaling } from './signaling.ts';

export interface SignalingWarmUpOptions {
  /** At most this many POSTs (each a connection of its own, as a client's offer is). */
  readonly requests: number;
  /** Wall-clock budget in ms; the warm-up stops at the first POST that ends past it. */
  readonly budgetMs: number;
  /** Monotonic ms. */
  readonly now: () => number;
}

export interface SignalingWarmUpResult {
  /** POSTs answered 201. */
  readonly answered: number;
  /** POSTs that were not (a bug: the caller logs it; the process still starts). */
  readonly failed: number;
  readonly ms: number;
}

/** A POST's bytes are read in one piece; no answer takes longer on an idle loopback. */
const REQUEST_TIMEOUT_MS = 2000;
const WARM_UP_KEY = 'parley-signaling-warm-up';
/** About a browser offer's size: the body is not parsed here (the CallService is a stand-in). */
const OFFER = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${'a=x-warm-up:0123456789abcdef0123456789abcdef\r\n'.repeat(40)}`;
const ANSWER = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${'a=x-warm-up:0123456789abcdef0123456789abcdef\r\n'.repeat(20)}`;

export async function warmUpSignaling(o: SignalingWarmUpOptions): Promise<SignalingWarmUpResult> {
  const start = o.now();
  if (o.requests <= 0 || o.budgetMs <= 0) return { answered: 0, failed: 0, ms: 0 };
  let n = 0;
  const calls: CallService = {
    admission: () => 'open',
    createCall: (): Promise<CreateCallResult> => Promise.resolve({ ok: true, id: `rtc_warm_up_${n}`, answer: ANSWER }),
    getCall: () => undefined,
    endCall: () => false,
  };
  const unlimited = 1e9;
  const server = await startSignaling({
    host: '127.0.0.1',
    port: 0,
    calls,
    apiKeys: [WARM_UP_KEY],
    metrics: new MetricsRegistry(),
    admission: new AdmissionLimits({
      offersPerSecond: unlimited,
      offerBurst: unlimited,
      maxPendingPerClient: unlimited,
      maxCallsPerClient: unlimited,
      // Limits that never refuse need no clock (and the budget's clock is read only for the budget).
      now: () => 0,
    }),
  });
  const request = Buffer.from(
    `POST ${CALLS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${server.address.port}\r\nAuthorization: Bearer ${WARM_UP_KEY}\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(OFFER)}\r\nConnection: close\r\n\r\n${OFFER}`,
  );
  let answered = 0;
  let failed = 0;
  try {
    for (; n < o.requests && o.now() - start < o.budgetMs; n++) {
      if (await post(server.address.port, request)) answered++;
      else failed++;
    }
  } finally {
    await server.close();
  }
  return { answered, failed, ms: o.now() - start };
}

/** One POST on a connection of its own; true when it was answered 201. */
function post(port: number, request: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(request));
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).subarray(0, 12).toString('latin1') === 'HTTP/1.1 201');
    });
  });
}
