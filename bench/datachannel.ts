// `npm run bench:datachannel [seconds-per-case]`: messages/s and MB/s through one data channel
// between two DataChannels managers in this process — loopback: each side's SCTP packets go
// straight into the other side, with NO DTLS and no network. DTLS (and a Pion comparison) come
// with the peer integration; this measures the SCTP + DCEP core alone. Runs much shorter than
// the default 2 s per case are dominated by JIT warm-up.
import { DataChannels } from '../src/core/datachannel/index.ts';
import type { DataChannelEvent } from '../src/core/datachannel/index.ts';
import { seededRng } from '../src/core/rng.ts';
import { SctpBudget } from '../src/core/sctp/index.ts';
import { pumpLoopback } from './core/sctp.ts';

const seconds = Number(process.argv[2] ?? 2);

interface Case {
  size: number;
  ordered: boolean;
  binary: boolean;
}

function measure(c: Case, ms: number): { msgs: number; mb: number } {
  const budget = new SctpBudget(1 << 30);
  const o = { budget, maxSendBufferBytes: 4 << 20, maxReassemblyBytes: 4 << 20 };
  const a = new DataChannels({ role: 'client', rng: seededRng('dc-a'), ...o });
  const b = new DataChannels({ role: 'server', rng: seededRng('dc-b'), ...o });
  let opened = false;
  a.connect(performance.now());
  const id = a.open({ label: 'bench', ordered: c.ordered }, performance.now());
  pumpLoopback<DataChannelEvent>(
    a,
    b,
    (s, e) => void (s === 'b' && e.type === 'channel_open' && (opened = true)),
    () => opened,
  );
  a.setBufferedAmountLowThreshold(id, 1 << 20);
  const payload: string | Buffer = c.binary ? Buffer.alloc(c.size, 0x62) : 'b'.repeat(c.size);
  let received = 0;
  let bytes = 0;
  let stop = false;
  const fill = (): void => {
    const now = performance.now();
    while (!stop && a.send(id, payload, now));
  };
  const start = performance.now();
  fill();
  pumpLoopback<DataChannelEvent>(
    a,
    b,
    (side, e) => {
      if (side === 'b' && e.type === 'message') {
        received++;
        bytes += c.size;
      } else if (side === 'a' && e.type === 'buffered_low') fill();
    },
    () => {
      if (performance.now() - start >= ms) stop = true;
      return stop;
    },
  );
  const secs = (performance.now() - start) / 1000;
  return { msgs: received / secs, mb: bytes / secs / 1e6 };
}

const cases: Case[] = [
  { size: 64, ordered: true, binary: false },
  { size: 1024, ordered: true, binary: true },
  { size: 1024, ordered: false, binary: true },
  { size: 16 * 1024, ordered: true, binary: true },
  { size: 64 * 1024, ordered: true, binary: true },
  { size: 256 * 1024, ordered: true, binary: true },
];
console.log(`data channel loopback (no DTLS), ${seconds} s per case`);
console.log('size      ordered  type     msg/s        MB/s');
for (const c of cases) {
  const r = measure(c, seconds * 1000);
  console.log(
    `${String(c.size).padEnd(9)} ${String(c.ordered).padEnd(8)} ${(c.binary ? 'binary' : 'text').padEnd(8)} ${r.msgs.toFixed(0).padStart(10)}  ${r.mb.toFixed(1).padStart(8)}`,
  );
}
