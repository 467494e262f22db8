// GStreamer's webrtcbin (Debian's gstreamer1.0-plugins-bad with gstreamer1.0-nice: ICE by libnice,
// DTLS by OpenSSL with GStreamer's own RSA 2048 certificate) calls Parley through the real relay,
// in both DTLS roles, and hears its 440 Hz tone echoed. This was "no shared cipher" while Parley
// spoke only ECDHE-ECDSA (issue #18). test/e2e/gstreamer/call.py drives webrtcbin: it sends the
// tone, POSTs the offer once ICE gathering completes, decodes what comes back and measures the
// share of its energy at 440 Hz (Goertzel) against 1 kHz.
//
// The relay listens on this machine's first non-loopback IPv4 address, as for aiortc: libnice
// gathers no loopback candidate by default. In CI (CI=true) a missing package or address fails
// the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nonLoopbackIPv4, startDev } from './helpers.ts';
import { runJsonScript } from './json-script.ts';
import type { DevStack } from './helpers.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

// Debian's interpreter: python3-gi and the GStreamer typelibs live in its dist-packages.
const PYTHON = process.env.PARLEY_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./gstreamer/call.py', import.meta.url));

const hostIp = nonLoopbackIPv4();
const probe = spawnSync(
  PYTHON,
  [
    '-c',
    "import gi, numpy; gi.require_version('Gst','1.0'); gi.require_version('GstWebRTC','1.0'); from gi.repository import Gst; Gst.init(None); " +
      "import sys; sys.exit(0 if all(Gst.ElementFactory.find(e) for e in ['webrtcbin','nicesrc','opusenc','rtpopuspay','dtlsenc']) else 3)",
  ],
  { encoding: 'utf8', timeout: 20_000 },
);
const missing =
  probe.status !== 0
    ? `${PYTHON} cannot run GStreamer webrtcbin (apt-get install gstreamer1.0-plugins-bad gstreamer1.0-nice gstreamer1.0-plugins-good python3-gi gir1.2-gst-plugins-bad-1.0 python3-numpy): ${probe.error?.message ?? (probe.stderr.trim().split('\n').pop() || `exit ${probe.status}`)}`
    : hostIp === undefined
      ? 'no non-loopback IPv4 address for the relay (libnice gathers no loopback candidate)'
      : undefined;
const skip = skipUnlessInCi(missing, 'the GStreamer test');

interface GstResult {
  connected: boolean;
  dtlsRole?: 'client' | 'server';
  setupMs?: number;
  samples?: number;
  toneRatio?: number;
  offToneRatio?: number;
  location?: string;
  hangupStatus?: number;
  error?: string;
}

let dev: DevStack;

before(async () => {
  if (skip) return;
  dev = await startDev(['--relay', `${hostIp}:0`]);
});

after(async () => {
  await dev?.stop();
});

/** Runs call.py to completion; SIGKILL after `timeoutMs`. */
function runGstreamer(args: string[], timeoutMs: number): Promise<{ code: number | null; result?: GstResult; out: string }> {
  return runJsonScript<GstResult>(PYTHON, [SCRIPT, ...args], timeoutMs);
}

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `GStreamer webrtcbin (RSA certificate) calls Parley through the relay, Parley the DTLS ${parleyRole}: its tone comes back`,
    { skip, timeout: 90_000 },
    async (t) => {
      const run = await runGstreamer(
        ['--url', dev.ready.signaling, '--offer-setup', offerSetup, '--seconds', '3', '--timeout', '45'],
        75_000,
      );
      t.diagnostic(`gstreamer: ${run.result ? JSON.stringify(run.result) : run.out}`);
      assert.equal(run.code, 0, `gstreamer exit ${run.code}\n${run.out}\n${dev.log().slice(-4000)}`);
      const r = run.result!;
      assert.equal(r.connected, true);
      assert.equal(r.dtlsRole, parleyRole === 'client' ? 'server' : 'client');
      // 3 s of decoded echo at 48 kHz (less the first 0.5 s), most of its energy at 440 Hz.
      assert.ok((r.samples ?? 0) >= 48_000 * 2, `decoded samples: ${r.samples}`);
      assert.ok((r.toneRatio ?? 0) > 0.5, `440 Hz share of the echo: ${r.toneRatio}`);
      assert.ok((r.offToneRatio ?? 1) < 0.05, `1 kHz share of the echo: ${r.offToneRatio}`);
      assert.equal(r.hangupStatus, 200);
    },
  );
}
