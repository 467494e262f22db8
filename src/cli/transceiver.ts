// `parley transceiver`: runs the stateful side of Parley — the signaling HTTP API and the UDP
// media endpoint that relays talk to (docs/transceiver.md). Settings come from flags and
// PARLEY_… variables (src/transceiver/config.ts); SIGTERM/SIGINT drain: offers get 503 and
// /readyz fails at once, calls get --drain-seconds to finish, then the rest are ended.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatAddress } from '../core/address.ts';
import { ConfigError } from '../common/config-error.ts';
import { loadConfig, renderSettingsHelp } from '../common/cli-config.ts';
import { createLogger } from '../common/log.ts';
import { redactUrl } from '../common/redis.ts';
import type { Logger } from '../common/log.ts';
import { resolveTransceiverConfig, transceiverSettings } from '../transceiver/config.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { createMediaStreamHandlerFactory } from '../transceiver/handlers/media-stream/media-stream-handler.ts';
import { loadHandlerModules } from '../transceiver/handlers/modules.ts';
import { loadOpusAddon } from '../media/opus-recovery.ts';
import { CodecPool } from '../media/codec-pool.ts';
import { createInlineCodecs } from '../media/frame-codec.ts';
import type { BridgeEncoderSettings } from '../media/opus.ts';
import { createRealtimeHandlerFactory, REALTIME_DROP_REASONS } from '../transceiver/handlers/realtime/realtime-handler.ts';
import { mediaStreamMetrics, realtimeDropMetric } from '../transceiver/transceiver-metrics.ts';
import { defaultHandlers } from '../transceiver/handlers/registry.ts';
import { LiveRelays, RelayLocations } from '../transceiver/relays/relay-locations.ts';
import { advertisedAddresses, formatRelaySpec, locationOfAddress } from '../transceiver/relays/relay-spec.ts';
import { HttpTokenRevocations, TokenRevocations } from '../transceiver/relays/token-revocations.ts';
import type { TokenRevocationsOptions } from '../transceiver/relays/token-revocations.ts';
import { startTransceiver, transceiverDtlsCrypto } from '../transceiver/transceiver.ts';
import { defaultStunIntegrity } from '../transceiver/media/stun-integrity-native.ts';
import { generateCertificate } from '../core/dtls/index.ts';
import { systemRng } from '../common/system-rng.ts';
import { warmUp } from './transceiver-warm-up.ts';
import { setTransceiverRuntimeV8Flags } from '../transceiver/node-flags.ts';
import type { Command } from './command.ts';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const help = `Usage: parley transceiver [options]

Runs a transceiver: the signaling API (POST /v1/realtime/calls with an SDP offer, answered with
ICE-lite candidates that are the relays' public addresses) and a UDP media endpoint that only
relays send to. Every call ends here: ICE-lite, DTLS, SRTP, RTP/RTCP and a media handler.

Options (flag, environment variable, meaning, default):
${renderSettingsHelp(transceiverSettings)}

Routing-token keys: --keys-file FILE, else PARLEY_KEYS (the same keyring every relay has;
make one with \`parley keys generate\`). Signaling API keys: PARLEY_API_KEYS.
Signals: SIGTERM/SIGINT drain (503 for new offers, /readyz fails), then exit 0.
Exit status: 0 stopped cleanly, 1 failed to start (e.g. a port is taken), 2 bad configuration.
See docs/transceiver.md and docs/signaling.md.`;

