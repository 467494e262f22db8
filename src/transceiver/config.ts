// The transceiver's settings: every flag, its PARLEY_… variable, default and meaning, declared
// once (STYLE.md rule 14). `parley transceiver --help` and the table in docs/transceiver.md are
// rendered from this spec. Cross-setting checks live in resolveTransceiverConfig, as the relay's
// in resolveRelayConfig; keys (`--keys-file` / PARLEY_KEYS) go through
// src/common/keyring-config.ts like every other process.
// Past 400 lines because it is a table: one declaration per setting (STYLE.md rule 14) and the
// cross-setting checks; splitting it would split the one list README and --help render.
import { DEFAULT_ADMISSION } from './http/admission-limits.ts';
import { DEFAULT_MAX_CONNECTIONS } from '../common/http-limits.ts';
import type { TransportAddress } from '../core/address.ts';
import { loadConfig, onOffSwitch, parsers, setting } from '../common/cli-config.ts';
import { loadKeyring } from '../common/keyring-config.ts';
import type { Keyring } from '../core/token/index.ts';
import { MEDIA_STREAM_FORMATS } from './handlers/media-stream/media-stream-messages.ts';
import type { MediaStreamFormat } from './handlers/media-stream/media-stream-messages.ts';
import type { HandlerRegistry } from './handlers/registry.ts';
import type { ConfigOf } from '../common/cli-config.ts';
import { LOG_LEVELS } from '../common/log.ts';
import type { LogLevel } from '../common/log.ts';
import { CidrSet, LOOPBACK_CIDRS } from '../core/cidr.ts';
import { DEFAULT_HEARTBEAT_PREFIX } from '../contracts/heartbeat.ts';
import { DEFAULT_FLOW_PREFIX } from '../contracts/flow-record.ts';
import { parseRegionMap } from './relays/relay-locations.ts';
import { formatRelaySpec, parseRelaySpec } from './relays/relay-spec.ts';
import type { RelaySpec } from './relays/relay-spec.ts';
import { MEDIA_IO_MODES } from './media/media-socket.ts';
import { MAX_CODEC_THREADS } from '../media/codec-pool.ts';
import { BRIDGE_ENCODER_DEFAULTS, OPUS_APPLICATIONS, OPUS_MAX_COMPLEXITY } from '../media/opus.ts';
import type { OpusApplication } from '../media/opus.ts';
import type { MediaIo } from './media/media-socket.ts';
import { DEFAULT_MEDIA_BATCH_US, loadMediaSocketAddon } from './media/media-socket-native.ts';
import { ConfigError } from '../common/config-error.ts';
import { SRTP_IMPLS, loadSrtpAddon, nativeSrtpTransformFactory } from './media/srtp-native.ts';
import type { SrtpImpl } from './media/srtp-native.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';
import type { RecordAeadFactory } from '../core/dtls/index.ts';
import { nativeRecordAeadFactory } from './media/dtls-aead-native.ts';

function mediaAddress(text: string): TransportAddress {
  const a = parsers.address(text);
  // The address goes into every routing token: relays send to it, so it must be concrete.
  if (/^(0\.0\.0\.0|::)$/.test(a.address)) {
    throw new Error(`'${text}' is an unspecified address; relays must reach it, so give the pod or host IP (e.g. 10.1.2.3:7000)`);
  }
  return a;
}

function concreteAddress(text: string): TransportAddress {
  const a = parsers.address(text);
  if (/^(0\.0\.0\.0|::)$/.test(a.address) || a.port === 0)
    throw new Error(`'${text}' must be an address and port other replicas can reach`);
  return a;
}

function locationName(text: string): string {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(text)) throw new Error(`'${text}' is not a location name (lower-case letters, digits, '-')`);
  return text;
}

function headerName(text: string): string {
  // RFC 9110 §5.1 token; Node gives header names in lower case.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(text)) throw new Error(`'${text}' is not an HTTP header name`);
  return text.toLowerCase();
}

function apiKeys(text: string): string[] {
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.some((k) => k.length < 16)) throw new Error('every API key must be at least 16 characters');
  return keys;
}

