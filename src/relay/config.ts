// `parley relay` settings: the one place that names each flag, its PARLEY_… environment
// variable, default and meaning (docs/relay.md shows the same table, generated from this spec
// by renderSettingsMarkdown). Cross-setting checks live in resolveRelayConfig.
import type { TransportAddress } from '../core/address.ts';
import { ConfigError } from '../common/config-error.ts';
import type { ConfigOf } from '../common/cli-config.ts';
import { loadConfig, parsers, setting } from '../common/cli-config.ts';
import { loadKeyring } from '../common/keyring-config.ts';
import { LOG_LEVELS } from '../common/log.ts';
import { CidrSet, LOOPBACK_CIDRS } from '../core/cidr.ts';
import { loadNativeAddon } from './datapath-native.ts';
import { MAX_PUBLIC_ADDRESSES } from '../contracts/relay-native.ts';
import { DEFAULT_FLOW_PREFIX } from '../contracts/flow-record.ts';
import { DEFAULT_HEARTBEAT_PREFIX } from '../contracts/heartbeat.ts';
import { allowedCpus, cpuQuota } from './pin.ts';

const loopback = (port: number): TransportAddress => ({ address: '127.0.0.1', port, family: 'IPv4' });

/** A listen address, and the public address clients send to when a load balancer translates it. */
export interface ListenAddress extends TransportAddress {
  readonly advertised?: TransportAddress;
}

function listenList(text: string): ListenAddress[] {
  return text.split(',').map((item) => {
    const [bind, pub, extra] = item.trim().split('=');
    if (extra !== undefined) throw new Error(`'${item}' has more than one '='`);
    const a = parsers.address(bind);
    if (pub === undefined) return a;
    const advertised = parsers.address(pub);
    if (a.port === 0 || advertised.port === 0) throw new Error(`'${item}': a translated address needs explicit ports`);
    return { ...a, advertised };
  });
}

