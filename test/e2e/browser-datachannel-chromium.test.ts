// Chromium's data channels (dcsctp) against Parley through the real relay, in both DTLS roles:
// the page (served by `parley dev`, the fake 440 Hz microphone of ./browser.ts) does what an
// OpenAI Realtime client does — adds its microphone, opens `oai-events` before the offer — plus an
// unordered channel, POSTs the offer, and waits for both to open. It sends text and binary
// messages of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB (the largest both allow: Chromium and Parley
// announce a=max-message-size:262144) on each; the echo handler sends every one back and the page
// checks them byte-exact, in order on the ordered channel. Audio keeps arriving meanwhile. Then
// the page closes `oai-events`: the call's counters show it closed, and the other channel still
// works. In CI (CI=true) a missing Chromium fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();

let dev: DevStack;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev();
  session = await openDemo(dev.ready.page);
});

after(async () => {
  await session?.close();
  await dev?.stop();
});

/** Runs in the page: one call with two channels, every size both ways; returns what it saw. */
const PAGE_SCRIPT = `async ({ url, offerSetup }) => {
  const sizes = [1, 1024, 16384, 65536, 262144];
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const events = pc.createDataChannel('oai-events');
  const loose = pc.createDataChannel('loose', { ordered: false });
  for (const ch of [events, loose]) ch.binaryType = 'arraybuffer';
  await pc.setLocalDescription(await pc.createOffer());
  const offer = pc.localDescription.sdp.replace(/a=setup:actpass/g, 'a=setup:' + offerSetup);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  if (res.status !== 201) return { error: 'POST ' + res.status + ' ' + await res.text() };
  const location = res.headers.get('location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  const opened = (ch) => new Promise((ok, no) => { if (ch.readyState === 'open') ok(); ch.onopen = () => ok(); setTimeout(() => no(new Error(ch.label + ' did not open')), 15000); });
  await Promise.all([opened(events), opened(loose)]);
  const make = (n, i, text) => { if (text) return String.fromCharCode(97 + (i % 26)).repeat(n); const b = new Uint8Array(n); for (let k = 0; k < n; k++) b[k] = (k * 31 + i) & 255; return b.buffer; };
  const same = (a, b) => { if (typeof a === 'string' || typeof b === 'string') return a === b; const x = new Uint8Array(a), y = new Uint8Array(b); if (x.length !== y.length) return false; for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false; return true; };
  const result = { maxMessageSize: pc.sctp.maxMessageSize, channels: {} };
  for (const ch of [events, loose]) {
    const sent = [];
    sizes.forEach((n, i) => { sent.push(make(n, i, true)); sent.push(make(n, i, false)); });
    const got = [];
    const done = new Promise((ok) => { ch.onmessage = (e) => { got.push(e.data); if (got.length === sent.length) ok(); }; });
    for (const m of sent) ch.send(m);
    await Promise.race([done, new Promise((r) => setTimeout(r, 20000))]);
    const exact = ch.ordered ? got.length === sent.length && got.every((m, i) => same(m, sent[i])) : got.length === sent.length && sent.every((m) => got.some((g) => same(g, m)));
    result.channels[ch.label] = { id: ch.id, sent: sent.length, got: got.length, exact, sizes: got.map((m) => typeof m === 'string' ? m.length : m.byteLength) };
  }
  const audio = async () => { let n = 0; (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r.packetsReceived; }); return n; };
  result.audioBefore = await audio();
  events.close();
  await new Promise((r) => setTimeout(r, 1500));
  result.eventsState = events.readyState;
  result.looseState = loose.readyState;
  loose.send('still here');
  result.afterClose = await new Promise((ok) => { loose.onmessage = (e) => ok(e.data); setTimeout(() => ok(null), 5000); });
  result.audioAfter = await audio();
  result.location = location;
  pc.close();
  return result;
}`;

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `Chromium data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      const { page } = session!;
      const r = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ url: dev.ready.signaling, offerSetup })})`)) as Record<
        string,
        unknown
      > & {
        channels: Record<string, { id: number; sent: number; got: number; exact: boolean; sizes: number[] }>;
        audioBefore: number;
        audioAfter: number;
      };
      t.diagnostic(JSON.stringify(r));
      assert.equal(r.error, undefined, `${JSON.stringify(r)}\n${dev.log()}`);
      assert.equal(r.maxMessageSize, 262144, 'Chromium honours our a=max-message-size');
      for (const label of ['oai-events', 'loose']) {
        const c = r.channels[label];
        assert.ok(c.exact && c.got === c.sent, `${label}: ${JSON.stringify(c)}`);
        // RFC 8832 §6: Chromium is the DTLS server when we are the client, so it takes odd ids.
        assert.equal(c.id % 2, parleyRole === 'client' ? 1 : 0, `${label} id ${c.id}`);
      }
      assert.equal(r.eventsState, 'closed');
      assert.equal(r.looseState, 'open');
      assert.equal(r.afterClose, 'still here', 'the other channel works after one closed');
      assert.ok(r.audioBefore > 10 && r.audioAfter - r.audioBefore > 40, `audio packets ${r.audioBefore} → ${r.audioAfter}`);
      const state = (await (await fetch(new URL(r.location as string, dev.ready.signaling))).json()) as {
        stats: { dataChannels: Record<string, number> };
      };
      const d = state.stats.dataChannels;
      assert.equal(d.messagesIn, 21, JSON.stringify(d));
      assert.equal(d.channelsOpened, 2);
      assert.ok(d.channelsClosed >= 1, JSON.stringify(d));
    },
  );
}
