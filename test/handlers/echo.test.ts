import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import type { HandlerChannel } from '../../src/transceiver/handlers/media-handler.ts';
import { fakeChannel, inbound, recordingContext } from './fake-context.ts';

test('echo sends back exactly the packets it got, in order, one for one', () => {
  const ctx = recordingContext();
  const h = createEchoHandler(ctx);
  const packets = [Buffer.from([0x78, 1, 2, 3]), Buffer.from([0x78]), Buffer.alloc(300, 7)];
  packets.forEach((p, i) => h.onAudio(inbound(p, i)));
  assert.deepEqual(ctx.sent, packets);
  assert.deepEqual(ctx.hangups, []);
  h.close();
});

test('echo copies each packet, so a receive buffer reused afterwards does not change what is queued', () => {
  const ctx = recordingContext();
  const h = createEchoHandler(ctx);
  const shared = Buffer.from([1, 2, 3]);
  h.onAudio(inbound(shared, 0));
  shared.fill(9);
  assert.deepEqual([...ctx.sent[0]], [1, 2, 3]);
});

test('echo sends nothing after close(), and close() is idempotent', () => {
  const ctx = recordingContext();
  const h = createEchoHandler(ctx);
  h.close();
  h.close();
  h.onAudio(inbound(Buffer.from([1]), 0));
  assert.equal(ctx.sent.length, 0);
});

test('echo sends every data-channel message back on the channel it came from, text as text, bytes as bytes; nothing after close()', () => {
  const h = createEchoHandler(recordingContext());
  const sent: Array<[string, string | Buffer]> = [];
  const channel = (label: string): HandlerChannel => fakeChannel(label, (data) => (sent.push([label, data]), true));
  const a = channel('oai-events');
  const b = channel('other');
  h.onChannel!(a);
  h.onChannel!(b);
  a.onMessage!('{"type":"ping"}');
  b.onMessage!(Buffer.from([1, 2]));
  assert.deepEqual(sent, [
    ['oai-events', '{"type":"ping"}'],
    ['other', Buffer.from([1, 2])],
  ]);
  h.close();
  a.onMessage!('late');
  assert.equal(sent.length, 2);
});
