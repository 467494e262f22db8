// A call's setup on the wire, step by step (issue #18): one peer (`--peer`: Chromium, Firefox
// ESR, aiortc, Pion, GStreamer webrtcbin + libnice, driven as bench/setup.ts drives them) calling
// one server (`--server`: `parley dev` — relay + transceiver —, bench/pion-echo — Pion's ICE-lite
// server — or bench/aiortc-echo — aiortc's full-ICE server), `--calls` sequential calls after one
// warm-up, tcpdump on `lo` for the whole run, and per call every packet's time since the offer
// POST reached the server, labelled by direction and kind; out goes the median [min–max] of each
// labelled packet over the calls, in order, with the median step from the packet before it.
// bench/setup.ts says how long a call takes; this says where the time goes: the POST, the
// relay's hops (C>R req#1 → R>T req#1 …), the first reply, the checks back, the nomination,
// each DTLS flight.
// Not a test: it prints numbers and asserts nothing. Needs tcpdump (apt-get install tcpdump) and
// the right to capture on lo (root or CAP_NET_RAW), plus what bench:setup needs for the peer.
//
//   npx node bench/setup-wire.ts [--peer pion|chromium|firefox|aiortc|gstreamer]
//                                [--server parley|pion|aiortc] [--calls 15] [--offer-setup actpass|active]
//                                [--per-call] [--idle MS] [--load-calls N --rate R]
//
// The browsers reach every server through bench/setup.ts's front, so their time 0 is the front's
// POST to the server, a loopback hop after the page's own. A call's server UDP ports are the udp
// candidates of its answer (aiortc-echo's change per call); its client port the other end of the
// first packet to one of them.
// Labels: C = the client (the peer), R = the relay's public socket, T = the transceiver (R>T and
// T>R: the relay's inner socket and the transceiver, packets whose relay header names the call's
// client, classified by what follows the header), S = the reference server. Kinds: req / resp
// (STUN Binding; +UC: USE-CANDIDATE), hsN (a DTLS handshake record of epoch 0 whose first message has type N: 1
// ClientHello, 2 ServerHello, 3 HelloVerifyRequest, 11 Certificate…), hs-enc (an epoch-1
// handshake record), ccs, alert, rtp, rtcp; `answer` is the first TCP segment of the 201 answer,
// `http GET` (DELETE…) another request of the peer to the server (the demo page's).
// "#n": the n-th such packet of the call (up to 3).
// The last line, "the peer's POST → connected", is the peer's own number, bench/setup.ts's (the Pion
// client: from before its POST's TCP connect to its "connected" state), not a time on the wire.
// `--idle MS` (process peers): nothing of the bench runs for MS ms before each call, as in
// bench/setup.ts, where a server idles between its calls while the others take theirs (and aiortc's
// waits ~200 ms for the Pion client); calls back to back find warmer caches and vCPUs than
// bench:setup's (docs/performance.md, "(pion)").
// Load mode (`--load-calls N`, Pion client, Parley or pion-echo): one Pion load client (-calls N
// -rate R, 3 s of audio each, as bench/setup.ts's load row) while tcpdump runs; the calls overlap,
// so a packet is given to its call by the POST's TCP connection (→ the answer's ice-ufrag), the
// USERNAME of the client's checks (→ its UDP port) and the relay header's client port. Out: each
// label's median and p90 over the calls, each step's median and p90, and every relay hop (a client
// packet's R>T copy, a transceiver packet's R>C copy) with the slow ones listed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeRelayHeader, RELAY_HEADER_LENGTH } from '../src/contracts/relay-header.ts';
import { nonLoopbackIPv4 } from '../test/e2e/helpers.ts';
import { buildPionClient, runPionClient } from '../test/e2e/pion/build.ts';
import { PEERS, SERVERS, chromiumCalls, firefoxCalls, processCall, startFront, startServers } from './setup-peers.ts';
import type { Outcome, Peer, Server } from './setup-peers.ts';

