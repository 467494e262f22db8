// The transceiver's HTTP server: the signaling API (mirrors OpenAI's Realtime WebRTC API and
// is WHIP-compatible, RFC 9725) plus /metrics, /healthz and /readyz on the same port (served by
// common/ops-http.ts, as on every process).
//   POST   /v1/realtime/calls             application/sdp offer → 201, SDP answer, Location
//   GET    /v1/realtime/calls/{id}        state and counters (JSON)
//   DELETE /v1/realtime/calls/{id}        end the call (WHIP, RFC 9725 §4.3)
//   POST   /v1/realtime/calls/{id}/hangup end the call (OpenAI)
// It is only HTTP: what a call is lives behind CallService (calls/call-registry.ts). Every error answer is
// `{"error":{"code","message"}}` from the catalog in http/signaling-errors.ts.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TransportAddress } from '../../core/address.ts';
import type { Logger } from '../../common/log.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { listenHttp } from '../../common/http-listen.ts';
import type { ListeningHttp } from '../../common/http-listen.ts';
import { isOpsPath, serveOps } from '../../common/ops-http.ts';
import type { OpsPath } from '../../common/ops-http.ts';
import { BearerKeys } from './bearer-keys.ts';
import type { CallRefusal, CallService } from '../calls/call-types.ts';
import type { ForwardAuth } from './forward-auth.ts';
import { SignalingError, SignalingErrorCode } from './signaling-errors.ts';
import { readStatic } from './static-files.ts';

export const CALLS_PATH = '/v1/realtime/calls';
/** Offers are a few KiB; 64 KiB leaves room for many candidates and still bounds memory. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface SignalingOptions {
  readonly host: string;
  readonly port: number;
  readonly calls: CallService;
  readonly apiKeys?: readonly string[];
  readonly metrics: MetricsRegistry;
  readonly ready: () => boolean;
  readonly log?: Logger;
  readonly maxBodyBytes?: number;
  /** Seconds in Retry-After when at the session limit / while draining. */
  readonly retryAfterFullSeconds?: number;
  readonly retryAfterDrainingSeconds?: number;
  /** Folder served at / for GET (the demo page, web/); none when undefined. */
  readonly staticDir?: string;
  /** Request header (lower case) whose value is the call's region hint (relays/relay-locations.ts). */
  readonly regionHeader?: string;
  /** The replica that holds a call this one does not know (routable ids, calls/call-id.ts); undefined: 404. */
  readonly ownerOf?: (id: string) => TransportAddress | undefined;
  /** Signs requests forwarded to an owner, and accepts forwarded ones in place of an API key (http/forward-auth.ts). */
  readonly forwardAuth?: ForwardAuth;
  /** Wall clock (ms) for forward signatures; default Date.now. */
  readonly wallClock?: () => number;
}

/** The registry's refusals as API errors (each code carries its status, http/signaling-errors.ts). */
const REFUSAL_ERRORS: Record<CallRefusal, SignalingErrorCode> = {
  unknown_handler: SignalingErrorCode.unknownHandler,
  bad_sdp: SignalingErrorCode.badSdp,
  sdp_not_acceptable: SignalingErrorCode.sdpNotAcceptable,
  agent_unavailable: SignalingErrorCode.agentUnavailable,
};

export type SignalingServer = ListeningHttp;

// Fetch spec CORS: a browser page on another origin may POST an offer with a bearer key and
// must be able to read Location to hang up later. No cookies are used, so '*' is safe.
const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Location',
};
const PREFLIGHT: Record<string, string> = {
  ...CORS,
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, X-Parley-Region',
  'access-control-max-age': '600',
};

type Route =
  { kind: 'calls' } | { kind: 'call'; id: string } | { kind: 'hangup'; id: string } | { kind: 'ops'; path: OpsPath } | { kind: 'none' };

const ID = '([A-Za-z0-9_-]{1,80})';
/**
 * Marks a request one replica forwarded to another, so it is never forwarded twice; its value is
 * the forwarder's signature (http/forward-auth.ts), which stands in for the caller's API key.
 */
const FORWARDED = 'x-parley-forwarded';
const CALL = new RegExp(`^${CALLS_PATH}/${ID}$`);
const HANGUP = new RegExp(`^${CALLS_PATH}/${ID}/hangup$`);

function route(path: string): Route {
  if (path === CALLS_PATH) return { kind: 'calls' };
  if (isOpsPath(path)) return { kind: 'ops', path };
  let m = CALL.exec(path);
  if (m) return { kind: 'call', id: m[1] };
  m = HANGUP.exec(path);
  if (m) return { kind: 'hangup', id: m[1] };
  return { kind: 'none' };
}

const ALLOW: Record<Route['kind'], string> = {
  calls: 'POST, OPTIONS',
  call: 'GET, DELETE, OPTIONS',
  hangup: 'POST, OPTIONS',
  ops: 'GET, HEAD',
  none: '',
};

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string): void {
  const h: Record<string, string | number> = { ...CORS, 'cache-control': 'no-store', ...headers };
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, h);
  res.end(body);
}

function sendError(res: ServerResponse, err: SignalingError): void {
  send(res, err.status, { 'content-type': 'application/json', ...err.headers }, err.body());
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, { 'content-type': 'application/json' }, JSON.stringify(value));
}

