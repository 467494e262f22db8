// Parley's client side against a foreign ICE-lite server: `parley load` and `parley call`
// (IceControllingClient, DTLS, SRTP) call bench/pion-echo, a Pion webrtc v3 ICE-lite echo server
// (Debian's golang-github-pion-webrtc.v3-dev, built offline by go-build.ts), on its one UDP port
// directly, as bench/calls.ts does with REFERENCE=pion. 10 load calls all connect and get ≥ 99 %
// of their packets back; a `parley call` connects and records its own tone in the echo. The
// regression guarded: Pion's lite agent sends its own Binding requests and starts DTLS only once
// one is answered, so a client that does not answer the peer's checks (RFC 8445 §7.3: every agent
// must; fixed in ce61ff6) never connects — pion-echo's /metrics counts its checks out and the
// answers in. In CI (CI=true) missing Go or Pion fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/client/free-port.ts';
import { readWavFile } from '../../src/media/wav.ts';
import { APT_PACKAGES, buildGoProgram, findGoToolchain } from './go-build.ts';
import { metricSum, recordingHasTone, runCall, stopProcess } from './helpers.ts';
import { runParleyLoad } from './load-process.ts';

const inCi = process.env.CI === 'true';
const toolchain = await findGoToolchain();
if (!toolchain.ok && inCi)
  throw new Error(`CI=true and ${toolchain.reason}: the Pion server interop test must run in CI (${APT_PACKAGES})`);
const skip = toolchain.ok ? false : `${toolchain.reason} (apt-get install ${APT_PACKAGES})`;

const PION_ECHO = fileURLToPath(new URL('../../bench/pion-echo/', import.meta.url));
let child: ChildProcess | undefined;
let output = '';
let base: string;
let media: string;
let dir: string;

before(
  async () => {
    if (!toolchain.ok) return;
    dir = await mkdtemp(join(tmpdir(), 'parley-pion-server-'));
    // A cold build of Pion takes ~1 min on 2 shared cores; cached builds are instant.
    const built = await buildGoProgram(PION_ECHO, 240_000);
    console.log(`# pion-echo: ${built.built ? `built in ${Math.round(built.ms)} ms` : 'cached'} (${built.goVersion}) at ${built.path}`);
    const [http, udp] = await freePorts([
      { host: '127.0.0.1', kind: 'tcp' },
      { host: '127.0.0.1', kind: 'udp' },
    ]);
    base = `http://127.0.0.1:${http}`;
    media = `127.0.0.1:${udp}`;
    // -max-seconds: the server ends itself even if this process dies before `after`.
    child = spawn(built.path, ['-http', `127.0.0.1:${http}`, '-udp', String(udp), '-max-seconds', '120'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`pion-echo exited (${child.exitCode ?? child.signalCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`pion-echo not ready in 15 s:\n${output}`);
      try {
        if ((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  },
  { timeout: 300_000 },
);

after(async () => {
  if (child) await stopProcess(child);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** pion-echo's count of its own Binding requests sent and of Binding successes received. */
async function pionChecks(): Promise<{ sent: number; answered: number }> {
  const url = `${base}/metrics`;
  return {
    sent: await metricSum(url, 'pion_echo_stun_binding_total', 'class="request",direction="out"'),
    answered: await metricSum(url, 'pion_echo_stun_binding_total', 'class="success",direction="in"'),
  };
}

test(
  'parley load: 10 calls to a Pion ICE-lite server all connect, answer its checks and get ≥ 99 % of their audio back',
  { skip, timeout: 60_000 },
  async (t) => {
    const prior = await pionChecks();
    const r = await runParleyLoad(
      `${base}/v1/realtime/calls`,
      ['--json', '--calls', '10', '--ramp-per-sec', '10', '--seconds', '3'],
      45_000,
    );
    const checks = await pionChecks();
    t.diagnostic(`pion checks sent ${checks.sent - prior.sent}, answered ${checks.answered - prior.answered}`);
    t.diagnostic(`load: ${r.out.trim()}`);
    // RFC 8445 §7.3: Pion's lite agent checked back on every call and the client answered; without
    // the answers no call reaches DTLS (checked first: it names the cause of that failure).
    assert.ok(checks.sent - prior.sent >= 10, `Pion sent ${checks.sent - prior.sent} Binding requests for 10 calls`);
    assert.ok(
      checks.answered - prior.answered >= 10,
      `Pion got ${checks.answered - prior.answered} answers to its ${checks.sent - prior.sent} Binding requests for 10 calls`,
    );
    assert.equal(r.code, 0, `parley load exit ${r.code}\n${r.out}\n${r.err}\npion-echo:\n${output}`);
    const report = JSON.parse(r.out) as {
      connected: number;
      failed: number;
      failures: Record<string, number>;
      packetsSent: number;
      packetsReceived: number;
      receiveRatio: number;
    };
    assert.equal(report.connected, 10, r.out);
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
    assert.ok(report.packetsSent > 0, r.out);
    assert.ok(report.receiveRatio >= 0.99, `received ${report.packetsReceived} of ${report.packetsSent}: ${r.out}`);
  },
);

test(
  'parley call to a Pion ICE-lite server connects, answers its checks and records its own 440 Hz tone in the echo',
  { skip, timeout: 60_000 },
  async (t) => {
    const wav = join(dir, 'back.wav');
    const prior = await pionChecks();
    const r = await runCall(`${base}/v1/realtime/calls`, ['--tone', '440', '--seconds', '3', '--record', wav], 45_000);
    const checks = await pionChecks();
    t.diagnostic(`call: ${JSON.stringify(r.summary)}`);
    assert.ok(
      checks.answered - prior.answered >= 1,
      `Pion got ${checks.answered - prior.answered} answers to its ${checks.sent - prior.sent} Binding requests`,
    );
    assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}\npion-echo:\n${output}`);
    assert.equal(r.summary.ok, true);
    const s = r.summary.stats as Record<string, number | string>;
    assert.equal(s.remoteAddress, media, "the selected pair ends at pion-echo's UDP port");
    assert.ok(s.srtpProfile, 'DTLS-SRTP keyed');
    // Every frame is sent or, when this shared machine stalls the client > 500 ms, skipped.
    assert.equal((s.packetsSent as number) + (s.framesSkipped as number), 150);
    assert.ok((s.packetsSent as number) >= 100, `sent ${s.packetsSent}`);
    assert.ok((s.packetsReceived as number) >= 0.75 * (s.packetsSent as number), `received ${s.packetsReceived} of ${s.packetsSent}`);
    assert.equal(s.srtpDropped, 0, 'every SRTP packet from Pion authenticated');
    assert.equal(typeof s.echoRttMs, 'number', 'sent payloads came back');
    assert.equal(r.summary.hangupStatus, 200, 'DELETE of the call');
    const pcm = await readWavFile(wav);
    const tone = recordingHasTone(pcm.samples, 440);
    assert.ok(tone.found && tone.audibleFrames >= 50, JSON.stringify(tone));
  },
);
