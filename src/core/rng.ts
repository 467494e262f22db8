// Randomness for the sans-IO core. The core never calls crypto.randomBytes or Math.random
// itself (STYLE.md rule 1): whoever drives a protocol object hands it an Rng. Processes pass
// `systemRng` (src/common/system-rng.ts); tests pass `seededRng(seed)` so runs repeat exactly.
import { createHash } from 'node:crypto';

export interface Rng {
  /** Returns `n` fresh random bytes. */
  bytes(n: number): Buffer;
}

/**
 * A deterministic generator for tests and simulations: SHA-256 in counter mode over the seed.
 * Not for production keys.
 */
export function seededRng(seed: number | string): Rng {
  const key = Buffer.from(String(seed));
  let counter = 0;
  let pool = Buffer.alloc(0);
  return {
    bytes(n: number): Buffer {
      while (pool.length < n) {
        const block = createHash('sha256').update(key).update(String(counter++)).digest();
        pool = Buffer.concat([pool, block]);
      }
      const out = Buffer.from(pool.subarray(0, n));
      pool = pool.subarray(n);
      return out;
    },
  };
}
