// Pion's data channels (pion/sctp + pion/datachannel inside Debian's pion/webrtc v3) against
// Parley through the real relay, in both DTLS roles. The Go client (test/e2e/pion/main.go with
// -datachannel, the exchange in pion/datachannel.go) does what an OpenAI Realtime client does —
// an Opus track and `chat` created before the offer — plus an unordered channel, POSTs the
// offer and, while it sends audio, sends text and binary messages of 1 B, 1 KiB, 16 KiB and
// 64 KiB on each channel. 64 KiB is the largest both sides allow: Pion's offer carries no
// a=max-message-size, so Parley sends at most 64 KiB to it (RFC 8841 §6), and Pion v3 itself
// refuses to send more than 65 536 bytes whatever the answer says (sctptransport.go,
// pion/webrtc#758); the client reads detached channels with its own buffer because Pion's
// OnMessage cannot take more than 65 535 bytes. The echo handler returns every message on its channel; the client checks
// each echo byte-exact and of the same type, in order on the ordered channel. Then Pion closes
// `chat` by stream reset and sees the close complete, the unordered channel still echoes,
// the audio came back, and the call's counters show the channels and messages. In CI (CI=true)
// missing Go or Pion fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pionPrerequisites, runPionClient } from './pion/build.ts';
import { checkCallCounters, checkChannels, checkParleyOpenedChannel } from './datachannel-checks.ts';
import { PARLEY_CHANNEL_MODULE, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const { skip, build } = await pionPrerequisites();

const KEY = 'pion-datachannel-key-0123456789';
const SECONDS = 4;
const SIZES = [1, 1024, 16384, 65536];
let dev: DevStack;
let client: string;

before(
  async () => {
    if (skip) return;
    client = await build();
    dev = await startDev(['--handler-module', PARLEY_CHANNEL_MODULE], 30_000, { PARLEY_API_KEYS: KEY });
  },
  { timeout: 300_000 },
);

after(async () => {
  await dev?.stop();
});

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `Pion data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      const args = [
        '-url',
        `${dev.ready.signaling}?handler=parley-channel`,
        '-bearer',
        KEY,
        '-seconds',
        String(SECONDS),
        '-offer-setup',
        offerSetup,
      ];
      const run = await runPionClient(client, [...args, '-datachannel', '-dc-sizes', SIZES.join(',')], 75_000);
      t.diagnostic(`pion: ${run.stdout.trim()}`);
      assert.equal(run.code, 0, `pion client exit ${run.code}\n${run.stdout}\n${run.stderr}\n${dev.log()}`);
      const r = run.result!;
      assert.equal(r.connected, true);
      assert.equal(r.dtlsRole, parleyRole === 'client' ? 'server' : 'client');
      assert.equal(r.remoteCandidate, dev.ready.relay, 'the selected pair ends at the relay');
      assert.ok(r.packetsReceived >= 0.95 * r.packetsSent, `audio: ${r.packetsReceived} of ${r.packetsSent} came back`);
      assert.equal(r.payloadMismatch, 0);

      const channels = r.dataChannels ?? {};
      // RFC 8832 §6: the DTLS client takes even stream ids, the server odd ones.
      checkChannels(channels, SIZES.length * 2, parleyRole === 'client' ? 1 : 0);
      assert.equal(channels['chat'].ordered, true);
      assert.equal(channels.loose.ordered, false);
      assert.equal(channels['chat'].closed, true, 'Pion saw its close of chat complete');
      assert.equal(channels.loose.afterCloseEcho, true, 'the other channel works after one closed');
      assert.equal(r.hangupStatus, 200);
      checkParleyOpenedChannel(channels.parley, parleyRole, SIZES.length * 2);

      // Parley's channel adds each size twice and `close` in, `hello` and the echoes out.
      const stats = await checkCallCounters(
        r.location!,
        { authorization: `Bearer ${KEY}` },
        { messagesIn: SIZES.length * 6 + 2, messagesOut: SIZES.length * 6 + 2, channelsOpened: 3 },
      );
      t.diagnostic(`transceiver: ${JSON.stringify(stats)}`);
      assert.equal(stats.packetsDropped, 0, JSON.stringify(stats));
    },
  );
}
