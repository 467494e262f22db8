// Two peers over a seeded simulated network (loss, a long loss burst across a wrap, reordering
// within the replay window, duplicates): every delivered packet decrypts exactly once, every
// duplicate is refused, and sender and receiver agree on the ROC after two sequence wraps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { SrtpError } from '../../../src/core/srtp/index.ts';
import { PROFILES, pair, rtp } from './helpers.ts';

const START = 65000;
const COUNT = 70000; // crosses 65535 → 0 twice
const BURST = { from: 131072 - START - 500, to: 131072 - START + 700 }; // 1200 lost around wrap #2

for (const profile of PROFILES) {
  test(`${profile}: seeded lossy, reordering, duplicating network across two wraps`, () => {
    const rand = seededRng(`net-${profile}`);
    const u8 = (): number => rand.bytes(1)[0];
    const { client, server } = pair(profile);
    const payload = Buffer.alloc(20, 0x33);
    let window: { n: number; wire: Buffer }[] = [];
    let delivered = 0;
    let replays = 0;
    const seen = new Set<number>();
    const deliver = (batch: { n: number; wire: Buffer }[]): void => {
      for (const { n, wire } of batch) {
        const r = server.unprotectRtp(wire);
        if (seen.has(n)) {
          assert.ok(r instanceof SrtpError && r.reason === 'replayed', `duplicate #${n}`);
          replays++;
          continue;
        }
        assert.ok(Buffer.isBuffer(r), `#${n}: ${r instanceof SrtpError ? r.reason : ''}`);
        assert.equal(r.readUInt16BE(2), (START + n) & 0xffff);
        seen.add(n);
        delivered++;
      }
    };
    for (let n = 0; n < COUNT; n++) {
      const wire = client.protectRtp(rtp((START + n) & 0xffff, 0x5eed, payload));
      if (n === BURST.from) {
        deliver(window); // what was in flight arrives before the outage
        window = [];
      }
      if (n >= BURST.from && n < BURST.to) continue;
      if (u8() < 40) continue; // ~16% random loss
      window.push({ n, wire });
      if (u8() < 5) window.push({ n, wire }); // ~2% duplicated
      if (window.length >= 32) {
        // Reorder within a batch of 32 (well inside the 128-packet replay window).
        for (let i = window.length - 1; i > 0; i--) {
          const j = u8() % (i + 1);
          [window[i], window[j]] = [window[j], window[i]];
        }
        deliver(window);
        window = [];
      }
    }
    deliver(window);
    assert.ok(delivered > COUNT * 0.8, `delivered ${delivered}`);
    assert.ok(replays > 500, `replays ${replays}`);
    const s = client.dump().sendRtp[0];
    const r = server.dump().recvRtp[0];
    assert.equal(s.roc, 2);
    assert.equal(r.roc, 2);
    assert.equal(r.highestIndex, s.highestIndex);
  });
}
