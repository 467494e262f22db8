// A thin test-only I/O shell for a DtlsEndpoint: one node:dgram socket on 127.0.0.1, one timer
// armed to the endpoint's earliest deadline (STYLE.md rule 3), events collected for waiting.
// This is test code; the real transceiver has its own shell.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { DtlsEndpoint, DtlsEvent } from '../../../src/core/dtls/index.ts';
import { waitFor } from '../../support/wait-for.ts';

export class UdpShell {
  readonly endpoint: DtlsEndpoint;
  readonly events: DtlsEvent[] = [];
  readonly #socket = dgram.createSocket('udp4');
  #remote: { port: number; address: string } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #received = 0;
  #sent = 0;
  readonly #lose: { incoming: number[]; outgoing: number[] };

  /** `lose` lists the indexes of datagrams to drop in each direction (to force retransmissions). */
  constructor(endpoint: DtlsEndpoint, lose: { incoming?: number[]; outgoing?: number[] } = {}) {
    this.endpoint = endpoint;
    this.#lose = { incoming: lose.incoming ?? [], outgoing: lose.outgoing ?? [] };
    this.#socket.on('message', (msg, rinfo) => {
      // A server shell learns its peer from the first datagram.
      this.#remote ??= { port: rinfo.port, address: rinfo.address };
      if (this.#lose.incoming.includes(this.#received++)) return;
      this.endpoint.handle(msg, performance.now());
      this.#flush();
    });
  }

  async bind(): Promise<number> {
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    return (this.#socket.address() as AddressInfo).port;
  }

  connect(port: number): void {
    this.#remote = { port, address: '127.0.0.1' };
  }

  start(): void {
    this.endpoint.start(performance.now());
    this.#flush();
  }

  send(data: Buffer): void {
    this.endpoint.send(data);
    this.#flush();
  }

  /** Resolves when an event matching `pred` has been seen; rejects after `ms`. */
  waitFor(pred: (e: DtlsEvent) => boolean, ms: number, what: string): Promise<DtlsEvent> {
    const seen = (): string => JSON.stringify(this.events.map((e) => (e.type === 'failed' ? e.reason : e.type)));
    return waitFor(() => this.events.find(pred), { timeoutMs: ms, intervalMs: 5, what: () => `${what}; events: ${seen()}` });
  }

  #flush(): void {
    if (this.#closed) return;
    for (let d = this.endpoint.pollTransmit(); d !== undefined; d = this.endpoint.pollTransmit()) {
      if (this.#lose.outgoing.includes(this.#sent++)) continue;
      if (this.#remote) this.#socket.send(d, this.#remote.port, this.#remote.address);
    }
    for (let e = this.endpoint.pollEvent(); e !== undefined; e = this.endpoint.pollEvent()) this.events.push(e);
    clearTimeout(this.#timer);
    const deadline = this.endpoint.pollTimeout();
    if (deadline !== undefined) {
      this.#timer = setTimeout(
        () => {
          this.endpoint.handleTimeout(performance.now());
          this.#flush();
        },
        Math.max(0, deadline - performance.now()),
      );
    }
  }

  close(): void {
    if (this.#closed) return;
    this.endpoint.close();
    this.#flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket.close();
  }
}
