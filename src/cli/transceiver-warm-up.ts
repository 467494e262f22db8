// The transceiver's start-up warm-up: before the process says it is ready, whole calls are set up
// in memory through the code a real call runs — our client's offer (src/client/client-call.ts),
// offer analysis, a routing token minted and opened, the SDP answer, a Session with the echo
// handler (ICE-lite checks, the DTLS handshake in the role the offer asks, SRTP keys, RTP and RTCP
// both ways, data channels on every other call), then hang-up — so V8 has compiled that code before
// the first real call instead of interpreting it during it (docs/performance.md, "Start-up warm-up").
// Nothing reaches a socket, a metric, a log or the call registry: the calls are driven here, on a
// clock of their own, and dropped. Every warm-up call has fresh keys from the process's Rng, a
// client certificate of its own and a keyring of its own, none of which outlives warmUp().
// Here, beside the command, because it is the one place that puts our client (src/client) and the
// transceiver's Session in one process; `parley transceiver` runs it before startTransceiver opens
// any socket. Not here: the Node flags (src/transceiver/node-flags.ts).
import type { TransportAddress } from '../core/address.ts';
import { generateCertificate } from '../core/dtls/index.ts';
import type { DtlsCertificate, DtlsCrypto } from '../core/dtls/index.ts';
import { drain } from '../core/output.ts';
import type { Rng } from '../core/rng.ts';
import type { StunIntegrity } from '../core/stun/index.ts';
import { analyzeOffer, buildAnswer } from '../core/sdp/index.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';
import { Keyring, mint, open } from '../core/token/index.ts';
import type { TokenSealer } from '../core/token/index.ts';
import { ClientCall } from '../client/client-call.ts';
import { createCoreAgents } from '../client/core-agents.ts';
import { CALL_SCTP_LIMITS } from '../transceiver/calls/call-registry.ts';
import { defaultTokenSealer } from '../transceiver/calls/native-token-sealer.ts';
import { offerSessionOptions } from '../transceiver/calls/offer-session.ts';
import { Session } from '../transceiver/calls/session.ts';
import type { SessionPath } from '../transceiver/calls/session-paths.ts';
import { createEchoHandler } from '../transceiver/handlers/echo.ts';

export interface WarmUpOptions {
  /** The process's own certificate and crypto: the warm-up runs the objects real calls use. */
  readonly certificate: DtlsCertificate;
  readonly dtlsCrypto: DtlsCrypto;
  readonly stunIntegrity?: StunIntegrity;
  readonly srtpTransform?: SrtpTransformFactory;
  readonly rng: Rng;
  /** Wall-clock budget in ms (0: none at all); the warm-up stops at the first call that ends past it. */
  readonly budgetMs: number;
  /** At most this many calls (default MAX_WARM_UP_CALLS). */
  readonly maxCalls?: number;
  /** Monotonic ms, for the budget only (the calls run on their own clock). */
  readonly now: () => number;
}

export interface WarmUpResult {
  /** Calls that connected and echoed audio. */
  readonly calls: number;
  /** Calls that did not (a bug: the caller logs it; the process still starts). */
  readonly failed: number;
  readonly ms: number;
}

/** Enough for V8 to optimise the setup path's functions (each runs several times per call). */
export const MAX_WARM_UP_CALLS = 300;

// Documentation addresses (RFC 5737): nothing is ever sent to them.
const CLIENT: TransportAddress = { address: '192.0.2.10', port: 40000, family: 'IPv4' };
const MEDIA: TransportAddress = { address: '192.0.2.20', port: 7000, family: 'IPv4' };
const RELAY_PUBLIC: TransportAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };
const PATH: SessionPath = {
  client: CLIENT,
  transport: 'udp',
  relayPublic: RELAY_PUBLIC,
  relaySocket: { address: '192.0.2.30', port: 3479, family: 'IPv4' },
};
/** A few 20 ms "Opus" frames: the echo handler never decodes them. */
const FRAMES = [Buffer.alloc(60, 1), Buffer.alloc(60, 2), Buffer.alloc(60, 3)];
/** A warm-up call's own clock starts here; no call needs more than this many turns of it. */
const T0 = 1_000_000;
const MAX_TURNS = 400;

