// Pacing of SCTP output (src/core/peer/pacer.ts) and audio first (src/core/peer/peer-data.ts):
// the pacer's bucket refills at 1.25·cwnd/SRTT with a burst allowance and never lets more than
// its cap leave in one 20 ms slot; in a peer pair, 6 MiB sent at once leave spread over the slots
// (none above the cap) while the 20 ms audio frames keep their cadence (p99 of the gaps < 25 ms)
// and none is lost, and the data still arrives whole and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import { Pacer, PACING_SLOT_MS } from '../../../src/core/peer/index.ts';
import type { PeerEvent } from '../../../src/core/peer/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { pair } from './peer-pair.ts';

const dcEvents = (events: PeerEvent<TransportAddress>[]): DataChannelEvent[] =>
  events.flatMap((e) => (e.type === 'datachannel' ? [e.event] : []));

/** Sends 1200-byte packets whenever the pacer allows, from t=0 to `ms`, waking at nextSendAt; returns bytes per slot. */
function drive(pacer: Pacer, ms: number): number[] {
  const perSlot: number[] = [];
  let now = 0;
  for (let wakes = 0; now < ms && wakes < 100_000; wakes++) {
    while (pacer.canSend(now)) {
      pacer.sent(1200, now);
      const slot = Math.floor(now / PACING_SLOT_MS);
      perSlot[slot] = (perSlot[slot] ?? 0) + 1200;
    }
    const next = pacer.nextSendAt(now);
    assert.ok(next > now, 'a blocked pacer names a later time');
    now = next;
  }
  return perSlot;
}

test('pacer: without an RTT only the per-slot cap applies; it names the next slot', () => {
  const pacer = new Pacer({ maxBytesPerSlot: 12_000 });
  const perSlot = drive(pacer, 200);
  assert.equal(perSlot.length, 10);
  // The packet that crosses the cap may leave (packets are not split): at most cap + one packet.
  for (const b of perSlot) assert.ok(b >= 12_000 && b <= 13_200, `slot bytes ${b}`);
});

test('pacer: with cwnd and SRTT it sends about 1.25·cwnd per SRTT plus one burst', () => {
  const pacer = new Pacer({ burstBytes: 4800, maxBytesPerSlot: Infinity });
  pacer.setRate(48_000, 40); // 1.25 · 48 000 B / 40 ms = 1500 B/ms
  assert.equal(pacer.rate, 1500);
  const total = drive(pacer, 1000).reduce((a, b) => a + b, 0);
  assert.ok(total >= 1500 * 1000 * 0.95 && total <= 1500 * 1000 + 4800 + 1200, `${total} bytes in 1 s`);
});

