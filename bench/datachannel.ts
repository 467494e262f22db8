// `npm run bench:datachannel [seconds-per-case] [loopback|dtls|all]`: messages/s and MB/s through
// one data channel.
// - loopback: two DataChannels managers in this process, each side's SCTP packets going straight
//   into the other — NO DTLS and no network: the SCTP + DCEP core alone.
// - dtls: two real Parley peers over UDP on 127.0.0.1 with ICE, DTLS and SCTP
//   (bench/datachannel-dtls.ts), beside two Pion peers doing the same in one Go process
//   (bench/pion-dc, built offline from Debian's sources by test/e2e/go-build.ts), case by case in
//   the same run. Parley is measured twice: each peer in its own process (as a transceiver and
//   its client are; Pion's one Go process spreads its peers over both vCPUs) and both in this
//   one process; prints all, the ratios Parley/Pion, and the CPU time both peers used in the
//   window (summed over processes), so MB per CPU-second compares per core; and once more in two
//   processes with loss-based congestion control only (delay-based control off,
//   src/core/sctp/delay-control.ts), to show what backing off on queueing delay costs on a path
//   with no bottleneck but the two processes.
// Runs much shorter than the default 2 s per case are dominated by JIT warm-up.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DataChannels } from '../src/core/datachannel/index.ts';
import type { DataChannelEvent } from '../src/core/datachannel/index.ts';
import { seededRng } from '../src/core/rng.ts';
import { SctpBudget } from '../src/core/sctp/index.ts';
import { DEFAULT_MAX_BYTES_PER_SLOT } from '../src/core/peer/index.ts';
import { pumpLoopback } from './core/sctp.ts';
import { measureDtls } from './datachannel-dtls.ts';
import type { DtlsCase } from './datachannel-dtls.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';

const seconds = Number(process.argv[2] ?? 2);
const mode = process.argv[3] ?? 'all';
if (!(seconds > 0 && seconds <= 600)) throw new Error(`seconds per case must be in (0, 600], got ${process.argv[2]}`);
if (!['loopback', 'dtls', 'all'].includes(mode)) throw new Error(`mode must be loopback, dtls or all, got ${mode}`);

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
if (mode !== 'dtls') {
  console.log(`data channel loopback (no DTLS), ${seconds} s per case`);
  console.log('size      ordered  type     msg/s        MB/s');
  for (const c of cases) {
    const r = measure(c, seconds * 1000);
    console.log(
      `${String(c.size).padEnd(9)} ${String(c.ordered).padEnd(8)} ${(c.binary ? 'binary' : 'text').padEnd(8)} ${r.msgs.toFixed(0).padStart(10)}  ${r.mb.toFixed(1).padStart(8)}`,
    );
  }
}

/** One case of the Pion reference: a fresh pion-dc process, two peers, one size. */
function measurePion(binary: string, size: number, ms: number): Promise<DtlsCase> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-sizes', String(size), '-seconds', String(ms / 1000)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms + 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`pion-dc ${size}: exit ${code}: ${out}`));
      resolve(JSON.parse(line) as DtlsCase);
    });
  });
}

if (mode !== 'loopback') {
  const pion = await buildGoProgram(fileURLToPath(new URL('./pion-dc/', import.meta.url)), 300_000);
  const fmt = (r: DtlsCase): string => {
    const mbs = r.bytes / r.seconds / 1e6;
    return `${(r.messages / r.seconds).toFixed(0).padStart(7)} ${mbs.toFixed(2).padStart(7)} ${((r.cpuMs / 10 / r.seconds).toFixed(0) + '%').padStart(5)} ${(r.bytes / 1e6 / (r.cpuMs / 1000)).toFixed(1).padStart(7)}`;
  };
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a').padStart(7);
  const perCpu = (r: DtlsCase): number => r.bytes / r.cpuMs;
  console.log(
    `\ndata channel over DTLS + SCTP, two peers on 127.0.0.1 UDP, ordered binary, ${seconds} s per case (Pion: ${pion.goVersion})`,
  );
  console.log('         |                      Parley (Node)                     |        Pion (Go, webrtc v3)      | Parley/Pion');
  console.log('size     | layout        msg/s    MB/s   CPU  MB/CPU-s  pkt/w |   msg/s    MB/s   CPU  MB/CPU-s  |    MB/s  MB/CPU-s');
  let receiverIo: string | undefined;
  const cuts: string[] = [];
  for (const size of [1024, 16 * 1024, 64 * 1024]) {
    // Interleaved with Pion's case, so a change of load shows in both columns.
    const two = await measureDtls(size, seconds * 1000, 'two-processes');
    const g = await measurePion(pion.path, size, seconds * 1000);
    const one = await measureDtls(size, seconds * 1000, 'one-process');
    const lossOnly = await measureDtls(size, seconds * 1000, 'two-processes', { delayControl: false });
    const row = (layout: string, p: DtlsCase): string =>
      `${String(size).padEnd(8)} | ${layout.padEnd(12)} ${fmt(p)} ${(p.receiverDatagramsPerWakeUp ?? 0).toFixed(1).padStart(5)} | ${fmt(g)}   | ${ratio(p.bytes / p.seconds, g.bytes / g.seconds)} ${ratio(perCpu(p), perCpu(g))}`;
    receiverIo = two.receiverIo;
    console.log(row('2 proc', two));
    console.log(row('1 proc', one));
    console.log(row('2 proc loss', lossOnly));
    cuts.push(`${size}: ${two.senderDelayCuts ?? 0} / ${one.senderDelayCuts ?? 0}`);
  }
  console.log(
    `receiver: the transceiver's media socket (--media-io ${receiverIo}); sender: dgram, as parley call\n` +
      'layout: 2 proc = each Parley peer in its own process (as transceiver and client are; Pion spreads its one process over both vCPUs), 1 proc = both in one;\n' +
      `  pacer cap ${DEFAULT_MAX_BYTES_PER_SLOT / 1024} KiB per 20 ms slot; loss = delay-based control off (loss-based congestion control only)\n` +
      `delay cuts (the sender's, 2 proc / 1 proc): ${cuts.join(', ')}\n` +
      'CPU: both peers during the window (summed over processes), as a share of one core; MB/CPU-s = MB received per CPU-second;\npkt/w = datagrams the receiver took per receive callback (a wake-up of its JS thread: one native batch)',
  );
}
