// The two DTLS-SRTP protection profiles Parley offers, with the sizes each one fixes.
// RFC 5764 §4.1.2 (SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001) and RFC 7714 §14.2
// (SRTP_AEAD_AES_128_GCM = 0x0007). Browsers offer both; GCM is cheaper per packet in node.

export type SrtpProfileName = 'SRTP_AES128_CM_HMAC_SHA1_80' | 'SRTP_AEAD_AES_128_GCM';

export interface SrtpProfileParams {
  /** The 16-bit id in the DTLS use_srtp extension. */
  readonly id: number;
  readonly masterKeyLength: number;
  readonly masterSaltLength: number;
  /** Session auth key length; 0 for AEAD (the GCM tag needs no separate key). */
  readonly authKeyLength: number;
  /** Bytes of tag appended to each SRTP/SRTCP packet. */
  readonly tagLength: number;
  readonly aead: boolean;
}

export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfileParams>> = {
  // RFC 3711 §5: AES-CM 128, HMAC-SHA1 with a 160-bit key, tag truncated to 80 bits, 112-bit salt.
  SRTP_AES128_CM_HMAC_SHA1_80: {
    id: 0x0001,
    masterKeyLength: 16,
    masterSaltLength: 14,
    authKeyLength: 20,
    tagLength: 10,
    aead: false,
  },
  // RFC 7714 §12: 96-bit salt, 16-octet tag.
  SRTP_AEAD_AES_128_GCM: {
    id: 0x0007,
    masterKeyLength: 16,
    masterSaltLength: 12,
    authKeyLength: 0,
    tagLength: 16,
    aead: true,
  },
};

export function isSrtpProfileName(name: string): name is SrtpProfileName {
  return Object.hasOwn(SRTP_PROFILES, name);
}

/** The profile for a use_srtp protection profile id (RFC 5764 §4.1.2), or undefined if we do not support it. */
export function srtpProfileById(id: number): SrtpProfileName | undefined {
  for (const [name, p] of Object.entries(SRTP_PROFILES)) if (p.id === id) return name as SrtpProfileName;
  return undefined;
}
