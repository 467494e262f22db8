// Data channels inside the one AudioPeer (src/core/peer/peer-data.ts), lite ⇄ controlling on the
// netem and a manual clock: SCTP rides the DTLS as application data (RFC 8261 §3) once DTLS
// connects, in both DTLS roles and with either side (or both) sending INIT; stream ids follow the
// DTLS role (RFC 8832 §6); messages of every size come back byte-exact; an SCTP ABORT ends the
// channels and nothing else; a large send leaves in bursts behind the audio that was due.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import type { PeerDataOptions, PeerEvent } from '../../../src/core/peer/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { pair } from './peer-pair.ts';

const dcEvents = (events: PeerEvent<TransportAddress>[]): DataChannelEvent[] =>
  events.flatMap((e) => (e.type === 'datachannel' ? [e.event] : []));
const messages = (events: PeerEvent<TransportAddress>[]) => dcEvents(events).flatMap((e) => (e.type === 'message' ? [e] : []));

function connected(liteRole: 'client' | 'server', data: PeerDataOptions = {}) {
  const p = pair({ liteRole, dataChannels: data });
  p.run(
    () => dcEvents(p.events.lite).some((e) => e.type === 'connected') && dcEvents(p.events.ctl).some((e) => e.type === 'connected'),
    3_000,
  );
  return p;
}

for (const liteRole of ['client', 'server'] as const) {
  test(`lite peer is the DTLS ${liteRole}: channels open both ways with ids by DTLS role and carry 1 B..64 KiB byte-exact`, () => {
    const p = connected(liteRole);
    const liteData = p.lite.data!;
    const ctlData = p.ctl.data!;
    // The controlling side (the client's role) opens oai-events, as an OpenAI Realtime client does.
    const id = ctlData.open({ label: 'oai-events' }, p.clock.now());
    p.flush();
    assert.equal(id % 2, liteRole === 'client' ? 1 : 0, 'RFC 8832 §6: the DTLS client takes even ids, the server odd');
    p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'channel_open'), 1_000);
    const open = dcEvents(p.events.lite).find((e) => e.type === 'channel_open');
    assert.ok(open && open.type === 'channel_open' && open.label === 'oai-events' && open.remote && open.id === id);
    const sizes = [1, 1024, 16 * 1024, 64 * 1024];
    const sent = sizes.flatMap((n) => [Buffer.alloc(n, n & 0xff).fill(7, 0, 1), 'x'.repeat(n)]);
    for (const m of sent) assert.equal(ctlData.send(id, m, p.clock.now()), true);
    p.flush();
    p.run(() => messages(p.events.lite).length === sent.length, 5_000);
    assert.deepEqual(
      messages(p.events.lite).map((m) => m.data),
      sent,
    );
    // The lite side answers on the same channel, and opens one of its own.
    const mine = liteData.open({ label: 'parley', ordered: false }, p.clock.now());
    assert.equal(mine % 2, liteRole === 'client' ? 0 : 1);
    liteData.send(id, 'back', p.clock.now());
    p.flush();
    p.run(
      () => dcEvents(p.events.ctl).some((e) => e.type === 'channel_open' && e.id === mine) && messages(p.events.ctl).length === 1,
      1_000,
    );
    p.lite.data!.send(mine, Buffer.from([1, 2, 3]), p.clock.now());
    p.flush();
    p.run(() => messages(p.events.ctl).length === 2, 1_000);
    assert.deepEqual(
      messages(p.events.ctl).map((m) => [m.id, m.data]),
      [
        [id, 'back'],
        [mine, Buffer.from([1, 2, 3])],
      ],
    );
    const s = p.lite.stats().data!;
    assert.equal(s.messagesIn, sent.length);
    assert.equal(s.messagesOut, 2);
    assert.equal(s.channelsOpened, 2);
    assert.equal(s.state, 'established');
  });
}

test('both sides send INIT (simultaneous open, RFC 9260 §5.2.1): one association', () => {
  const p = connected('server', { initiate: true });
  const id = p.lite.data!.open({ label: 'a' }, p.clock.now());
  p.flush();
  p.run(() => dcEvents(p.events.ctl).some((e) => e.type === 'channel_open' && e.id === id), 1_000);
  assert.equal(dcEvents(p.events.lite).filter((e) => e.type === 'connected').length, 1);
});

