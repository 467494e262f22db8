// RFC 3711 §3.3.1 (ROC, index estimation) and §3.3.2 (replay protection), per SSRC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpError, estimateRoc } from '../../../src/core/srtp/index.ts';
import { PROFILES, pair, rtcpRr, rtp } from './helpers.ts';

const reason = (r: unknown): string => (r instanceof SrtpError ? r.reason : 'accepted');

test('RFC 3711 Appendix A: ROC estimate around the wrap', () => {
  assert.equal(estimateRoc(0, 65535, 0), 1);
  assert.equal(estimateRoc(0, 65000, 200), 1);
  assert.equal(estimateRoc(1, 5, 65530), 0);
  assert.equal(estimateRoc(0, 5, 65530), -1);
  assert.equal(estimateRoc(3, 40000, 40010), 3);
  assert.equal(estimateRoc(3, 100, 30000), 3);
});

for (const profile of PROFILES) {
  test(`${profile}: srtp-replay-attack — the same packet twice is refused as replayed`, () => {
    const { client, server } = pair(profile);
    const wire = client.protectRtp(rtp(10));
    assert.equal(reason(server.unprotectRtp(wire)), 'accepted');
    assert.equal(reason(server.unprotectRtp(wire)), 'replayed');
    const c = client.protectRtcp(rtcpRr());
    assert.equal(reason(server.unprotectRtcp(c)), 'accepted');
    assert.equal(reason(server.unprotectRtcp(c)), 'replayed');
  });

  test(`${profile}: protecting an index twice throws instead of reusing keystream or a GCM nonce`, () => {
    const { client, server } = pair(profile);
    for (let seq = 500; seq < 700; seq++) client.protectRtp(rtp(seq));
    assert.throws(
      () => client.protectRtp(rtp(650, undefined, Buffer.from('different payload'))),
      (e: unknown) => reason(e) === 'replayed',
    );
    assert.throws(
      () => client.protectRtp(rtp(510)),
      (e: unknown) => reason(e) === 'too_old',
    );
    assert.equal(reason(server.unprotectRtp(client.protectRtp(rtp(700)))), 'accepted', 'the stream goes on');
  });

  test(`${profile}: reordering inside the window is accepted, each packet once`, () => {
    const { client, server } = pair(profile);
    const wires = Array.from({ length: 100 }, (_, i) => client.protectRtp(rtp(1000 + i)));
    const order = [...wires.keys()].reverse(); // worst case: newest first
    assert.equal(reason(server.unprotectRtp(wires[99])), 'accepted');
    for (const i of order.slice(1)) assert.equal(reason(server.unprotectRtp(wires[i])), 'accepted', `#${i}`);
    for (const i of order) assert.equal(reason(server.unprotectRtp(wires[i])), 'replayed', `#${i} again`);
  });

  test(`${profile}: a packet older than the window is refused as too-old`, () => {
    const { client, server } = pair(profile, { replayWindow: 64 });
    const old = client.protectRtp(rtp(1));
    const mid = client.protectRtp(rtp(2));
    for (let s = 3; s < 66; s++) client.protectRtp(rtp(s));
    assert.equal(reason(server.unprotectRtp(client.protectRtp(rtp(66)))), 'accepted');
    assert.equal(reason(server.unprotectRtp(old)), 'too_old'); // 66 - 64 = 2 is the left edge
    assert.equal(reason(server.unprotectRtp(mid)), 'too_old');
    const c = Array.from({ length: 70 }, () => client.protectRtcp(rtcpRr()));
    assert.equal(reason(server.unprotectRtcp(c[69])), 'accepted');
    assert.equal(reason(server.unprotectRtcp(c[5])), 'too_old');
    assert.equal(reason(server.unprotectRtcp(c[6])), 'accepted');
  });

  test(`${profile}: sequence wrap 65535 → 0 increments the ROC on both sides`, () => {
    const { client, server } = pair(profile);
    for (let i = 0; i < 20; i++) {
      const seq = (65530 + i) & 0xffff;
      const plain = rtp(seq);
      assert.deepEqual(server.unprotectRtp(client.protectRtp(plain)), plain, `seq ${seq}`);
    }
    const s = client.dump().sendRtp[0];
    const r = server.dump().recvRtp[0];
    assert.equal(s.roc, 1);
    assert.equal(r.roc, 1);
    assert.equal(r.highestIndex, 65536 + 13);
  });

  test(`${profile}: a loss burst across the wrap keeps both sides in step`, () => {
    const { client, server } = pair(profile);
    const seqs = [65000, 65001, 65200]; // then 600 packets are lost across the wrap
    for (const seq of seqs) assert.equal(reason(server.unprotectRtp(client.protectRtp(rtp(seq)))), 'accepted');
    for (let seq = 65201; seq < 65536 + 400; seq++) client.protectRtp(rtp(seq & 0xffff));
    for (let seq = 400; seq < 410; seq++) assert.deepEqual(server.unprotectRtp(client.protectRtp(rtp(seq))), rtp(seq));
    assert.equal(server.dump().recvRtp[0].roc, 1);
    // A late pre-wrap packet inside the window still authenticates with the old ROC.
    const { client: c2, server: s2 } = pair(profile);
    const late = c2.protectRtp(rtp(65534));
    assert.equal(reason(s2.unprotectRtp(c2.protectRtp(rtp(65533)))), 'accepted');
    assert.equal(reason(s2.unprotectRtp(c2.protectRtp(rtp(3)))), 'accepted');
    assert.deepEqual(s2.unprotectRtp(late), rtp(65534));
    assert.equal(s2.dump().recvRtp[0].roc, 1);
  });

  test(`${profile}: per-SSRC state is separate (ROC, replay, SRTCP index)`, () => {
    const { client, server } = pair(profile);
    const a = client.protectRtp(rtp(65500, 0xa));
    const b = client.protectRtp(rtp(65500, 0xb)); // same seq, other SSRC: not a replay
    assert.equal(reason(server.unprotectRtp(a)), 'accepted');
    assert.equal(reason(server.unprotectRtp(b)), 'accepted');
    for (let s = 65530; s < 65540; s++) server.unprotectRtp(client.protectRtp(rtp(s & 0xffff, 0xa)));
    const dump = server.dump().recvRtp;
    assert.equal(dump.find((d) => d.ssrc === 0xa)!.roc, 1);
    assert.equal(dump.find((d) => d.ssrc === 0xb)!.roc, 0);
    client.protectRtcp(rtcpRr(1));
    client.protectRtcp(rtcpRr(1));
    const first2 = client.protectRtcp(rtcpRr(2));
    assert.deepEqual(client.dump().sendRtcpIndex, [
      [1, 2],
      [2, 1],
    ]);
    assert.equal(reason(server.unprotectRtcp(first2)), 'accepted');
  });

  test(`${profile}: new SSRCs beyond the cap are refused, known ones keep working`, () => {
    const { client, server } = pair(profile, { maxSsrcs: 4 });
    const { client: other } = pair(profile, { maxSsrcs: 100 });
    for (let ssrc = 1; ssrc <= 4; ssrc++) assert.equal(reason(server.unprotectRtp(client.protectRtp(rtp(1, ssrc)))), 'accepted');
    assert.equal(reason(server.unprotectRtp(other.protectRtp(rtp(1, 99)))), 'too_many_ssrcs');
    assert.equal(reason(server.unprotectRtp(client.protectRtp(rtp(2, 3)))), 'accepted');
    assert.throws(
      () => client.protectRtp(rtp(1, 5)),
      (e: unknown) => e instanceof SrtpError && e.reason === 'too_many_ssrcs',
    );
  });

  test(`${profile}: forged packets with fresh SSRCs create no state`, () => {
    const { server } = pair(profile, { maxSsrcs: 2 });
    // Same profile, different keys: well-formed packets that cannot authenticate.
    const { client: attacker } = pair(profile, { maxSsrcs: 100 }, 'attacker');
    for (let ssrc = 100; ssrc < 120; ssrc++) {
      const f = attacker.protectRtp(rtp(1, ssrc));
      assert.equal(reason(server.unprotectRtp(f)), 'auth_failed');
    }
    assert.equal(server.dump().recvRtp.length, 0);
  });
}
