// The arrival-driven jitter buffer (src/media/jitter-buffer.ts): in-order release, reordering
// inside the depth undone, losses declared once `depth` later frames arrived, late frames and
// duplicates counted and dropped, sequence wrap-around, resync after a long jump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer } from '../../src/media/jitter-buffer.ts';
import type { JitterOutput } from '../../src/media/jitter-buffer.ts';

const frame = (n: number): Buffer => Buffer.from([n & 0xff]);
function feed(jb: JitterBuffer, seqs: number[]): JitterOutput[] {
  const out: JitterOutput[] = [];
  for (const s of seqs) {
    jb.push(s, frame(s));
    for (let o = jb.pop(); o; o = jb.pop()) out.push(o);
  }
  return out;
}
const show = (o: JitterOutput[]): string[] => o.map((x) => (x.lost ? `~${x.sequence}` : `${x.sequence}`));

test('in order: each frame comes out at once', () => {
  const jb = new JitterBuffer();
  assert.deepEqual(show(feed(jb, [10, 11, 12, 13])), ['10', '11', '12', '13']);
});

test('reordered within the depth: released in order, nothing lost', () => {
  const jb = new JitterBuffer({ depthFrames: 3 });
  assert.deepEqual(show(feed(jb, [1, 3, 4, 2, 5, 7, 6, 8])), ['1', '2', '3', '4', '5', '6', '7', '8']);
  assert.equal(jb.stats.lost, 0);
});

test('a lost frame is declared after depth later frames; a frame arriving after that is late and dropped', () => {
  const jb = new JitterBuffer({ depthFrames: 2 });
  assert.deepEqual(show(feed(jb, [1, 3, 4, 5, 2, 2])), ['1', '~2', '3', '4', '5']);
  assert.deepEqual(jb.stats, { received: 6, delivered: 4, lost: 1, late: 2, duplicate: 0, resyncs: 0 });
  feed(jb, [7, 7]);
  assert.equal(jb.stats.duplicate, 1);
  // push() says what it did, for the PCM layer's drop counts.
  assert.equal(jb.push(9, Buffer.from('9')), 'kept');
  assert.equal(jb.push(9, Buffer.from('9')), 'duplicate');
  assert.equal(jb.push(2, Buffer.from('2')), 'late');
});

test('sequence numbers wrap at 65535', () => {
  const jb = new JitterBuffer();
  assert.deepEqual(show(feed(jb, [65534, 0, 65535, 1])), ['65534', '65535', '0', '1']);
});

test('a jump beyond maxGapFrames resynchronises instead of concealing it', () => {
  const jb = new JitterBuffer({ depthFrames: 2, maxGapFrames: 10 });
  assert.deepEqual(show(feed(jb, [1, 2, 500, 501])), ['1', '2', '500', '501']);
  assert.equal(jb.stats.resyncs, 1);
  assert.equal(jb.stats.lost, 0);
});
