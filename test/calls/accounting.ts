// Packet-exact accounting of one CallPair run, both directions, whatever the network did:
//  - client → handler: every RTP sequence number the network delivered to the session while it
//    held SRTP keys reaches the media handler exactly once (duplicates die in SRTP replay
//    protection), and nothing else does;
//  - handler → client (echo): every frame the handler was given is sent back, one RTP packet
//    each; every one the network delivered to the client while it held keys reaches it as audio
//    exactly once, carrying the payload of a frame the client sent;
//  - RTCP: every distinct SRTCP datagram delivered while keyed is read (a duplicate dies in replay
//    protection), on both sides (the session's
//    rtcpReceived, the client's 'rtcp' events), and both sides have an RTT from the other's
//    report block about their stream (RFC 3550 §6.4.1).
import assert from 'node:assert/strict';
import type { CallPair } from './call-pair.ts';

const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

export function assertEveryPacketAccounted(pair: CallPair): void {
  // Client → session → handler.
  const sentSeqs = new Set(pair.clientRtpSent.map((r) => r.header.sequenceNumber));
  const delivered = new Set(pair.clientRtpDelivered.map((r) => r.header.sequenceNumber));
  const handled = pair.handled.map((f) => f.sequence);
  assert.equal(new Set(handled).size, handled.length, 'no frame reaches the handler twice');
  assert.deepEqual(sorted(handled), sorted(delivered), 'the handler got exactly the client RTP the network delivered while keyed');
  for (const s of delivered) assert.ok(sentSeqs.has(s), `sequence ${s} was delivered but never sent`);

  // Handler → client: the echo.
  const s = pair.session.stats();
  assert.equal(s.framesDropped, 0, 'the outbound queue never overflowed');
  assert.equal(pair.sessionRtpSent.length, pair.handled.length, 'one echo packet per handled frame');
  assert.equal(s.packetsSent, pair.handled.length);
  const echoSeqs = pair.sessionRtpDelivered.map((r) => r.header.sequenceNumber);
  const audio = pair.clientAudio();
  const heard = audio.map((a) => a.sequence);
  assert.equal(new Set(heard).size, heard.length, 'no echo reaches the client twice');
  assert.deepEqual(sorted(heard), sorted(new Set(echoSeqs)), 'the client heard exactly the echo the network delivered while keyed');
  const handledPayloads = new Set(pair.handled.map((f) => f.payload.toString('latin1')));
  for (const a of audio) assert.ok(handledPayloads.has(a.payload.toString('latin1')), 'each echo carries a frame the handler was given');

  // RTCP both ways.
  assert.equal(s.rtcpReceived, pair.sessionRtcpDelivered, 'the session read every SRTCP datagram delivered to it');
  const rtcpEvents = pair.clientEvents.filter((e) => e.type === 'rtcp');
  assert.equal(rtcpEvents.length, pair.clientRtcpDelivered, 'the client read every SRTCP datagram delivered to it');
  assert.ok(s.rtcpReceived >= 1 && s.rtcpSent >= 1, `session RTCP ${s.rtcpSent} sent / ${s.rtcpReceived} received`);
  const srs = rtcpEvents.flatMap((e) => (e.type === 'rtcp' ? e.packets : [])).filter((p) => p.type === 'sr');
  assert.ok(srs.length >= 1, 'the session sent Sender Reports');
  assert.ok(s.rttMs !== undefined, "the session has an RTT from the client's report blocks");
  assert.ok(pair.client.stats().rtcpRttMs !== undefined, "the client has an RTT from the session's report blocks");
}
