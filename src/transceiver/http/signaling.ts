// The transceiver's HTTP server: the signaling API (mirrors OpenAI's Realtime WebRTC API and
// is WHIP-compatible, RFC 9725). Not here: /metrics, /healthz and /readyz, which are on the
// transceiver's internal ops listener (--ops, common/ops-http.ts), never on this public port (issue #19).
//   POST   /v1/realtime/client_secrets    API key → an ephemeral `ek_…` secret (realtime-front/client-secrets.ts)
//   POST   /v1/realtime/calls             application/sdp or multipart/form-data offer (API key or ek_)
//                                         → 201, SDP answer, Location
//   GET    /v1/realtime/calls/{id}        state and counters (JSON)
//   DELETE /v1/realtime/calls/{id}        end the call (WHIP, RFC 9725 §4.3)
//   POST   /v1/realtime/calls/{id}/hangup end the call (OpenAI)
//   GET    /v1/realtime?call_id=…         WebSocket upgrade: the call's sideband (http/sideband.ts)
// It is only HTTP: what a call is lives behind CallService (calls/call-registry.ts), what an offer
// body and a client secret are in realtime-front/. Every error answer is
// `{"error":{"message","type","code"}}` from the catalog in http/signaling-errors.ts.
// Just past 400 lines: one router for the API's routes, each handler a few lines over the services
// named above; the limits, forwarding, sideband and static files are modules of their own.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TransportAddress } from '../../core/address.ts';
import type { Logger } from '../../common/log.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { listenHttp } from '../../common/http-listen.ts';
import type { ListeningHttp } from '../../common/http-listen.ts';
import { BearerKeys, bearerToken } from './bearer-keys.ts';
import { KeyedTokenBuckets } from '../../core/rate-limit.ts';
import { clientOfIp, clientsOf } from './admission-limits.ts';
import type { AdmissionLimits } from './admission-limits.ts';
import { HARDENED_HTTP_OPTIONS } from '../../common/http-limits.ts';
import type { ClientSecrets } from '../realtime-front/client-secrets.ts';
import { CLIENT_SECRET_PREFIX, DEFAULT_SECRET_SECONDS, MAX_SECRET_SECONDS, MIN_SECRET_SECONDS } from '../realtime-front/client-secrets.ts';
import { callQuery, mediaType, parseCallOffer, parseSession } from '../realtime-front/call-offer.ts';
import { isJsonObject, parseJsonObject } from '../realtime-front/json-limits.ts';
import type { JsonObject } from '../realtime-front/json-limits.ts';
import { realtimeSessionObject } from '../realtime-front/session-object.ts';
import type { CallRefusal, CallService } from '../calls/call-types.ts';
import type { ForwardAuth } from './forward-auth.ts';
import { FORWARDED_HEADER } from './forward-auth.ts';
import { serveSidebands } from './sideband.ts';
import { SignalingError, SignalingErrorCode } from './signaling-errors.ts';
import { readStatic } from './static-files.ts';