const { values } = parseArgs({
  options: {
    peer: { type: 'string', default: 'pion' },
    server: { type: 'string', default: 'parley' },
    calls: { type: 'string', default: '15' },
    'offer-setup': { type: 'string', default: 'actpass' },
    // Every call's own timeline too (the medians of two labels may come from different calls).
    'per-call': { type: 'boolean', default: false },
    idle: { type: 'string', default: '0' },
    'load-calls': { type: 'string', default: '0' },
    rate: { type: 'string', default: '50' },
  },
});
const oneOf = <T extends string>(list: readonly T[], v: string, what: string): T => {
  if (!(list as readonly string[]).includes(v)) throw new Error(`--${what} ${v}: one of ${list.join(', ')}`);
  return v as T;
};
const PEER: Peer = oneOf(PEERS, values.peer, 'peer');
const SERVER: Server = oneOf(SERVERS, values.server, 'server');
const CALLS = Number(values.calls);
const OFFER_SETUP = values['offer-setup'] === 'active' ? 'active' : 'actpass';
const LOAD_CALLS = Number(values['load-calls']);
const LOAD_RATE = Number(values.rate);
const IDLE_MS = Number(values.idle);
if (!(IDLE_MS >= 0 && IDLE_MS <= 60_000)) throw new Error(`--idle ${values.idle}: 0…60000 ms`);
if (LOAD_CALLS > 0 && (PEER !== 'pion' || SERVER === 'aiortc')) throw new Error('--load-calls: a Pion client against parley or pion');
/** Packets kept per label and call (retransmissions beyond it say nothing new). */
const MAX_PER_LABEL = 3;

const load = (): string =>
  `${new Date().toISOString().slice(11, 19)} UTC, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`;

interface Target {
  /** The HTTP port the offers are POSTed to. */
  readonly httpPort: number;
  /** The server's UDP port known before any call (Parley's relay, pion-echo's), if any. */
  readonly udpPort: number | undefined;
}

interface Packet {
  readonly ms: number;
  readonly tcp: boolean;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
}

/** The UDP and TCP packets of a pcap file captured on lo (link type EN10MB). */
function readPcap(file: string): Packet[] {
  const b = readFileSync(file);
  const out: Packet[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const ms = b.readUInt32LE(o) * 1e3 + b.readUInt32LE(o + 4) / 1e3;
    const caplen = b.readUInt32LE(o + 8);
    const frame = b.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    // IPv4, or IPv6 without extension headers (aiortc-echo also gathers IPv6 candidates).
    const etherType = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
    if ((etherType !== 0x0800 || frame.length < 34) && (etherType !== 0x86dd || frame.length < 54)) continue;
    const ip = frame.subarray(14);
    const l4 = etherType === 0x0800 ? ip.subarray((ip[0] & 15) * 4) : ip.subarray(40);
    const proto = etherType === 0x0800 ? ip[9] : ip[6];
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
  return 'other';
}

const CANDIDATE_PORT = /a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ/gi;

/** Each call's labelled packets (ms since its POST), the warm-up call included. */
function timelines(packets: readonly Packet[], t: Target): Map<string, number>[] {
  const calls: Map<string, number>[] = [];
  interface Call {
    t0: number;
    seen: Map<string, number>;
    answer: string;
    serverPorts: Set<number>;
    client: number;
    inner: number;
  }
  let call: Call | undefined;
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
        call = { t0: p.ms, seen: new Map(), answer: '', serverPorts: new Set(t.udpPort ? [t.udpPort] : []), client: -1, inner: -1 };
        calls.push(new Map());
      } else if (call && p.dstPort === t.httpPort && /^(GET|DELETE|PATCH|PUT) /.test(head)) {
        add(`http ${head.slice(0, head.indexOf(' '))}`, p.ms);
      } else if (call && p.srcPort === t.httpPort && p.payload.length > 0) {
        if (head.startsWith('HTTP/1.1 2')) add('answer', p.ms);
        if (call.answer.length < 65_536) call.answer += p.payload.toString('latin1');
        for (const m of call.answer.matchAll(CANDIDATE_PORT)) call.serverPorts.add(Number(m[1]));
      }
      continue;
    }
    if (!call) continue;
    const kind = kindOf(p.payload);
    if (kind === 'app') continue;
    if (call.serverPorts.has(p.dstPort)) {
      if (call.client < 0) call.client = p.srcPort;
      if (p.srcPort === call.client) add(`${c} ${kind}`, p.ms);
    } else if (call.serverPorts.has(p.srcPort)) {
      if (call.client < 0) call.client = p.dstPort;
      if (p.dstPort === call.client) add(`${s} ${kind}`, p.ms);
    } else if (SERVER === 'parley' && call.client >= 0) {
      // Relay ↔ transceiver: a relay header naming this call's client; the first one after the
      // client's first check is the relay's forward, which tells the relay's inner socket.
      const header = decodeRelayHeader(p.payload);
      if (header === undefined || header.client.port !== call.client || header.transport !== 'udp') continue;
      if (call.inner < 0) call.inner = p.srcPort;
      const inside = kindOf(p.payload.subarray(RELAY_HEADER_LENGTH));
      if (inside === 'app') continue;
      if (p.srcPort === call.inner) add(`R>T ${inside}`, p.ms);
      else if (p.dstPort === call.inner) add(`T>R ${inside}`, p.ms);
    }
  }
  return calls;
}

