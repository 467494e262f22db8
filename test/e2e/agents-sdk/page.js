// The page of the Agents SDK end-to-end test (test/e2e/agents-sdk.test.ts): OpenAI's own browser
// SDK, `@openai/agents-realtime` as published (bundled by esbuild, unchanged), makes a voice call
// with only `baseUrl` pointed at Parley. The page drives itself so that any browser can run it
// without a driver: it reads its settings (Parley's calls URL and an `ek_` secret the test
// minted) from /config of the test's own server — another origin than Parley, so CORS is real —
// and reports what it saw to /report every 100 ms; each answer carries the test's commands.
//
// What it measures, with WebAudio on the remote track (the SDK plays it into its own <audio>):
// the level (RMS over ~5 ms) every 5 ms and the dominant frequency of what the model says;
// how long after `session.interrupt()` the playback goes silent; what the transport told it
// (event types, transcripts); the selected candidate pair (the relay's address and port).
/* global window, document, performance, AudioContext, MediaStream */
import { OpenAIRealtimeWebRTC, RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';

/** The model's tone is ~0.28 RMS; below this it is silent. */
const SILENT_RMS = 0.01;
/** Above this the model is heard. */
const HEARD_RMS = 0.05;
const SAMPLE_MS = 5;
const INTERRUPT_ROUNDS = 3;

const state = {
  phase: 'loading',
  error: null,
  /** connect() resolution time after it was called, ms. */
  connectMs: null,
  callId: null,
  events: [],
  eventCount: 0,
  transcripts: [],
  pair: null,
  heard: null,
  interrupts: [],
  closedAt: null,
};
let commands = {};

const log = (type) => {
  state.eventCount++;
  if (state.events.length < 200) state.events.push(type);
};

async function report() {
  try {
    const res = await window.fetch('/report', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(state),
    });
    commands = await res.json();
  } catch (err) {
    console.error('agents-sdk page: report failed', err);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `ok()` holds (checked every 5 ms); rejects after `ms` naming `what`. */
async function until(ok, ms, what) {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(SAMPLE_MS);
  }
}

/** The selected candidate pair's remote end, from getStats (Chromium and Firefox name it on the transport). */
async function selectedPair(pc) {
  const report = await pc.getStats();
  let pairId;
  let nominated;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    if (r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded'))) nominated = r;
  });
  const pair = pairId ? report.get(pairId) : nominated;
  const remote = pair ? report.get(pair.remoteCandidateId) : undefined;
  return remote ? { address: remote.address || remote.ip, port: remote.port, type: remote.candidateType } : null;
}

/** Level and frequency of the remote track, sampled every SAMPLE_MS into `meter.last`. */
function listen(track) {
  const ctx = new AudioContext();
  ctx.resume().then(
    () => (state.audioResumed = ctx.state),
    (err) => (state.audioError = String(err)),
  );
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const level = ctx.createAnalyser();
  level.fftSize = 256;
  level.smoothingTimeConstant = 0;
  const spectrum = ctx.createAnalyser();
  spectrum.fftSize = 8192;
  spectrum.smoothingTimeConstant = 0;
  source.connect(level);
  source.connect(spectrum);
  const samples = new Float32Array(level.fftSize);
  const bins = new Float32Array(spectrum.frequencyBinCount);
  const meter = {
    ctx,
    last: { at: 0, rms: 0 },
    rms() {
      level.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      return Math.sqrt(sum / samples.length);
    },
    /** The strongest frequency, Hz (parabolic interpolation between bins). */
    frequency() {
      spectrum.getFloatFrequencyData(bins);
      let k = 1;
      for (let i = 2; i < bins.length - 1; i++) if (bins[i] > bins[k]) k = i;
      const [a, b, c] = [bins[k - 1], bins[k], bins[k + 1]];
      const offset = (a - c) / (2 * (a - 2 * b + c)) || 0;
      return ((k + offset) * ctx.sampleRate) / spectrum.fftSize;
    },
  };
  meter.timer = setInterval(() => {
    meter.last = { at: performance.now(), rms: meter.rms() };
    state.audio = { context: ctx.state, time: ctx.currentTime, rms: meter.last.rms };
  }, SAMPLE_MS);
  return meter;
}

/** Resolves once the model's tone has been heard at a steady level for 150 ms. */
async function heardSteadily(meter) {
  let loudSince = null;
  await until(
    () => {
      const loud = meter.last.rms > HEARD_RMS;
      loudSince = loud ? (loudSince ?? meter.last.at) : null;
      return loudSince !== null && meter.last.at - loudSince >= 150;
    },
    20_000,
    "the model's tone",
  );
}

