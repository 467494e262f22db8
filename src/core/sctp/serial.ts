// Serial number arithmetic (RFC 1982, as RFC 9260 §1.6 requires for TSNs and SSNs): a TSN is
// "less than" another when it is behind it by less than half the number space, so comparisons
// keep working across the 2^32 (TSN) and 2^16 (SSN) wrap.

/** a < b for 32-bit TSNs. */
export function tsnLt(a: number, b: number): boolean {
  return a !== b && (b - a) >>> 0 < 0x80000000;
}

/** a <= b for 32-bit TSNs. */
export function tsnLte(a: number, b: number): boolean {
  return a === b || tsnLt(a, b);
}

/** a + n, wrapped to 32 bits. */
export function tsnAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** b - a as a (possibly negative) distance, for TSNs within half the space of each other. */
export function tsnDiff(a: number, b: number): number {
  return (b - a) | 0;
}

/** a < b for 16-bit SSNs. */
export function ssnLt(a: number, b: number): boolean {
  return a !== b && ((b - a) & 0xffff) < 0x8000;
}