const USERNAME = 0x0006;
const ICE_UFRAG = /a=ice-ufrag:(\S+)/;

/** The part before ':' of a STUN request's USERNAME (the receiver's ufrag), if any. */
function usernameTarget(p: Buffer): string | undefined {
  if (p.length < 20 || p.readUInt16BE(0) !== 0x0001 || p.readUInt32BE(4) !== STUN_MAGIC) return undefined;
  for (let o = 20; o + 4 <= p.length; o += 4 + ((p.readUInt16BE(o + 2) + 3) & ~3))
    if (p.readUInt16BE(o) === USERNAME) {
      const name = p.subarray(o + 4, o + 4 + p.readUInt16BE(o + 2)).toString('latin1');
      return name.slice(0, name.indexOf(':'));
    }
  return undefined;
}

/** Load mode: each call's labelled packets (ms since its POST) when calls overlap (see the top). */
function loadTimelines(packets: readonly Packet[], t: Target): Map<string, number>[] {
  interface Call {
    readonly t0: number;
    readonly seen: Map<string, number>;
    readonly timeline: Map<string, number>;
    answer: string;
  }
  const calls: Call[] = [];
  const byHttpPort = new Map<number, Call>();
  const byUfrag = new Map<string, Call>();
  const byClientPort = new Map<number, Call>();
  let inner = -1;
  const add = (call: Call, label: string, ms: number): void => {
    const n = (call.seen.get(label) ?? 0) + 1;
    call.seen.set(label, n);
    if (n <= MAX_PER_LABEL) call.timeline.set(`${label}#${n}`, ms - call.t0);
  };
  const [c, s] = SERVER === 'parley' ? ['C>R', 'R>C'] : ['C>S', 'S>C'];
  for (const p of packets) {
    if (p.tcp) {
      if (p.dstPort === t.httpPort && p.payload.subarray(0, 5).toString('latin1') === 'POST ') {
        const call: Call = { t0: p.ms, seen: new Map(), timeline: new Map(), answer: '' };
        calls.push(call);
        byHttpPort.set(p.srcPort, call);
      } else if (p.srcPort === t.httpPort && p.payload.length > 0) {
        const call = byHttpPort.get(p.dstPort);
        if (!call || (call.answer.includes('\r\n\r\n') && ICE_UFRAG.test(call.answer))) continue;
        if (p.payload.subarray(0, 10).toString('latin1') === 'HTTP/1.1 2') add(call, 'answer', p.ms);
        if (call.answer.length < 65_536) call.answer += p.payload.toString('latin1');
        const ufrag = ICE_UFRAG.exec(call.answer)?.[1];
        if (ufrag) byUfrag.set(ufrag, call);
      }
      continue;
    }
    const kind = kindOf(p.payload);
    if (kind === 'app') continue;
    if (p.dstPort === t.udpPort) {
      const target = usernameTarget(p.payload);
      const known = target === undefined ? undefined : byUfrag.get(target);
      if (known && !byClientPort.has(p.srcPort)) byClientPort.set(p.srcPort, known);
      const call = byClientPort.get(p.srcPort);
      if (call) add(call, `${c} ${kind}`, p.ms);
    } else if (p.srcPort === t.udpPort) {
      const call = byClientPort.get(p.dstPort);
      if (call) add(call, `${s} ${kind}`, p.ms);
    } else if (SERVER === 'parley') {
      const header = decodeRelayHeader(p.payload);
      if (header === undefined || header.transport !== 'udp') continue;
      const call = byClientPort.get(header.client.port);
      if (!call) continue;
      if (inner < 0) inner = p.srcPort; // the first framed packet is the relay's first forward
      const inside = kindOf(p.payload.subarray(RELAY_HEADER_LENGTH));
      if (inside === 'app') continue;
      if (p.srcPort === inner) add(call, `R>T ${inside}`, p.ms);
      else if (p.dstPort === inner) add(call, `T>R ${inside}`, p.ms);
    }
  }
  return calls.map((call) => call.timeline);
}

