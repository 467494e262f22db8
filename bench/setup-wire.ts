// A Pion call's setup on the wire, step by step (issue #18): `parley dev` (relay + transceiver) or
// bench/pion-echo (Pion's ICE-lite server), `--calls` sequential Pion calls after one warm-up,
// tcpdump on `lo` for the whole run, and per call every packet's time since the offer POST,
// labelled by direction and kind; out goes the median [min–max] of each labelled packet over the
// calls, in order. bench/setup.ts says how long a call takes; this says where the time goes:
// the POST, the relay's first-check hop (C>R req#1 → R>T #1, also per call), the transceiver's first reply,
// the issue #19 round trip, the nomination, each DTLS flight.
// Not a test: it prints numbers and asserts nothing. Needs tcpdump (apt-get install tcpdump) and
// the right to capture on lo (root or CAP_NET_RAW), plus what bench:setup needs for Pion.
//
//   npx node bench/setup-wire.ts [--server parley|pion] [--calls 15]
//
// Labels: C = the Pion client, R = the relay's public socket, T = the relay's socket toward the
// transceiver (its packets carry the relay header, so they are "framed": what is inside is not
// classified), S = Pion's server. Kinds: req / resp (STUN Binding; +UC: USE-CANDIDATE), hsN
// (a DTLS handshake record of epoch 0 whose first message has type N: 1 ClientHello, 2
// ServerHello…, 11 Certificate), hs-enc (an epoch-1 handshake record), ccs, alert, rtp, rtcp;
// `answer` is the first TCP segment of the 201 answer. "#n": the n-th such packet of the call
// (up to 3).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts } from '../src/client/free-port.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';
import { nonLoopbackIPv4, startDev, stopProcess } from '../test/e2e/helpers.ts';
import { buildPionClient, runPionClient } from '../test/e2e/pion/build.ts';

const { values } = parseArgs({ options: { server: { type: 'string', default: 'parley' }, calls: { type: 'string', default: '15' } } });
const SERVER = values.server === 'pion' ? 'pion' : 'parley';
const CALLS = Number(values.calls);
const PION_ECHO = fileURLToPath(new URL('./pion-echo/', import.meta.url));
const CALLS_PATH = '/v1/realtime/calls';
/** Packets kept per label and call (retransmissions beyond it say nothing new). */
const MAX_PER_LABEL = 3;

const load = (): string =>
  `${new Date().toISOString().slice(11, 19)} UTC, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`;

interface Target {
  readonly url: string;
  /** The UDP port the client sends its checks to (the relay's public port, or Pion's). */
  readonly udpPort: number;
  readonly httpPort: number;
  stop(): Promise<unknown>;
}

async function startTarget(hostIp: string): Promise<Target> {
  if (SERVER === 'parley') {
    // One client making many calls: the admission limits lifted, as bench/setup.ts does.
    const dev = await startDev(['--relay', `${hostIp}:0`], 30_000, {
      PARLEY_OFFERS_PER_SECOND: '100000',
      PARLEY_OFFER_BURST: '100000',
      PARLEY_MAX_PENDING_PER_CLIENT: '100000',
      PARLEY_MAX_CALLS_PER_CLIENT: '100000',
    });
    const url = dev.ready.signaling;
    return { url, udpPort: Number(dev.ready.relay.split(':').pop()), httpPort: Number(new URL(url).port), stop: () => dev.stop() };
  }
  const bin = (await buildGoProgram(PION_ECHO, 600_000)).path;
  const [udp] = await freePorts([{ host: hostIp, kind: 'udp' }]);
  const child = spawn(bin, ['-http', '127.0.0.1:0', '-ip', hostIp, '-udp', String(udp), '-max-seconds', '600'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const http = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`pion-echo not ready in 20 s: ${seen}`)), 20_000);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = /pion-echo: http (\S+),/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  return {
    url: `http://${http}${CALLS_PATH}`,
    udpPort: udp,
    httpPort: Number(http.split(':').pop()),
    stop: () => stopProcess(child, 5_000),
  };
}

interface Packet {
  readonly ms: number;
  readonly tcp: boolean;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
}

/** The IPv4 UDP and TCP packets of a pcap file captured on lo (link type EN10MB). */
function readPcap(file: string): Packet[] {
  const b = readFileSync(file);
  const out: Packet[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const ms = b.readUInt32LE(o) * 1e3 + b.readUInt32LE(o + 4) / 1e3;
    const caplen = b.readUInt32LE(o + 8);
    const frame = b.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const l4 = ip.subarray((ip[0] & 15) * 4);
    const proto = ip[9];
    if ((proto !== 6 && proto !== 17) || l4.length < 8) continue;
    const tcp = proto === 6;
    const payload = tcp ? l4.subarray((l4[12] >> 4) * 4) : l4.subarray(8);
    out.push({ ms, tcp, srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), payload });
  }
  return out;
}

const STUN_MAGIC = 0x2112a442;
const USE_CANDIDATE = 0x0025;

/** What a UDP payload is (see the labels above). */
function kindOf(p: Buffer): string {
  if (p.length >= 20 && p[0] < 2 && p.readUInt32BE(4) === STUN_MAGIC) {
    const type = p.readUInt16BE(0);
    let useCandidate = false;
    for (let o = 20; o + 4 <= p.length; o += 4 + ((p.readUInt16BE(o + 2) + 3) & ~3))
      if (p.readUInt16BE(o) === USE_CANDIDATE) useCandidate = true;
    return (type === 0x0001 ? 'req' : type === 0x0101 ? 'resp' : `stun-${type.toString(16)}`) + (useCandidate ? '+UC' : '');
  }
  if (p.length >= 13 && p[0] >= 20 && p[0] <= 23) {
    const epoch = p.readUInt16BE(3);
    if (p[0] === 22) return epoch === 0 && p.length > 13 ? `hs${p[13]}` : 'hs-enc';
    return p[0] === 20 ? 'ccs' : p[0] === 21 ? 'alert' : 'app';
  }
  if ((p[0] & 0xc0) === 0x80 && p.length >= 2) return p[1] >= 192 && p[1] <= 223 ? 'rtcp' : 'rtp';
  return 'framed';
}

