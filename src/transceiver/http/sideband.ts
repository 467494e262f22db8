// Sideband control, as OpenAI's Realtime API has it: `GET /v1/realtime?call_id=rtc_…` upgraded to
// a WebSocket gives a server (the app's backend: server-side tools, moderation) the call's event
// stream both ways — every server event the caller gets on `oai-events`, and its own client
// events to the call's agent, as the caller's are (calls/oai-events.ts). An API key is required
// when keys are configured, as for every call request. A call held by another replica (routable
// ids, calls/call-id.ts) is reached as plain call requests are (signaling.ts forward()): this
// replica checks the key, opens the WebSocket to the owner with a signature of the request
// (forward-auth.ts) instead of the key, and relays messages both ways.
// Limits: upgrades per IP (rate), sidebands per API key and per process (open at once),
// MAX_SIDEBANDS_PER_CALL; messages ≤ MAX_CLIENT_EVENT_BYTES; a sideband that does not read is
// closed rather than buffered without bound. Not here: the event semantics (oai-events.ts).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { TransportAddress } from '../../core/address.ts';
import { KeyedTokenBuckets } from '../../core/rate-limit.ts';
import type { Logger } from '../../common/log.ts';
import type { CallService } from '../calls/call-types.ts';
import { MAX_CLIENT_EVENT_BYTES, MAX_SIDEBANDS_PER_CALL } from '../calls/oai-events.ts';
import type { BearerKeys } from './bearer-keys.ts';
import { FORWARDED_HEADER } from './forward-auth.ts';
import type { ForwardAuth } from './forward-auth.ts';
import { SignalingError, SignalingErrorCode } from './signaling-errors.ts';

export const SIDEBAND_PATH = '/v1/realtime';
/** Upgrade attempts per client IP: a steady rate and a burst. */
export const SIDEBAND_UPGRADES_PER_IP = { ratePerSecond: 5, burst: 10, maxKeys: 10_000 } as const;
/** Sidebands open at once per API key, and in this process. */
export const MAX_SIDEBANDS_PER_KEY = 100;
export const MAX_SIDEBANDS = 1000;
/** A sideband whose unread server events pass this is closed (1008): the call never waits for it. */
export const MAX_SIDEBAND_BUFFERED_BYTES = 4 * 1024 * 1024;

const CALL_ID = /^rtc_[A-Za-z0-9_-]{1,76}$/;

export interface SidebandOptions {
  readonly calls: CallService;
  readonly keys: BearerKeys;
  readonly ownerOf?: (id: string) => TransportAddress | undefined;
  readonly forwardAuth?: ForwardAuth;
  readonly wallClock: () => number;
  readonly clock: () => number;
  readonly log?: Logger;
  /** Counts each upgrade by its answer (101 or the error status). */
  readonly counted: (status: number) => void;
}

