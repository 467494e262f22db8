// The production Rng: the operating system's CSPRNG through node:crypto, drawn 4 KiB at a time.
// A randomBytes call per request cost ~6 µs each (a fresh ArrayBuffer and a trip into OpenSSL)
// for the 32-byte randoms, scalars and secrets of a DTLS handshake; a slice of a pool costs a
// copy (node's randomUUID pools the same way). Bytes handed out are zeroed in the pool, so a
// later leak of the pool does not reveal them; larger requests bypass it.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Rng } from '../core/rng.ts';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let used = POOL_BYTES;

export const systemRng: Rng = {
  bytes(n: number): Buffer {
    if (n > POOL_BYTES / 8) return randomBytes(n);
    if (used + n > POOL_BYTES) {
      randomFillSync(pool);
      used = 0;
    }
    const out = Buffer.allocUnsafe(n);
    pool.copy(out, 0, used, used + n);
    pool.fill(0, used, used + n);
    used += n;
    return out;
  },
};