/** Each call's labelled packets (ms since its POST), the warm-up call included. */
function timelines(packets: readonly Packet[], t: Target): Map<string, number>[] {
  const calls: Map<string, number>[] = [];
  let call: { t0: number; seen: Map<string, number>; client: number; inner: number } | undefined;
  const add = (label: string, ms: number): void => {
    const n = (call!.seen.get(label) ?? 0) + 1;
    call!.seen.set(label, n);
    if (n <= MAX_PER_LABEL) calls[calls.length - 1].set(`${label}#${n}`, ms - call!.t0);
  };
  const [c, s] = SERVER === 'parley' ? ['C>R', 'R>C'] : ['C>S', 'S>C'];
  for (const p of packets) {
    if (p.tcp) {
      const head = p.payload.subarray(0, 12).toString('latin1');
      if (p.dstPort === t.httpPort && head.startsWith('POST')) {
        call = { t0: p.ms, seen: new Map(), client: -1, inner: -1 };
        calls.push(new Map());
      } else if (call && p.srcPort === t.httpPort && head.startsWith('HTTP/1.1 2')) add('answer', p.ms);
      continue;
    }
    if (!call) continue;
    const kind = kindOf(p.payload);
    if (kind === 'app') continue;
    if (p.dstPort === t.udpPort) {
      if (call.client < 0) call.client = p.srcPort;
      if (p.srcPort === call.client) add(`${c} ${kind}`, p.ms);
    } else if (p.srcPort === t.udpPort) {
      if (p.dstPort === call.client) add(`${s} ${kind}`, p.ms);
    } else if (SERVER === 'parley' && call.client >= 0) {
      // Relay ↔ transceiver: the first such packet after the client's first check is the relay's forward.
      if (call.inner < 0) call.inner = p.srcPort;
      if (p.srcPort === call.inner) add(`R>T ${kind}`, p.ms);
      else if (p.dstPort === call.inner) add(`T>R ${kind}`, p.ms);
    }
  }
  return calls;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const hostIp = nonLoopbackIPv4();
  if (hostIp === undefined) throw new Error('no non-loopback IPv4 address (the Pion client pairs it, as in bench:setup)');
  const pion = (await buildPionClient(600_000)).path;
  const target = await startTarget(hostIp);
  const dir = mkdtempSync(join(tmpdir(), 'parley-setup-wire-'));
  const pcap = join(dir, 'calls.pcap');
  const dump = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-s', '256', '-w', pcap, `udp or tcp port ${target.httpPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const connectMs: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // tcpdump is listening
    if (dump.exitCode !== null) throw new Error('tcpdump exited: is it installed, and may this user capture on lo?');
    console.log(`bench:setup-wire — ${SERVER}, ${CALLS} calls after one warm-up; start: ${load()}`);
    for (let i = 0; i <= CALLS; i++) {
      const r = await runPionClient(pion, ['-url', target.url, '-seconds', '0.3', '-drain', '300ms'], 30_000);
      if (i > 0) connectMs.push(r.result?.connected ? r.result.connectMs : NaN);
    }
    console.log(`end: ${load()}`);
  } finally {
    await new Promise((r) => setTimeout(r, 300));
    dump.kill('SIGINT');
    if (dump.exitCode === null) await once(dump, 'exit');
    await target.stop();
  }
  const calls = timelines(readPcap(pcap), target).slice(1);
  rmSync(dir, { recursive: true, force: true });
  const byLabel = new Map<string, number[]>();
  for (const c of calls) for (const [label, ms] of c) (byLabel.get(label) ?? byLabel.set(label, []).get(label)!).push(ms);
  const rows = [...byLabel]
    .filter(([label, ms]) => ms.length >= calls.length / 2 && !/ (rtp|rtcp)#[23]$/.test(label))
    .map(([label, ms]) => ({ label, ms, m: median(ms) }))
    .sort((a, b) => a.m - b.m);
  console.log(`\nms since the POST left the client, median [min–max] of ${calls.length} calls (n: calls with that packet):`);
  for (const r of rows)
    console.log(
      `${r.m.toFixed(2).padStart(8)} [${Math.min(...r.ms).toFixed(2)}–${Math.max(...r.ms).toFixed(2)}] n${r.ms.length}  ${r.label}`,
    );
  if (SERVER === 'parley') {
    // Per call, so the relay's own time is not the difference of two medians over different calls.
    const hops = calls.map((c) => (c.get('R>T framed#1') ?? NaN) - (c.get('C>R req#1') ?? NaN)).filter((x) => !Number.isNaN(x));
    if (hops.length > 0)
      console.log(
        `\nthe relay's first-check hop (C>R req#1 → R>T framed#1), per call: median ${median(hops).toFixed(3)} ` +
          `[${Math.min(...hops).toFixed(3)}–${Math.max(...hops).toFixed(3)}] ms, ${hops.length} calls: ${hops.map((x) => x.toFixed(2)).join(' ')}`,
      );
  }
  const ok = connectMs.filter((x) => !Number.isNaN(x));
  console.log(
    `\nthe client's connectMs: median ${median(ok).toFixed(2)} (${ok.length}/${connectMs.length} connected): ${connectMs.map((x) => x.toFixed(1)).join(' ')}`,
  );
}

await main();
