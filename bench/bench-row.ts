// One line of a benchmark table.
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns µs per call. */
export function microsPerCall(fn: () => unknown, ms = 1000): number {
  const warmEnd = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}