/** The q-quantile (nearest rank) of xs. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const hostIp = nonLoopbackIPv4();
  if (hostIp === undefined) throw new Error('no non-loopback IPv4 address: Firefox, aiortc and libnice pair no 127.0.0.1 candidate');
  const pion = PEER === 'pion' ? (await buildPionClient(600_000)).path : undefined;
  const servers = await startServers(hostIp);
  const url = servers.urls[SERVER];
  const target: Target = { httpPort: Number(new URL(url).port), udpPort: servers.udpPorts[SERVER] };
  const front = PEER === 'chromium' || PEER === 'firefox' ? await startFront(servers.dev.ready.page) : undefined;
  if (front) front.target.base = new URL(url).origin;
  const dir = mkdtempSync(join(tmpdir(), 'parley-setup-wire-'));
  const pcap = join(dir, 'calls.pcap');
  // Whole packets (-s 0): the answer's candidates may be anywhere in its TCP segments.
  const dump = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-s', '0', '-w', pcap, `udp or tcp port ${target.httpPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let dumpSays = '';
  dump.stderr.on('data', (d: Buffer) => (dumpSays += d.toString()));
  const outcomes: Outcome[] = [];
  let loadResult = '';
  const onCall = (i: number, o: Outcome): void => {
    if (i > 0) outcomes.push(o);
  };
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // tcpdump is listening
    if (dump.exitCode !== null) throw new Error('tcpdump exited: is it installed, and may this user capture on lo?');
    const what = LOAD_CALLS > 0 ? `one load client, ${LOAD_CALLS} calls started ${LOAD_RATE}/s` : `${CALLS} calls after one warm-up`;
    console.log(`bench:setup-wire — ${PEER} → ${SERVER}, ${what}; start: ${load()}`);
    if (LOAD_CALLS > 0) loadResult = await runLoad(pion!, url);
    else if (PEER === 'chromium') await chromiumCalls(front!, CALLS + 1, onCall);
    else if (PEER === 'firefox') await firefoxCalls(front!, CALLS + 1, SERVER, onCall);
    else
      for (let i = 0; i <= CALLS; i++) {
        if (IDLE_MS > 0) await new Promise((r) => setTimeout(r, IDLE_MS));
        onCall(i, await processCall(PEER, url, pion, OFFER_SETUP));
      }
    console.log(`end: ${load()}`);
  } finally {
    await new Promise((r) => setTimeout(r, 300));
    dump.kill('SIGINT');
    if (dump.exitCode === null) await once(dump, 'exit');
    await front?.close();
    await servers.stop();
  }
  const packets = readPcap(pcap);
  // Under load tcpdump may fall behind: a dropped packet is a missing row entry, not a delay.
  const dropped = /(\d+) packets? dropped by kernel/.exec(dumpSays)?.[1];
  if (dropped !== undefined) console.log(`tcpdump: ${packets.length} packets read, ${dropped} dropped by the kernel`);
  rmSync(dir, { recursive: true, force: true });
  if (LOAD_CALLS > 0) {
    printLoad(loadTimelines(packets, target), loadResult);
    return;
  }
  const calls = timelines(packets, target).slice(1);
  const rows = labelRows(calls);
  // Δ: the median over the calls of this packet's time minus the row above's in the same call —
  // one step's own duration, which the difference of two medians is not.
  const step = (i: number): string => {
    if (i === 0) return '';
    const deltas = calls.flatMap((c) => {
      const [a, b] = [c.get(rows[i - 1].label), c.get(rows[i].label)];
      return a === undefined || b === undefined ? [] : [b - a];
    });
    return deltas.length ? `Δ ${median(deltas).toFixed(2)}` : '';
  };
  console.log(
    `\nms since the POST reached the server, median [min–max] of ${calls.length} calls (n: calls with that packet; Δ: median step from the row above, per call):`,
  );
  rows.forEach((r, i) =>
    console.log(
      `${r.m.toFixed(2).padStart(8)} [${Math.min(...r.ms).toFixed(2)}–${Math.max(...r.ms).toFixed(2)}] n${r.ms.length}  ${step(i).padEnd(8)}  ${r.label}`,
    ),
  );
  if (values['per-call'])
    calls.forEach((c, i) => {
      const steps = [...c].filter(([label]) => !/ (rtp|rtcp|alert)#/.test(label)).sort((a, b) => a[1] - b[1]);
      console.log(`\ncall ${i + 1}: ${steps.map(([label, ms]) => `${ms.toFixed(2)} ${label}`).join(' | ')}`);
    });
  const ok = outcomes.filter((x): x is number => typeof x === 'number');
  const failures = outcomes.filter((x) => typeof x === 'string');
  console.log(
    `\nthe peer's POST → connected: median ${ok.length ? median(ok).toFixed(2) : '—'} (${ok.length}/${outcomes.length} connected): ${ok.map((x) => x.toFixed(1)).join(' ')}${failures.length ? `; failures: ${failures.join(' ; ').slice(0, 600)}` : ''}`,
  );
}

/** Load mode's client: its JSON summary line (setup p50 …), or why it failed. */
async function runLoad(pion: string, url: string): Promise<string> {
  const r = await runPionClient(pion, ['-url', url, '-calls', String(LOAD_CALLS), '-rate', String(LOAD_RATE), '-seconds', '3'], 120_000);
  return r.result ? JSON.stringify(r.result) : `exit ${r.code}: ${r.stderr.slice(-300)}`;
}

