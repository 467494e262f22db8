// `npm run bench:core`: micro-benchmarks of the sans-IO core. Each file in bench/core/ exports
// `run(): Promise<BenchRow[]>`; this runner loads them all and prints one table.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './bench-row.ts';

const dir = fileURLToPath(new URL('./core/', import.meta.url));
const only = process.argv[2];
const rows: BenchRow[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  if (only && !file.includes(only)) continue;
  const mod = (await import(new URL(`./core/${file}`, import.meta.url).href)) as { run: () => Promise<BenchRow[]> };
  rows.push(...(await mod.run()));
}
const w = Math.max(...rows.map((r) => r.name.length), 4);
console.log(`${'case'.padEnd(w)}  ${'value'.padStart(12)}  unit        note`);
for (const r of rows) {
  const v = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(3);
  console.log(`${r.name.padEnd(w)}  ${v.padStart(12)}  ${r.unit.padEnd(10)}  ${r.note ?? ''}`);
}
