// The DTLS 1.2 cipher suites we offer and accept, as data: ECDHE key exchange authenticated by an
// ECDSA or RSA certificate (RFC 8422 §6, RFC 5289 §3.2), with AES-GCM (RFC 5288) or
// ChaCha20-Poly1305 (RFC 7905) record protection and the PRF hash each suite names. The array
// order is our preference (a server picks by it): AES-128-GCM first (AES-NI makes it the
// cheapest, and every WebRTC stack has it), then ChaCha20-Poly1305 (fast without AES-NI), then
// AES-256-GCM. Not here: CBC or non-AEAD suites, static RSA or DHE key exchange (no forward
// secrecy, or too slow), PSK.

export type PrfHash = 'sha256' | 'sha384';
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
/** What kind of certificate key authenticates the key exchange (RFC 8422 §2). */
export type AuthKind = 'ecdsa' | 'rsa';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly auth: AuthKind;
  readonly aead: AeadAlgorithm;
  readonly keyLength: 16 | 32;
  /** Implicit IV from the key block: 4-byte GCM salt (RFC 5288 §3) or 12-byte ChaCha IV (RFC 7905 §2). */
  readonly fixedIvLength: 4 | 12;
  /** Nonce bytes carried in each record: 8 for GCM, none for ChaCha20-Poly1305 (RFC 7905 §2). */
  readonly explicitNonceLength: 0 | 8;
  readonly prfHash: PrfHash;
}

const gcm128 = { aead: 'aes-128-gcm', keyLength: 16, fixedIvLength: 4, explicitNonceLength: 8, prfHash: 'sha256' } as const;
const gcm256 = { aead: 'aes-256-gcm', keyLength: 32, fixedIvLength: 4, explicitNonceLength: 8, prfHash: 'sha384' } as const;
const chacha = { aead: 'chacha20-poly1305', keyLength: 32, fixedIvLength: 12, explicitNonceLength: 0, prfHash: 'sha256' } as const;

export const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b;
export const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f;
export const TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c;
export const TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030;
export const TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8;
export const TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9;

/** Every suite we speak, in our preference order. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  { id: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', auth: 'ecdsa', ...gcm128 },
  { id: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', auth: 'rsa', ...gcm128 },
  { id: TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', auth: 'ecdsa', ...chacha },
  { id: TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', auth: 'rsa', ...chacha },
  { id: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', auth: 'ecdsa', ...gcm256 },
  { id: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', auth: 'rsa', ...gcm256 },
];

/** The largest per-record AEAD overhead of any suite (GCM: 8-byte explicit nonce + 16-byte tag). */
export const MAX_AEAD_OVERHEAD = 24;
