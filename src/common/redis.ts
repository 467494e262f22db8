// The one way a Parley process makes a Redis client (the relay's flow store and heartbeat, the
// transceiver's reader of relay heartbeats): node-redis v6 with commands that fail fast while the
// connection is down (no offline queue: nothing on a packet or request path may wait for
// Redis), a 1 s connect timeout, reconnects with capped exponential back-off, and error lines
// at most once per interval (a dead Redis must not flood the logs). node-redis is loaded only
// when a client is made, so a process without --redis never loads it.
// Also here: Lua scripts sent by SHA-1 (EVALSHA, with EVAL only when Redis answers NOSCRIPT).
// Not here: what is stored (src/contracts/flow-record.ts, src/contracts/heartbeat.ts).
import { createHash } from 'node:crypto';
import type { RedisClientType } from 'redis';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { Logger } from './log.ts';

export type RedisClient = RedisClientType;

/** First reconnect delay, doubled per attempt up to RECONNECT_CAP_MS. */
export const RECONNECT_BASE_MS = 100;
export const RECONNECT_CAP_MS = 2000;
/** At most one error line per this interval and client. */
export const ERROR_LOG_INTERVAL_MS = 5000;
const CONNECT_TIMEOUT_MS = 1000;

/** Exponential back-off, 100 ms doubling to a 2 s cap (node-redis's reconnectStrategy). */
export function reconnectDelay(retries: number): number {
  return Math.min(RECONNECT_BASE_MS * 2 ** Math.min(retries, 5), RECONNECT_CAP_MS);
}

export interface RedisClientOptions {
  readonly url: string;
  /** What the client is for, in log lines ('flow store', 'relay heartbeat store'). */
  readonly what: string;
  /** Where errors are logged (rate-limited); none: errors are only passed to onError. */
  readonly log?: Logger;
  /** Every client error (a caller that counts them). */
  readonly onError?: (err: unknown) => void;
  /** Times the log rate limit; default the system clock. */
  readonly clock?: Clock;
  /** The setting that names this Redis (e.g. '--redis / PARLEY_REDIS'): warnings name it and the URL (issue #20). */
  readonly setting?: string;
}

/** A URL with any user and password removed (log lines and /readyz never carry secrets). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * A node-redis client with Parley's connection policy, not yet connected: the caller listens
 * for 'ready'/'end' as it needs and calls connect().
 */
export async function createRedisClient(o: RedisClientOptions): Promise<RedisClient> {
  const { createClient: create } = await import('redis');
  const client = create({
    url: o.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => reconnectDelay(retries) },
  });
  const clock = o.clock ?? systemClock;
  let lastLog = -Infinity;
  client.on('error', (err: unknown) => {
    o.onError?.(err);
    const now = clock.now();
    if (o.log && now - lastLog >= ERROR_LOG_INTERVAL_MS) {
      lastLog = now;
      if (o.setting === undefined) o.log.warn(`${o.what} error`, { err });
      else
        o.log.warn(`Redis unreachable or lost (${o.what}): is ${o.setting} (${redactUrl(o.url)}) right and Redis up?`, {
          err,
          setting: o.setting,
          value: redactUrl(o.url),
        });
    }
  });
  return client;
}

/** Closes a client whether or not it is connected; never throws. */
export async function closeRedisClient(client: RedisClient | undefined): Promise<void> {
  if (!client) return;
  try {
    if (client.isReady) await client.close();
    else client.destroy();
  } catch {
    client.destroy();
  }
}

/** A Lua script and its SHA-1, by which Redis caches it (SCRIPT LOAD / EVALSHA). */
export interface CachedScript {
  readonly text: string;
  readonly sha1: string;
}

export function cachedScript(text: string): CachedScript {
  return { text, sha1: createHash('sha1').update(text).digest('hex') };
}

export interface ScriptArgs {
  readonly keys: string[];
  readonly arguments: string[];
}

/** The two commands evalCached needs (a node-redis client has them). */
export interface ScriptRunner {
  evalSha(sha1: string, o: ScriptArgs): Promise<unknown>;
  eval(text: string, o: ScriptArgs): Promise<unknown>;
}

/**
 * EVALSHA, and EVAL with the text only when Redis answers NOSCRIPT (a restarted or flushed
 * script cache): every call after the first sends 40 hex digits, not the script.
 */
export async function evalCached(client: ScriptRunner, script: CachedScript, o: ScriptArgs): Promise<unknown> {
  try {
    return await client.evalSha(script.sha1, o);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
    return client.eval(script.text, o);
  }
}