test('6 MiB sent at once leave paced: no slot above the cap, audio keeps its 20 ms cadence and loses nothing', () => {
  const cap = 32 * 1024;
  const big = 8 * 1024 * 1024;
  const p = pair({
    liteRole: 'client',
    dataChannels: {
      remoteMaxMessageSize: 256 * 1024,
      pacing: { maxBytesPerSlot: cap },
      sctp: { maxSendBufferBytes: big, maxReassemblyBytes: big },
    },
  });
  p.run(
    () => dcEvents(p.events.lite).some((e) => e.type === 'connected') && dcEvents(p.events.ctl).some((e) => e.type === 'connected'),
    3_000,
  );
  const id = p.lite.data!.open({ label: 'bulk' }, p.clock.now());
  p.flush();
  p.run(() => dcEvents(p.events.ctl).some((e) => e.type === 'channel_open'), 1_000);
  const from = p.liteDrains.length;
  const start = p.clock.now();
  for (let i = 0; i < 24; i++) assert.equal(p.lite.data!.send(id, Buffer.alloc(256 * 1024, i), start), true);
  p.flush();
  // A microphone: one frame every 20 ms for as long as the transfer runs (it takes ~4 s at the cap).
  const frames = 200;
  let queued = 0;
  const got = () => dcEvents(p.events.ctl).filter((e) => e.type === 'message');
  const audio = () => p.events.ctl.filter((e) => e.type === 'audio');
  let transferDone = Infinity;
  p.run(() => {
    const now = p.clock.now();
    if (queued < frames && now >= start + queued * 20) {
      p.lite.queueAudio([Buffer.from(`frame${queued++}`)], now);
      p.flush();
    }
    if (got().length === 24) transferDone = Math.min(transferDone, now);
    return got().length === 24 && audio().length === frames;
  }, 20_000);
  const drains = p.liteDrains.slice(from);
  const perSlot = new Map<number, number>();
  for (const d of drains)
    perSlot.set(Math.floor(d.at / PACING_SLOT_MS), (perSlot.get(Math.floor(d.at / PACING_SLOT_MS)) ?? 0) + d.dtlsBytes);
  // DTLS adds a record header and tag per SCTP packet (< 64 bytes of ~1200); one packet may cross the cap.
  const worstSlot = Math.max(...perSlot.values());
  assert.ok(worstSlot <= cap * 1.06 + 1300, `a slot carried ${worstSlot} bytes (cap ${cap})`);
  // While the transfer runs: after it, nothing else is scheduled, the simulated clock jumps and the
  // microphone above catches up at 2× (frames 10 ms apart), which the sender lets run one frame ahead.
  const rtpAt = drains.filter((d) => d.at <= transferDone).flatMap((d) => d.kinds.filter((k) => k === 'rtp').map(() => d.at));
  assert.ok(rtpAt.length > 150, `${rtpAt.length} frames left during the transfer`);
  const gaps = rtpAt
    .slice(1)
    .map((t, i) => t - rtpAt[i])
    .sort((a, b) => a - b);
  const p99 = gaps[Math.floor(gaps.length * 0.99)];
  assert.ok(p99 < 25, `RTP inter-departure p99 ${p99} ms`);
  assert.equal(audio().length, frames, 'no audio frame lost');
  assert.equal(p.lite.stats().framesDropped, 0);
  assert.deepEqual(
    got().map((m) => (m.type === 'message' ? (m.data as Buffer)[0] : -1)),
    [...Array(24).keys()],
  );
  const tookMs = p.clock.now() - start;
  const s = p.lite.stats().data!.sctp;
  console.log(
    `# pacing: 6 MiB in ${tookMs} ms (cap ${cap} B/slot), worst slot ${worstSlot} B, ${perSlot.size} slots, RTP gap p99 ${p99} ms, retransmits ${s.retransmits}`,
  );
  assert.ok(tookMs >= ((6 * 1024 * 1024) / cap) * PACING_SLOT_MS * 0.95, 'the cap held the whole transfer');
});

test('a peer that receives at full speed still sends: only DATA is charged to its pacer, never its SACKs', () => {
  // ctl sends bulk; after 1 s lite starts sending too (an echo). Were the SACKs that ctl's flow
  // asks of lite (one every second packet) charged to lite's pacer, they would use up a bucket
  // refilled at 1.25·cwnd/SRTT of lite's window, still the initial one, and lite would stall.
  const big = 8 * 1024 * 1024;
  const p = pair({
    liteRole: 'server',
    profile: { latencyMs: 30 },
    dataChannels: { remoteMaxMessageSize: 256 * 1024, sctp: { maxSendBufferBytes: big, maxReassemblyBytes: big } },
  });
  p.run(
    () => dcEvents(p.events.lite).some((e) => e.type === 'connected') && dcEvents(p.events.ctl).some((e) => e.type === 'connected'),
    3_000,
  );
  const liteId = p.lite.data!.open({ label: 'down' }, p.clock.now());
  const ctlId = p.ctl.data!.open({ label: 'up' }, p.clock.now());
  p.flush();
  p.run(
    () => dcEvents(p.events.ctl).some((e) => e.type === 'channel_open') && dcEvents(p.events.lite).some((e) => e.type === 'channel_open'),
    1_000,
  );
  const msg = Buffer.alloc(64 * 1024, 1);
  const start = p.clock.now();
  const bytes = (events: PeerEvent<TransportAddress>[]): number =>
    dcEvents(events).reduce((n, e) => n + (e.type === 'message' && Buffer.isBuffer(e.data) ? e.data.length : 0), 0);
  p.run(() => {
    const now = p.clock.now();
    while (now - start >= 1_000 && p.lite.data!.bufferedTotal < 1 << 20 && p.lite.data!.send(liteId, msg, now));
    while (p.ctl.data!.bufferedTotal < 1 << 20 && p.ctl.data!.send(ctlId, msg, now));
    p.flush();
    return now - start >= 2_000;
  }, 3_000);
  const down = bytes(p.events.ctl);
  const up = bytes(p.events.lite);
  console.log(`# ctl→lite for 2 s: ${up} B; lite→ctl in its 1 s: ${down} B`);
  // Slow start from 4 380 bytes over a 60 ms RTT, then the cap (13 MB/s): several MB each way.
  assert.ok(up > 4_000_000, `ctl→lite ${up} B in 2 s`);
  assert.ok(down > 2_000_000, `lite→ctl ${down} B in 1 s while it receives`);
});
