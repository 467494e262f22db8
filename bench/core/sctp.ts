// SCTP micro-benchmarks: CRC32c (slice-by-8 in TypeScript) over 1200-byte packets and 64 KiB,
// packet encode/decode (one DATA chunk with its CRC; a SACK with gap blocks), and messages/s + MB/s through one association pair in memory (loopback: packets go straight
// from one association to the other, no DTLS, no network). Also exports the loopback pump that
// bench/datachannel.ts drives.
import type { BenchRow } from '../bench-row.ts';
import { microsPerCall } from '../bench-row.ts';
import { crc32c } from '../../src/core/sctp/crc32c.ts';
import { decodeData, decodeSack, encodeSack } from '../../src/core/sctp/chunks.ts';
import type { SackChunk } from '../../src/core/sctp/chunks.ts';
import { ChunkType, PacketBuilder, parsePacket, singleChunkPacket } from '../../src/core/sctp/packet.ts';
import { SctpAssociation, SctpBudget } from '../../src/core/sctp/index.ts';
import type { SendOptions } from '../../src/core/sctp/index.ts';
import { seededRng } from '../../src/core/rng.ts';

/** What the loopback pump drives: any sans-IO SCTP machine (an association or DataChannels). */
export interface LoopMachine<E> {
  handle(packet: Buffer, now: number): void;
  handleTimeout(now: number): void;
  pollTransmit(): Buffer | undefined;
  pollEvent(): E | undefined;
  pollTimeout(): number | undefined;
}

/**
 * Moves packets between a and b until both are quiet, handing every event to onEvent (which may
 * send more); runs due timers. Returns when `done()` holds.
 */
export function pumpLoopback<E>(a: LoopMachine<E>, b: LoopMachine<E>, onEvent: (side: 'a' | 'b', e: E) => void, done: () => boolean): void {
  while (!done()) {
    let moved = 0;
    const now = performance.now();
    for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit(), moved++) b.handle(t, now);
    for (let e = a.pollEvent(); e !== undefined; e = a.pollEvent()) onEvent('a', e);
    for (let t = b.pollTransmit(); t !== undefined; t = b.pollTransmit(), moved++) a.handle(t, now);
    for (let e = b.pollEvent(); e !== undefined; e = b.pollEvent()) onEvent('b', e);
    if (moved === 0) {
      for (const m of [a, b]) {
        const at = m.pollTimeout();
        if (at !== undefined && at <= performance.now()) m.handleTimeout(performance.now());
      }
    }
  }
}

export interface Throughput {
  messagesPerSec: number;
  mbPerSec: number;
}

/** Sends messages of `size` bytes from a to b for about `ms` and measures what b received. */
export function associationThroughput(size: number, ms: number, opts: SendOptions = {}): Throughput {
  const budget = new SctpBudget(1 << 30);
  const o = { budget, maxSendBufferBytes: 4 << 20, maxReassemblyBytes: 4 << 20 };
  const a = new SctpAssociation({ rng: seededRng('bench-a'), ...o });
  const b = new SctpAssociation({ rng: seededRng('bench-b'), ...o });
  const payload = Buffer.alloc(size, 0x61);
  let connected = 0;
  a.connect(performance.now());
  pumpLoopback(
    a,
    b,
    (_s, e) => void (e.type === 'connected' && connected++),
    () => connected === 2,
  );
  let received = 0;
  let bytes = 0;
  let stop = false;
  const fill = (): void => {
    const now = performance.now();
    while (!stop && a.send(1, 53, payload, opts, now));
  };
  const start = performance.now();
  fill();
  pumpLoopback(
    a,
    b,
    (side, e) => {
      if (side === 'b' && e.type === 'message') {
        received++;
        bytes += e.data.length;
      } else if (side === 'a' && e.type === 'send_buffer_low') fill();
    },
    () => {
      if (performance.now() - start >= ms) stop = true;
      return stop;
    },
  );
  const secs = (performance.now() - start) / 1000;
  return { messagesPerSec: received / secs, mbPerSec: bytes / secs / 1e6 };
}

export async function run(): Promise<BenchRow[]> {
  const packet = Buffer.alloc(1200, 0x5a);
  const big = Buffer.alloc(64 * 1024, 0x5a);
  const crcPacketUs = microsPerCall(() => crc32c(packet));
  const crcBigUs = microsPerCall(() => crc32c(big));
  const rows: BenchRow[] = [
    { name: 'sctp crc32c (slice-by-16)', value: 1200 / crcPacketUs, unit: 'MB/s', note: '1200-byte packet' },
    { name: 'sctp crc32c (slice-by-16)', value: big.length / crcBigUs, unit: 'MB/s', note: '64 KiB' },
  ];
  // One DATA chunk of 1100 bytes (what fills a packet under the 1200-byte MTU) and a SACK with
  // four gap blocks and two duplicates (what a loss burst looks like), each through the packet
  // layer: build + CRC32c, then CRC check + parse + chunk decode.
  const builder = new PacketBuilder(1200);
  const payload = Buffer.alloc(1100, 0x5a);
  let tsn = 1;
  const dataPacket = (): Buffer => {
    builder.addData(0x03, tsn++, 1, 0, 53, payload);
    return builder.finish(5000, 5000, 0x12345678)!;
  };
  const sack: SackChunk = {
    cumTsn: 1000,
    aRwnd: 1 << 20,
    gaps: [
      [2, 3],
      [5, 9],
      [11, 11],
      [20, 31],
    ],
    duplicates: [990, 995],
  };
  const sackPacket = (): Buffer => singleChunkPacket(1200, 5000, 5000, 0x12345678, ChunkType.sack, 0, encodeSack(sack));
  const decode = <T>(packet: Buffer, chunk: (flags: number, v: Buffer) => T | undefined): T => {
    const p = parsePacket(packet);
    const c = typeof p === 'string' ? undefined : chunk(p.chunks[0].flags, p.chunks[0].value);
    if (c === undefined) throw new Error('bench packet did not decode');
    return c;
  };
  const data = dataPacket();
  const sackBytes = sackPacket();
  rows.push(
    { name: 'sctp DATA packet encode', value: microsPerCall(dataPacket), unit: 'µs', note: '1100-byte payload, CRC32c included' },
    {
      name: 'sctp DATA packet decode',
      value: microsPerCall(() => decode(data, decodeData)),
      unit: 'µs',
      note: 'CRC32c check + parse + DATA',
    },
    { name: 'sctp SACK packet encode', value: microsPerCall(sackPacket), unit: 'µs', note: '4 gap blocks, 2 duplicate TSNs' },
    {
      name: 'sctp SACK packet decode',
      value: microsPerCall(() => decode(sackBytes, (_f, v) => decodeSack(v))),
      unit: 'µs',
      note: 'CRC32c check + parse + SACK',
    },
  );
  for (const size of [64, 1024, 16 * 1024]) {
    const t = associationThroughput(size, 1500);
    const note = `${size}-byte messages, ordered, one association pair in memory`;
    rows.push({ name: 'sctp association messages', value: t.messagesPerSec, unit: 'msg/s', note });
    rows.push({ name: 'sctp association throughput', value: t.mbPerSec, unit: 'MB/s', note });
  }
  return rows;
}
