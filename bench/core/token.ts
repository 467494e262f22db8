// Routing-token micro-benchmarks: µs per open (the relay's per-first-packet cost), per
// derivePassword (also per first packet), per mint (per call setup), and per rejection of a
// forged token (what a flood of junk STUN costs the relay).
import type { BenchRow } from '../bench-row.ts';
import { microsPerCall } from '../bench-row.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, derivePassword, mint, open } from '../../src/core/token/index.ts';

export async function run(): Promise<BenchRow[]> {
  const rng = seededRng('bench');
  const keyring = new Keyring([1, 2, 3].map((id) => ({ id, secret: rng.bytes(32) })));
  const now = 1_700_000_000_000;
  const v4 = { address: '10.20.30.40', port: 40000, family: 'IPv4' } as const;
  const v6 = { address: '2001:db8::1234', port: 40000, family: 'IPv6' } as const;
  const t4 = mint(v4, keyring, now, rng).ufrag;
  const t6 = mint(v6, keyring, now, rng).ufrag;
  const forged = Buffer.from(t4, 'base64');
  forged[30] ^= 1;
  const forgedText = forged.toString('base64');
  let sink = 0;
  const rows: BenchRow[] = [
    {
      name: 'token open (IPv4)',
      value: microsPerCall(() => {
        if (open(t4, keyring, now).ok) sink++;
      }),
      unit: 'µs/call',
      note: 'relay, first packet',
    },
    {
      name: 'token open (IPv6)',
      value: microsPerCall(() => {
        if (open(t6, keyring, now).ok) sink++;
      }),
      unit: 'µs/call',
    },
    {
      name: 'token open (forged, bad_tag)',
      value: microsPerCall(() => {
        if (!open(forgedText, keyring, now).ok) sink++;
      }),
      unit: 'µs/call',
      note: 'junk flood cost',
    },
    {
      name: 'token open (malformed)',
      value: microsPerCall(() => {
        if (!open('!!!!', keyring, now).ok) sink++;
      }),
      unit: 'µs/call',
    },
    {
      name: 'token derivePassword',
      value: microsPerCall(() => {
        sink += derivePassword(t4, keyring)?.length ?? 0;
      }),
      unit: 'µs/call',
      note: 'relay, after open',
    },
    {
      name: 'token mint',
      value: microsPerCall(() => {
        sink += mint(v4, keyring, now, rng).ufrag.length;
      }),
      unit: 'µs/call',
      note: 'seeded rng',
    },
  ];
  if (sink === 0) throw new Error('benchmark optimised away');
  return rows;
}