/**
 * One row per packet label seen in at least half of the calls (not the later RTP/RTCP), with its
 * times since the POST over the calls and their median, in the order of the medians.
 */
function labelRows(calls: readonly Map<string, number>[]): { label: string; ms: number[]; m: number }[] {
  const byLabel = new Map<string, number[]>();
  for (const c of calls) for (const [label, ms] of c) (byLabel.get(label) ?? byLabel.set(label, []).get(label)!).push(ms);
  return [...byLabel]
    .filter(([label, ms]) => ms.length >= calls.length / 2 && !/ (rtp|rtcp)#[23]$/.test(label))
    .map(([label, ms]) => ({ label, ms, m: median(ms) }))
    .sort((a, b) => a.m - b.m);
}

const ms2 = (x: number): string => x.toFixed(2);

/** Load mode's tables: labels and steps (median, p90), then the relay's hops. */
function printLoad(calls: readonly Map<string, number>[], summary: string): void {
  const rows = labelRows(calls);
  console.log(
    `\n${calls.length} calls; ms since the POST reached the server: median, p90 [max] (n); step from the row above within a call: median, p90 [max]`,
  );
  rows.forEach((r, i) => {
    const deltas =
      i === 0
        ? []
        : calls.flatMap((c) => {
            const [a, b] = [c.get(rows[i - 1].label), c.get(rows[i].label)];
            return a === undefined || b === undefined ? [] : [b - a];
          });
    const step = deltas.length ? `Δ ${ms2(median(deltas))}, ${ms2(quantile(deltas, 0.9))} [${ms2(Math.max(...deltas))}]` : '';
    console.log(
      `${ms2(r.m).padStart(8)}, ${ms2(quantile(r.ms, 0.9)).padStart(8)} [${ms2(Math.max(...r.ms))}] n${r.ms.length}  ${step.padEnd(28)} ${r.label}`,
    );
  });
  if (SERVER === 'parley') {
    // A relay hop: the same packet kind and number on both sides of the relay within one call.
    const hops: Record<string, { ms: number; label: string; call: number }[]> = { 'C>R → R>T': [], 'T>R → R>C': [] };
    calls.forEach((c, call) => {
      for (const [label, ms] of c) {
        const [from, rest] = [label.slice(0, 3), label.slice(4)];
        const to = from === 'C>R' ? 'R>T' : from === 'T>R' ? 'R>C' : undefined;
        const out = to && c.get(`${to} ${rest}`);
        if (out !== undefined && !/^(rtp|rtcp)/.test(rest)) hops[`${from} → ${to}`].push({ ms: out - ms, label: rest, call });
      }
    });
    for (const [name, hs] of Object.entries(hops)) {
      if (!hs.length) continue;
      const ms = hs.map((h) => h.ms);
      const slow = hs.filter((h) => h.ms > 1).sort((a, b) => b.ms - a.ms);
      console.log(
        `\nrelay hop ${name} (handshake packets): ${hs.length}, median ${ms2(median(ms))}, p90 ${ms2(quantile(ms, 0.9))}, p99 ${ms2(quantile(ms, 0.99))}, max ${ms2(Math.max(...ms))} ms; > 1 ms: ${slow.length}`,
      );
      if (slow.length)
        console.log(
          `  slowest: ${slow
            .slice(0, 12)
            .map((h) => `${ms2(h.ms)} (${h.label}, call ${h.call + 1})`)
            .join(', ')}`,
        );
    }
  }
  console.log(`\nthe load client: ${summary}`);
}

await main();