/** Serves sideband upgrades on `server` (any other upgrade is answered 404). */
export function serveSidebands(server: Server, o: SidebandOptions): { readonly open: number } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_EVENT_BYTES, perMessageDeflate: false });
  const perIp = new KeyedTokenBuckets(SIDEBAND_UPGRADES_PER_IP);
  const perKey = new Map<string, number>();
  let open = 0;

  const refuse = (socket: Duplex, err: SignalingError): void => {
    o.counted(err.status);
    const body = err.body();
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
      ...err.headers,
    };
    const head = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${err.status} ${err.status === 429 ? 'Too Many Requests' : 'Error'}\r\n${head}\r\n${body}`);
  };

  /** Counts the sideband against the process and its key until `ws` closes. */
  const hold = (ws: WebSocket, key: string): void => {
    open++;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    ws.once('close', () => {
      open--;
      const n = (perKey.get(key) ?? 1) - 1;
      if (n === 0) perKey.delete(key);
      else perKey.set(key, n);
    });
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== SIDEBAND_PATH)
      return refuse(socket, new SignalingError(SignalingErrorCode.notFound, `no WebSocket at ${url.pathname}`));
    if (!perIp.take(req.socket.remoteAddress ?? '', o.clock()))
      return refuse(
        socket,
        new SignalingError(SignalingErrorCode.sidebandLimit, 'too many sideband requests from this address', { 'retry-after': '1' }),
      );
    const target = url.pathname + url.search;
    const forwarded = req.headers[FORWARDED_HEADER];
    const signed = typeof forwarded === 'string' && o.forwardAuth?.verify(forwarded, 'GET', target, o.wallClock()) === true;
    if (!signed && !o.keys.check(req.headers.authorization)) {
      return refuse(
        socket,
        new SignalingError(SignalingErrorCode.unauthorized, 'a valid API key is required: send Authorization: Bearer <key>', {
          'www-authenticate': 'Bearer realm="parley"',
        }),
      );
    }
    const id = url.searchParams.get('call_id') ?? '';
    if (!CALL_ID.test(id)) return refuse(socket, new SignalingError(SignalingErrorCode.badRequest, 'call_id must be a call id (rtc_…)'));
    // A forwarded sideband was counted against its key by the replica that took it.
    const key = signed ? '' : (req.headers.authorization ?? '');
    if (open >= MAX_SIDEBANDS || (key !== '' && (perKey.get(key) ?? 0) >= MAX_SIDEBANDS_PER_KEY))
      return refuse(socket, new SignalingError(SignalingErrorCode.sidebandLimit, 'too many sidebands are open', { 'retry-after': '5' }));

    if (o.calls.getCall(id) === undefined) {
      const owner = forwarded === undefined ? o.ownerOf?.(id) : undefined;
      if (!owner) return refuse(socket, new SignalingError(SignalingErrorCode.notFound, `no call with id ${id}`));
      return relay(req, socket, head, owner, target, key);
    }
    let sideband: ReturnType<NonNullable<CallService['attachSideband']>>;
    let ws: WebSocket | undefined;
    const pending: string[] = [];
    sideband = o.calls.attachSideband?.(id, {
      send: (text) => {
        if (ws === undefined) return void pending.push(text);
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > MAX_SIDEBAND_BUFFERED_BYTES) return ws.close(1008, 'not reading its events');
        ws.send(text);
      },
      close: () => ws?.close(1000, 'call ended'),
    });
    if (!sideband) {
      const state = o.calls.getCall(id)?.state;
      return refuse(
        socket,
        state === 'closed'
          ? new SignalingError(SignalingErrorCode.notFound, `the call ${id} has ended`)
          : new SignalingError(SignalingErrorCode.sidebandLimit, `the call has ${MAX_SIDEBANDS_PER_CALL} sidebands`, {
              'retry-after': '5',
            }),
      );
    }
    wss.handleUpgrade(req, socket, head, (socketWs) => {
      o.counted(101);
      ws = socketWs;
      hold(ws, key);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return sideband!.receive('');
        sideband!.receive(data as Buffer);
      });
      ws.on('error', () => {});
      ws.once('close', () => {
        sideband!.detach();
        sideband = undefined;
      });
      for (const text of pending.splice(0)) ws.send(text);
      if (o.calls.getCall(id)?.state === 'closed') ws.close(1000, 'call ended');
    });
  };

  /** The owner's sideband through this replica: its WebSocket first, then the caller's, then messages both ways. */
  const relay = (req: IncomingMessage, socket: Duplex, head: Buffer, owner: TransportAddress, target: string, key: string): void => {
    const host = owner.family === 'IPv6' ? `[${owner.address}]` : owner.address;
    const headers = { [FORWARDED_HEADER]: o.forwardAuth?.sign('GET', target, o.wallClock()) ?? '1' };
    const up = new WebSocket(`ws://${host}:${owner.port}${target}`, {
      headers,
      maxPayload: MAX_SIDEBAND_BUFFERED_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 5000,
    });
    const fail = (err: SignalingError): void => {
      up.removeAllListeners();
      up.on('error', () => {});
      up.terminate();
      refuse(socket, err);
    };
    up.once('unexpected-response', (_r, res) => {
      const status = res.statusCode ?? 502;
      res.resume();
      fail(
        status === 404
          ? new SignalingError(SignalingErrorCode.notFound, 'the call is not there any more')
          : new SignalingError(SignalingErrorCode.sidebandLimit, `the transceiver that holds this call refused (${status})`, {
              'retry-after': '5',
            }),
      );
    });
    up.once('error', (err) => {
      o.log?.warn('forwarding a sideband to its transceiver failed', { err, owner: `${host}:${owner.port}` });
      fail(new SignalingError(SignalingErrorCode.notFound, 'the transceiver that holds this call does not answer'));
    });
    up.once('open', () => {
      up.removeAllListeners('error');
      up.on('error', () => {});
      wss.handleUpgrade(req, socket, head, (down) => {
        o.counted(101);
        hold(down, key);
        down.on('error', () => {});
        up.on('message', (data, isBinary) => {
          if (down.bufferedAmount > MAX_SIDEBAND_BUFFERED_BYTES) return down.close(1008, 'not reading its events');
          down.send(data, { binary: isBinary });
        });
        down.on('message', (data, isBinary) => up.send(data, { binary: isBinary }));
        // Codes a peer may send on (1005/1006 are never on the wire).
        up.once('close', (code, reason) => down.close([1000, 1001, 1008, 1011].includes(code) ? code : 1011, reason));
        down.once('close', () => up.close(1000));
      });
    });
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      upgrade(req, socket, head);
    } catch (err) {
      o.log?.error('sideband upgrade failed', { err });
      refuse(socket, new SignalingError(SignalingErrorCode.internalError, 'internal error'));
    }
  });
  return {
    get open() {
      return open;
    },
  };
}
