// The native HMAC-SHA1 of STUN MESSAGE-INTEGRITY (native/src/stun_native.c) behind the core's
// StunIntegrity (src/core/stun/raw.ts): each check a call's setup verifies or signs is one addon
// call over the message in place, where node:crypto's route is an Hmac object per MAC
// (docs/stun-ice.md, "Native MESSAGE-INTEGRITY"). The transceiver hands it to every call's ICE
// agent when the addon is built; node:crypto's stays the fallback.
// Not here: addon loading in src/core (the core stays free of it; it takes a StunIntegrity).
import { nativeAddonLoader } from '../../common/native-addon.ts';
import type { StunIntegrity } from '../../core/stun/index.ts';

/** The addon's functions (native/src/stun_native.c): StunIntegrity itself. */
export type StunIntegrityAddon = StunIntegrity;

/** The addon, or why it cannot be used (not built, not Linux, fails to load). Cached. */
export const loadStunIntegrityAddon = nativeAddonLoader<StunIntegrityAddon>({
  file: 'parley_stun.node',
  what: 'the native STUN MESSAGE-INTEGRITY',
});

/** The native HMAC when the addon loads, else undefined (the agents' default: node:crypto's). */
export function defaultStunIntegrity(): StunIntegrity | undefined {
  const addon = loadStunIntegrityAddon();
  return addon instanceof Error ? undefined : addon;
}
