// The load of bench/relay-tcp.ts: CALLS calls, each a client (an ICE-TCP connection with RFC 4571
// frames, or a UDP socket) that opens its relay flow with a real STUN check (the token minted
// for the fake transceiver) and then sends one 172-byte RTP-shaped frame every 20 ms; and the
// fake transceiver (a worker thread with one UDP socket) that sends every packet straight back
// with its relay header, so each call carries 50 frames/s each way through the relay. Frames
// carry their send time: the client measures the round trip (client → relay → transceiver →
// relay → client). TCP clients spread over 127.0.0.10.. (the relay holds 32 connections per
// source address). Bounded: every socket is closed by close(); nothing here retries.
import net from 'node:net';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { TransportAddress } from '../../src/core/address.ts';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { Rfc4571Deframer, RFC4571_MAX_FRAME, frameRfc4571 } from '../../src/core/framing/rfc4571.ts';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { systemRng } from '../../src/common/system-rng.ts';
import { LatencyHistogram } from '../../src/client/latency-histogram.ts';

export const FRAME_BYTES = 172;
const FRAME_MS = 20;
const GROUPS = 4; // calls are paced in 4 groups 5 ms apart, so the relay sees a steady stream
const PER_SOURCE_IP = 30;

if (!isMainThread && (workerData as { role?: string })?.role === 'echo') {
  // The fake transceiver: every packet back to the relay socket it came from, header unchanged.
  // A transceiver's media socket is as large as the relay's (4 MiB): bursts of 250 frames every 5 ms.
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  let frames = 0;
  sock.on('message', (msg, rinfo) => {
    if (msg.length > RELAY_HEADER_LENGTH && msg[RELAY_HEADER_LENGTH] === 0x80) frames++;
    sock.send(msg, rinfo.port, rinfo.address);
  });
  parentPort!.on('message', (m: string) => {
    if (m === 'count') parentPort!.postMessage(frames);
    else if (m === 'close') sock.close(() => parentPort!.postMessage('closed'));
  });
  sock.bind((workerData as { port: number }).port, '127.0.0.1', () => parentPort!.postMessage('ready'));
}

export class EchoTransceiver {
  readonly #worker: Worker;
  private constructor(w: Worker) {
    this.#worker = w;
  }
  static async start(port: number): Promise<EchoTransceiver> {
    const w = new Worker(new URL(import.meta.url), { workerData: { role: 'echo', port } });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    return new EchoTransceiver(w);
  }
  /** RTP-shaped frames seen so far (the client → transceiver direction). */
  frames(): Promise<number> {
    return new Promise((r) => {
      this.#worker.once('message', (n: number) => r(n));
      this.#worker.postMessage('count');
    });
  }
  async close(): Promise<void> {
    await new Promise((r) => {
      this.#worker.once('message', r);
      this.#worker.postMessage('close');
    });
    await this.#worker.terminate();
  }
}

interface Client {
  send(b: Buffer): void;
  /** The STUN check again (a burst of 1000 first checks can lose some on UDP, as ICE would resend). */
  recheck(): void;
  close(): void;
  bound: boolean;
}

export interface PacedCalls {
  /** Frames due (counted as sent, as a real client would have sent them). */
  readonly sent: number;
  /** Of those, TCP frames this generator could not hand to its own socket (64 KiB unsent): the generator, not the relay, was behind. */
  readonly unsent: number;
  readonly received: number;
  readonly rtt: LatencyHistogram;
  /** Starts the 50 pps sending of every call. */
  start(): void;
  /** Stops sending (what is in flight still arrives). */
  stop(): void;
  close(): void;
}

function check(token: { ufrag: string; pwd: string }): Buffer {
  return connectivityCheck({
    transactionId: systemRng.bytes(12),
    localUfrag: 'benc',
    remoteUfrag: token.ufrag,
    remotePwd: token.pwd,
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
    useCandidate: true,
  });
}

/** Opens CALLS flows through the relay (each bound once its check came back from the echo) and returns their pacer. */
export async function openCalls(
  transport: 'tcp' | 'udp',
  relay: TransportAddress,
  tokens: readonly { ufrag: string; pwd: string }[],
  deadlineMs: number,
): Promise<PacedCalls> {
  const rtt = new LatencyHistogram();
  let received = 0;
  let sent = 0;
  let unsent = 0;
  const onFrame = (f: Buffer, c: Client): void => {
    if (f[0] !== 0x80) {
      c.bound = true; // the check came back: the relay bound the flow to the transceiver
      return;
    }
    received++;
    rtt.add(performance.now() - f.readDoubleBE(16));
  };
  const clients: Client[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const first = check(tokens[i]);
    if (transport === 'tcp') {
      const sock = net.connect({
        host: relay.address,
        port: relay.port,
        localAddress: `127.0.0.${10 + Math.floor(i / PER_SOURCE_IP)}`,
        noDelay: true,
      });
      const deframer = new Rfc4571Deframer(RFC4571_MAX_FRAME);
      const c: Client = {
        bound: false,
        send: (b) => {
          if (sock.writableLength < 64 * 1024) sock.write(frameRfc4571(b));
          else unsent++;
        },
        recheck: () => sock.write(frameRfc4571(check(tokens[i]))),
        close: () => sock.destroy(),
      };
      sock.on('data', (chunk: Buffer) => {
        const r = deframer.push(chunk);
        if ('frames' in r) for (const f of r.frames) onFrame(f, c);
      });
      sock.on('error', () => {});
      sock.write(frameRfc4571(first));
      clients.push(c);
    } else {
      const sock = dgram.createSocket('udp4');
      const c: Client = {
        bound: false,
        send: (b) => sock.send(b, relay.port, relay.address),
        recheck: () => sock.send(check(tokens[i]), relay.port, relay.address),
        close: () => sock.close(),
      };
      sock.on('message', (m) => onFrame(m, c));
      sock.on('error', () => {});
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      sock.send(first, relay.port, relay.address);
      clients.push(c);
    }
  }
  const end = Date.now() + deadlineMs;
  while (clients.some((c) => !c.bound)) {
    if (Date.now() > end) {
      for (const c of clients) c.close();
      throw new Error(
        `${transport}: ${clients.filter((c) => !c.bound).length} of ${clients.length} flows not bound within ${deadlineMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const c of clients) if (!c.bound) c.recheck();
  }
  let timer: NodeJS.Timeout | undefined;
  const frame = Buffer.alloc(FRAME_BYTES);
  frame[0] = 0x80;
  frame[1] = 111;
  return {
    get sent() {
      return sent;
    },
    get received() {
      return received;
    },
    get unsent() {
      return unsent;
    },
    rtt,
    start() {
      const t0 = performance.now();
      const done = new Array<number>(GROUPS).fill(0);
      timer = setInterval(() => {
        const now = performance.now();
        for (let g = 0; g < GROUPS; g++) {
          const due = Math.floor((now - t0 - (g * FRAME_MS) / GROUPS) / FRAME_MS) + 1;
          // A late timer catches up at most 3 frames (as a real client skips rather than bursts).
          for (let n = Math.max(done[g], due - 3); n < due; n++) {
            frame.writeDoubleBE(performance.now(), 16);
            for (let i = g; i < clients.length; i += GROUPS) clients[i].send(frame);
            sent += Math.ceil((clients.length - g) / GROUPS);
          }
          done[g] = Math.max(done[g], due);
        }
      }, FRAME_MS / GROUPS);
    },
    stop() {
      clearInterval(timer);
    },
    close() {
      clearInterval(timer);
      for (const c of clients) c.close();
    },
  };
}