/** Sets up calls in memory until the budget or maxCalls is spent. Synchronous: run it before listening. */
export function warmUp(o: WarmUpOptions): WarmUpResult {
  const start = o.now();
  const maxCalls = o.maxCalls ?? MAX_WARM_UP_CALLS;
  if (o.budgetMs <= 0 || maxCalls <= 0) return { calls: 0, failed: 0, ms: 0 };
  const keyring = Keyring.generate(o.rng);
  // The sealer real calls mint with (startTransceiver), for the warm-up's own keyring.
  const sealer = defaultTokenSealer(keyring);
  const clientCert = generateCertificate(o.rng);
  let calls = 0;
  let failed = 0;
  for (let i = 0; i < maxCalls && o.now() - start < o.budgetMs; i++) {
    if (oneCall(o, keyring, sealer, clientCert, i)) calls++;
    else failed++;
  }
  return { calls, failed, ms: o.now() - start };
}

/**
 * One call, as call-registry.ts makes it: the Session is the DTLS client for an actpass offer
 * (browsers, Pion) and the server for an active one, so odd calls offer a=setup:active.
 */
function oneCall(o: WarmUpOptions, keyring: Keyring, sealer: TokenSealer | undefined, clientCert: DtlsCertificate, i: number): boolean {
  let now = T0;
  const client = new ClientCall({
    rng: o.rng,
    agents: createCoreAgents(o.rng, clientCert, o.srtpTransform),
    localAddress: CLIENT,
    frames: FRAMES,
    deliverAudio: true,
    dataChannels: i % 2 === 0 ? {} : undefined,
  });
  const analysed = analyzeOffer(client.offer);
  if (!analysed.ok) return false;
  const offer = i % 4 >= 2 ? { ...analysed.offer, setup: 'active' as const } : analysed.offer;
  const token = mint(MEDIA, keyring, now, o.rng, sealer);
  // What a relay does with the first check's USERNAME (src/relay/route.ts).
  if (!open(token.ufrag, keyring, now).ok) return false;
  const ssrc = o.rng.bytes(4).readUInt32BE(0) || 1;
  const cname = o.rng.bytes(12).toString('base64');
  const answer = buildAnswer({
    offer,
    iceUfrag: token.ufrag,
    icePwd: token.pwd,
    fingerprint: { algorithm: 'sha-256', value: o.certificate.fingerprint },
    candidates: [RELAY_PUBLIC],
    ssrc,
    cname,
    sessionId: String(o.rng.bytes(6).readUIntBE(0, 6)),
    streamId: 'parley',
    dataChannels: { maxMessageSize: CALL_SCTP_LIMITS.maxMessageSize },
  });
  const session = new Session({
    id: 'rtc_warm_up',
    now,
    rng: o.rng,
    ...offerSessionOptions(offer, token, o.certificate),
    ssrc,
    cname,
    handlerFactory: createEchoHandler,
    srtpTransform: o.srtpTransform,
    dtlsCrypto: o.dtlsCrypto,
    stunIntegrity: o.stunIntegrity,
    dataChannels: offer.data && {
      remotePort: offer.data.sctpPort,
      remoteMaxMessageSize: offer.data.maxMessageSize,
      sctp: CALL_SCTP_LIMITS,
    },
  });
  let echoed = false;
  // In flight between the two, delivered in order at the current time (a perfect link).
  const toSession: Buffer[] = [];
  const toClient: Buffer[] = [];
  const flush = (): void => {
    drain(
      client,
      (t) => toSession.push(t.data),
      (e) => {
        if (e.type === 'audio') echoed = true;
      },
    );
    drain(
      session,
      (t) => toClient.push(t.data),
      () => {},
    );
  };
  try {
    client.acceptAnswer(answer, now);
    flush();
    for (let turn = 0; turn < MAX_TURNS && !echoed; turn++) {
      if (toSession.length === 0 && toClient.length === 0) {
        const next = Math.min(client.pollTimeout() ?? Infinity, session.pollTimeout() ?? Infinity);
        if (!Number.isFinite(next)) break;
        now = Math.max(now, next);
        client.handleTimeout(now);
        session.handleTimeout(now);
      }
      for (const d of toSession.splice(0)) session.handle(d, PATH, now);
      for (const d of toClient.splice(0)) client.handle(d, RELAY_PUBLIC, now);
      flush();
    }
  } finally {
    // Hang-up both ways (RTCP BYE, close_notify), then nothing is kept.
    session.close('hangup', now);
    client.close(now);
    flush();
    for (const d of toSession.splice(0)) session.handle(d, PATH, now);
    for (const d of toClient.splice(0)) client.handle(d, RELAY_PUBLIC, now);
  }
  return echoed;
}
