// Loud misconfiguration (issue #20): the relay drop reasons that usually mean a setting is wrong,
// each turned into a rate-limited warning that names the setting and the offending value. A
// relay whose --transceiver-cidrs misses the transceivers, a keyring that differs from the
// transceivers', or an unreachable Redis otherwise only move a drop counter.
// Pure bookkeeping: the worker tells it what it dropped and when; it answers with the warnings
// to log (at most one per reason per WARN_INTERVAL_MS). Not here: counting (stats.ts).
import type { DropReason } from './stats.ts';

/** At most one warning per reason per this interval. */
export const WARN_INTERVAL_MS = 30_000;
/** A failing token from this many distinct sources within one interval is a keyring problem, not one client. */
export const KEY_MISMATCH_SOURCES = 3;
const MAX_SOURCES = 64;

/** The drop reasons that point at a setting, and which. */
export const MISCONFIG_SETTINGS = {
  disallowed_destination: '--transceiver-cidrs / PARLEY_TRANSCEIVER_CIDRS',
  disallowed_source: '--transceiver-cidrs / PARLEY_TRANSCEIVER_CIDRS',
  token_bad_tag: '--keys-file / PARLEY_KEYS',
  token_unknown_key: '--keys-file / PARLEY_KEYS',
  store_unavailable: '--redis / PARLEY_REDIS',
} as const satisfies Partial<Record<DropReason, string>>;
export type MisconfigReason = keyof typeof MISCONFIG_SETTINGS;

export function isMisconfigReason(r: DropReason): r is MisconfigReason {
  return Object.hasOwn(MISCONFIG_SETTINGS, r);
}

export interface MisconfigWarning {
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export interface MisconfigContext {
  /** The relay's --transceiver-cidrs, as written. */
  readonly transceiverCidrs: string;
  /** The key ids of this relay's keyring (never the secrets). */
  readonly keyIds: readonly number[];
  /** The Redis URL without credentials, or undefined (in-memory store). */
  readonly redis: string | undefined;
}

interface ReasonState {
  lastWarned: number;
  drops: number;
  value: string | undefined;
  sources: Set<string>;
}

export class MisconfigWarnings {
  readonly #ctx: MisconfigContext;
  readonly #state = new Map<MisconfigReason, ReasonState>();

  constructor(ctx: MisconfigContext) {
    this.#ctx = ctx;
  }

  /**
   * A datagram was dropped for `reason`; `value` is the offending value when the caller knows it
   * (a destination or source IP; a function is called only when a warning is made), `source` the sender's IP. Returns a warning to log, or undefined
   * (not a misconfiguration reason, warned lately, or — for token failures — too few sources yet).
   */
  dropped(
    reason: DropReason,
    now: number,
    n = 1,
    value?: string | (() => string | undefined),
    source?: string,
  ): MisconfigWarning | undefined {
    if (!isMisconfigReason(reason)) return undefined;
    let s = this.#state.get(reason);
    if (!s) this.#state.set(reason, (s = { lastWarned: -Infinity, drops: 0, value: undefined, sources: new Set() }));
    s.drops += n;
    if (source !== undefined && s.sources.size < MAX_SOURCES) s.sources.add(source);
    if (now - s.lastWarned < WARN_INTERVAL_MS) return undefined;
    const tokenReason = reason === 'token_bad_tag' || reason === 'token_unknown_key';
    // One client with a stale or forged token is not a misconfiguration; many sources at once are.
    if (tokenReason && s.sources.size < KEY_MISMATCH_SOURCES) return undefined;
    // The value is worked out only for a warning (it may cost a token open).
    const v = typeof value === 'function' ? value() : value;
    if (v !== undefined) s.value = v;
    const w = this.#warning(reason, s);
    s.lastWarned = now;
    s.drops = 0;
    s.sources.clear();
    return w;
  }

  #warning(reason: MisconfigReason, s: ReasonState): MisconfigWarning {
    const setting = MISCONFIG_SETTINGS[reason];
    const base = { reason, setting, drops: s.drops };
    const c = this.#ctx;
    switch (reason) {
      case 'disallowed_destination':
        return {
          msg: `misconfiguration? routing tokens name transceiver ${s.value ?? '(unknown)'}, outside ${setting} (${c.transceiverCidrs}): no flow is made`,
          fields: { ...base, value: s.value, transceiverCidrs: c.transceiverCidrs },
        };
      case 'disallowed_source':
        return {
          msg: `misconfiguration? datagrams on the internal port from ${s.value ?? 'a source'} outside ${setting} (${c.transceiverCidrs}) are dropped`,
          fields: { ...base, value: s.value, transceiverCidrs: c.transceiverCidrs },
        };
      case 'token_bad_tag':
      case 'token_unknown_key':
        return {
          msg: `misconfiguration? routing tokens from ${s.sources.size} sources do not open (${reason}): keys differ? this relay's ${setting} (key ids ${c.keyIds.join(',')}) must hold the transceivers' minting key`,
          fields: { ...base, value: s.value, keyIds: c.keyIds, sources: s.sources.size },
        };
      case 'store_unavailable':
        return {
          msg: `misconfiguration? the flow store is unavailable: media from unknown addresses is dropped; is Redis at ${setting} (${c.redis ?? 'in-memory'}) reachable?`,
          fields: { ...base, value: c.redis },
        };
    }
  }
}
