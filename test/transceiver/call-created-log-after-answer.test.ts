// Issue #18: the registry writes its "call created" line after the POST's answer is on its way
// (calls/call-registry.ts), not before it; nothing is lost by that: one line per call, with its
// id and handler, ahead of any other line of the call. A sync factory's call is answered without
// the handler deadline's timer (ContainedHandler.async), and a throwing one is still contained.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { createLogger } from '../../src/common/log.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { loopbackTransceiverOptions } from './helpers/loopback-transceiver.ts';

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const lines: { msg: string; call?: string; handler?: string }[] = [];
let trx: Transceiver;
let base: string;

before(async () => {
  const handlers = new HandlerRegistry();
  handlers.register('quiet', () => ({ onAudio() {}, close() {} }));
  handlers.register('throws', () => {
    throw new Error('factory bug');
  });
  trx = await startTransceiver(
    loopbackTransceiverOptions('created-log', handlers, 'quiet', {
      log: createLogger({ component: 'test', level: 'info', sink: (line) => lines.push(JSON.parse(line)) }),
    }),
  );
  base = `http://127.0.0.1:${trx.httpAddress.port}`;
});

after(() => trx.close());

async function call(handler: string): Promise<string> {
  const res = await fetch(`${base}/v1/realtime/calls?handler=${handler}`, {
    method: 'POST',
    body: CHROME,
    headers: { 'content-type': 'application/sdp' },
  });
  assert.equal(res.status, 201);
  assert.match(await res.text(), /^v=0\r\n/);
  return res.headers.get('location')!.split('/').pop()!;
}

test('each answered call gets exactly one "call created" line, with its id and handler, before its other lines', async () => {
  const ids = [await call('quiet'), await call('quiet')];
  await turn();
  for (const id of ids) {
    const mine = lines.filter((l) => l.call === id);
    assert.equal(mine.filter((l) => l.msg === 'call created').length, 1, `one line for ${id}`);
    assert.equal(mine[0].msg, 'call created');
    assert.equal(mine[0].handler, 'quiet');
  }
  const del = await fetch(`${base}/v1/realtime/calls/${ids[0]}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  await del.text();
  const first = lines.filter((l) => l.call === ids[0]).map((l) => l.msg);
  assert.deepEqual(first.slice(0, 1), ['call created']);
  assert.ok(first.includes('call closed'), 'the hang-up is logged after it');
});

test('a sync factory that throws is contained as before: 201, and the call is logged once', async () => {
  const id = await call('throws');
  await turn();
  assert.equal(lines.filter((l) => l.call === id && l.msg === 'call created').length, 1);
  const del = await fetch(`${base}/v1/realtime/calls/${id}`, { method: 'DELETE' });
  await del.text();
});