export const transceiverSettings = {
  http: setting({
    flag: 'http',
    env: 'PARLEY_HTTP',
    metavar: 'HOST:PORT',
    default: parsers.address('127.0.0.1:8080'),
    parse: parsers.address,
    help: 'signaling API (POST /v1/realtime/calls, client_secrets, the demo page): the public port',
  }),
  ops: setting({
    flag: 'ops',
    env: 'PARLEY_OPS',
    metavar: 'HOST:PORT',
    default: parsers.address('127.0.0.1:9091'),
    parse: parsers.address,
    help: '/metrics, /healthz, /readyz: internal (probes, Prometheus), never on the public signaling port',
  }),
  media: setting({
    flag: 'media',
    env: 'PARLEY_MEDIA',
    metavar: 'HOST:PORT',
    default: mediaAddress('127.0.0.1:7000'),
    parse: mediaAddress,
    help: 'UDP media endpoint that relays send to; sealed into every routing token (port 0: any free port, logged)',
  }),
  httpAdvertise: setting<TransportAddress | undefined>({
    flag: 'http-advertise',
    env: 'PARLEY_HTTP_ADVERTISE',
    metavar: 'HOST:PORT',
    default: undefined,
    defaultText: '(none: plain ids)',
    parse: concreteAddress,
    help: "this transceiver's HTTP address as its replicas reach it (e.g. $(POD_IP):8080): call ids carry it, sealed, and a replica that does not hold a call forwards GET/DELETE/hangup to it",
  }),
  relays: setting({
    flag: 'relays',
    env: 'PARLEY_RELAYS',
    metavar: 'SPEC',
    default: parseRelaySpec('127.0.0.1:3478'),
    defaultText: '127.0.0.1:3478',
    parse: parseRelaySpec,
    help: 'relay public addresses advertised as ICE candidates: HOST:PORT[,HOST:PORT…] (all, in this order), or named locations NAME=HOST:PORT[,…];NAME=… (per call: the hinted or own location first, one backup location after it)',
  }),
  relaysTcp: setting<RelaySpec | undefined>({
    flag: 'relays-tcp',
    env: 'PARLEY_RELAYS_TCP',
    metavar: 'SPEC',
    default: undefined,
    defaultText: 'none',
    parse: parseRelaySpec,
    help: "the relays' ICE-TCP addresses (their --listen-tcp public addresses) advertised as passive TCP candidates below every UDP one, for callers whose networks block UDP: same grammar and location names as --relays",
  }),
  region: setting<string | undefined>({
    flag: 'region',
    env: 'PARLEY_REGION',
    metavar: 'NAME',
    default: undefined,
    defaultText: '(the first location)',
    parse: locationName,
    help: "this transceiver's own location: advertised first when a call has no usable region hint",
  }),
  regionHeader: setting({
    flag: 'region-header',
    env: 'PARLEY_REGION_HEADER',
    metavar: 'NAME',
    default: 'x-parley-region',
    defaultText: 'X-Parley-Region',
    parse: headerName,
    help: "request header holding a call's region hint: a location name, or a value --region-map maps (e.g. a CDN's country header)",
  }),
  regionMap: setting<ReadonlyMap<string, string>>({
    flag: 'region-map',
    env: 'PARLEY_REGION_MAP',
    metavar: 'MAP',
    default: new Map(),
    defaultText: '(none)',
    parse: parseRegionMap,
    help: 'region-header values to locations, VALUE=LOCATION comma-separated, e.g. DE=eu,FR=eu,US=us (case-insensitive)',
  }),
  redis: setting<string | undefined>({
    flag: 'redis',
    env: 'PARLEY_REDIS',
    metavar: 'URL',
    default: undefined,
    defaultText: '(none: every location counts as live)',
    parse: parsers.url(['redis:', 'rediss:']),
    help: "the relays' Redis: their heartbeats (read every second; locations with no live relay are not advertised; needs named --relays) and flow store (ended calls' tokens are revoked there); unreachable: a warning and a /readyz line",
  }),
  revokeUrls: setting<string[]>({
    flag: 'revoke-urls',
    env: 'PARLEY_REVOKE_URLS',
    metavar: 'URLS',
    default: [],
    defaultText: '(none)',
    parse: parsers.list(parsers.url(['http:'])),
    help: "without --redis: the ops URLs of the relays (http://HOST:PORT, comma-separated) told of each ended call's token, which they then refuse (parley dev sets it)",
  }),
  heartbeatPrefix: setting({
    flag: 'heartbeat-prefix',
    env: 'PARLEY_HEARTBEAT_PREFIX',
    metavar: 'PREFIX',
    default: DEFAULT_HEARTBEAT_PREFIX,
    parse: parsers.keyPrefix,
    help: "key prefix of relay heartbeats in Redis (the relays' --heartbeat-prefix)",
  }),
  redisPrefix: setting({
    flag: 'redis-prefix',
    env: 'PARLEY_REDIS_PREFIX',
    metavar: 'PREFIX',
    default: DEFAULT_FLOW_PREFIX,
    parse: parsers.keyPrefix,
    help: "key prefix of the relays' flow store in Redis (their --redis-prefix): with --redis, each ended call's token is revoked there, so no relay opens a flow for it again",
  }),
  relayCidrs: setting({
    flag: 'relay-cidrs',
    env: 'PARLEY_RELAY_CIDRS',
    metavar: 'CIDRS',
    default: CidrSet.parse(LOOPBACK_CIDRS),
    defaultText: LOOPBACK_CIDRS,
    parse: (t: string) => CidrSet.parse(t),
    help: 'source networks allowed to send media (the relays), comma-separated CIDRs',
  }),
  replicaCidrs: setting({
    flag: 'replica-cidrs',
    env: 'PARLEY_REPLICA_CIDRS',
    metavar: 'CIDRS',
    default: CidrSet.parse(LOOPBACK_CIDRS),
    defaultText: LOOPBACK_CIDRS,
    parse: (t: string) => CidrSet.parse(t),
    help: 'networks the other transceiver replicas live in, comma-separated CIDRs: a request for a call another replica holds is forwarded only to an owner address inside them (--http-advertise)',
  }),
  udpBuffer: setting({
    flag: 'udp-buffer',
    env: 'PARLEY_UDP_BUFFER',
    metavar: 'BYTES',
    default: 8 * 1024 * 1024,
    parse: parsers.int(65_536, 1 << 30),
    help: 'receive and send buffer of the media socket; the default holds ~100 ms of 1000 calls (50 000 packets/s); with --media-io native and CAP_NET_ADMIN it is granted whole (SO_RCVBUFFORCE), otherwise Linux caps it at net.core.rmem_max / wmem_max (a warning says so)',
  }),
  mediaIo: setting<MediaIo | undefined>({
    flag: 'media-io',
    env: 'PARLEY_MEDIA_IO',
    metavar: 'native|dgram',
    default: undefined,
    defaultText: 'native where the addon built, else dgram',
    parse: parsers.oneOf(MEDIA_IO_MODES),
    help: 'media socket: native = the C addon (recvmmsg/sendmmsg in batches on a thread of its own, built by npm ci), dgram = Node dgram (one system call and callback per datagram); the choice is logged at start',
  }),
  mediaBatchUs: setting({
    flag: 'media-batch-us',
    env: 'PARLEY_MEDIA_BATCH_US',
    metavar: 'µS',
    default: DEFAULT_MEDIA_BATCH_US,
    parse: parsers.int(0, 100_000),
    help: "native media socket: after a datagram arrives, wait this long for more and hand them to JS together (0: at once); the most it adds to a packet's way through",
  }),
  srtp: setting<SrtpImpl | undefined>({
    flag: 'srtp',
    env: 'PARLEY_SRTP',
    metavar: 'native|ts',
    default: undefined,
    defaultText: 'native where the addon built, else ts',
    parse: parsers.oneOf(SRTP_IMPLS),
    help: 'SRTP cipher for both profiles (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM) and the AES-128-GCM of DTLS records (data channels): native = the C addon (OpenSSL of the node binary, keyed once, one call per packet, built by npm ci), ts = TypeScript and node:crypto; the choice is logged at start',
  }),
  dtlsKey: setting({
    flag: 'dtls-key',
    env: 'PARLEY_DTLS_KEY',
    metavar: 'ecdsa|rsa',
    default: 'ecdsa' as 'ecdsa' | 'rsa',
    parse: parsers.oneOf(['ecdsa', 'rsa'] as const),
    help: "the key of the process's DTLS certificate: ecdsa = P-256 (small, fast, what browsers use), rsa = RSA 2048 (for peers that accept only RSA); either way we accept ECDSA and RSA peers (docs/dtls.md)",
  }),
  maxSessions: setting({
    flag: 'max-sessions',
    env: 'PARLEY_MAX_SESSIONS',
    metavar: 'N',
    default: 1000,
    parse: parsers.int(1, 1_000_000),
    help: 'calls at once; further offers get 503 with Retry-After',
  }),
  maxCallSeconds: setting({
    flag: 'max-call-seconds',
    env: 'PARLEY_MAX_CALL_SECONDS',
    metavar: 'S',
    default: 3600,
    parse: parsers.int(1, 7 * 24 * 3600),
    help: 'a call is ended (reason max_duration) after this long',
  }),
  setupTimeoutSeconds: setting({
    flag: 'setup-timeout-seconds',
    env: 'PARLEY_SETUP_TIMEOUT_SECONDS',
    metavar: 'S',
    default: 10,
    parse: parsers.int(1, 120),
    help: 'a call that has not connected (ICE + DTLS) this long after its answer ends (setup_timeout) and frees its slot',
  }),
  warmUpMs: setting({
    flag: 'warm-up-ms',
    env: 'PARLEY_WARM_UP_MS',
    metavar: 'MS',
    default: 800,
    parse: parsers.int(0, 10_000),
    help: 'before listening, set calls up in memory for up to this long (nothing sent) so the first real calls run compiled code; 0: none',
  }),
  offersPerSecond: setting({
    flag: 'offers-per-second',
    env: 'PARLEY_OFFERS_PER_SECOND',
    metavar: 'N',
    default: DEFAULT_ADMISSION.offersPerSecond,
    parse: parsers.int(1, 1_000_000),
    help: 'offers one client (source IP or IPv6 /64, and API key) may post a second on average; more get 429 with Retry-After',
  }),
  offerBurst: setting({
    flag: 'offer-burst',
    env: 'PARLEY_OFFER_BURST',
    metavar: 'N',
    default: DEFAULT_ADMISSION.offerBurst,
    parse: parsers.int(1, 1_000_000),
    help: 'offers one client may post at once before --offers-per-second applies',
  }),
  maxPendingPerClient: setting({
    flag: 'max-pending-per-client',
    env: 'PARLEY_MAX_PENDING_PER_CLIENT',
    metavar: 'N',
    default: DEFAULT_ADMISSION.maxPendingPerClient,
    parse: parsers.int(1, 1_000_000),
    help: 'calls of one client that have not connected yet; further offers get 429',
  }),
  maxCallsPerClient: setting({
    flag: 'max-calls-per-client',
    env: 'PARLEY_MAX_CALLS_PER_CLIENT',
    metavar: 'N',
    default: DEFAULT_ADMISSION.maxCallsPerClient,
    parse: parsers.int(1, 1_000_000),
    help: 'live calls of one client, connected or not; further offers get 429 (raise it for an app server that posts offers for its users)',
  }),
  maxHttpConnections: setting({
    flag: 'max-http-connections',
    env: 'PARLEY_MAX_HTTP_CONNECTIONS',
    metavar: 'N',
    default: DEFAULT_MAX_CONNECTIONS,
    parse: parsers.int(1, 1_000_000),
    help: 'open signaling connections at once; beyond it new connections are closed at once',
  }),
  handler: setting<string | undefined>({
    flag: 'handler',
    env: 'PARLEY_HANDLER',
    metavar: 'NAME',
    default: undefined,
    defaultText: 'media-stream with --media-stream-url, else realtime with --realtime-url, else echo',
    parse: parsers.string,
    help: 'default media handler for calls that do not ask for one (?handler=NAME)',
  }),
  realtimeUrl: setting<string | undefined>({
    flag: 'realtime-url',
    env: 'PARLEY_REALTIME_URL',
    metavar: 'URL',
    default: undefined,
    defaultText: '(none: no realtime handler)',
    parse: parsers.url(['ws:', 'wss:']),
    help: 'an OpenAI-Realtime-protocol WebSocket server (e.g. wss://api.openai.com/v1/realtime): registers the realtime handler, the default then; its key is read from PARLEY_REALTIME_API_KEY',
  }),
  realtimeModel: setting<string | undefined>({
    flag: 'realtime-model',
    env: 'PARLEY_REALTIME_MODEL',
    metavar: 'NAME',
    default: undefined,
    defaultText: "(none: the server's default)",
    parse: parsers.string,
    help: 'model name, sent as ?model= on the realtime URL',
  }),
  mediaStreamUrl: setting<string | undefined>({
    flag: 'media-stream-url',
    env: 'PARLEY_MEDIA_STREAM_URL',
    metavar: 'URL',
    default: undefined,
    defaultText: '(none: no media-stream handler)',
    parse: parsers.url(['ws:', 'wss:']),
    help: 'an agent speaking the Twilio Media Streams protocol: registers the media-stream handler, the default then; upgrade headers from PARLEY_MEDIA_STREAM_HEADERS (a JSON object)',
  }),
  mediaStreamFormat: setting<MediaStreamFormat>({
    flag: 'media-stream-format',
    env: 'PARLEY_MEDIA_STREAM_FORMAT',
    metavar: 'FORMAT',
    default: 'mulaw',
    parse: parsers.oneOf(MEDIA_STREAM_FORMATS),
    help: `audio on the media-stream socket: ${MEDIA_STREAM_FORMATS.join(', ')} (audio/x-mulaw 8 kHz as Twilio, or audio/x-l16 little-endian at 16 or 24 kHz)`,
  }),
  codecThreads: setting({
    flag: 'codec-threads',
    env: 'PARLEY_CODEC_THREADS',
    metavar: 'N',
    default: 0,
    defaultText: '0 (on the event loop)',
    parse: parsers.int(0, MAX_CODEC_THREADS),
    help: 'worker threads for the Opus decode and encode of the realtime and media-stream handlers (each call on one thread, one message per thread per event-loop turn): 0 keeps them on the event loop; about one per core beyond the first lets calls use more than one core (docs/media.md); needs the native Opus addon (without it: a warning, and 0)',
  }),
  opusApplication: setting<OpusApplication>({
    flag: 'opus-application',
    env: 'PARLEY_OPUS_APPLICATION',
    metavar: 'APP',
    default: BRIDGE_ENCODER_DEFAULTS.application,
    parse: parsers.oneOf(OPUS_APPLICATIONS),
    help: `libopus application of the bridges' encoder (realtime and media-stream handlers, inline and on codec threads): ${OPUS_APPLICATIONS.join(', ')}; with audio and --opus-complexity ≤ 6 libopus codes speech as CELT, the cheapest (docs/media.md, "Encoder settings")`,
  }),
  opusComplexity: setting({
    flag: 'opus-complexity',
    env: 'PARLEY_OPUS_COMPLEXITY',
    metavar: 'N',
    default: BRIDGE_ENCODER_DEFAULTS.complexity,
    parse: parsers.int(0, OPUS_MAX_COMPLEXITY),
    help: 'libopus complexity of the bridges\' encoder, 0..10 (10: libopus\'s own default, the dearest; docs/media.md, "Encoder settings")',
  }),
  handlerModules: setting<string[]>({
    flag: 'handler-module',
    env: 'PARLEY_HANDLER_MODULES',
    metavar: 'FILE',
    default: [],
    defaultText: '(none)',
    parse: parsers.list(parsers.string),
    repeatable: true,
    help: 'a module whose default export `register(handlers)` adds media handlers at start (docs/agents.md); the env variable takes a comma-separated list',
  }),
  keysFile: setting<string | undefined>({
    flag: 'keys-file',
    env: 'PARLEY_KEYS_FILE',
    metavar: 'FILE',
    default: undefined,
    parse: parsers.string,
    defaultText: '(use PARLEY_KEYS)',
    help: 'routing-token keyring file; without it the keyring is read from PARLEY_KEYS',
  }),
  apiKeys: setting<string[]>({
    flag: 'api-keys',
    env: 'PARLEY_API_KEYS',
    metavar: 'KEYS',
    default: [],
    defaultText: '(none: required unless --no-auth)',
    parse: apiKeys,
    help: 'bearer keys accepted by the signaling API, comma-separated (prefer the env variable: flags show in ps); required unless --no-auth',
  }),
  noAuth: onOffSwitch({
    flag: 'no-auth',
    env: 'PARLEY_NO_AUTH',
    help: 'run the signaling API without API keys: anyone who reaches it may create calls (parley dev does; PARLEY_NO_AUTH=on). Without it the transceiver does not start without --api-keys',
  }),
  drainSeconds: setting({
    flag: 'drain-seconds',
    env: 'PARLEY_DRAIN_SECONDS',
    metavar: 'S',
    default: 30,
    parse: parsers.int(0, 24 * 3600),
    help: 'on SIGTERM: refuse new calls (503), let calls run this long, then end them (reason server_drain)',
  }),
  demoPage: setting<'on' | 'off'>({
    flag: 'demo-page',
    env: 'PARLEY_DEMO_PAGE',
    metavar: 'on|off',
    default: 'on',
    parse: parsers.oneOf(['on', 'off'] as const),
    help: 'serve the demo page (web/) at / on the HTTP port',
  }),
  logLevel: setting<LogLevel>({
    flag: 'log-level',
    env: 'PARLEY_LOG_LEVEL',
    metavar: 'LEVEL',
    default: 'info',
    parse: parsers.oneOf(LOG_LEVELS),
    help: `log threshold: ${LOG_LEVELS.join(', ')}`,
  }),
};