export const relaySettings = {
  listen: setting({
    flag: 'listen',
    env: 'PARLEY_LISTEN',
    metavar: 'HOST:PORT[=PUBLIC]',
    repeatable: true,
    help: 'public UDP address for clients; one per public IP (IPv4 and/or IPv6), explicit IPs so replies leave from the address the client used; =PUBLIC names the address clients really send to when it is translated (a LoadBalancer: POD-IP:3478=LB-IP:3478), so flow-store records survive a replacement pod; env: comma-separated',
    default: [loopback(3478)] as ListenAddress[],
    parse: listenList,
  }),
  listenTcp: setting({
    flag: 'listen-tcp',
    env: 'PARLEY_LISTEN_TCP',
    metavar: 'HOST:PORT[=PUBLIC]',
    repeatable: true,
    help: 'public TCP address for ICE-TCP clients (RFC 6544, RFC 4571 framing) whose networks block UDP, e.g. :443; same grammar as --listen; worker 0 serves it; none by default; env: comma-separated',
    default: [] as ListenAddress[],
    parse: listenList,
  }),
  internal: setting({
    flag: 'internal',
    env: 'PARLEY_INTERNAL',
    metavar: 'HOST:PORT',
    help: 'internal UDP address towards transceivers; worker i uses PORT+i (port 0: each worker an ephemeral port); transceivers answer to the address a packet came from',
    default: loopback(3479),
    parse: parsers.address,
  }),
  workers: setting({
    flag: 'workers',
    env: 'PARLEY_WORKERS',
    metavar: 'N',
    help: 'worker threads, each with its own SO_REUSEPORT socket on every public address',
    default: 0,
    defaultText: 'one per allowed CPU (affinity mask and cgroup CPU quota)',
    parse: parsers.int(1, 256),
  }),
  datapath: setting({
    flag: 'datapath',
    env: 'PARLEY_DATAPATH',
    metavar: 'js|native',
    help: 'per-packet loop: native = the C addon (recvmmsg/sendmmsg on a thread of its own, built by npm ci), js = Node dgram; the choice is logged at start',
    default: undefined as 'js' | 'native' | undefined,
    defaultText: 'native where the addon built, else js',
    parse: parsers.oneOf(['js', 'native'] as const),
  }),
  pin: setting({
    flag: 'pin',
    env: 'PARLEY_PIN',
    metavar: 'on|off',
    help: 'pin worker i to the i-th CPU the process is allowed to use (taskset); off leaves placement to the OS',
    default: 'on' as 'on' | 'off',
    parse: parsers.oneOf(['on', 'off'] as const),
  }),
  keysFile: setting({
    flag: 'keys-file',
    env: 'PARLEY_KEYS_FILE',
    metavar: 'FILE',
    help: 'routing-token keyring file (wins over PARLEY_KEYS, which holds the keyring text itself)',
    default: undefined as string | undefined,
    defaultText: '(PARLEY_KEYS)',
    parse: parsers.string,
  }),
  transceiverCidrs: setting({
    flag: 'transceiver-cidrs',
    env: 'PARLEY_TRANSCEIVER_CIDRS',
    metavar: 'CIDR,…',
    help: 'networks transceivers live in: return traffic only from these, flows only to token destinations inside them',
    default: CidrSet.parse(LOOPBACK_CIDRS),
    defaultText: LOOPBACK_CIDRS,
    parse: (t: string) => CidrSet.parse(t),
  }),
  redis: setting({
    flag: 'redis',
    env: 'PARLEY_REDIS',
    metavar: 'URL',
    help: 'Redis flow store (redis:// or rediss://); without it flows are kept in this process only',
    default: undefined as string | undefined,
    defaultText: '(in-memory store)',
    parse: parsers.url(['redis:', 'rediss:']),
  }),
  redisPrefix: setting({
    flag: 'redis-prefix',
    env: 'PARLEY_REDIS_PREFIX',
    metavar: 'PREFIX',
    help: 'key prefix of flow records in Redis',
    default: DEFAULT_FLOW_PREFIX,
    parse: parsers.keyPrefix,
  }),
  location: setting({
    flag: 'location',
    env: 'PARLEY_LOCATION',
    metavar: 'NAME',
    help: "this relay's location, as the transceivers' --relays names it (e.g. eu); with --redis it is published in a heartbeat every second (docs/global-relay.md)",
    default: 'default',
    parse: (t: string) => {
      if (!/^[a-z][a-z0-9-]{0,31}$/.test(t)) throw new Error('lower-case letters, digits and -, starting with a letter (at most 32)');
      return t;
    },
  }),
  heartbeatPrefix: setting({
    flag: 'heartbeat-prefix',
    env: 'PARLEY_HEARTBEAT_PREFIX',
    metavar: 'PREFIX',
    help: 'key prefix of relay heartbeats in Redis (sorted set PREFIX + live, members LOCATION:ID due within 3 s by the Redis clock; PREFIX + LOCATION:ID keys for operators); transceivers read the same prefix',
    default: DEFAULT_HEARTBEAT_PREFIX,
    parse: parsers.keyPrefix,
  }),
  http: setting({
    flag: 'http',
    env: 'PARLEY_HTTP',
    metavar: 'HOST:PORT',
    help: 'operations HTTP: /metrics /healthz /readyz',
    default: loopback(9090),
    parse: parsers.address,
  }),
  maxFlows: setting({
    flag: 'max-flows',
    env: 'PARLEY_MAX_FLOWS',
    metavar: 'N',
    help: 'hard cap on flows for the whole process (split evenly over workers)',
    default: 100_000,
    parse: parsers.int(1, 10_000_000),
  }),
  unconfirmedTimeout: setting({
    flag: 'unconfirmed-timeout',
    env: 'PARLEY_UNCONFIRMED_TIMEOUT',
    metavar: 'SECONDS',
    help: "a new flow the transceiver has not yet sent to (its client not yet proven to be a call's) is removed after this long (docs/security.md); a transceiver answers within milliseconds, so raise it only for load tests whose sink never answers",
    default: 5,
    parse: parsers.int(1, 600),
  }),
  idleTimeout: setting({
    flag: 'idle-timeout',
    env: 'PARLEY_IDLE_TIMEOUT',
    metavar: 'SECONDS',
    help: 'a flow with no client packet for this long is removed (ICE consent checks come every ~5 s)',
    default: 60,
    parse: parsers.int(5, 3600),
  }),
  newFlowRate: setting({
    flag: 'new-flow-rate',
    env: 'PARLEY_NEW_FLOW_RATE',
    metavar: 'PER_SECOND',
    help: 'new-flow attempts (STUN checks from unknown addresses) allowed per source IP per second, per worker',
    default: 100,
    parse: parsers.int(1, 10_000_000),
  }),
  newFlowBurst: setting({
    flag: 'new-flow-burst',
    env: 'PARLEY_NEW_FLOW_BURST',
    metavar: 'N',
    help: 'burst of new-flow attempts per source IP',
    default: 200,
    parse: parsers.int(1, 10_000_000),
  }),
  storeLookupRate: setting({
    flag: 'store-lookup-rate',
    env: 'PARLEY_STORE_LOOKUP_RATE',
    metavar: 'PER_SECOND',
    help: 'store lookups per second per worker for media from unknown addresses (after a 2 s negative cache)',
    default: 1000,
    parse: parsers.int(1, 1_000_000),
  }),
  joinCheck: setting({
    flag: 'join-check',
    env: 'PARLEY_JOIN_CHECK',
    metavar: 'on|off',
    help: "when a public port is already held (SO_REUSEPORT hand-over), first check that its holder forwards this relay's tokens, and refuse to join (exit 2) a relay with other keys",
    default: 'on' as 'on' | 'off',
    parse: parsers.oneOf(['on', 'off'] as const),
  }),
  logLevel: setting({
    flag: 'log-level',
    env: 'PARLEY_LOG_LEVEL',
    metavar: 'LEVEL',
    help: 'debug, info, warn, error or silent (JSON lines on stderr)',
    default: 'info' as (typeof LOG_LEVELS)[number],
    parse: parsers.oneOf(LOG_LEVELS),
  }),
};

