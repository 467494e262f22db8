// The receiver's SACK policy (src/core/sctp/receiver.ts): in-order SACKs at least
// minSackIntervalMs apart, each covering up to 16 packets, so a peer sending thousands of packets
// a second gets a few hundred SACK datagrams, not one for every second packet (those small
// datagrams filled a browser's socket buffer ahead of our DATA and RTP). A gap is still SACKed at
// once; a lone packet still waits for the delayed-ack time; 0 restores every second packet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataFlag } from '../../../src/core/sctp/chunks.ts';
import { MAX_PACKETS_PER_SACK, Receiver } from '../../../src/core/sctp/receiver.ts';
import { SctpBudget, zeroStats } from '../../../src/core/sctp/index.ts';

function receiver(minSackIntervalMs: number): Receiver {
  return new Receiver({
    peerInitialTsn: 1,
    inboundStreams: 4,
    maxBytes: 4 * 1024 * 1024,
    maxMessageSize: 256 * 1024,
    budget: new SctpBudget(64 * 1024 * 1024),
    delayedAckMs: 200,
    minSackIntervalMs,
    mtu: 1200,
    stats: zeroStats(),
  });
}

/** One DATA packet carrying one whole unordered 1000-byte message with `tsn`. */
function data(r: Receiver, tsn: number, now: number): void {
  const v = Buffer.alloc(12 + 1000);
  v.writeUInt32BE(tsn >>> 0, 0);
  v.writeUInt32BE(53, 8);
  assert.equal(r.onData(DataFlag.begin | DataFlag.end | DataFlag.unordered, v).kind, 'ok');
  r.afterDataPacket(now, false);
}

/** Feeds `count` in-order packets, `perMs` per millisecond, SACKing whenever one is owed or due; returns the SACKs. */
function stream(r: Receiver, count: number, perMs: number): number {
  let sacks = 0;
  for (let i = 0; i < count; i++) {
    const now = Math.floor(i / perMs);
    if (r.sackAt !== undefined && now >= r.sackAt) r.requestSack();
    if (r.sackOwed) {
      r.takeSack(now);
      sacks++;
    }
    data(r, 1 + i, now);
    if (r.sackOwed) {
      r.takeSack(now);
      sacks++;
    }
  }
  return sacks;
}

test('SACK spacing: 6000 packets a second get about one SACK per ms, not one per two packets', () => {
  const spaced = stream(receiver(1), 6000, 6);
  const everySecond = stream(receiver(0), 6000, 6);
  assert.equal(everySecond, 3000, 'RFC 9260 §6.2: every second packet');
  assert.ok(spaced >= 950 && spaced <= 1050, `${spaced} SACKs for 6000 packets over 1 s`);
});

test('SACK spacing: a burst in one instant is SACKed every 16 packets, the rest when the interval ends', () => {
  const r = receiver(1);
  let sacks = 0;
  for (let i = 0; i < 40; i++) {
    data(r, 1 + i, 100);
    if (r.sackOwed) {
      r.takeSack(100);
      sacks++;
    }
  }
  // The first SACK after two packets, then one per MAX_PACKETS_PER_SACK.
  assert.equal(sacks, 1 + Math.floor((40 - 2) / MAX_PACKETS_PER_SACK));
  assert.equal(r.sackAt, 101, 'the rest is SACKed when the interval has passed');
});

test('SACK spacing: a gap is SACKed at once, a lone packet waits for the delayed-ack time', () => {
  const r = receiver(1);
  data(r, 1, 0);
  assert.equal(r.sackOwed, false);
  assert.equal(r.sackAt, 200);
  data(r, 2, 0);
  assert.equal(r.sackOwed, true, 'second packet, first SACK');
  r.takeSack(0);
  data(r, 4, 0); // 3 missing
  assert.equal(r.sackOwed, true, 'a gap is reported at once (fast retransmit needs it)');
});
