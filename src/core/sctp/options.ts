// SctpOptions checked and completed with their defaults (documented in types.ts and
// docs/datachannels.md). Misuse throws ERR_SCTP_INVALID_OPTIONS at construction, never later.
import type { Rng } from '../rng.ts';
import { processBudget } from './budget.ts';
import type { SctpBudget } from './budget.ts';
import { SctpCode, SctpError } from './errors.ts';
import type { SctpDropReason } from './errors.ts';
import { DEFAULT_DELAY_CONTROL } from './delay-control.ts';
import type { DelayControlOptions } from './delay-control.ts';
import { DEFAULT_RTO } from './rto.ts';
import type { RtoOptions } from './rto.ts';
import type { SctpOptions } from './types.ts';

export const SCTP_PORT = 5000;
export const DEFAULT_MTU = 1200;
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;

export interface ResolvedOptions {
  rng: Rng;
  port: number;
  remotePort: number;
  mtu: number;
  maxInboundStreams: number;
  outboundStreams: number;
  maxMessageSize: number;
  maxReassemblyBytes: number;
  maxSendBufferBytes: number;
  sendBufferLowBytes: number;
  budget: SctpBudget;
  rto: RtoOptions;
  maxRetransmissions: number;
  maxInitRetransmissions: number;
  heartbeatIntervalMs: number;
  cookieLifetimeMs: number;
  delayedAckMs: number;
  minSackIntervalMs: number;
  delayControl: DelayControlOptions | undefined;
  cookieSecret: Buffer;
  onDrop: ((reason: SctpDropReason) => void) | undefined;
}

export function resolveOptions(opts: SctpOptions): ResolvedOptions {
  const invalid = (why: string): SctpError => new SctpError(SctpCode.invalidOptions, why);
  if (typeof opts.rng?.bytes !== 'function') throw invalid('rng is required');
  const int = (v: number | undefined, def: number, min: number, max: number, name: string): number => {
    const x = v ?? def;
    if (!Number.isInteger(x) || x < min || x > max) throw invalid(`${name} must be an integer in ${min}..${max}`);
    return x;
  };
  const mtu = int(opts.mtu, DEFAULT_MTU, 256, 65535, 'mtu');
  const maxSendBufferBytes = int(opts.maxSendBufferBytes, 1024 * 1024, 1, 2 ** 40, 'maxSendBufferBytes');
  const rto = { ...DEFAULT_RTO, ...opts.rto };
  if (!(rto.minMs > 0 && rto.minMs <= rto.initialMs && rto.initialMs <= rto.maxMs))
    throw invalid('rto must satisfy 0 < minMs <= initialMs <= maxMs');
  const delayControl = opts.delayControl === false ? undefined : { ...DEFAULT_DELAY_CONTROL, ...opts.delayControl };
  if (
    delayControl !== undefined &&
    !(
      delayControl.targetMs > 0 &&
      delayControl.maxQueueBytes >= mtu &&
      delayControl.minQueueMs >= 0 &&
      delayControl.minQueueMs <= delayControl.targetMs
    )
  )
    throw invalid('delayControl must have targetMs > 0, maxQueueBytes >= mtu and 0 <= minQueueMs <= targetMs');
  if (opts.cookieSecret !== undefined && opts.cookieSecret.length < 16) throw invalid('cookieSecret must be at least 16 bytes');
  return {
    rng: opts.rng,
    port: int(opts.port, SCTP_PORT, 1, 65535, 'port'),
    remotePort: int(opts.remotePort, SCTP_PORT, 1, 65535, 'remotePort'),
    mtu,
    maxInboundStreams: int(opts.maxInboundStreams, 1024, 1, 65535, 'maxInboundStreams'),
    outboundStreams: int(opts.outboundStreams, 1024, 1, 65535, 'outboundStreams'),
    maxMessageSize: int(opts.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 1, 2 ** 30, 'maxMessageSize'),
    maxReassemblyBytes: int(opts.maxReassemblyBytes, 1024 * 1024, 4 * mtu, 2 ** 31 - 1, 'maxReassemblyBytes'),
    maxSendBufferBytes,
    sendBufferLowBytes: int(opts.sendBufferLowBytes, Math.min(256 * 1024, maxSendBufferBytes), 0, maxSendBufferBytes, 'sendBufferLowBytes'),
    budget: opts.budget ?? processBudget,
    rto,
    maxRetransmissions: int(opts.maxRetransmissions, 10, 1, 1000, 'maxRetransmissions'),
    maxInitRetransmissions: int(opts.maxInitRetransmissions, 8, 1, 1000, 'maxInitRetransmissions'),
    heartbeatIntervalMs: int(opts.heartbeatIntervalMs, 30_000, 1, 2 ** 31, 'heartbeatIntervalMs'),
    cookieLifetimeMs: int(opts.cookieLifetimeMs, 60_000, 1, 2 ** 31, 'cookieLifetimeMs'),
    delayedAckMs: int(opts.delayedAckMs, 200, 0, 500, 'delayedAckMs'),
    minSackIntervalMs: int(opts.minSackIntervalMs, 1, 0, 50, 'minSackIntervalMs'),
    delayControl,
    cookieSecret: opts.cookieSecret ?? opts.rng.bytes(32),
    onDrop: opts.onDrop,
  };
}