export type RelaySettings = ConfigOf<typeof relaySettings>;

export interface RelayConfig extends Omit<RelaySettings, 'keysFile' | 'datapath'> {
  readonly datapath: 'js' | 'native';
  /** Why the default fell back to js (the addon did not build or load); undefined otherwise. */
  readonly datapathFallback?: string;
  /** Keyring text (secret). */
  readonly keys: string;
  readonly cpus: readonly number[];
}

/** Each public address once, and an explicit IP: a socket bound to one address sends its replies from it. */
function checkListenAddresses(list: readonly ListenAddress[], setting: string): void {
  const seen = new Set<string>();
  for (const a of list) {
    const k = `${a.address}|${a.port}`;
    if (seen.has(k)) throw new ConfigError(setting, `${a.address}:${a.port} is listed twice`);
    seen.add(k);
    if (a.address === '0.0.0.0' || a.address === '::') {
      throw new ConfigError(
        setting,
        `${a.address} is a wildcard; bind each public IP explicitly so replies leave from the address the client used`,
      );
    }
  }
}

/** argv + env → a checked relay config. Throws ConfigError naming the setting and why. */
export function resolveRelayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): RelayConfig {
  const s = loadConfig(relaySettings, argv, env);
  const keyring = loadKeyring({ keysFile: s.keysFile, env });
  const cpus = allowedCpus();
  if (s.workers === 0) s.workers = Math.min(cpus.length, cpuQuota() ?? cpus.length);
  if (s.listen.length > MAX_PUBLIC_ADDRESSES)
    throw new ConfigError('--listen / PARLEY_LISTEN', `at most ${MAX_PUBLIC_ADDRESSES} addresses`);
  checkListenAddresses(s.listen, '--listen / PARLEY_LISTEN');
  checkListenAddresses(s.listenTcp, '--listen-tcp / PARLEY_LISTEN_TCP');
  if (s.internal.port !== 0 && s.internal.port + s.workers - 1 > 65535) {
    throw new ConfigError('--internal / PARLEY_INTERNAL', `workers need ports ${s.internal.port}..${s.internal.port + s.workers - 1}`);
  }
  if (s.maxFlows < s.workers) throw new ConfigError('--max-flows / PARLEY_MAX_FLOWS', 'must be at least the number of workers');
  const addon = loadNativeAddon();
  if (s.datapath === 'native' && addon instanceof Error)
    throw new ConfigError('--datapath / PARLEY_DATAPATH', `native is not available: ${addon.message}`);
  const datapath = s.datapath ?? (addon instanceof Error ? 'js' : 'native');
  const datapathFallback = s.datapath === undefined && addon instanceof Error ? addon.message : undefined;
  const { keysFile: _unused, ...rest } = s;
  return { ...rest, datapath, datapathFallback, keys: keyring.toString(), cpus };
}
