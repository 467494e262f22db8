// Ephemeral ECDH for the handshake (RFC 8422 §5.10, RFC 7748 §6.1) on X25519, P-256 or P-384,
// with the private scalar taken from the injected Rng so seeded runs repeat. Peer points are
// validated: a NIST point must be uncompressed and on the curve (node rejects off-curve ones);
// X25519 must be 32 bytes and must not yield the all-zero secret (RFC 8422 §5.11, RFC 7748 §6.1).
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

/** The NIST curves: node's name, the group order n (SEC 2 §2.4.2, §2.5.1) and the point size. */
const NIST = {
  [NamedGroup.secp256r1]: {
    curve: 'prime256v1',
    name: 'P-256',
    order: Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex'),
  },
  [NamedGroup.secp384r1]: {
    curve: 'secp384r1',
    name: 'P-384',
    order: Buffer.from('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973', 'hex'),
  },
} as const;

/** A private scalar of a NIST curve from the Rng, by rejection sampling into [1, n-1]. */
function nistScalar(rng: Rng, order: Buffer): Buffer {
  for (;;) {
    const d = rng.bytes(order.length);
    if (!d.every((b) => b === 0) && Buffer.compare(d, order) < 0) return d;
  }
}

/** A P-256 private scalar from the Rng. */
export function p256Scalar(rng: Rng): Buffer {
  return nistScalar(rng, NIST[NamedGroup.secp256r1].order);
}

/**
 * X25519 (RFC 7748 §6.1) as a handshake uses it: a key from a 32-byte scalar (the caller's Rng)
 * with its public value, and the shared secret with a peer's 32-byte value — undefined when the
 * implementation rejects it. The endpoint takes one (DtlsOptions.x25519): node:crypto's below by
 * default, the transceiver's native one (src/transceiver/media/dtls-crypto-native.ts) where the
 * addon is built. Lengths and the all-zero secret are checked here, for both.
 */
export interface X25519 {
  keyPair(scalar: Buffer): { readonly publicKey: Buffer; agree(peerPublic: Buffer): Buffer | undefined };
}

/**
 * X25519 through node:crypto's raw key formats: node's DER and JWK imports run OpenSSL's generic
 * decoders, which cost as much again as the X25519 scalar multiplications themselves.
 */
export const nodeX25519: X25519 = {
  keyPair(scalar) {
    const privateKey = createPrivateKey({ key: scalar, format: 'raw-private', asymmetricKeyType: 'x25519' });
    return {
      publicKey: createPublicKey(privateKey).export({ format: 'raw-public' }),
      agree(peer) {
        try {
          const publicKey = createPublicKey({ key: peer, format: 'raw-public', asymmetricKeyType: 'x25519' });
          return diffieHellman({ privateKey, publicKey });
        } catch {
          return undefined;
        }
      },
    };
  },
};

export function generateEphemeral(group: NamedGroup, rng: Rng, x25519: X25519 = nodeX25519): EphemeralKey {
  if (group === NamedGroup.x25519) {
    const pair = x25519.keyPair(rng.bytes(32));
    return {
      group,
      publicKey: pair.publicKey,
      agree(peer: Buffer): Buffer {
        if (peer.length !== 32) throw fail.illegal('X25519 public key is not 32 bytes');
        const secret = pair.agree(peer);
        if (secret === undefined) throw fail.illegal('X25519 public key rejected');
        if (secret.every((b) => b === 0)) throw fail.illegal('X25519 shared secret is zero');
        return secret;
      },
    };
  }
  const c = NIST[group];
  const ecdh = createECDH(c.curve);
  ecdh.setPrivateKey(nistScalar(rng, c.order));
  const pointLength = 1 + 2 * c.order.length;
  return {
    group,
    publicKey: ecdh.getPublicKey(),
    agree(peer: Buffer): Buffer {
      // RFC 8422 §5.1.2: only the uncompressed point format is allowed.
      if (peer.length !== pointLength || peer[0] !== 0x04) throw fail.illegal(`${c.name} public key is not an uncompressed point`);
      try {
        return ecdh.computeSecret(peer);
      } catch {
        throw fail.illegal(`${c.name} public key is not on the curve`);
      }
    },
  };
}