/** Reads the body up to `limit` bytes; undefined when it is larger (the caller answers 413). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering at once: the rest of the body is never held in memory.
        req.off('data', onData);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

export async function startSignaling(o: SignalingOptions): Promise<SignalingServer> {
  const keys = new BearerKeys(o.apiKeys ?? []);
  const wallClock = o.wallClock ?? Date.now;
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requests = o.metrics.counter({
    name: 'parley_signaling_requests_total',
    help: 'Signaling HTTP requests by route and status code',
    labelNames: ['route', 'status'],
  });

  async function createCall(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/sdp') {
      throw new SignalingError(
        SignalingErrorCode.unsupportedMediaType,
        `the offer must be sent with Content-Type: application/sdp (got ${type === '' ? 'none' : JSON.stringify(type)})`,
      );
    }
    const admission = o.calls.admission();
    if (admission !== 'open') {
      const draining = admission === 'draining';
      throw new SignalingError(
        draining ? SignalingErrorCode.draining : SignalingErrorCode.atCapacity,
        draining
          ? 'this transceiver is shutting down; retry to reach another one'
          : 'this transceiver is at its session limit; retry later',
        { 'retry-after': String(draining ? (o.retryAfterDrainingSeconds ?? 5) : (o.retryAfterFullSeconds ?? 2)) },
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = new SignalingError(SignalingErrorCode.bodyTooLarge, `the offer is larger than ${maxBody} bytes`, {
      connection: 'close',
    });
    if (declared > maxBody) {
      req.resume();
      throw tooLarge;
    }
    const body = await readBody(req, maxBody);
    if (body === undefined) throw tooLarge;
    const handler = url.searchParams.get('handler') ?? undefined;
    const hint = o.regionHeader === undefined ? undefined : req.headers[o.regionHeader];
    const result = await o.calls.createCall(body, { handler, regionHint: Array.isArray(hint) ? hint[0] : hint });
    if (!result.ok) throw new SignalingError(REFUSAL_ERRORS[result.refusal], result.message);
    send(res, 201, { 'content-type': 'application/sdp', location: `${CALLS_PATH}/${result.id}` }, result.answer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, r: Route, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (r.kind === 'none') {
      const file =
        o.staticDir !== undefined && (method === 'GET' || method === 'HEAD') ? await readStatic(o.staticDir, url.pathname) : undefined;
      if (!file) throw new SignalingError(SignalingErrorCode.notFound, `no such endpoint: ${url.pathname}`);
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    if (r.kind === 'ops') {
      if (method !== 'GET' && method !== 'HEAD') throw notAllowed(r, method);
      serveOps(o, r.path, req, res);
      return;
    }
    if (method === 'OPTIONS') {
      send(res, 204, { ...PREFLIGHT, allow: ALLOW[r.kind] });
      return;
    }
    const allowed = ALLOW[r.kind].split(', ');
    if (!allowed.includes(method)) throw notAllowed(r, method);
    const forwarded = req.headers[FORWARDED];
    const signedForward =
      typeof forwarded === 'string' &&
      r.kind !== 'calls' &&
      o.forwardAuth?.verify(forwarded, method, url.pathname + url.search, wallClock()) === true;
    if (!signedForward && !keys.check(req.headers.authorization)) {
      throw new SignalingError(SignalingErrorCode.unauthorized, 'a valid API key is required: send Authorization: Bearer <key>', {
        'www-authenticate': 'Bearer realm="parley"',
      });
    }
    if (r.kind === 'calls') return createCall(req, res, url);
    const info = o.calls.getCall(r.id);
    if (!info) {
      const owner = forwarded === undefined ? o.ownerOf?.(r.id) : undefined;
      if (owner) return forward(req, res, owner, url);
      throw new SignalingError(SignalingErrorCode.notFound, `no call with id ${r.id}`);
    }
    if (method === 'GET') return sendJson(res, 200, info);
    o.calls.endCall(r.id, 'hangup');
    sendJson(res, 200, o.calls.getCall(r.id) ?? info);
  }

  /** Passes a call request on to the replica that holds the call, and its answer back. */
  async function forward(req: IncomingMessage, res: ServerResponse, owner: TransportAddress, url: URL): Promise<void> {
    const host = owner.family === 'IPv6' ? `[${owner.address}]` : owner.address;
    // The caller's API key stays here: the owner gets a signature for this one request instead.
    const target = url.pathname + url.search;
    const headers: Record<string, string> = { [FORWARDED]: o.forwardAuth?.sign(req.method ?? 'GET', target, wallClock()) ?? '1' };
    let answer: Response;
    try {
      answer = await fetch(`http://${host}:${owner.port}${target}`, {
        method: req.method,
        headers,
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      o.log?.warn('forwarding a call request to its transceiver failed', { err, owner: `${host}:${owner.port}`, path: url.pathname });
      throw new SignalingError(SignalingErrorCode.notFound, 'the transceiver that holds this call does not answer');
    }
    const body = await answer.text();
    send(res, answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }, body);
  }

  function notAllowed(r: Route, method: string): SignalingError {
    return new SignalingError(SignalingErrorCode.methodNotAllowed, `${method} is not allowed here; use ${ALLOW[r.kind]}`, {
      allow: ALLOW[r.kind],
    });
  }

  const server: Server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // A request-target the URL parser rejects (e.g. `http://[`): answer, never throw here.
      url = new URL('http://localhost/\u0000invalid');
    }
    const r = route(url.pathname);
    res.once('finish', () => requests.labels(r.kind, String(res.statusCode)).inc());
    handle(req, res, r, url).catch((err: unknown) => {
      const e = err instanceof SignalingError ? err : new SignalingError(SignalingErrorCode.internalError, 'internal error');
      if (!(err instanceof SignalingError)) o.log?.error('signaling request failed', { err, path: url.pathname });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, e);
    });
  });
  // Browsers and load balancers keep connections; close() must not wait for them.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return listenHttp(server, o.host, o.port, 'signaling', o.log);
}
