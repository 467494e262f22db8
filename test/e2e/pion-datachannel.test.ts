// Pion's data channels (pion/sctp + pion/datachannel inside Debian's pion/webrtc v3) against
// Parley through the real relay, in both DTLS roles. The Go client (test/e2e/pion/main.go with
// -datachannel, the exchange in pion/datachannel.go) does what an OpenAI Realtime client does —
// an Opus track and `oai-events` created before the offer — plus an unordered channel, POSTs the
// offer and, while it sends audio, sends text and binary messages of 1 B, 1 KiB, 16 KiB and
// 64 KiB on each channel. 64 KiB is the largest both sides allow: Pion's offer carries no
// a=max-message-size, so Parley sends at most 64 KiB to it (RFC 8841 §6), and Pion v3 itself
// refuses to send more than 65 536 bytes whatever the answer says (sctptransport.go,
// pion/webrtc#758); the client reads detached channels with its own buffer because Pion's
// OnMessage cannot take more than 65 535 bytes. The echo handler returns every message on its channel; the client checks
// each echo byte-exact and of the same type, in order on the ordered channel. Then Pion closes
// `oai-events` by stream reset and sees the close complete, the unordered channel still echoes,
// the audio came back, and the call's counters show the channels and messages. In CI (CI=true)
// missing Go or Pion fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { APT_PACKAGES, findGoToolchain } from './go-build.ts';
import { buildPionClient, runPionClient } from './pion/build.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const inCi = process.env.CI === 'true';
const toolchain = await findGoToolchain();
if (!toolchain.ok && inCi) throw new Error(`CI=true and ${toolchain.reason}: the Pion interop test must run in CI (${APT_PACKAGES})`);
const skip = toolchain.ok ? false : `${toolchain.reason} (apt-get install ${APT_PACKAGES})`;

const KEY = 'pion-datachannel-key-0123456789';
const SECONDS = 4;
const SIZES = [1, 1024, 16384, 65536];
let dev: DevStack;
let client: string;

before(
  async () => {
    if (!toolchain.ok) return;
    const built = await buildPionClient(240_000);
    client = built.path;
    console.log(`# pion client: ${built.built ? `built in ${Math.round(built.ms)} ms` : 'cached'} (${toolchain.goVersion}) at ${client}`);
    dev = await startDev([], 30_000, { PARLEY_API_KEYS: KEY });
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
      const args = ['-url', dev.ready.signaling, '-bearer', KEY, '-seconds', String(SECONDS), '-offer-setup', offerSetup];
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
      for (const [label, ordered] of [
        ['oai-events', true],
        ['loose', false],
      ] as const) {
        const c = channels[label];
        assert.ok(c, `${label}: ${JSON.stringify(channels)}`);
        assert.equal(c.ordered, ordered);
        assert.equal(c.sent, SIZES.length * 2);
        assert.ok(c.exact && c.got === c.sent, `${label}: ${JSON.stringify(c)}`);
        // RFC 8832 §6: the DTLS client takes even stream ids, the server odd ones.
        assert.equal(c.id % 2, parleyRole === 'client' ? 1 : 0, `${label} id ${c.id}`);
      }
      assert.equal(channels['oai-events'].closed, true, 'Pion saw its close of oai-events complete');
      assert.equal(channels.loose.afterCloseEcho, true, 'the other channel works after one closed');
      assert.equal(r.hangupStatus, 200);

      const res = await fetch(r.location!, { headers: { authorization: `Bearer ${KEY}` }, signal: AbortSignal.timeout(5_000) });
      const state = (await res.json()) as { stats: { dataChannels: Record<string, number>; packetsDropped: number } };
      const d = state.stats.dataChannels;
      t.diagnostic(`transceiver: ${JSON.stringify(state.stats)}`);
      assert.equal(d.messagesIn, SIZES.length * 4 + 1, JSON.stringify(d));
      assert.equal(d.messagesOut, SIZES.length * 4 + 1, JSON.stringify(d));
      assert.equal(d.channelsOpened, 2, JSON.stringify(d));
      assert.ok(d.channelsClosed >= 1, `the call saw oai-events close: ${JSON.stringify(d)}`);
      assert.equal(state.stats.packetsDropped, 0, JSON.stringify(state.stats));
    },
  );
}