export const CALLS_PATH = '/v1/realtime/calls';
export const CLIENT_SECRETS_PATH = '/v1/realtime/client_secrets';
/** client_secrets requests per caller IP: a steady rate and a burst (an app server mints one per visitor). */
export const CLIENT_SECRETS_PER_IP = { ratePerSecond: 20, burst: 40, maxKeys: 10_000 } as const;
/** Offers are a few KiB; 64 KiB leaves room for many candidates and still bounds memory. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface SignalingOptions {
  readonly host: string;
  readonly port: number;
  readonly calls: CallService;
  readonly apiKeys?: readonly string[];
  readonly metrics: MetricsRegistry;
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
  /** Wall clock (ms) for forward signatures and client secrets; default Date.now. */
  readonly wallClock?: () => number;
  /** Mints and opens `ek_…` secrets; undefined: client_secrets answers 404 and calls take API keys only. */
  readonly clientSecrets?: ClientSecrets;
  /** Per-client limits on offers and calls (http/admission-limits.ts); none when undefined. */
  readonly admission?: AdmissionLimits;
  /** Open connections at once (common/http-limits.ts); default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
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
  // What the openai SDK (client.js, version pinned in package.json) and the Agents SDK send.
  'access-control-allow-headers': [
    'Authorization',
    'Content-Type',
    'Accept',
    'X-Parley-Region',
    'OpenAI-Beta',
    'OpenAI-Organization',
    'OpenAI-Project',
    'X-OpenAI-Agents-SDK',
    'X-Stainless-Arch',
    'X-Stainless-Helper-Method',
    'X-Stainless-Lang',
    'X-Stainless-OS',
    'X-Stainless-Package-Version',
    'X-Stainless-Retry-Count',
    'X-Stainless-Runtime',
    'X-Stainless-Runtime-Version',
    'X-Stainless-Timeout',
  ].join(', '),
  'access-control-max-age': '600',
};

type Route =
  { kind: 'client_secrets' } | { kind: 'calls' } | { kind: 'call'; id: string } | { kind: 'hangup'; id: string } | { kind: 'none' };

const ID = '([A-Za-z0-9_-]{1,80})';
const FORWARDED = FORWARDED_HEADER;
const CALL = new RegExp(`^${CALLS_PATH}/${ID}$`);
const HANGUP = new RegExp(`^${CALLS_PATH}/${ID}/hangup$`);

function route(path: string): Route {
  if (path === CALLS_PATH) return { kind: 'calls' };
  if (path === CLIENT_SECRETS_PATH) return { kind: 'client_secrets' };
  let m = CALL.exec(path);
  if (m) return { kind: 'call', id: m[1] };
  m = HANGUP.exec(path);
  if (m) return { kind: 'hangup', id: m[1] };
  return { kind: 'none' };
}

const ALLOW: Record<Route['kind'], string> = {
  client_secrets: 'POST, OPTIONS',
  calls: 'POST, OPTIONS',
  call: 'GET, DELETE, OPTIONS',
  hangup: 'POST, OPTIONS',
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
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
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
    req.once('end', () => resolve(Buffer.concat(chunks)));
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

  const perIp = new KeyedTokenBuckets(CLIENT_SECRETS_PER_IP);

  /** The body up to maxBody bytes, or the 413 error (made only when thrown: an Error's stack costs every request). */
  async function body(req: IncomingMessage, what: string): Promise<Buffer> {
    const tooLarge = (): SignalingError =>
      new SignalingError(SignalingErrorCode.bodyTooLarge, `the ${what} is larger than ${maxBody} bytes`, {
        connection: 'close',
      });
    if (Number(req.headers['content-length'] ?? 0) > maxBody) {
      req.resume();
      throw tooLarge();
    }
    const b = await readBody(req, maxBody);
    if (b === undefined) throw tooLarge();
    return b;
  }

  /** POST /v1/realtime/client_secrets: `{"expires_after":{"anchor":"created_at","seconds"},"session"}`, all optional. */
  async function createClientSecret(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const secrets = o.clientSecrets;
    if (!secrets) throw new SignalingError(SignalingErrorCode.notFound, 'client secrets are not enabled on this transceiver');
    const now = wallClock();
    const type = mediaType(req.headers['content-type']);
    const text = (await body(req, 'request')).toString('utf8');
    if (text.trim() !== '' && type !== 'application/json') {
      throw new SignalingError(SignalingErrorCode.unsupportedMediaType, 'send the request as Content-Type: application/json');
    }
    const bad = (message: string): SignalingError => new SignalingError(SignalingErrorCode.badRequest, message);
    const parsed = text.trim() === '' ? { ok: true as const, value: {} } : parseJsonObject(text);
    if (!parsed.ok) throw bad('the body must be a JSON object');
    const { expires_after: expires, session = {} } = parsed.value;
    let seconds = DEFAULT_SECRET_SECONDS;
    if (expires !== undefined) {
      if (!isJsonObject(expires) || (expires.anchor !== undefined && expires.anchor !== 'created_at'))
        throw bad('expires_after must be {"anchor":"created_at","seconds":N}');
      const s = expires.seconds === undefined ? DEFAULT_SECRET_SECONDS : expires.seconds;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < MIN_SECRET_SECONDS || s > MAX_SECRET_SECONDS)
        throw bad(`expires_after.seconds must be an integer ${MIN_SECRET_SECONDS}..${MAX_SECRET_SECONDS}`);
      seconds = s;
    }
    if (!isJsonObject(session)) throw bad('session must be a JSON object');
    const checked = parseSession(JSON.stringify(session));
    if (!checked.ok) throw bad(checked.message);
    const minted = secrets.mint(checked.value, seconds, now);
    if (!minted)
      throw new SignalingError(SignalingErrorCode.atCapacity, 'too many large session configs are held; retry later', {
        'retry-after': '5',
      });
    const id = `sess_${minted.value.slice(-24)}`;
    sendJson(res, 200, { value: minted.value, expires_at: minted.expiresAt, session: realtimeSessionObject(id, checked.value) });
  }

  /** The session of a valid `Authorization: Bearer ek_…`; undefined when the header has no client secret. */
  function clientSecretSession(header: string | undefined): JsonObject | undefined {
    const token = bearerToken(header);
    if (token === undefined || !token.startsWith(CLIENT_SECRET_PREFIX) || !o.clientSecrets) return undefined;
    const opened = o.clientSecrets.open(token, wallClock());
    if (!opened.ok) {
      const why =
        opened.rejection === 'expired'
          ? 'has expired'
          : opened.rejection === 'not_stored'
            ? 'is not known to this transceiver'
            : 'is not valid';
      throw new SignalingError(SignalingErrorCode.invalidClientSecret, `the client secret ${why}; mint a new one`, {
        'www-authenticate': 'Bearer realm="parley", error="invalid_token"',
      });
    }
    return opened.session;
  }

  async function createCall(req: IncomingMessage, res: ServerResponse, url: URL, secretSession: JsonObject | undefined): Promise<void> {
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
    // Issue #19: charged to the client before the body is read, so a refused offer costs nothing.
    const apiKey = o.apiKeys?.length ? req.headers.authorization : undefined;
    const admitted = o.admission?.admit(clientsOf(req.socket.remoteAddress, apiKey));
    if (admitted && !admitted.ok) {
      req.resume();
      throw new SignalingError(SignalingErrorCode.tooManyRequests, admitted.message, { 'retry-after': String(admitted.retryAfterSeconds) });
    }
    const ticket = admitted?.ticket;
    try {
      await answerOffer(req, res, url, secretSession, (id) => ticket?.bind(id));
    } finally {
      ticket?.release();
    }
  }

  async function answerOffer(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    secretSession: JsonObject | undefined,
    created: (id: string) => void,
  ): Promise<void> {
    const parsed = await parseCallOffer(req.headers['content-type'], await body(req, 'offer'));
    if (!parsed.ok) {
      const code = parsed.refusal === 'media_type' ? SignalingErrorCode.unsupportedMediaType : SignalingErrorCode.badMultipart;
      throw new SignalingError(code, parsed.message);
    }
    // Most offers come without a query: no URLSearchParams is made for them.
    const query = url.search === '' ? { ok: true as const, query: {} } : callQuery(url.searchParams);
    if (!query.ok) throw new SignalingError(SignalingErrorCode.badRequest, query.message);
    const handler = url.search === '' ? undefined : (url.searchParams.get('handler') ?? undefined);
    const hint = o.regionHeader === undefined ? undefined : req.headers[o.regionHeader];
    const session = { ...secretSession, ...parsed.offer.session };
    let answered = false;
    // The answer leaves as soon as the registry accepts the call, before the call's session starts.
    const answer = (id: string, sdp: string): void => {
      answered = true;
      created(id);
      send(res, 201, { 'content-type': 'application/sdp', location: `${CALLS_PATH}/${id}` }, sdp);
    };
    const result = await o.calls.createCall(parsed.offer.sdp, {
      handler,
      regionHint: Array.isArray(hint) ? hint[0] : hint,
      request: { query: query.query, session },
      accepted: answer,
    });
    if (!result.ok) throw new SignalingError(REFUSAL_ERRORS[result.refusal], result.message);
    // A CallService that does not call `accepted` (tests' stand-ins): the answer goes now.
    if (!answered) answer(result.id, result.answer);
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
    // Made only when refused: an Error's stack trace would cost every accepted request.
    const unauthorized = (): SignalingError =>
      new SignalingError(SignalingErrorCode.unauthorized, 'a valid API key is required: send Authorization: Bearer <key>', {
        'www-authenticate': 'Bearer realm="parley"',
      });
    if (r.kind === 'client_secrets') {
      // Issue #19: per client (IPv4 address or IPv6 /64) before the key is looked at, so a flood
      // of key guesses is refused as cheaply as one with a key.
      if (!perIp.take(clientOfIp(req.socket.remoteAddress ?? 'unknown'), wallClock())) {
        req.resume();
        throw new SignalingError(SignalingErrorCode.rateLimited, 'too many client_secrets requests from this address', {
          'retry-after': '1',
        });
      }
      if (!keys.check(req.headers.authorization)) throw unauthorized();
      return createClientSecret(req, res);
    }
    // A call may be created with an ek_ client secret in place of the API key (OpenAI's browser flow).
    const secretSession = r.kind === 'calls' ? clientSecretSession(req.headers.authorization) : undefined;
    if (secretSession === undefined && !signedForward && !keys.check(req.headers.authorization)) throw unauthorized();
    if (r.kind === 'calls') return createCall(req, res, url, secretSession);
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

  const server: Server = createServer(HARDENED_HTTP_OPTIONS, (req, res) => {
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
  serveSidebands(server, {
    calls: o.calls,
    keys,
    ownerOf: o.ownerOf,
    forwardAuth: o.forwardAuth,
    wallClock,
    clock: () => performance.now(),
    log: o.log,
    counted: (status) => requests.labels('sideband', String(status)).inc(),
  });
  return listenHttp(server, o.host, o.port, 'signaling', o.log, { maxConnections: o.maxConnections });
}
