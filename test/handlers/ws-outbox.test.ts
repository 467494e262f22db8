// The bridges' WebSocket outbox (media-stream agents, Realtime models): messages of one event-loop turn are written together after
// it, in order; closed sockets are skipped; a socket whose send throws is terminated and the
// others still get their messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { WebSocketOutbox } from '../../src/transceiver/handlers/ws-outbox.ts';

/** A stand-in for an open ws client: records what it was sent, and whether it was terminated. */
function fakeSocket(o: { readyState?: number; throws?: boolean } = {}) {
  const sent: string[] = [];
  const s = {
    readyState: o.readyState ?? WebSocket.OPEN,
    terminated: false,
    sent,
    send(data: Buffer, opts: { binary: boolean }): void {
      if (o.throws) throw new Error('send failed');
      assert.equal(opts.binary, false, 'text frames');
      sent.push(data.toString());
    },
    terminate(): void {
      s.terminated = true;
    },
  };
  return s;
}

test('messages queued in one turn are written after it, in order; closed sockets skipped; a throwing send terminates only its socket', async () => {
  const outbox = new WebSocketOutbox();
  const a = fakeSocket();
  const b = fakeSocket();
  const closed = fakeSocket({ readyState: WebSocket.CLOSED });
  const broken = fakeSocket({ throws: true });
  outbox.push(a as unknown as WebSocket, Buffer.from('a1'));
  outbox.push(b as unknown as WebSocket, Buffer.from('b1'));
  outbox.push(closed as unknown as WebSocket, Buffer.from('c1'));
  outbox.push(broken as unknown as WebSocket, Buffer.from('x1'));
  outbox.push(a as unknown as WebSocket, Buffer.from('a2'));
  assert.deepEqual([a.sent, b.sent], [[], []], 'nothing written during the turn');
  await Promise.resolve();
  assert.deepEqual([a.sent, b.sent, closed.sent], [['a1', 'a2'], ['b1'], []]);
  assert.deepEqual([a.terminated, broken.terminated], [false, true]);
  // A later turn starts empty; flush() writes at once (a closing call's `stop` before its close frame).
  outbox.push(b as unknown as WebSocket, Buffer.from('b2'));
  outbox.flush();
  assert.deepEqual(b.sent, ['b1', 'b2']);
  await Promise.resolve();
  assert.deepEqual(b.sent, ['b1', 'b2'], 'not written twice');
});
