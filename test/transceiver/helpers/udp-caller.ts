// Puts a TestCaller on a real UDP socket in real time (for the process tests): an offer built
// from the Chromium capture with the caller's credentials, the answer's token and relay
// candidate read back, and a drive loop with one timer. close() releases socket and timer.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse } from 'sdp-transform';
import type { TransportAddress } from '../../../src/core/address.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { TestCaller } from './test-caller.ts';

const CHROME = readFileSync(new URL('../../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');

/** The Chromium capture with this caller's ICE credentials and certificate fingerprint. */
export function offerFor(caller: TestCaller): string {
  return CHROME.replaceAll(/a=ice-ufrag:.*\r\n/g, `a=ice-ufrag:${caller.ufrag}\r\n`)
    .replaceAll(/a=ice-pwd:.*\r\n/g, `a=ice-pwd:${caller.pwd}\r\n`)
    .replaceAll(/a=fingerprint:.*\r\n/g, `a=fingerprint:sha-256 ${caller.certificate.fingerprint}\r\n`);
}

export interface AnswerFacts {
  readonly ufrag: string;
  readonly pwd: string;
  readonly fingerprint: string;
  readonly candidates: TransportAddress[];
  readonly setup: string;
}

export function readAnswer(sdp: string): AnswerFacts {
  const audio = parse(sdp).media[0];
  return {
    ufrag: audio.iceUfrag!, pwd: audio.icePwd!, fingerprint: audio.fingerprint!.hash, setup: audio.setup!,
    candidates: (audio.candidates ?? []).map((c) => ({ address: c.ip, port: c.port, family: c.ip.includes(':') ? 'IPv6' : 'IPv4' })),
  };
}

export class UdpCaller {
  readonly caller: TestCaller;
  readonly socket: Socket;
  #timer: NodeJS.Timeout | undefined;
  #relay: TransportAddress | undefined;
  #closed = false;

  private constructor(caller: TestCaller, socket: Socket) {
    this.caller = caller;
    this.socket = socket;
    socket.on('message', (msg) => {
      this.caller.handle(msg, performance.now());
      this.pump();
    });
  }

  static async create(seed: string, relay: TransportAddress): Promise<UdpCaller> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const u = new UdpCaller(new TestCaller({ rng: seededRng(seed), relay, dtlsRole: 'server' }), socket);
    u.#relay = relay;
    return u;
  }

  start(answer: AnswerFacts): void {
    this.caller.start(answer, performance.now());
    this.pump();
  }

  /** Sends what the caller queued and re-arms the one timer. */
  pump(): void {
    if (this.#closed) return;
    for (let d = this.caller.pollTransmit(); d; d = this.caller.pollTransmit()) this.socket.send(d, this.#relay!.port, this.#relay!.address);
    if (this.#timer) clearTimeout(this.#timer);
    const at = this.caller.pollTimeout();
    this.#timer = at === undefined ? undefined : setTimeout(() => {
      this.caller.handleTimeout(performance.now());
      this.pump();
    }, Math.max(0, Math.ceil(at - performance.now())));
  }

  /** Sends `count` frames at 20 ms intervals; resolves when done. */
  async talk(count: number): Promise<void> {
    for (let i = 0; i < count && !this.#closed; i++) {
      if (this.caller.connected) this.caller.sendOpus(Buffer.from(`frame-${i}`));
      this.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}

