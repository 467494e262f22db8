// readModelEvent (realtime-events.ts), the reader of the model's events that decodes an audio
// delta's base64 from the message bytes: whatever the bytes, it returns what
// JSON.parse(String(bytes)) returns or throws where that throws, and samples it hands back are
// the ones pcm16FromBase64 gives for that delta. Hostile input: truncated at every byte, escaped
// quotes and other escapes inside the delta, decoy `"delta":"` keys in nested objects and
// strings, duplicate keys, the stand-in's own spelling elsewhere, wrong types, every byte value
// inside the delta, a delta larger than the scratch, and seeded random byte mutations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pcm16FromBase64, pcm16ToBase64, readModelEvent } from '../../src/transceiver/handlers/realtime/realtime-events.ts';

const scratch = new Int16Array(24000);

function tone(n: number): Int16Array {
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(9000 * Math.sin(i / 5));
  return pcm;
}

/** A delta as OpenAI's GA API and the test model send it: `delta` last. */
function deltaEvent(delta: string): Record<string, unknown> {
  return {
    type: 'response.output_audio.delta',
    event_id: 'event_C1b2',
    response_id: 'resp_D3e4',
    item_id: 'item_F5g6',
    output_index: 0,
    content_index: 0,
    delta,
  };
}

/** The property every input must have: the same value (or a throw) as JSON.parse, and the same samples. */
function checkSame(bytes: Buffer, what: string): boolean {
  let expected: unknown;
  let threw = false;
  try {
    expected = JSON.parse(String(bytes));
  } catch {
    threw = true;
  }
  if (threw) {
    assert.throws(() => readModelEvent(bytes, scratch), SyntaxError, what);
    return false;
  }
  const read = readModelEvent(bytes, scratch);
  assert.deepEqual(read.event, expected, what);
  if (read.samples === undefined) return false;
  const delta = (expected as { delta: string }).delta;
  assert.deepEqual(read.samples, pcm16FromBase64(delta), what);
  return true;
}

test('an audio delta in the shape models send is read from its bytes: same event, samples decoded into the scratch', () => {
  const pcm = tone(2400);
  const bytes = Buffer.from(JSON.stringify(deltaEvent(pcm16ToBase64(pcm))));
  const read = readModelEvent(bytes, scratch);
  assert.deepEqual(read.event, JSON.parse(String(bytes)));
  assert.ok(read.samples, 'decoded on the way');
  assert.equal(read.samples.buffer, scratch.buffer);
  assert.deepEqual(read.samples, pcm);
  // Wherever `delta` stands among the keys, and with padding of 0, 1 or 2 characters.
  for (const n of [0, 1, 2, 3, 7]) {
    const delta = pcm16ToBase64(pcm.subarray(0, n));
    for (const event of [
      { delta, type: 'response.output_audio.delta' },
      { type: 'x', delta, item_id: 'i', extra: { a: [1, 2] } },
    ]) {
      assert.equal(checkSame(Buffer.from(JSON.stringify(event)), `n=${n} ${Object.keys(event).join(',')}`), true);
    }
  }
  // An odd byte count: the event, no samples (the handler's own decode then refuses it, counted).
  const odd = Buffer.from(JSON.stringify(deltaEvent(Buffer.from([1, 2, 3]).toString('base64'))));
  assert.equal(readModelEvent(odd, scratch).samples, undefined);
  assert.equal(checkSame(odd, 'odd'), false);
});

