// The transceiver process, assembled: one DTLS certificate per process, the media endpoint
// (UDP, relays only), the call registry, the signaling HTTP server and the internal ops listener
// (/metrics /healthz /readyz). `drain()` is the SIGTERM path: readiness goes false and offers get 503 at once,
// running calls get a grace period, then the rest end with reason server_drain.
// Not here: flags and environment (config.ts, src/cli/transceiver.ts).
import { ADMISSION_REFUSALS, AdmissionLimits, DEFAULT_ADMISSION } from './http/admission-limits.ts';
import type { AdmissionSettings } from './http/admission-limits.ts';
import type { TransportAddress } from '../core/address.ts';
import { generateCertificate } from '../core/dtls/index.ts';
import type { DtlsCertificate } from '../core/dtls/index.ts';
import type { Rng } from '../core/rng.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';
import type { DtlsCrypto } from '../core/dtls/index.ts';
import { defaultPeerKeys, defaultPrf, defaultSigner, defaultX25519 } from './media/dtls-crypto-native.ts';
import type { StunIntegrity } from '../core/stun/index.ts';
import { defaultStunIntegrity } from './media/stun-integrity-native.ts';
import type { Keyring } from '../core/token/index.ts';
import { systemClock } from '../common/clock.ts';
import type { Clock, Timer } from '../common/clock.ts';
import type { Logger } from '../common/log.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { startOpsHttp } from '../common/ops-http.ts';
import type { OpsHttp } from '../common/ops-http.ts';
import { systemRng } from '../common/system-rng.ts';
import { CallIds } from './calls/call-id.ts';
import { CallRegistry } from './calls/call-registry.ts';
import { defaultTokenSealer } from './calls/native-token-sealer.ts';
import type { CidrSet } from '../core/cidr.ts';
import { MediaEndpoint } from './media/endpoint.ts';
import type { HandlerRegistry } from './handlers/registry.ts';
import type { MediaIo } from './media/media-socket.ts';
import type { RelayLocations } from './relays/relay-locations.ts';
import { ClientSecrets } from './realtime-front/client-secrets.ts';
import { ForwardAuth } from './http/forward-auth.ts';
import { startSignaling } from './http/signaling.ts';
import type { SignalingServer } from './http/signaling.ts';
import { transceiverMetrics } from './transceiver-metrics.ts';

export interface TransceiverOptions {
  readonly http: TransportAddress;
  readonly media: TransportAddress;
  readonly relays: readonly TransportAddress[];
  /** Relay ICE-TCP addresses advertised as passive TCP candidates (unnamed --relays-tcp); none when undefined. */
  readonly relaysTcp?: readonly TransportAddress[];
  /** Named relay locations: chosen per call from the region hint (relays/relay-locations.ts); wins over `relays`. */
  readonly relayLocations?: RelayLocations;
  /** Request header carrying the region hint (lower case); default x-parley-region. */
  readonly regionHeader?: string;
  /** This replica's HTTP address as other replicas reach it: call ids route to it (calls/call-id.ts). */
  readonly httpAdvertise?: TransportAddress;
  /** Networks the other replicas live in (--replica-cidrs): call requests are forwarded only there. */
  readonly replicaCidrs?: CidrSet;
  readonly relayCidrs: CidrSet;
  readonly keyring: Keyring;
  readonly maxSessions: number;
  readonly maxCallSeconds: number;
  readonly handler: string;
  /** The media handlers calls may ask for by name (handlers/registry.ts). */
  readonly handlers: HandlerRegistry;
  readonly apiKeys?: readonly string[];
  readonly log?: Logger;
  readonly metrics?: MetricsRegistry;
  readonly rng?: Rng;
  readonly certificate?: DtlsCertificate;
  /** The key kind of the certificate made when none is given (--dtls-key); default ecdsa. */
  readonly dtlsKey?: 'ecdsa' | 'rsa';
  readonly setupTimeoutMs?: number;
  /** Per-client admission limits (http/admission-limits.ts); default DEFAULT_ADMISSION. */
  readonly admission?: Partial<AdmissionSettings>;
  /** Open HTTP connections at once (common/http-limits.ts). */
  readonly maxHttpConnections?: number;
  /** The internal ops listener (/metrics /healthz /readyz); default 127.0.0.1, any free port. */
  readonly ops?: TransportAddress;
  /** How long an async handler factory may take to reach its agent before the POST gets 502 (default 5 s). */
  readonly handlerSetupTimeoutMs?: number;
  /** Media socket buffer sizes (--udp-buffer). */
  readonly udpBufferBytes?: number;
  /** Media socket implementation (--media-io; default dgram) and the native batch window (--media-batch-us). */
  readonly mediaIo?: MediaIo;
  readonly mediaBatchUs?: number;
  /** SRTP cipher for AES-CM sessions (--srtp, config.ts resolveSrtp); default the TypeScript one. */
  readonly srtpTransform?: SrtpTransformFactory;
  /**
   * The DTLS crypto of every call: X25519, PRF and peer keys default to the native ones
   * (media/dtls-crypto-native.ts) where the addon is built, else node:crypto's; the record AEAD
   * (--srtp native: config.ts resolveSrtp) defaults to node:crypto.
   */
  readonly dtlsCrypto?: DtlsCrypto;
  /** The HMAC-SHA1 of every call's ICE checks; default the native one (media/stun-integrity-native.ts) where the addon is built, else node:crypto's. */
  readonly stunIntegrity?: StunIntegrity;
  /** Time for sessions, tokens and drain; default the system clock. */
  readonly clock?: Clock;
  /** Served at / (the demo page). */
  readonly staticDir?: string;
  /** Called with the routing token of each call that ends (relays/token-revocations.ts). */
  readonly tokenEnded?: (ufrag: string) => void;
  /** The relay location of a relay public address, for the per-call quality metrics (calls/call-registry.ts). */
  readonly locationOf?: (relayPublic: string) => string;
  /** Degraded-but-serving lines for /readyz, e.g. Redis unreachable (issue #20). */
  readonly readyDetails?: () => readonly string[];
}