export const command: Command = {
  summary: 'run the transceiver: signaling API + media endpoint for relays',
  help,
  async run(argv: string[]): Promise<number> {
    // First: every function compiled from here on is compiled under them (node-flags.ts).
    setTransceiverRuntimeV8Flags();
    const handlers = defaultHandlers();
    // Modules first: --handler may name a handler one of them registers.
    await loadHandlerModules(loadConfig(transceiverSettings, argv, process.env).handlerModules, handlers);
    const cfg = resolveTransceiverConfig(argv, process.env, handlers);
    const metrics = new MetricsRegistry();
    const log = createLogger({ component: 'transceiver', level: cfg.logLevel });
    const encoder = { application: cfg.opusApplication, complexity: cfg.opusComplexity };
    log.info('bridge encoder', encoder);
    const pool = startCodecPool(cfg.codecThreads, encoder, log);
    const codecs = pool ?? createInlineCodecs(encoder);
    if (cfg.mediaStreamUrl !== undefined) {
      handlers.register(
        'media-stream',
        createMediaStreamHandlerFactory({
          url: cfg.mediaStreamUrl,
          headers: cfg.mediaStreamHeaders,
          format: cfg.mediaStreamFormat,
          metrics: mediaStreamMetrics(metrics),
          codecs,
        }),
        { replace: true },
      );
    }
    if (cfg.realtimeUrl !== undefined) {
      const drops = realtimeDropMetric(metrics, REALTIME_DROP_REASONS);
      handlers.register(
        'realtime',
        createRealtimeHandlerFactory({
          url: cfg.realtimeUrl,
          apiKey: cfg.realtimeApiKey,
          model: cfg.realtimeModel,
          onDrop: (reason) => drops[reason].inc(),
          codecs,
        }),
        { replace: true },
      );
    }
    const { keyring, namedRelays: named } = cfg;
    if (cfg.mediaIoFallback) log.warn('media socket: dgram, the native addon is not usable', { reason: cfg.mediaIoFallback });
    log.info('media socket', { io: cfg.mediaIo, batchUs: cfg.mediaIo === 'native' ? cfg.mediaBatchUs : undefined });
    if (cfg.srtpFallback) log.warn('srtp: ts, the native addon is not usable', { reason: cfg.srtpFallback });
    log.info('srtp transform', { aesCm: cfg.srtp });
    const opus = loadOpusAddon();
    if (opus instanceof Error)
      log.warn('PCM handlers: no libopus loss recovery (in-band FEC, PLC); lost frames are repeated faded', { reason: opus.message });
    // One certificate per process (startTransceiver); made here so the warm-up runs the one real calls use.
    const certificate = generateCertificate(undefined, cfg.dtlsKey);
    const dtlsCrypto = transceiverDtlsCrypto({ recordAead: cfg.dtlsRecordAead });
    const stunIntegrity = defaultStunIntegrity();
    // Before any listener opens: the first real calls find the setup path compiled (./transceiver-warm-up.ts).
    const warmed = warmUp({
      certificate,
      dtlsCrypto,
      stunIntegrity,
      srtpTransform: cfg.srtpTransform,
      rng: systemRng,
      budgetMs: cfg.warmUpMs,
      now: () => performance.now(),
    });
    if (warmed.failed > 0) log.warn('warm-up calls did not connect', { failed: warmed.failed, calls: warmed.calls });
    let live: LiveRelays | undefined;
    let locations: RelayLocations;
    try {
      locations = new RelayLocations({ spec: cfg.relays, tcpSpec: cfg.relaysTcp, region: cfg.region, regionMap: cfg.regionMap });
    } catch (err) {
      throw new ConfigError('--region / --region-map', (err as Error).message);
    }
    if (named && cfg.redis !== undefined) {
      live = await LiveRelays.start({ url: cfg.redis, prefix: cfg.heartbeatPrefix, log });
      const l = live;
      locations = new RelayLocations({
        spec: cfg.relays,
        tcpSpec: cfg.relaysTcp,
        region: cfg.region,
        regionMap: cfg.regionMap,
        live: () => l.live(),
      });
    }
    // Ended calls' tokens are revoked in the relays' flow store (docs/security.md, "Relay").
    const revocations =
      cfg.redis === undefined ? undefined : await TokenRevocations.start(revocationOptions(cfg.redis, cfg.redisPrefix, log));
    // Without Redis, straight to the relays' ops listeners (parley dev: its one relay).
    const httpRevocations =
      cfg.redis === undefined && cfg.revokeUrls.length > 0
        ? new HttpTokenRevocations({
            urls: cfg.revokeUrls,
            keyring,
            onError: (err) => log.warn('a token revocation did not reach a relay', { err }),
          })
        : undefined;
    let trx;
    try {
      trx = await startTransceiver({
        http: cfg.http,
        ops: cfg.ops,
        media: cfg.media,
        metrics,
        relays: advertisedAddresses(cfg.relays),
        relaysTcp: cfg.relaysTcp && advertisedAddresses(cfg.relaysTcp),
        relayCidrs: cfg.relayCidrs,
        keyring,
        maxSessions: cfg.maxSessions,
        maxCallSeconds: cfg.maxCallSeconds,
        setupTimeoutMs: cfg.setupTimeoutSeconds * 1000,
        admission: {
          offersPerSecond: cfg.offersPerSecond,
          offerBurst: cfg.offerBurst,
          maxPendingPerClient: cfg.maxPendingPerClient,
          maxCallsPerClient: cfg.maxCallsPerClient,
        },
        maxHttpConnections: cfg.maxHttpConnections,
        handler: cfg.handler,
        handlers,
        apiKeys: cfg.apiKeys,
        log,
        relayLocations: named ? locations : undefined,
        regionHeader: cfg.regionHeader,
        httpAdvertise: cfg.httpAdvertise,
        replicaCidrs: cfg.replicaCidrs,
        udpBufferBytes: cfg.udpBuffer,
        mediaIo: cfg.mediaIo,
        mediaBatchUs: cfg.mediaBatchUs,
        srtpTransform: cfg.srtpTransform,
        certificate,
        dtlsCrypto,
        stunIntegrity,
        staticDir: cfg.demoPage === 'on' && existsSync(WEB_DIR) ? WEB_DIR : undefined,
        tokenEnded: revocations ? (ufrag) => revocations.revoke(ufrag) : httpRevocations && ((ufrag) => httpRevocations.revoke(ufrag)),
        readyDetails: () => redisDetails(cfg.redis, [live, revocations]),
        locationOf: locationOfAddress(cfg.relays),
      });
    } catch (err) {
      // A port in use or an address not on this host: say which, exit 1 (as the relay does).
      log.error('transceiver failed to start', {
        err,
        http: formatAddress(cfg.http),
        ops: formatAddress(cfg.ops),
        media: formatAddress(cfg.media),
      });
      await live?.close();
      await revocations?.close();
      await pool?.close();
      return 1;
    }
    const t = trx;
    log.info('listening', {
      http: formatAddress(t.httpAddress),
      ops: formatAddress(t.opsAddress),
      media: formatAddress(t.mediaAddress),
      relays: formatRelaySpec(cfg.relays),
      region: named ? (cfg.region ?? cfg.relays.locations[0].name) : undefined,
      heartbeats: live ? cfg.heartbeatPrefix : undefined,
      relayCidrs: cfg.relayCidrs.toString(),
      handler: cfg.handler,
      keyIds: keyring.keys.map((k) => k.id),
      auth: cfg.apiKeys.length > 0,
      warmUp: { calls: warmed.calls, ms: Math.round(warmed.ms) },
    });
    await new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        log.info('stopping', { signal: sig, calls: t.calls.activeCount, drainSeconds: cfg.drainSeconds });
        void t.drain(cfg.drainSeconds * 1000).then(resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    await live?.close();
    await revocations?.close();
    if (pool !== undefined) log.info('codec threads', { ...pool.stats });
    await pool?.close();
    log.info('stopped');
    return 0;
  },
};

/** --codec-threads N > 0: the bridges' Opus work on N worker threads (media/codec-pool.ts); without the addon, a warning and the event loop. */
function startCodecPool(threads: number, encoder: BridgeEncoderSettings, log: Logger): CodecPool | undefined {
  if (threads === 0) return undefined;
  const pool = CodecPool.start({
    threads,
    encoder,
    onError: (what, err) =>
      log.warn(what === 'worker' ? 'a codec thread failed; started again' : 'a handler threw on a codec result', { err }),
  });
  if (pool instanceof Error) {
    log.warn('codec threads: none, the Opus work stays on the event loop', { reason: pool.message });
    return undefined;
  }
  log.info('codec threads', { threads });
  return pool;
}

/** Issue #20: Redis unreachable or lost is a /readyz line (calls still work: every location counts as live, revocations are lost). */
function redisDetails(url: string | undefined, clients: readonly ({ readonly connected: boolean } | undefined)[]): string[] {
  if (url === undefined || clients.every((c) => c === undefined || c.connected)) return [];
  return [`redis unreachable (--redis / PARLEY_REDIS ${redactUrl(url)}): relay heartbeats and token revocations are not read or written`];
}

/** Revocations whose publish failed are logged at most once per 10 s (a down Redis must not flood the log). */
function revocationOptions(url: string, prefix: string, log: Logger): TokenRevocationsOptions {
  let last = -Infinity;
  return {
    url,
    prefix,
    log,
    onError(err) {
      const now = performance.now();
      if (now - last < 10_000) return;
      last = now;
      log.warn('token revocation not published', { err });
    },
  };
}
