// A call's close detail (calls/close-detail.ts) is safe to show and log whatever a handler or an
// agent sends: no control or format characters (log forging, bidi tricks), bounded length,
// undefined when nothing printable is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeDetail, MAX_CLOSE_DETAIL_CHARS } from '../../src/transceiver/calls/close-detail.ts';

test('plain text is kept, white space runs collapse', () => {
  assert.equal(closeDetail('  1000   the caller said goodbye '), '1000 the caller said goodbye');
  assert.equal(closeDetail('au revoir, à bientôt 👋'), 'au revoir, à bientôt 👋');
});

test('control and format characters become spaces: no forged log lines, no bidi override', () => {
  assert.equal(closeDetail('ok\n{"level":"error","msg":"forged"}'), 'ok {"level":"error","msg":"forged"}');
  assert.equal(closeDetail('a\u202Eevil\u200Bb\u0000c\u001b[31m'), 'a evil b c [31m');
  assert.equal(closeDetail('x\u2028y\uFFFDz'), 'x y z');
});

test('bounded: at most MAX_CLOSE_DETAIL_CHARS code points, whatever the input size', () => {
  assert.equal(closeDetail('é'.repeat(10_000))!.length, MAX_CLOSE_DETAIL_CHARS);
  assert.equal([...closeDetail('😀'.repeat(1_000_000))!].length, MAX_CLOSE_DETAIL_CHARS);
});

test('nothing printable, or not a string: undefined', () => {
  for (const v of ['', '   ', '\u0000\u200B', undefined, 42, { toString: () => 'x' }]) assert.equal(closeDetail(v), undefined);
});