export interface Transceiver {
  readonly httpAddress: TransportAddress;
  /** /metrics, /healthz, /readyz (--ops). */
  readonly opsAddress: TransportAddress;
  readonly mediaAddress: TransportAddress;
  readonly calls: CallRegistry;
  readonly metrics: MetricsRegistry;
  /** Refuses new calls, waits up to `graceMs` for calls to end, ends the rest, then closes. */
  drain(graceMs: number): Promise<void>;
  /** Ends every call (server_drain) and closes sockets. Idempotent. */
  close(): Promise<void>;
}

/** Every call's DTLS crypto: what `given` names, else the native parts where the addon is built (TransceiverOptions.dtlsCrypto). */
export function transceiverDtlsCrypto(given: DtlsCrypto | undefined): DtlsCrypto {
  return {
    x25519: given?.x25519 ?? defaultX25519(),
    prf: given?.prf ?? defaultPrf(),
    peerKeys: given?.peerKeys ?? defaultPeerKeys(),
    signer: given?.signer ?? defaultSigner(),
    recordAead: given?.recordAead,
  };
}

export async function startTransceiver(o: TransceiverOptions): Promise<Transceiver> {
  const metrics = o.metrics ?? new MetricsRegistry();
  const m = transceiverMetrics(metrics);
  const rng = o.rng ?? systemRng;
  // One certificate per process (the brief; RFC 8827 §6.5 allows any per-session lifetime):
  // generating a key per call would cost the offer path for nothing.
  const certificate = o.certificate ?? generateCertificate(undefined, o.dtlsKey);
  const clock = o.clock ?? systemClock;
  // The registry observes the endpoint's sessions (MediaEndpoint.observe) once it is made.
  const endpoint = await MediaEndpoint.bind({
    bind: o.media,
    relayCidrs: o.relayCidrs,
    metrics: m,
    log: o.log,
    clock,
    bufferBytes: o.udpBufferBytes,
    io: o.mediaIo,
    batchUs: o.mediaBatchUs,
  });
  // Port 0 (tests) binds an ephemeral port: the token must carry the real one.
  const mediaAddress: TransportAddress = { ...o.media, port: endpoint.address.port };
  // Which relay locations answers advertise (labels bounded by the configured locations).
  const plans = metrics.counter({
    name: 'parley_transceiver_relay_plans_total',
    help: 'SDP answers by advertised primary and backup relay location; none_live=1 when no location had a live relay',
    labelNames: ['primary', 'backup', 'none_live'],
  });
  const locations = o.relayLocations;
  const chooseRelays =
    locations &&
    ((hint: string | undefined) => {
      const plan = locations.choose(hint);
      plans.labels(plan.primary, plan.backup ?? '', plan.noneLive ? '1' : '0').inc();
      return plan;
    });
  // An id must route for the longest call plus the 5 min a closed call stays visible, and a day at least.
  const callIds = new CallIds({
    keyring: o.keyring,
    owner: o.httpAdvertise,
    replicas: o.replicaCidrs,
    rng,
    lifetimeMs: Math.max(o.maxCallSeconds * 1000 + 600_000, 86_400_000),
  });
  const registry = new CallRegistry({
    callIds,
    keyring: o.keyring,
    tokenSealer: defaultTokenSealer(o.keyring),
    mediaAddress,
    relays: o.relays,
    relaysTcp: o.relaysTcp ?? [],
    chooseRelays,
    certificate,
    rng,
    clock: () => clock.now(),
    wallClock: () => clock.wallNow(),
    endpoint,
    maxSessions: o.maxSessions,
    maxCallMs: o.maxCallSeconds * 1000,
    defaultHandler: o.handler,
    handlers: o.handlers,
    metrics: m,
    log: o.log,
    setupTimeoutMs: o.setupTimeoutMs,
    handlerSetupTimeoutMs: o.handlerSetupTimeoutMs,
    srtpTransform: o.srtpTransform,
    dtlsCrypto: transceiverDtlsCrypto(o.dtlsCrypto),
    stunIntegrity: o.stunIntegrity ?? defaultStunIntegrity(),
    tokenEnded: o.tokenEnded,
    locationOf: o.locationOf,
  });
  // Issue #19: per-client limits on offers and on calls; the endpoint says when calls connect and end.
  const refused = metrics.counter({
    name: 'parley_transceiver_admission_refused_total',
    help: 'Offers refused with 429 by the per-client admission limits, by reason',
    labelNames: ['reason'],
  });
  const refusedBy = Object.fromEntries(ADMISSION_REFUSALS.reasons.map((r) => [r, refused.labels(r)]));
  const admission = new AdmissionLimits({
    ...DEFAULT_ADMISSION,
    ...o.admission,
    now: () => clock.now(),
    onRefused: (reason) => refusedBy[reason].inc(),
  });
  endpoint.observe({
    sessionState: (s) => {
      if (s.state === 'connected') admission.callConnected(s.id);
    },
    sessionClosed: (s) => admission.callClosed(s.id),
  });
  let signaling: SignalingServer;
  try {
    signaling = await startSignaling({
      host: o.http.address,
      port: o.http.port,
      calls: registry,
      apiKeys: o.apiKeys,
      metrics,
      log: o.log,
      staticDir: o.staticDir,
      regionHeader: o.regionHeader ?? 'x-parley-region',
      ownerOf: (id) => {
        const r = callIds.ownerOf(id, clock.wallNow());
        if (r.kind === 'not_a_replica')
          o.log?.warn('a call id names an owner outside --replica-cidrs: not forwarded', { owner: `${r.owner.address}:${r.owner.port}` });
        return r.kind === 'forward' ? r.owner : undefined;
      },
      wallClock: () => clock.wallNow(),
      forwardAuth: new ForwardAuth(o.keyring),
      admission,
      maxConnections: o.maxHttpConnections,
      clientSecrets: new ClientSecrets({ keyring: o.keyring, rng }),
    });
  } catch (err) {
    await endpoint.close();
    throw err;
  }
  // Issue #19: /metrics, /healthz and /readyz on an internal listener of their own, never the public signaling port.
  let ops: OpsHttp;
  try {
    ops = await startOpsHttp({
      host: o.ops?.address ?? '127.0.0.1',
      port: o.ops?.port ?? 0,
      metrics,
      ready: () => !registry.draining,
      readyDetails: o.readyDetails,
      log: o.log,
    });
  } catch (err) {
    await Promise.all([signaling.close(), endpoint.close()]);
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      registry.startDraining();
      registry.endAll('server_drain');
      // Let the last datagrams (BYE, close_notify) leave before the socket closes.
      await new Promise((r) => setImmediate(r));
      await Promise.all([signaling.close(), endpoint.close(), ops.close()]);
    })();
    return closing;
  };

  return {
    httpAddress: signaling.address,
    opsAddress: ops.address,
    mediaAddress,
    calls: registry,
    metrics,
    async drain(graceMs: number): Promise<void> {
      registry.startDraining();
      o.log?.info('draining', { calls: registry.activeCount, graceMs });
      let grace: Timer | undefined;
      await Promise.race([registry.whenIdle(), new Promise<void>((resolve) => (grace = clock.timeout(graceMs, resolve)))]);
      grace?.cancel();
      await close();
    },
    close,
  };
}