test('other events, and deltas that are not plain base64, are parsed whole, as JSON.parse gives them', () => {
  const b64 = pcm16ToBase64(tone(16));
  const texts = [
    '{"type":"response.done","response":{"id":"resp_1"}}',
    '{"type":"response.output_audio_transcript.delta","delta":"a 660 Hz tone"}',
    '{"type":"response.output_audio_transcript.delta","delta":"Helo"}', // looks like base64: read fast, still the same text
    // Escapes inside the delta: a quote, a slash, a unicode escape, a backslash.
    `{"type":"response.output_audio.delta","delta":"AA\\"AA${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"AA\\/A${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"\\u0041AAA${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"AAA\\\\${b64}"}`,
    // Decoys: the first "delta":" is not the event's own.
    `{"type":"response.output_audio.delta","x":{"delta":"AAAA"},"delta":"${b64}"}`,
    `{"type":"response.output_audio.delta","note":"\\"delta\\":\\"AAAA","delta":"${b64}"}`,
    `{"type":"response.output_audio.delta","x\\"delta":"AAAA","delta":"BBBB"}`,
    `{"type":"response.output_audio.delta","x":{"delta":"AAAA"}}`,
    `["delta","AAAA"]`,
    `{"type":"response.output_audio.delta","list":["a","delta":"AAAA"]}`,
    // Duplicate keys: JSON.parse keeps the last.
    `{"type":"response.output_audio.delta","delta":"AAAA","delta":"${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"${b64}","delta":"AAAA"}`,
    `{"type":"response.output_audio.delta","delta":"${b64}","delta":7}`,
    // The stand-in's spelling elsewhere in the event.
    `{"type":"response.output_audio.delta","item_id":"\\u0000","delta":"${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"${b64}","item_id":"\\u0000"}`,
    `{"type":"response.output_audio.delta","delta":"${b64}","\\u0000":1}`,
    `{"type":"response.output_audio.delta","x":{"delta":"${b64}"},"delta":"\\u0000"}`,
    // Wrong types and shapes around a delta.
    `{"type":7,"delta":"${b64}"}`,
    `{"delta":"${b64}"}`,
    `{"type":"response.output_audio.delta","delta":["${b64}"]}`,
    `{"type":"response.output_audio.delta","delta":null}`,
    `{"type":"response.output_audio.delta","delta": "${b64}"}`,
    `{"type":"response.output_audio.delta","delta":"${b64}"} `,
    `{"type":"response.output_audio.delta","delta":"${b64}"}}`,
    `{"type":"response.output_audio.delta","delta":"${b64}",}`,
    `{"type":"response.output_audio.delta","delta":"${b64}"`,
    `{"type":"response.output_audio.delta","delta":"${b64}`,
    `{"type":"response.output_audio.delta","delta":"${b64}"}garbage`,
    `"delta":"${b64}"`,
    `{"type":"response.output_audio.delta","delta":"A=AA"}`,
    `{"type":"response.output_audio.delta","delta":"AA-_"}`,
    `{"type":"response.output_audio.delta","delta":"AB\u00e9A"}`,
    `{"type":"résumé ✓","delta":"${b64}"}`,
    '',
    'null',
    '{}',
  ];
  let fast = 0;
  for (const text of texts) if (checkSame(Buffer.from(text), text.slice(0, 120))) fast++;
  assert.ok(fast >= 3, `the fast path ran for some of them (${fast})`);
});

test('truncated at every byte, the reader agrees with JSON.parse', () => {
  const bytes = Buffer.from(JSON.stringify(deltaEvent(pcm16ToBase64(tone(40)))));
  for (let n = 0; n <= bytes.length; n++) checkSame(bytes.subarray(0, n), `first ${n} bytes`);
});

test('every byte value inside the delta: only base64 characters are read fast, and the value is JSON.parse’s either way', () => {
  const b64 = pcm16ToBase64(tone(24));
  for (let byte = 0; byte < 256; byte++) {
    const bytes = Buffer.concat([
      Buffer.from('{"type":"response.output_audio.delta","delta":"'),
      Buffer.from(b64.slice(0, 8), 'latin1'),
      Buffer.from([byte, 0x41, 0x41, 0x41]),
      Buffer.from(`${b64.slice(8)}"}`, 'latin1'),
    ]);
    const fast = checkSame(bytes, `byte 0x${byte.toString(16)}`);
    const alphabet = /[A-Za-z0-9+/_-]/.test(String.fromCharCode(byte));
    if (!alphabet) assert.equal(fast, false, `byte 0x${byte.toString(16)} is not read fast`);
  }
});

test('a delta longer than the scratch, and a huge one, are parsed whole with the same result', () => {
  const small = new Int16Array(100);
  const bytes = Buffer.from(JSON.stringify(deltaEvent(pcm16ToBase64(tone(2400)))));
  const read = readModelEvent(bytes, small);
  assert.equal(read.samples, undefined);
  assert.deepEqual(read.event, JSON.parse(String(bytes)));
  const huge = Buffer.from(JSON.stringify(deltaEvent(pcm16ToBase64(tone(24000 * 30)))));
  assert.deepEqual(readModelEvent(huge, scratch).event, JSON.parse(String(huge)));
});

test('seeded random byte mutations of model events: the reader agrees with JSON.parse on every one', () => {
  let seed = 0x9e3779b9;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const seeds = [
    Buffer.from(JSON.stringify(deltaEvent(pcm16ToBase64(tone(64))))),
    Buffer.from(JSON.stringify({ type: 'response.output_audio.delta', x: { delta: 'AAAA' }, delta: pcm16ToBase64(tone(8)) })),
    Buffer.from(`{"type":"a","delta":"${pcm16ToBase64(tone(6))}","b":"\\u0000"}`),
  ];
  const alphabet = Buffer.from('"\\:{},[]u0A=+/- \u00e9x', 'utf8');
  let fast = 0;
  for (let i = 0; i < 6000; i++) {
    const base = seeds[i % seeds.length];
    let bytes = Buffer.from(base);
    for (let m = 1 + next(3); m > 0; m--) {
      const at = next(bytes.length + 1);
      const b = alphabet[next(alphabet.length)];
      const op = next(3);
      if (op === 0 && at < bytes.length) bytes[at] = b;
      else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([b]), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
    if (checkSame(bytes, `mutation ${i}: ${bytes.toString('latin1').slice(0, 200)}`)) fast++;
  }
  assert.ok(fast > 100, `mutations the fast path took (${fast}) were checked too`);
});
