// What a DTLS endpoint offers (client) or accepts (server), read from DtlsOptions' names: the
// cipher suites (./suites.ts) and the SRTP protection profiles (RFC 5764 §4.1.2). One reading for
// the endpoint and for a client start made ahead of its call (./client-start.ts), so that a start's
// ClientHello names exactly what the endpoint that takes it would have named.
import { DtlsCode, DtlsError } from './errors.ts';
import { SrtpProfile } from './extensions.ts';
import type { SrtpProfileName } from './extensions.ts';
import { CIPHER_SUITES } from './suites.ts';
import type { CipherSuite } from './suites.ts';

/** RFC 5764 §4.1.2 / RFC 7714 §14.2, in our preference order, unless DtlsOptions.srtpProfiles says otherwise. */
export const DEFAULT_SRTP_PROFILES: readonly SrtpProfileName[] = ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'];

export interface OfferedSettings {
  /** In our preference order (a server picks by it). */
  readonly suites: readonly CipherSuite[];
  /** Profile ids, in the caller's order. */
  readonly srtpProfiles: readonly number[];
}

/** The suites and profiles `o` names (default: every suite, DEFAULT_SRTP_PROFILES); throws invalidOptions for an empty or unknown list. */
export function offeredSettings(o: {
  readonly cipherSuites?: readonly string[];
  readonly srtpProfiles?: readonly SrtpProfileName[];
}): OfferedSettings {
  const invalid = (why: string): DtlsError => new DtlsError(DtlsCode.invalidOptions, why);
  const profiles = o.srtpProfiles ?? DEFAULT_SRTP_PROFILES;
  if (profiles.length === 0 || !profiles.every((p) => p in SrtpProfile)) throw invalid('srtpProfiles must name known SRTP profiles');
  const suites = o.cipherSuites === undefined ? CIPHER_SUITES : o.cipherSuites.map((n) => CIPHER_SUITES.find((s) => s.name === n));
  if (suites.length === 0 || suites.some((s) => s === undefined)) throw invalid('cipherSuites must name suites of ours');
  return { suites: suites as CipherSuite[], srtpProfiles: profiles.map((p) => SrtpProfile[p]) };
}