/**
 * Barge-in as the SDK does it: interrupt() sends output_audio_buffer.clear (Parley drops the
 * queued audio). Measured from the call until the level stays below SILENT_RMS for 30 ms; then
 * the loudest of the next 300 ms (the rest of the reply was dropped, not delayed). The trace
 * (level and getStats every 10 ms) is for the failure message.
 */
async function interruptAndMeasure(session, pc, meter) {
  const rmsBefore = meter.last.rms;
  const interruptAt = performance.now();
  const wallAt = Date.now();
  const trace = [];
  let tracing = true;
  const tracer = (async () => {
    while (tracing && trace.length < 40) {
      let inbound;
      (await pc.getStats()).forEach((x) => {
        if (x.type === 'inbound-rtp' && x.kind === 'audio') inbound = x;
      });
      trace.push({
        t: Math.round(performance.now() - interruptAt),
        rms: +meter.last.rms.toFixed(3),
        packets: inbound?.packetsReceived,
        concealed: inbound?.concealedSamples,
      });
      await sleep(10);
    }
  })();
  session.interrupt();
  let quietSince = null;
  await until(
    () => {
      const quiet = meter.last.at > interruptAt && meter.last.rms < SILENT_RMS;
      quietSince = quiet ? (quietSince ?? meter.last.at) : null;
      return quietSince !== null && meter.last.at - quietSince >= 30;
    },
    5_000,
    'silence after interrupt()',
  );
  let loudestAfterMs300 = 0;
  const watchUntil = performance.now() + 300;
  while (performance.now() < watchUntil) {
    loudestAfterMs300 = Math.max(loudestAfterMs300, meter.last.rms);
    await sleep(SAMPLE_MS);
  }
  tracing = false;
  await tracer;
  return { rmsBefore, wallAt, silentAfterMs: quietSince - interruptAt, loudestAfterMs300, trace };
}

async function run() {
  const config = await (await window.fetch('/config')).json();
  state.phase = 'connecting';
  const agent = new RealtimeAgent({ name: 'Parley test agent', instructions: config.instructions });
  const transport = new OpenAIRealtimeWebRTC({ baseUrl: config.baseUrl });
  const session = new RealtimeSession(agent, { transport, model: 'gpt-realtime' });
  session.on('transport_event', (event) => {
    log(event.type);
    if (event.type === 'response.output_audio_transcript.delta' || event.type === 'response.output_audio_transcript.done') {
      if (state.transcripts.length < 50) state.transcripts.push({ type: event.type, text: event.delta ?? event.transcript });
    }
  });
  session.on('error', (e) => log(`session error: ${String(e?.error?.message ?? e?.error ?? e)}`));

  const started = performance.now();
  await session.connect({ apiKey: config.apiKey });
  state.connectMs = performance.now() - started;
  state.callId = transport.callId ?? null;
  state.phase = 'connected';
  const pc = transport.connectionState.peerConnection;
  const receiver = pc.getReceivers().find((r) => r.track && r.track.kind === 'audio');
  const meter = listen(receiver.track);
  await until(() => pc.connectionState === 'connected', 10_000, 'peer connection connected');
  state.pair = await selectedPair(pc);

  // The model answers each second of the caller with a tone (REPLY_MS long); each time the page
  // hears it, it interrupts it. Several rounds: one slow round on a loaded machine is not the rule.
  state.interrupts = [];
  for (let round = 0; round < INTERRUPT_ROUNDS; round++) {
    await heardSteadily(meter);
    if (round === 0) state.heard = { rms: meter.last.rms, frequency: meter.frequency(), sampleRate: meter.ctx.sampleRate };
    state.phase = 'heard';
    state.interrupts.push(await interruptAndMeasure(session, pc, meter));
  }
  state.phase = 'interrupted';

  await until(() => commands.close === true, 30_000, 'the close command');
  state.closedAt = Date.now();
  session.close();
  state.phase = 'closed';
  clearInterval(meter.timer);
  await meter.ctx.close();
}

window.addEventListener('load', () => {
  const tick = async () => {
    await report();
    if (state.phase !== 'closed' || !commands.done) setTimeout(tick, 100);
  };
  void tick();
  run().catch((err) => {
    state.error = `${err}\n${err && err.stack}`;
    state.phase = 'error';
  });
  document.title = 'Parley: Agents SDK test';
});