test('a channel opened before DTLS connects opens once SCTP does', () => {
  const p = pair({ liteRole: 'client', dataChannels: {} });
  const id = p.ctl.data!.open({ label: 'early' }, p.clock.now());
  p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'channel_open' && e.id === id), 3_000);
});

test('an SCTP ABORT ends the channels and nothing else: audio goes on', () => {
  const p = connected('client');
  const id = p.ctl.data!.open({ label: 'x' }, p.clock.now());
  p.flush();
  p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'channel_open'), 1_000);
  p.ctl.data!.end(p.clock.now(), true);
  p.flush();
  p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'closed'), 1_000);
  assert.ok(dcEvents(p.events.lite).some((e) => e.type === 'channel_closed' && e.id === id));
  const before = p.events.ctl.filter((e) => e.type === 'audio').length;
  p.lite.queueAudio([Buffer.from('a'), Buffer.from('b')], p.clock.now());
  p.flush();
  p.run(() => p.events.ctl.filter((e) => e.type === 'audio').length === before + 2, 1_000);
  assert.equal(p.lite.state, 'connected');
  assert.equal(p.ctl.state, 'connected');
  assert.throws(() => p.lite.data!.send(id, 'late', p.clock.now()), { code: 'ERR_DATACHANNEL_NOT_OPEN' });
});

const BURST = 2;

test('a large send leaves in bounded bursts, each behind the RTP that was due; audio keeps its 20 ms cadence', () => {
  // A burst smaller than what one SACK lets go (about 3 packets here), so backlogs form.
  const p = connected('client', {
    maxBurstPackets: BURST,
    remoteMaxMessageSize: 256 * 1024,
    sctp: { maxSendBufferBytes: 4 * 1024 * 1024, maxReassemblyBytes: 4 * 1024 * 1024 },
  });
  const id = p.lite.data!.open({ label: 'bulk' }, p.clock.now());
  p.flush();
  p.run(() => dcEvents(p.events.ctl).some((e) => e.type === 'channel_open'), 1_000);
  const from = p.liteDrains.length;
  const start = p.clock.now();
  for (let i = 0; i < 12; i++) assert.equal(p.lite.data!.send(id, Buffer.alloc(256 * 1024, i), start), true);
  p.lite.queueAudio(
    Array.from({ length: 50 }, (_, i) => Buffer.from(`frame${i}`)),
    start,
  );
  p.flush();
  p.run(() => messages(p.events.ctl).length === 12 && p.events.ctl.filter((e) => e.type === 'audio').length === 50, 5_000);
  const drains = p.liteDrains.slice(from);
  // After the sends themselves (each send() is an input that may send a burst).
  const worst = Math.max(...drains.filter((d) => d.at > start).map((d) => d.kinds.filter((k) => k === 'dtls').length));
  // A burst is BURST packets' worth of DATA (the chunk that crosses it still goes) plus a SACK or other control packet.
  assert.ok(worst <= BURST + 2, `one input sends at most one burst (${worst} packets)`);
  assert.ok(drains.filter((d) => d.kinds.filter((k) => k === 'dtls').length >= BURST).length > 10, 'the 3 MiB left in many full bursts');
  assert.ok(p.lite.stats().data!.sctp.packetsOut > 2_500);
  // Within a drain, RTP never waits behind SCTP.
  for (const d of drains.filter((x) => x.at > start)) {
    const lastRtp = d.kinds.lastIndexOf('rtp');
    if (lastRtp >= 0) assert.ok(!d.kinds.slice(0, lastRtp).includes('dtls'), `RTP behind SCTP at t=${d.at}: ${d.kinds.join(',')}`);
  }
  // The frames left on their 20 ms slots while 3 MiB flowed.
  const rtpAt = drains.flatMap((d) => d.kinds.filter((k) => k === 'rtp').map(() => d.at));
  const gaps = rtpAt.slice(1).map((t, i) => t - rtpAt[i]);
  assert.ok(
    gaps.every((g) => g >= 15 && g <= 25),
    `RTP gaps ${gaps.join(',')}`,
  );
  assert.deepEqual(
    messages(p.events.ctl).map((m) => (m.data as Buffer)[0]),
    [...Array(12).keys()],
  );
});
