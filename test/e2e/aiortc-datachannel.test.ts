// aiortc's data channels (Debian's python3-aiortc: its own SCTP in Python, DTLS from OpenSSL)
// against Parley through the real relay, in both DTLS roles. test/e2e/aiortc/client.py does what
// an OpenAI Realtime client does — an audio track (a 440 Hz tone) and `chat` created before
// the offer — plus an unordered channel, waits for ICE gathering to complete, POSTs the offer, and
// sends text and binary messages of 1 B, 1 KiB, 16 KiB and 64 KiB on each. 64 KiB is the largest
// both allow: aiortc announces a=max-message-size:65536, which Parley honours for what it sends.
// The echo handler returns every message on its channel; the script checks each echo byte-exact
// and of the same type, in order on the ordered channel, closes `chat` and sees its close
// event, checks the other channel still echoes and that echoed audio kept arriving; the call's
// counters agree. Known aiortc 1.4 deviation: its stream ids follow its ICE role, not its DTLS
// role (see the id check below). aiortc offers actpass (Parley answers active and is the DTLS client); the second
// call rewrites the offer to setup:active so Parley is the DTLS server.
//
// The relay listens on this machine's first non-loopback IPv4 address: aioice gathers no
// 127.0.0.1 candidate (get_host_addresses skips it). In CI (CI=true) a missing python3-aiortc or
// address fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkCallCounters, checkChannels, checkParleyOpenedChannel } from './datachannel-checks.ts';
import type { PeerChannel } from './datachannel-checks.ts';
import { nonLoopbackIPv4, PARLEY_CHANNEL_MODULE, startDev } from './helpers.ts';
import { runJsonScript } from './json-script.ts';
import type { DevStack } from './helpers.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

// Debian's interpreter: python3-aiortc lives in its dist-packages, not in a pyenv or venv python.
const PYTHON = process.env.PARLEY_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./aiortc/client.py', import.meta.url));
const SIZES = [1, 1024, 16384, 65536];

const hostIp = nonLoopbackIPv4();
const probe = spawnSync(PYTHON, ['-c', 'import aiortc, numpy'], { encoding: 'utf8', timeout: 20_000 });
const missing =
  probe.status !== 0
    ? `${PYTHON} cannot import aiortc (apt-get install python3-aiortc, or set PARLEY_PYTHON): ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`
    : hostIp === undefined
      ? 'no non-loopback IPv4 address for the relay (aiortc gathers no loopback candidate)'
      : undefined;
const skip = skipUnlessInCi(missing, 'the aiortc test');

interface ChannelResult extends PeerChannel {
  ordered: boolean;
  closed?: boolean;
  afterCloseEcho?: boolean;
  label?: string;
  hello?: string;
  closedByParley?: boolean;
}
interface AiortcResult {
  connected: boolean;
  dtlsRole?: 'client' | 'server';
  location?: string;
  hangupStatus?: number;
  dataChannels?: Record<string, ChannelResult>;
  audioFramesBefore?: number;
  audioFramesAfter?: number;
  error?: string;
}

let dev: DevStack;

before(async () => {
  if (skip) return;
  dev = await startDev(['--relay', `${hostIp}:0`, '--handler-module', PARLEY_CHANNEL_MODULE]);
});

after(async () => {
  await dev?.stop();
});

/** Runs client.py to completion; SIGKILL after `timeoutMs`. */
function runAiortc(args: string[], timeoutMs: number): Promise<{ code: number | null; result?: AiortcResult; out: string }> {
  return runJsonScript<AiortcResult>(PYTHON, [SCRIPT, ...args], timeoutMs);
}

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `aiortc data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      const run = await runAiortc(
        ['--url', `${dev.ready.signaling}?handler=parley-channel`, '--offer-setup', offerSetup, '--sizes', SIZES.join(',')],
        75_000,
      );
      t.diagnostic(`aiortc: ${run.result ? JSON.stringify(run.result) : run.out}`);
      assert.equal(run.code, 0, `aiortc exit ${run.code}\n${run.out}\n${dev.log()}`);
      const r = run.result!;
      assert.equal(r.connected, true);
      assert.equal(r.dtlsRole, parleyRole === 'client' ? 'server' : 'client');
      const channels = r.dataChannels ?? {};
      // RFC 8832 §6 gives the DTLS server odd ids. aiortc 1.4 picks parity from its ICE role
      // instead (RTCSctpTransport.is_server; aiortc/aiortc#1432), so as the offerer it always
      // takes odd ids — also as the DTLS client, where Parley accepts them rather than refuse
      // the channel (RFC 8832 §6 MUST close); ids cannot collide, as only the peer opens here.
      checkChannels(channels, SIZES.length * 2, 1);
      assert.equal(channels['chat'].ordered, true);
      assert.equal(channels.loose.ordered, false);
      assert.equal(channels['chat'].closed, true, 'aiortc saw chat close');
      assert.equal(channels.loose.afterCloseEcho, true, 'the other channel works after one closed');
      const before = r.audioFramesBefore ?? 0;
      const afterFrames = r.audioFramesAfter ?? 0;
      assert.ok(before >= 10 && afterFrames - before >= 50, `echoed audio frames ${before} → ${afterFrames}`);
      assert.equal(r.hangupStatus, 200);
      checkParleyOpenedChannel(channels.parley, parleyRole, SIZES.length * 2);

      // Parley's channel adds each size twice and `close` in, `hello` and the echoes out.
      const stats = await checkCallCounters(
        r.location!,
        {},
        { messagesIn: SIZES.length * 6 + 2, messagesOut: SIZES.length * 6 + 2, channelsOpened: 3 },
      );
      t.diagnostic(`transceiver: ${JSON.stringify(stats)}`);
      assert.equal(stats.packetsDropped, 0, JSON.stringify(stats));
    },
  );
}
