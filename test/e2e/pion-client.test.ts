// Interop with an independent WebRTC stack: a Go client on Pion webrtc v3 (Debian's
// golang-github-pion-webrtc.v3-dev, test/e2e/pion/main.go) calls `parley dev` (relay +
// transceiver children, default native SRTP and media I/O, API keys on) through the relay. For
// each SRTP profile Pion is limited to — SRTP_AEAD_AES_128_GCM and SRTP_AES128_CM_HMAC_SHA1_80 —
// the call connects over the relay's address, DTLS negotiates that profile with Parley as the DTLS
// client (RFC 8842 §5.3: the answer to actpass is active), ≥ 95 % of what Pion sends comes back
// from the echo handler byte for byte, RTCP flows both ways (Parley computes an RTT from Pion's
// receiver reports, RFC 3550 §6.4.1), and the transceiver's call record shows the call connected,
// every packet accepted and the hang-up. A third call offers setup:active so Parley is the DTLS
// server. In CI (CI=true) missing Go or Pion fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pionPrerequisites, runPionClient } from './pion/build.ts';
import type { PionResult } from './pion/build.ts';
import { metricSum, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const { skip, build } = await pionPrerequisites();

const KEY = 'pion-interop-key-0123456789';
const SECONDS = 3;
let dev: DevStack;
let client: string;

before(
  async () => {
    if (skip) return;
    client = await build();
    dev = await startDev([], 30_000, { PARLEY_API_KEYS: KEY });
  },
  { timeout: 300_000 },
);

after(async () => {
  await dev?.stop();
});

async function call(args: string[]): Promise<PionResult> {
  const r = await runPionClient(client, ['-url', dev.ready.signaling, '-bearer', KEY, '-seconds', String(SECONDS), ...args], 30_000);
  assert.equal(r.code, 0, `pion client exit ${r.code}\n${r.stdout}\n${r.stderr}\n${dev.log()}`);
  assert.ok(r.result, r.stdout);
  return r.result;
}

/** What the caller saw and what the transceiver recorded agree with an echoed call through the relay. */
async function checkEchoedCall(r: PionResult, diagnostic: (m: string) => void): Promise<void> {
  const detail = JSON.stringify(r);
  assert.equal(r.connected, true, detail);
  assert.equal(r.remoteCandidate, dev.ready.relay, 'the selected pair ends at the relay');
  assert.equal(r.packetsSent, SECONDS * 50, detail);
  assert.ok(r.packetsReceived >= 0.95 * r.packetsSent, `echo: ${r.packetsReceived} of ${r.packetsSent} came back: ${detail}`);
  assert.equal(r.payloadMismatch, 0, 'every echoed payload is the Opus frame Pion sent');
  assert.ok(r.rtcpReceived > 0, `Pion read ${r.rtcpReceived} RTCP packets from Parley`);
  assert.equal(r.hangupStatus, 200, detail);

  assert.ok(r.location, detail);
  const res = await fetch(r.location, { headers: { authorization: `Bearer ${KEY}` }, signal: AbortSignal.timeout(5_000) });
  const state = (await res.json()) as {
    state: string;
    closeReason?: string;
    connectedAt?: string;
    relay: string;
    stats: Record<string, number>;
  };
  diagnostic(`transceiver: ${JSON.stringify(state)}`);
  assert.equal(state.state, 'closed');
  assert.equal(state.closeReason, 'hangup');
  assert.ok(state.connectedAt, 'the transceiver saw the call connect');
  assert.equal(state.relay, dev.ready.relay);
  // The echo cannot return more than arrived; nothing Pion sent was refused (SRTP auth, replay,
  // payload type, RTP/RTCP parsing all count in packetsDropped).
  assert.ok(state.stats.packetsReceived >= r.packetsReceived, `transceiver received ${state.stats.packetsReceived}`);
  assert.equal(state.stats.packetsDropped, 0, JSON.stringify(state.stats));
  assert.ok(state.stats.rtcpReceived > 0, 'Pion sent RTCP reports');
  assert.equal(typeof state.stats.rttMs, 'number', "an RTT from the LSR/DLSR of Pion's reports");
}

for (const [flag, profile] of [
  ['gcm', 'SRTP_AEAD_AES_128_GCM'],
  ['aescm', 'SRTP_AES128_CM_HMAC_SHA1_80'],
] as const) {
  test(`Pion offering only ${profile} connects through the relay with it and gets its audio back`, { skip, timeout: 45_000 }, async (t) => {
    const toRelay = await metricSum(dev.ready.relayMetrics, 'parley_relay_packets_total', 'to_transceiver');
    const toClient = await metricSum(dev.ready.relayMetrics, 'parley_relay_packets_total', 'to_client');
    const r = await call(['-srtp', flag]);
    t.diagnostic(`pion: ${JSON.stringify(r)}`);
    assert.equal(r.srtpProfile, profile);
    assert.equal(r.dtlsRole, 'server', 'Parley answered setup:active to actpass and is the DTLS client');
    await checkEchoedCall(r, (m) => t.diagnostic(m));
    const forwardedIn = (await metricSum(dev.ready.relayMetrics, 'parley_relay_packets_total', 'to_transceiver')) - toRelay;
    const forwardedOut = (await metricSum(dev.ready.relayMetrics, 'parley_relay_packets_total', 'to_client')) - toClient;
    assert.ok(forwardedIn >= r.packetsSent, `relay forwarded ${forwardedIn} packets to the transceiver`);
    assert.ok(forwardedOut >= r.packetsReceived, `relay forwarded ${forwardedOut} packets to Pion`);
  });
}

test('Pion as the DTLS client (offer setup:active): Parley answers passive and the call works', { skip, timeout: 45_000 }, async (t) => {
  const r = await call(['-offer-setup', 'active']);
  t.diagnostic(`pion: ${JSON.stringify(r)}`);
  assert.equal(r.dtlsRole, 'client');
  assert.ok(r.srtpProfile === 'SRTP_AEAD_AES_128_GCM' || r.srtpProfile === 'SRTP_AES128_CM_HMAC_SHA1_80', r.srtpProfile);
  await checkEchoedCall(r, (m) => t.diagnostic(m));
});