export type TransceiverConfig = ConfigOf<typeof transceiverSettings>;

/** The media socket to use and, when the default fell back to dgram, why. Throws ConfigError if native was asked for and cannot load. */
export function resolveMediaIo(asked: MediaIo | undefined): { io: MediaIo; fallback?: string } {
  const addon = loadMediaSocketAddon();
  if (asked === 'native' && addon instanceof Error)
    throw new ConfigError('--media-io / PARLEY_MEDIA_IO', `native is not available: ${addon.message}`);
  if (asked !== undefined) return { io: asked };
  return addon instanceof Error ? { io: 'dgram', fallback: addon.message } : { io: 'native' };
}

/** The SRTP transform to use and, when the default fell back to TypeScript, why. Throws ConfigError if native was asked for and cannot load. */
export function resolveSrtp(asked: SrtpImpl | undefined): {
  impl: SrtpImpl;
  factory?: SrtpTransformFactory;
  recordAead?: RecordAeadFactory;
  fallback?: string;
} {
  if (asked === 'ts') return { impl: 'ts' };
  const addon = loadSrtpAddon();
  if (addon instanceof Error) {
    if (asked === 'native') throw new ConfigError('--srtp / PARLEY_SRTP', `native is not available: ${addon.message}`);
    return { impl: 'ts', fallback: addon.message };
  }
  return { impl: 'native', factory: nativeSrtpTransformFactory(addon), recordAead: nativeRecordAeadFactory(addon) };
}

