// Two peers over the seeded netem (loss, a long loss burst across a wrap, reordering within the
// replay window, duplicates): every delivered packet decrypts exactly once, every duplicate is
// refused, and sender and receiver agree on the ROC after two sequence wraps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../../src/core/address.ts';
import { SrtpError } from '../../../src/core/srtp/index.ts';
import { Netem } from '../../support/netem.ts';
import type { LinkProfile } from '../../support/netem.ts';
import { PROFILES, pair, rtp } from './helpers.ts';

const START = 65000;
const COUNT = 70000; // crosses 65535 → 0 twice
const BURST = { from: 131072 - START - 500, to: 131072 - START + 700 }; // 1200 lost around wrap #2
const TAIL = 10;
const SENDER: TransportAddress = { address: '192.0.2.1', port: 5004, family: 'IPv4' };
const RECEIVER: TransportAddress = { address: '192.0.2.2', port: 5004, family: 'IPv4' };
// One packet per ms: a reordered packet is overtaken by up to 30, well inside the 128-packet
// replay window (RFC 3711 §3.3.2).
const LINK: LinkProfile = { latencyMs: 5, loss: 0.16, duplicate: 0.02, reorder: 0.1, reorderExtraMs: 30 };

for (const profile of PROFILES) {
  test(`${profile}: seeded lossy, reordering, duplicating network across two wraps`, () => {
    const net = new Netem({ seed: `net-${profile}`, profile: LINK });
    const { client, server } = pair(profile);
    const payload = Buffer.alloc(20, 0x33);
    /** Which packet a datagram is, by its authentication tag (unique per packet). */
    const numberOf = new Map<string, number>();
    const tagOf = (wire: Buffer): string => wire.subarray(-10).toString('latin1');
    let delivered = 0;
    let replays = 0;
    let outOfOrder = 0;
    let highest = -1;
    const seen = new Set<number>();
    net.attach(RECEIVER, ({ data }) => {
      const n = numberOf.get(tagOf(data))!;
      const r = server.unprotectRtp(data);
      if (seen.has(n)) {
        assert.ok(r instanceof SrtpError && r.reason === 'replayed', `duplicate #${n}`);
        replays++;
        return;
      }
      assert.ok(Buffer.isBuffer(r), `#${n}: ${r instanceof SrtpError ? r.reason : ''}`);
      assert.equal(r.readUInt16BE(2), (START + n) & 0xffff);
      seen.add(n);
      delivered++;
      if (n < highest) outOfOrder++;
      highest = Math.max(highest, n);
    });
    for (let n = 0; n < COUNT; n++) {
      net.deliver(n);
      const wire = client.protectRtp(rtp((START + n) & 0xffff, 0x5eed, payload));
      numberOf.set(tagOf(wire), n);
      // What is in flight when the outage starts still arrives.
      if (n === BURST.from) net.setProfile({ ...LINK, loss: 1 });
      if (n === BURST.to) net.setProfile(LINK);
      // The last few go over a clean link, so the receiver has seen the sender's highest index.
      if (n === COUNT - TAIL) net.setProfile({ latencyMs: LINK.latencyMs });
      net.send({ from: SENDER, to: RECEIVER, data: wire }, n);
    }
    net.deliver(Infinity);
    assert.equal(numberOf.size, COUNT, 'every tag is distinct');
    assert.ok(seen.has(BURST.from - 1) || seen.has(BURST.from - 2), 'packets just before the burst arrive');
    assert.ok(
      [...seen].every((n) => n < BURST.from || n >= BURST.to),
      'nothing of the burst arrives',
    );
    assert.ok(delivered > COUNT * 0.8, `delivered ${delivered}`);
    assert.ok(replays > 500, `replays ${replays}`);
    assert.ok(outOfOrder > 1000, `reordered ${outOfOrder}`);
    const s = client.dump().sendRtp[0];
    const r = server.dump().recvRtp[0];
    assert.equal(s.roc, 2);
    assert.equal(r.roc, 2);
    assert.equal(r.highestIndex, s.highestIndex);
  });
}
