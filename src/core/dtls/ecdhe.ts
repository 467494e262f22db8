// Ephemeral ECDH for the handshake (RFC 8422 §5.10, RFC 7748 §6.1) on X25519 or P-256, with the
// private scalar taken from the injected Rng so seeded runs repeat. Peer points are validated:
// P-256 must be an uncompressed on-curve point (node rejects off-curve ones); X25519 must be 32
// bytes and must not yield the all-zero secret (RFC 8422 §5.11, RFC 7748 §6.1).
import { createECDH, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import type { Rng } from '../rng.ts';
import { fail } from './errors.ts';
import { NamedGroup } from './extensions.ts';

export interface EphemeralKey {
  group: NamedGroup;
  /** Our public value as sent on the wire. */
  publicKey: Buffer;
  /** The premaster secret shared with `peerPublic`; throws illegal_parameter on a bad point. */
  agree(peerPublic: Buffer): Buffer;
}

// PKCS#8 prefix for a raw X25519 private key (RFC 8410 §7).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** The P-256 group order n (SEC 2 §2.4.2): a private scalar must lie in [1, n-1]. */
const P256_ORDER = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

/** A P-256 private scalar from the Rng, by rejection sampling into [1, n-1]. */
export function p256Scalar(rng: Rng): Buffer {
  for (;;) {
    const d = rng.bytes(32);
    if (!d.every((b) => b === 0) && Buffer.compare(d, P256_ORDER) < 0) return d;
  }
}

export function generateEphemeral(group: NamedGroup, rng: Rng): EphemeralKey {
  if (group === NamedGroup.x25519) {
    const d = rng.bytes(32);
    const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, d]), format: 'der', type: 'pkcs8' });
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicKey = Buffer.from(jwk.x as string, 'base64url');
    return {
      group,
      publicKey,
      agree(peer: Buffer): Buffer {
        if (peer.length !== 32) throw fail.illegal('X25519 public key is not 32 bytes');
        let secret: Buffer;
        try {
          const peerKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peer.toString('base64url') }, format: 'jwk' });
          secret = diffieHellman({ privateKey, publicKey: peerKey });
        } catch {
          throw fail.illegal('X25519 public key rejected');
        }
        if (secret.every((b) => b === 0)) throw fail.illegal('X25519 shared secret is zero');
        return secret;
      },
    };
  }
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(p256Scalar(rng));
  return {
    group,
    publicKey: ecdh.getPublicKey(),
    agree(peer: Buffer): Buffer {
      // RFC 8422 §5.1.2: only the uncompressed point format is allowed.
      if (peer.length !== 65 || peer[0] !== 0x04) throw fail.illegal('P-256 public key is not an uncompressed point');
      try {
        return ecdh.computeSecret(peer);
      } catch {
        throw fail.illegal('P-256 public key is not on the curve');
      }
    },
  };
}
