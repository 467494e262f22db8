// Bring your own agent, end to end (issue #16): a Python agent written for Twilio Media Streams
// with only the `websockets` package (test/e2e/media-stream/agent.py, it knows nothing of Parley)
// behind `parley dev --media-stream-url`, called by Chromium (fake 440 Hz microphone) through the
// relay and by `parley call --dtmf`. The agent hears the caller's tone (µ-law 8 kHz and L16 16 kHz,
// frequency checked), the caller hears the agent's 660 Hz reply, connected/start come first with
// Twilio's fields, marks come back in order, `clear` stops the caller's packets within 60 ms,
// DTMF arrives in order, `stop` arrives when the caller hangs up, and the agent closing its socket
// ends the call with its reason on the caller's `oai-events`. CI=true: nothing skips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hasTone } from '../../src/media/analysis.ts';
import { readWavFile } from '../../src/media/wav.ts';
import { freePorts } from '../../src/client/free-port.ts';
import { waitFor } from '../support/wait-for.ts';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { runCall, startDev, stopProcess } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();
const AGENT = fileURLToPath(new URL('./media-stream/agent.py', import.meta.url));

interface Logged {
  at: number;
  kind: string;
  message?: Record<string, unknown> & { event?: string; sequenceNumber?: string; streamSid?: string };
  [k: string]: unknown;
}

let dir: string;
let agent: ChildProcess;
let agentUrl: string;
let dev: DevStack;
let browser: BrowserSession | undefined;

async function startAgent(): Promise<void> {
  const [port] = await freePorts([{ host: '127.0.0.1', kind: 'tcp' }]);
  agent = spawn('/usr/bin/python3', [AGENT, String(port), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  agent.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`agent not listening: ${err}`)), 15_000);
    createInterface({ input: agent.stdout! }).on('line', (l) => {
      if (l.startsWith('listening')) {
        clearTimeout(t);
        resolve();
      }
    });
    agent.once('exit', (code) => reject(new Error(`agent exited ${code}: ${err}`)));
  });
  agentUrl = `ws://127.0.0.1:${port}/stream`;
}

