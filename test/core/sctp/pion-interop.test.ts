// Interop with an independent SCTP and DCEP stack: Pion's pion/sctp + pion/datachannel (Debian's
// sources, test/core/sctp/pion-peer/main.go) against our DataChannels over plain UDP on
// 127.0.0.1 — no DTLS, so what is checked is SCTP itself: CRC32c, INIT parameters, the cookie,
// DATA/SACK, fragmentation, DCEP in both directions, and close by stream reset. Both SCTP roles
// (Pion sends INIT, or we do). Our side runs in a small real-time shell (one dgram socket, one
// timer at the machine's deadline). In CI (CI=true) missing Go or Pion fails; elsewhere it is
// skipped with the reason, as the other Pion tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DataChannels } from '../../../src/core/datachannel/index.ts';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import { drain } from '../../../src/core/output.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { SctpBudget } from '../../../src/core/sctp/index.ts';
import { APT_PACKAGES, buildGoProgram, findGoToolchain } from '../../e2e/go-build.ts';
import { waitFor } from '../../support/wait-for.ts';

const inCi = process.env.CI === 'true';
const toolchain = await findGoToolchain();
if (!toolchain.ok && inCi) throw new Error(`CI=true and ${toolchain.reason}: the Pion SCTP interop test must run in CI (${APT_PACKAGES})`);
const skip = toolchain.ok ? false : `${toolchain.reason} (apt-get install ${APT_PACKAGES})`;
const PEER_DIR = fileURLToPath(new URL('./pion-peer/', import.meta.url));

/** DataChannels on a UDP socket with one timer: the shape the peer integration will have over DTLS. */
class UdpShell {
  readonly dc: DataChannels;
  readonly events: DataChannelEvent[] = [];
  readonly socket: Socket;
  peerPort = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #send = (p: Buffer): void => this.socket.send(p, this.peerPort, '127.0.0.1');
  readonly #event = (e: DataChannelEvent): void => void this.events.push(e);

  constructor(role: 'client' | 'server') {
    this.dc = new DataChannels({ role, rng: seededRng(`interop-${role}`), budget: new SctpBudget(64 << 20), maxSendBufferBytes: 4 << 20 });
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, rinfo) => {
      this.peerPort = rinfo.port; // answer whoever spoke last, as a DTLS shell does
      this.dc.handle(msg, performance.now());
      this.pump();
    });
  }

  async bind(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  act<T>(fn: (dc: DataChannels, now: number) => T): T {
    const out = fn(this.dc, performance.now());
    this.pump();
    return out;
  }

  pump(): void {
    const at = drain(this.dc, this.#send, this.#event);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (at !== undefined) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.dc.handleTimeout(performance.now());
          this.pump();
        },
        Math.max(0, at - performance.now()),
      );
    }
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.socket.close();
  }
}

async function startPion(role: 'client' | 'server', ourPort: number): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const { path } = await buildGoProgram(PEER_DIR, 300_000);
  const child = spawn(path, ['-role', role, '-peer', `127.0.0.1:${ourPort}`, '-seconds', '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.resume();
  const portLine = await waitFor(() => lines.find((l) => l.startsWith('port ')), 10_000, 'the Pion peer printing its port');
  return { child, port: Number(portLine.slice(5)), lines };
}

async function stopPion(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.end();
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

type Msg = Extract<DataChannelEvent, { type: 'message' }>;
const isMsg = (e: DataChannelEvent): e is Msg => e.type === 'message';

for (const pionRole of ['client', 'server'] as const) {
  test(
    `Pion as the SCTP ${pionRole}: channels both ways, echo of 1 B..256 KiB text and binary, ordered and unordered, close by stream reset`,
    { skip, timeout: 60_000 },
    async () => {
      const ours = new UdpShell(pionRole === 'client' ? 'server' : 'client');
      const pion = await startPion(pionRole, await ours.bind());
      try {
        ours.peerPort = pion.port;
        if (pionRole === 'server') ours.act((dc, now) => dc.connect(now));
        await waitFor(() => ours.events.some((e) => e.type === 'connected'), 10_000, 'SCTP association with Pion');
        // Pion's own channel, opened with DCEP towards us.
        await waitFor(
          () => ours.events.some((e) => e.type === 'channel_open' && e.label === 'from-pion' && e.remote),
          10_000,
          "Pion's channel",
        );
        const fromPion = ours.events.find((e) => e.type === 'channel_open' && e.label === 'from-pion');
        await waitFor(() => ours.events.some((e) => isMsg(e) && e.data === 'hello from pion'), 10_000, "Pion's message");
        assert.ok(fromPion?.type === 'channel_open');

        const ordered = ours.act((dc, now) => dc.open({ label: 'oai-events' }, now));
        const unordered = ours.act((dc, now) => dc.open({ label: 'unordered', ordered: false }, now));
        const sent = new Map<number, Array<string | Buffer>>([
          [ordered, []],
          [unordered, []],
        ]);
        for (const [id, list] of sent) {
          for (const n of [1, 1024, 16 * 1024, 64 * 1024, 256 * 1024]) {
            const bin = Buffer.alloc(n);
            for (let i = 0; i < n; i++) bin[i] = (i * 31 + n + id) & 0xff;
            list.push('x'.repeat(n), bin);
          }
          list.push('', Buffer.alloc(0));
          for (const d of list) assert.ok(ours.act((dc, now) => dc.send(id, d, now)));
        }
        const total = sent.get(ordered)!.length + sent.get(unordered)!.length;
        await waitFor(() => ours.events.filter((e) => isMsg(e) && e.id !== fromPion.id).length >= total, 20_000, 'every echo');
        for (const [id, list] of sent) {
          const got = ours.events.filter((e): e is Msg => isMsg(e) && e.id === id);
          for (const d of list) {
            const match = got.find((g) =>
              typeof d === 'string' ? !g.binary && g.data === d : g.binary && Buffer.isBuffer(g.data) && g.data.equals(d),
            );
            assert.ok(match, `channel ${id}: ${typeof d === 'string' ? 'text' : 'binary'} of ${Buffer.byteLength(d)} bytes came back`);
          }
          if (id === ordered)
            assert.deepEqual(
              got.map((g) => Buffer.byteLength(g.data)),
              list.map((d) => Buffer.byteLength(d)),
              'ordered echo keeps order',
            );
        }

        ours.act((dc, now) => dc.close(ordered, now));
        await waitFor(
          () => ours.events.some((e) => e.type === 'channel_closed' && e.id === ordered),
          10_000,
          'our close completed by Pion',
        );
        await waitFor(() => pion.lines.includes('closed oai-events'), 10_000, 'Pion seeing the close');
        assert.equal(ours.dc.association.state, 'established');
        assert.deepEqual(
          Object.entries(ours.dc.association.drops).filter(([, n]) => n > 0),
          [],
          'nothing Pion sent was dropped',
        );
      } finally {
        await stopPion(pion.child);
        ours.close();
      }
    },
  );
}