export interface ResolvedTransceiverConfig extends Omit<TransceiverConfig, 'keysFile' | 'mediaIo' | 'srtp' | 'handler'> {
  /** The default handler: --handler, else media-stream / realtime when their URL is set, else echo. */
  readonly handler: string;
  /** PARLEY_MEDIA_STREAM_HEADERS (environment only: a JSON object of header names to strings). */
  readonly mediaStreamHeaders: Readonly<Record<string, string>>;
  /** PARLEY_REALTIME_API_KEY (environment only: flags show in ps). */
  readonly realtimeApiKey: string | undefined;
  readonly keyring: Keyring;
  /** The media socket in use, and why the default fell back to dgram (undefined when it did not). */
  readonly mediaIo: MediaIo;
  readonly mediaIoFallback?: string;
  /** The SRTP transform in use, its factory (native), and why the default fell back to ts. */
  readonly srtp: SrtpImpl;
  readonly srtpTransform?: SrtpTransformFactory;
  /** The DTLS record AEAD of the same addon (AES-128-GCM), with --srtp native; else node:crypto. */
  readonly dtlsRecordAead?: RecordAeadFactory;
  readonly srtpFallback?: string;
  /** True when --relays names locations (NAME=HOST:PORT;…). */
  readonly namedRelays: boolean;
}

