// Issue #17, "UDP blocked, call works", with Debian's Chromium (libwebrtc: active ICE-TCP
// candidates toward the passive one the transceiver advertises). Chromium runs in a network
// namespace the test builds (netns.ts): first with UDP open, where it must still choose UDP (the
// TCP candidate sits below every UDP one); then with an nftables rule inside the namespace that
// drops all UDP, where it must connect through the relay's TCP port, hear the echo, and keep the
// call 10 s. The selected pair comes from getStats(); the relay's TCP metrics must agree.
// The relay and the transceiver are real processes on the namespace's host-side address
// (tcp-stack.ts). Chromium opens the demo page at http://10.231.N.1:PORT, which is not a secure
// context by itself: --unsafely-treat-insecure-origin-as-secure makes it one for getUserMedia.
// In CI (CI=true) nothing skips: a missing Chromium, ip or nft fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumSkip, openDemo, peerStats, waitForStats } from './browser.ts';
import type { BrowserSession, PeerStats } from './browser.ts';
import { createNetns, netnsMissing } from './netns.ts';
import type { Netns } from './netns.ts';
import { startTcpStack } from './tcp-stack.ts';
import type { TcpStack } from './tcp-stack.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

const skip = (await chromiumSkip()) || skipUnlessInCi(await netnsMissing(), 'the UDP-blocked browser test');

let netns: Netns | undefined;
let stack: TcpStack | undefined;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  netns = await createNetns(0);
  stack = await startTcpStack(netns.hostIp);
});

after(async () => {
  await session?.close();
  await stack?.stop();
  await netns?.close();
});

async function call(): Promise<BrowserSession> {
  const s = await openDemo(stack!.page, 440, undefined, {
    wrap: netns!.wrap,
    args: [`--unsafely-treat-insecure-origin-as-secure=${new URL(stack!.page).origin}`],
  });
  await s.page.click('#call');
  return s;
}

async function heard(s: BrowserSession, what: string): Promise<PeerStats> {
  const st = await waitForStats(s.page, (x) => x.packetsReceived >= 100 && x.totalAudioEnergy > 0, 30_000);
  if (!(st.packetsReceived >= 100 && st.totalAudioEnergy > 0)) {
    const page = await s.page.evaluate('({ state: window.parley.state, error: window.parley.error })');
    assert.fail(`${what}: ${JSON.stringify(st)} page ${JSON.stringify(page)}\nnft:\n${await netns!.ruleset()}\n${stack!.log()}`);
  }
  return st;
}

test('UDP open: Chromium in the namespace still chooses UDP, not the relay TCP candidate', { skip, timeout: 90_000 }, async (t) => {
  const tcpBefore = await stack!.relayMetric('parley_relay_tcp_accepted_total');
  session = await call();
  const s = await heard(session, 'UDP open');
  t.diagnostic(`chromium, UDP open: ${JSON.stringify(s)}`);
  assert.equal(s.protocol, 'udp');
  assert.equal(`${s.remoteAddress}:${s.remotePort}`, stack!.relayUdp, 'the selected pair ends at the relay UDP port');
  // Chromium may open a TCP connection while it checks every pair; none carries the call.
  const tcpNow = await stack!.relayMetric('parley_relay_tcp_accepted_total');
  t.diagnostic(`relay TCP connections accepted meanwhile: ${tcpNow - tcpBefore}`);
  await session.close();
  session = undefined;
});

test(
  'UDP blocked: Chromium connects through the relay TCP port, hears the echo, and keeps the call 10 s',
  { skip, timeout: 120_000 },
  async (t) => {
    await netns!.blockUdp();
    const toClientBefore = await stack!.relayMetric('parley_relay_packets_total', 'to_client');
    session = await call();
    const s = await heard(session, 'UDP blocked');
    t.diagnostic(`chromium, UDP blocked: ${JSON.stringify(s)}`);
    assert.equal(s.protocol, 'tcp');
    assert.equal(`${s.remoteAddress}:${s.remotePort}`, stack!.relayTcp, 'the selected pair ends at the relay TCP port');
    assert.ok((await stack!.relayMetric('parley_relay_tcp_accepted_total')) >= 1, 'the relay accepted a TCP connection');
    assert.ok((await stack!.relayMetric('parley_relay_tcp_connections')) >= 1, 'and holds it');

    // Keep the call 10 s: the echo keeps arriving (50 packets/s; half of it is plenty on a loaded machine).
    const start = s.packetsReceived;
    await new Promise((r) => setTimeout(r, 10_000));
    const later = await peerStats(session.page);
    t.diagnostic(`after 10 s: ${JSON.stringify(later)}`);
    assert.equal(later.connectionState, 'connected');
    assert.equal(later.protocol, 'tcp');
    assert.ok(later.packetsReceived - start >= 250, `${later.packetsReceived - start} packets in 10 s`);
    assert.ok(later.totalAudioEnergy > s.totalAudioEnergy, 'still audible');
    const toClient = (await stack!.relayMetric('parley_relay_packets_total', 'to_client')) - toClientBefore;
    t.diagnostic(`relay packets to the client over the call: ${toClient}`);
    await session.page.click('#hangup');
  },
);
