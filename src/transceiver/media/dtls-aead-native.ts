// The native AEAD for DTLS 1.2 application data records: AES-128-GCM from native/src/srtp_native.c
// (aeadCreate/aeadSeal/aeadOpen), one OpenSSL context per key and operation keyed once, where
// node:crypto needs a fresh Cipheriv per record. Injected into the record layer
// (src/core/dtls/record.ts RecordAeadFactory) as the SRTP transform is; any other algorithm
// (ChaCha20-Poly1305, AES-256-GCM) stays with node:crypto. The key lives in native memory owned
// by a napi external, freed when this object is collected.
// Not here: nonce and additional data (the record layer builds them), addon loading (./srtp-native.ts).
import type { RecordAead, RecordAeadFactory } from '../../core/dtls/index.ts';
import type { SrtpAddon } from './srtp-native.ts';

const TAG = 16;

export class NativeAesGcmRecordAead implements RecordAead {
  readonly #addon: SrtpAddon;
  readonly #ctx: object;

  constructor(addon: SrtpAddon, key: Buffer) {
    this.#addon = addon;
    this.#ctx = addon.aeadCreate(key);
  }

  seal(nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer, offset: number): boolean {
    return this.#addon.aeadSeal(this.#ctx, nonce, aad, plaintext, out, offset) !== undefined;
  }

  open(nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
    if (sealed.length < TAG) return undefined;
    // A slice of Node's buffer pool below 4 KB (an SCTP packet): no backing store per record.
    const out = Buffer.allocUnsafe(sealed.length - TAG);
    return this.#addon.aeadOpen(this.#ctx, nonce, aad, sealed, out, 0) === undefined ? undefined : out;
  }
}

/** DtlsOptions.recordAead for the addon: AES-128-GCM natively, node:crypto for any other suite. */
export function nativeRecordAeadFactory(addon: SrtpAddon): RecordAeadFactory {
  return (algorithm, key) => (algorithm === 'aes-128-gcm' && key.length === 16 ? new NativeAesGcmRecordAead(addon, key) : undefined);
}
