// The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message of this
// handshake as if sent unfragmented (12-byte DTLS header with fragment_offset 0), excluding
// HelloRequest, the first ClientHello and HelloVerifyRequest when a cookie exchange happened
// (RFC 6347 §4.2.1). Used for the extended-master-secret session hash, CertificateVerify and
// Finished, and signing and verification helpers that go with it.
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AlertDescription, DtlsCode, DtlsError } from './errors.ts';
import { encodeMessage } from './handshake.ts';
import { ECDSA_SECP256R1_SHA256 } from './extensions.ts';
import type { Signed } from './handshake.ts';
import { sha256 } from './prf.ts';

export class Transcript {
  #messages: Buffer[] = [];

  reset(): void {
    this.#messages = [];
  }

  add(msgType: number, seq: number, body: Buffer): void {
    this.#messages.push(encodeMessage(msgType, seq, body));
  }

  bytes(): Buffer {
    return Buffer.concat(this.#messages);
  }

  hash(): Buffer {
    return sha256(this.bytes());
  }
}

/** An ecdsa_secp256r1_sha256 digitally-signed struct over `data`. */
export function signEcdsa(key: KeyObject, data: Buffer): Signed {
  return { algorithm: ECDSA_SECP256R1_SHA256, signature: sign('sha256', data, { key, dsaEncoding: 'der' }) };
}

/** Throws ERR_DTLS_BAD_SIGNATURE (decrypt_error alert, RFC 5246 §7.2.2) unless `s` verifies. */
export function verifyEcdsa(key: KeyObject, data: Buffer, s: Signed, what: string): void {
  if (s.algorithm !== ECDSA_SECP256R1_SHA256) {
    throw new DtlsError(
      DtlsCode.illegalParameter,
      `${what} uses signature algorithm ${s.algorithm}, not ecdsa_secp256r1_sha256`,
      AlertDescription.illegalParameter,
    );
  }
  let ok: boolean;
  try {
    ok = verify('sha256', data, { key, dsaEncoding: 'der' }, s.signature);
  } catch {
    ok = false; // a malformed DER signature is just a bad signature
  }
  if (!ok) throw new DtlsError(DtlsCode.badSignature, `${what} signature does not verify`, AlertDescription.decryptError);
}