/**
 * argv + env → a checked transceiver config. Throws ConfigError naming the setting and why:
 * an unknown --handler (checked against `handlers`), --region without named locations, a
 * native media socket or SRTP transform that was asked for and cannot load.
 */
export function resolveTransceiverConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  handlers: HandlerRegistry,
): ResolvedTransceiverConfig {
  const s = loadConfig(transceiverSettings, argv, env);
  const keyring = loadKeyring({ keysFile: s.keysFile, env });
  const handler = s.handler ?? (s.mediaStreamUrl !== undefined ? 'media-stream' : s.realtimeUrl !== undefined ? 'realtime' : 'echo');
  const urlHandlers = [...(s.realtimeUrl !== undefined ? ['realtime'] : []), ...(s.mediaStreamUrl !== undefined ? ['media-stream'] : [])];
  if (!handlers.get(handler) && !urlHandlers.includes(handler)) {
    const known = [...handlers.names(), ...urlHandlers].sort().join(', ');
    throw new ConfigError('--handler / PARLEY_HANDLER', `no media handler named '${handler}' (known: ${known})`);
  }
  const namedRelays = s.relays.locations[0].name !== '';
  if (!namedRelays && s.region !== undefined)
    throw new ConfigError('--region / PARLEY_REGION', 'needs named locations in --relays (NAME=HOST:PORT;…)');
  // Issue #20: heartbeats are read only for named locations; --redis with an unnamed list would
  // silently not check that any relay is live. The relays' default --location is `default`.
  if (!namedRelays && s.redis !== undefined)
    throw new ConfigError(
      '--redis / PARLEY_REDIS',
      `needs named locations in --relays (NAME=HOST:PORT;…) to read relay heartbeats; name the relays' --location, e.g. --relays default=${formatRelaySpec(s.relays)}`,
    );
  // Issue #19: an open signaling API is a choice, never a default outside `parley dev`.
  if (s.apiKeys.length === 0 && s.noAuth !== 'on')
    throw new ConfigError(
      '--api-keys / PARLEY_API_KEYS',
      'required: the bearer keys of the signaling API; give --no-auth (PARLEY_NO_AUTH=on) to run without them',
    );
  if (s.relaysTcp !== undefined) {
    const names = new Set(s.relays.locations.map((l) => l.name));
    const stray = s.relaysTcp.locations.find((l) => !names.has(l.name));
    if (stray !== undefined) {
      throw new ConfigError(
        '--relays-tcp / PARLEY_RELAYS_TCP',
        namedRelays
          ? `'${stray.name || stray.addresses.map((a) => `${a.address}:${a.port}`).join(',')}' is not one of the --relays locations (${[...names].join(', ')})`
          : 'names locations, but --relays is an unnamed list: use the same form for both',
      );
    }
  }
  const media = resolveMediaIo(s.mediaIo);
  const srtp = resolveSrtp(s.srtp);
  const { keysFile: _unused, ...rest } = s;
  return {
    ...rest,
    handler,
    realtimeApiKey: env.PARLEY_REALTIME_API_KEY || undefined,
    mediaStreamHeaders: parseHeaders(env.PARLEY_MEDIA_STREAM_HEADERS),
    keyring,
    namedRelays,
    mediaIo: media.io,
    mediaIoFallback: media.fallback,
    srtp: srtp.impl,
    srtpTransform: srtp.factory,
    dtlsRecordAead: srtp.recordAead,
    srtpFallback: srtp.fallback,
  };
}

/** PARLEY_MEDIA_STREAM_HEADERS: a JSON object of header names to string values (≤ 32). Throws ConfigError naming it. */
export function parseHeaders(text: string | undefined): Record<string, string> {
  if (text === undefined || text.trim() === '') return {};
  const fail = (why: string): never => {
    throw new ConfigError('PARLEY_MEDIA_STREAM_HEADERS', why);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('must be a JSON object, e.g. {"Authorization":"Bearer …"}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('must be a JSON object of header names to strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 32) fail('at most 32 headers');
  for (const [name, v] of entries) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(`${JSON.stringify(name)} is not a header name (RFC 9110 token)`);
    if (typeof v !== 'string' || /[\r\n\0]/.test(v)) fail(`the value of ${name} must be a string without CR, LF or NUL`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
