// Messages to the bridges' WebSocket peers (media-stream agents, Realtime models) leave at the
// end of the event-loop turn that made them, all together. One turn of the transceiver's media
// (a batch of received packets, for many calls) decodes every frame first and then writes one
// burst, instead of one write between each two decodes: the peer process, woken by the first
// write, finds the others already waiting, and the transceiver is not woken again for each reply
// (measured in docs/performance.md, #16 and glue2). Order per socket is kept — as long as every
// message to that socket goes through the outbox — and nothing waits longer than the turn (a
// microtask). Not here: what the messages say (media-stream/, realtime/).
import WebSocket from 'ws';

export class WebSocketOutbox {
  readonly #sockets: WebSocket[] = [];
  readonly #messages: Buffer[] = [];
  #scheduled = false;
  readonly #flush = (): void => this.flush();

  /** Queues a text message (UTF-8 bytes) for the end of this turn. */
  push(ws: WebSocket, text: Buffer): void {
    this.#sockets.push(ws);
    this.#messages.push(text);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /**
   * Writes everything queued now (a call that closes its socket flushes first: its last messages
   * go before the close frame). Runs outside any call's handler: a socket whose send throws is
   * terminated (its call ends as agent_closed) and the others still get theirs.
   */
  flush(): void {
    this.#scheduled = false;
    const n = this.#sockets.length;
    for (let i = 0; i < n; i++) {
      const ws = this.#sockets[i];
      if (ws.readyState !== WebSocket.OPEN) continue;
      try {
        // A Buffer: ws frames and masks it into one new buffer and writes that once (a string
        // would go as header + payload through writev).
        ws.send(this.#messages[i], { binary: false });
      } catch {
        ws.terminate();
      }
    }
    this.#sockets.length = 0;
    this.#messages.length = 0;
  }
}
