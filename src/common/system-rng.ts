// The production Rng: the operating system's CSPRNG through node:crypto.
import { randomBytes } from 'node:crypto';
import type { Rng } from '../core/rng.ts';

export const systemRng: Rng = {
  bytes: (n: number): Buffer => randomBytes(n),
};
