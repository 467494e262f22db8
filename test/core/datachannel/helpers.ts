// Two DataChannels managers (DTLS client and server roles) over the seeded Netem.
import { seededRng } from '../../../src/core/rng.ts';
import { DataChannels } from '../../../src/core/datachannel/index.ts';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import { SctpBudget } from '../../../src/core/sctp/index.ts';
import type { SctpOptions } from '../../../src/core/sctp/index.ts';
import type { LinkProfile } from '../../support/netem.ts';
import { pair } from '../sctp/harness.ts';
import type { Pair } from '../sctp/harness.ts';

export type Msg = Extract<DataChannelEvent, { type: 'message' }>;
export const isMsg = (e: DataChannelEvent): e is Msg => e.type === 'message';

/** Client (a) and server (b), not yet connected. */
export function dcPair(seed: number, profile: LinkProfile = { latencyMs: 20 }, o: Partial<SctpOptions> = {}): Pair<DataChannels> {
  const mk = (role: 'client' | 'server'): DataChannels =>
    new DataChannels({ role, rng: seededRng(`${role}${seed}`), budget: new SctpBudget(64 * 1024 * 1024), ...o });
  return pair(mk('client'), mk('server'), seed, profile);
}

export function connectedPair(seed: number, profile: LinkProfile = { latencyMs: 20 }, o: Partial<SctpOptions> = {}): Pair<DataChannels> {
  const p = dcPair(seed, profile, o);
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.a.events.some((e) => e.type === 'connected') && p.b.events.some((e) => e.type === 'connected'), 30_000, 'connect');
  return p;
}

/** Acts on a side at the clock's now and drains it. */
export function act<T>(p: Pair<DataChannels>, side: 'a' | 'b', fn: (m: DataChannels, now: number) => T): T {
  const s = p[side];
  const now = p.clock.now();
  const out = fn(s.m, now);
  s.pump(now);
  return out;
}
