// AudioPeer against AudioPeer (lite ⇄ controlling) on the netem and a manual clock, for what
// only the peer decides: a ClientHello that overtakes the check's answer is taken by the
// controlling DTLS server (RFC 5763 §5; the lite side selected the pair when it answered), frames
// queued before SRTP keys wait for them without holding a deadline, an unanswered ClientHello
// resent the moment the nomination arrives (RFC 8445 §7.3.1.5, DtlsEndpoint.retransmitNow), and
// close() with and without an RTCP BYE (RFC 3550 §6.6) before close_notify (RFC 5246 §7.2.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_RETRANSMIT_MS } from '../../../src/core/dtls/flight.ts';
import { LITE, pair } from './peer-pair.ts';

test('the controlling DTLS server takes a ClientHello that overtakes the answer to its check, and connects', () => {
  const p = pair({ liteRole: 'client', holdStunAnswers: true });
  p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected' && p.events.ctl.some((e) => e.type === 'path'), 2_000);
  assert.ok(p.stats.held > 0, 'the answer to the check was held back behind the ClientHello');
  // The ClientHello arrived before ICE connected: answered where it came from, not dropped.
  assert.equal(p.ctl.stats().drops.not_ready, 0);
  assert.deepEqual(p.ctl.selectedPath, LITE);
});

test('the lite DTLS client sends its ClientHello once its request back is answered, not before (issue #19)', () => {
  const p = pair({ liteRole: 'client', ctlDeafUntilPath: true });
  const t0 = p.clock.now();
  p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected', 2_000);
  // t0: check; +10: one Binding request back only — the check pays for it but not for it and our
  // answer together toward an address that has not shown it receives (issue #19), and a peer
  // that nominates on its first check sends nothing more for seconds; +20: the controlling side
  // answers it; +30: that answer confirms the address, so our held answer, one more request
  // (the check did not nominate: a peer that nominates on a triggered check does it now) and the
  // ClientHello leave. This far end, deaf until it has a path, loses that ClientHello; its
  // nomination (+40) brings it again at once (+50), not after the retransmission timer.
  assert.deepEqual(
    p.liteDrains.slice(0, 3),
    [
      { at: t0 + 10, kinds: ['stun'], dtlsBytes: 0 },
      { at: t0 + 30, kinds: ['stun', 'stun', 'dtls'], dtlsBytes: 135 },
      { at: t0 + 50, kinds: ['stun', 'dtls'], dtlsBytes: 135 },
    ],
    'the request back; then the held answer, the second request and the ClientHello; then the nomination’s answer and the ClientHello again',
  );
  assert.equal(p.lite.dump().ice?.checksBack, 2);
  assert.equal(p.lite.dump().ice?.stats.held_by_budget, 1, 'the answer waited for the confirmation');
  assert.equal(p.stats.lostOnCtl, 1, 'the one ClientHello that reached the far end before it had a path');
  assert.ok(p.clock.now() < t0 + 10 + INITIAL_RETRANSMIT_MS, `connected at t0+${p.clock.now() - t0} ms`);
  assert.equal(p.lite.dump().ice?.stats.response_to_our_check, 2, 'the far end answered both our requests');
});

test('frames queued before SRTP keys hold no deadline, and leave one per 20 ms once connected', () => {
  const p = pair({ liteRole: 'client' });
  const frames = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];
  p.lite.queueAudio(frames, p.clock.now());
  const due = p.lite.pollTimeout();
  assert.ok(due === undefined || due > p.clock.now(), 'no deadline at once for frames that cannot go yet');
  p.run(() => p.events.ctl.filter((e) => e.type === 'audio').length === 3, 2_000);
  const audio = p.events.ctl.flatMap((e) => (e.type === 'audio' ? [e] : []));
  assert.deepEqual(
    audio.map((a) => a.payload.toString()),
    ['a', 'b', 'c'],
  );
  assert.deepEqual([audio[1].receivedAt - audio[0].receivedAt, audio[2].receivedAt - audio[1].receivedAt], [20, 20]);
});

for (const bye of ['hangup', undefined]) {
  test(`close(now${bye ? `, '${bye}'` : ''}): ${bye ? 'an SRTCP BYE, then' : 'no BYE, only'} close_notify; idempotent`, () => {
    const p = pair({ liteRole: 'server' });
    p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected', 2_000);
    p.lite.close(p.clock.now(), bye);
    p.lite.close(p.clock.now(), bye);
    p.flush();
    p.run(() => p.ctl.state === 'failed', 1_000);
    const byes = p.events.ctl.filter((e) => e.type === 'rtcp' && e.packets.some((q) => q.type === 'bye'));
    assert.equal(byes.length, bye ? 1 : 0);
    const failed = p.events.ctl.find((e) => e.type === 'failed');
    assert.ok(failed && failed.type === 'failed' && failed.reason === 'dtls_closed');
    assert.equal(p.lite.state, 'closed');
    assert.equal(p.lite.pollTimeout(), undefined);
    assert.equal(p.ctl.pollTimeout(), undefined, 'a failed peer holds no deadline');
  });
}