/** The agent's log of one call, once it holds `kind` (bounded wait). */
async function agentLog(callSid: string, until = 'closed', timeoutMs = 10_000): Promise<Logged[]> {
  let log: Logged[] = [];
  await waitFor(
    async () => {
      try {
        log = (await readFile(join(dir, `${callSid}.jsonl`), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Logged);
      } catch {
        return false;
      }
      return log.some((e) => e.kind === until);
    },
    timeoutMs,
    `agent log of ${callSid} with ${until}`,
  );
  return log;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-media-stream-'));
  await startAgent();
  dev = await startDev(['--media-stream-url', agentUrl], 60_000);
  if (!skip) browser = await openDemo(dev.ready.page, 440);
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  if (agent) await stopProcess(agent, 3_000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Runs in the demo page: a call with a fake 440 Hz microphone and `oai-events`, then `ms` of
// watching: inbound packet counts (wall clock), the loudest frequency heard, `oai-events` messages.
const PAGE = `async ({ url, query, ms, pollMs }) => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const events = pc.createDataChannel('oai-events');
  const seen = [];
  events.onmessage = (e) => seen.push(JSON.parse(e.data));
  let remote;
  pc.ontrack = (e) => { remote = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === 'complete') return ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
    setTimeout(ok, 1500);
  });
  const res = await fetch(url + '?' + query, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (res.status !== 201) return { error: 'POST ' + res.status + ' ' + (await res.text()) };
  const location = new URL(res.headers.get('location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  // The watching window starts once media flows (setup takes seconds on a loaded machine).
  const connectBy = performance.now() + 20000;
  while (pc.connectionState !== 'connected' && performance.now() < connectBy) await new Promise((ok) => setTimeout(ok, 20));
  const el = new Audio();
  el.srcObject = remote;
  el.muted = true;
  el.play().catch(() => {});
  const ac = new AudioContext();
  await ac.resume().catch(() => {});
  const an = ac.createAnalyser();
  an.fftSize = 8192;
  ac.createMediaStreamSource(remote).connect(an);
  const packets = [];
  const peaks = [];
  const bins = new Float32Array(an.frequencyBinCount);
  const end = performance.now() + ms;
  let lastPeakAt = 0;
  while (performance.now() < end) {
    const report = await pc.getStats();
    report.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') packets.push([Date.now(), r.packetsReceived || 0]); });
    if (performance.now() - lastPeakAt > 100) {
      lastPeakAt = performance.now();
      an.getFloatFrequencyData(bins);
      let b = 1;
      for (let i = 2; i < bins.length; i++) if (bins[i] > bins[b]) b = i;
      peaks.push([(b * ac.sampleRate) / an.fftSize, bins[b]]);
    }
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
  const state = pc.connectionState;
  const channel = events.readyState;
  const callId = location.split('/').pop();
  pc.close();
  await fetch(location, { method: 'DELETE' }).catch(() => {});
  ac.close();
  return { callId, packets, peaks, seen, state, channel };
}`;

interface PageResult {
  error?: string;
  callId: string;
  packets: [number, number][];
  peaks: [number, number][];
  seen: { type: string; error?: { code?: string; message?: string } }[];
  state: string;
  channel: string;
}

async function browserCall(query: string, ms: number, pollMs = 5, stack = dev): Promise<PageResult> {
  const r = (await browser!.page.evaluate(`(${PAGE})(${JSON.stringify({ url: stack.ready.signaling, query, ms, pollMs })})`)) as PageResult;
  assert.equal(r.error, undefined, `${r.error}\n${dev.log()}`);
  return r;
}

async function heardTone(callSid: string, hz: number, rate: number): Promise<void> {
  const wav = await readWavFile(join(dir, `${callSid}.wav`));
  assert.equal(wav.sampleRate, rate);
  assert.ok(wav.samples.length >= rate, `the agent heard ${wav.samples.length / rate} s`);
  const check = hasTone(wav.samples.subarray(Math.floor(rate / 2)), hz, { sampleRate: rate, toleranceHz: 3, minPurity: 0.3 });
  assert.ok(check.found, `the agent heard ${JSON.stringify(check.analysis)}`);
}

test(
  'Chromium → relay → Python agent (µ-law): Twilio messages, tone both ways, marks in order, stop on hang-up',
  { skip, timeout: 90_000 },
  async () => {
    const r = await browserCall('scenario=reply&who=chromium', 4000, 20);
    const log = await agentLog(r.callId);
    const [connected, start] = log;
    assert.equal(connected.kind, 'connected');
    assert.equal(connected.message?.event, 'connected');
    assert.equal(start.message?.event, 'start');
    const s = start.message!.start as Record<string, unknown>;
    assert.equal(s.callSid, r.callId);
    assert.match(String(s.streamSid), /^MZ[0-9a-f]{32}$/);
    assert.equal(start.message!.streamSid, s.streamSid);
    assert.deepEqual(s.tracks, ['inbound']);
    assert.deepEqual(s.customParameters, { scenario: 'reply', who: 'chromium' });
    assert.deepEqual(s.mediaFormat, { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 });
    assert.deepEqual([connected.message!.sequenceNumber, start.message!.sequenceNumber], ['1', '2']);
    await heardTone(r.callId, 440, 8000);
    const media = log.filter((e) => e.kind === 'media');
    assert.ok(media.length >= 2, JSON.stringify(media));
    for (const m of media) assert.equal(Number(m.timestamp), (Number(m.chunk) - 1) * 20, 'timestamp = 20 ms per chunk');
    const marks = log.filter((e) => e.kind === 'mark').map((e) => (e.message!.mark as { name: string }).name);
    assert.deepEqual(marks, ['m1', 'm2', 'm3']);
    const stop = log.find((e) => e.kind === 'stop');
    assert.ok(stop, 'stop arrived when the caller hung up');
    assert.equal((stop.message!.stop as { callSid: string }).callSid, r.callId);
    // The caller heard the reply: the loudest bin at 660 Hz (FFT bins are 5.9 Hz wide).
    const loud = r.peaks.filter(([, db]) => db > -60);
    assert.ok(loud.length >= 3 && loud.filter(([f]) => Math.abs(f - 660) < 12).length >= loud.length * 0.6, JSON.stringify(r.peaks));
  },
);

test(
  "clear: the caller stops receiving the agent's audio within 60 ms, and the dropped mark comes back",
  { skip, timeout: 90_000 },
  async () => {
    const r = await browserCall('scenario=clear', 3500, 5);
    const log = await agentLog(r.callId);
    const clearAt = log.find((e) => e.kind === 'clear-sent')?.at;
    assert.ok(clearAt !== undefined, 'the agent sent clear');
    // The last packet arrived between the sample before the count's last rise and that rise. On a
    // loaded machine the page's 5 ms polls can be far apart, so the bound is checked on the earlier
    // sample (the packet certainly arrived after it) and both are reported.
    let lastRise = 0;
    let before = 0;
    for (let i = 1; i < r.packets.length; i++)
      if (r.packets[i][1] > r.packets[i - 1][1]) [before, lastRise] = [r.packets[i - 1][0], r.packets[i][0]];
    const seen = `last packet between ${before - clearAt} and ${lastRise - clearAt} ms after clear`;
    assert.ok(lastRise > clearAt - 1000 && before - clearAt < 60, seen);
    assert.deepEqual(
      log.filter((e) => e.kind === 'mark').map((e) => (e.message!.mark as { name: string }).name),
      ['after-clear'],
    );
  },
);

test("the agent hanging up ends the call with its reason on the caller's oai-events", { skip, timeout: 90_000 }, async () => {
  const r = await browserCall('scenario=hangup', 3500, 20);
  const error = r.seen.find((e) => e.type === 'error');
  assert.equal(error?.error?.code, 'agent_closed', JSON.stringify(r.seen));
  assert.match(error!.error!.message!, /agent says goodbye/);
  // The call's end aborted SCTP: the page's channel closed (Chromium keeps connectionState until pc.close()).
  assert.equal(r.channel, 'closed');
  const res = await fetch(new URL(`/v1/realtime/calls/${r.callId}`, dev.ready.signaling));
  const body = (await res.json()) as { closeReason?: string; closeDetail?: string };
  assert.equal(body.closeReason, 'agent_closed');
  // The agent's close code and reason text: the call's close detail (GET, the log, the demo page).
  assert.equal(body.closeDetail, '1000 agent says goodbye');
  // The bridge's own counts for this call in GET, and the process-wide ones in /metrics.
  const h = (body as { stats?: { handler?: Record<string, number> } }).stats?.handler;
  assert.ok(h && h.messagesToAgent > 2 && h.bytesToAgent > 0 && h.framesToHandler > 0, JSON.stringify(h));
  const metrics = await (await fetch(dev.ready.transceiverMetrics)).text();
  const sent = /^parley_transceiver_media_stream_messages_total\{direction="to_agent"\} (\d+)/m.exec(metrics);
  assert.ok(sent && Number(sent[1]) >= h.messagesToAgent, 'media-stream messages in /metrics');
  assert.match(metrics, /^parley_transceiver_calls_closed_total\{reason="agent_closed"\} [1-9]/m);
});

test('parley call --dtmf 123#: the agent gets dtmf events in order', { timeout: 60_000 }, async () => {
  const run = await runCall(`${dev.ready.signaling}?scenario=listen`, [
    '--tone',
    '440',
    '--seconds',
    '3',
    '--dtmf',
    '123#',
    '--dtmf-at',
    '300',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl'));
  let digits: string[] = [];
  await waitFor(
    async () => {
      for (const f of files.length ? await readdir(dir) : []) {
        if (!f.endsWith('.jsonl')) continue;
        const lines = (await readFile(join(dir, f), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Logged);
        if (!lines.some((e) => e.kind === 'start' && JSON.stringify(e.message).includes('"listen"'))) continue;
        digits = lines.filter((e) => e.kind === 'dtmf').map((e) => (e.message!.dtmf as { digit: string; track: string }).digit);
        if (lines.some((e) => e.kind === 'closed')) return true;
      }
      return false;
    },
    10_000,
    'the dtmf call logged',
  );
  assert.deepEqual(digits, ['1', '2', '3', '#']);
});

test(
  'L16 16 kHz (--media-stream-format l16-16000): start announces audio/x-l16, the agent hears 440 Hz, the caller hears 660 Hz',
  { skip, timeout: 120_000 },
  async () => {
    const wide = await startDev(['--media-stream-url', agentUrl, '--media-stream-format', 'l16-16000'], 60_000);
    try {
      await browser!.page.goto(wide.ready.page);
      const r = await browserCall('scenario=reply', 3500, 20, wide);
      const log = await agentLog(r.callId);
      const start = log.find((e) => e.kind === 'start')!;
      assert.deepEqual((start.message!.start as { mediaFormat: unknown }).mediaFormat, {
        encoding: 'audio/x-l16',
        sampleRate: 16000,
        channels: 1,
      });
      await heardTone(r.callId, 440, 16000);
      const loud = r.peaks.filter(([, db]) => db > -60);
      assert.ok(loud.length >= 3 && loud.filter(([f]) => Math.abs(f - 660) < 12).length >= loud.length * 0.6, JSON.stringify(r.peaks));
    } finally {
      await wide.stop();
    }
  },
);
